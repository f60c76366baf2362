"""The ``fapiao`` command line: the root app, shared options and output helpers.

Each command lives in its own module under ``fapiao.cli.commands`` (imported automatically);
plugins add commands through the ``fapiao_register_commands`` hook.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from typing import Any, NoReturn

import typer
from pydantic import BaseModel
from rich.console import Console

from fapiao.errors import FapiaoError

__all__ = ["app", "console", "emit_json", "err_console", "fail", "main"]

app = typer.Typer(
    name="fapiao",
    help="fapiao: issue, reverse and track 数电发票 through any certified provider.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def emit_json(value: Any) -> None:
    """Print machine-readable output (Decimals already strings via the models)."""
    sys.stdout.write(json.dumps(_jsonable(value), ensure_ascii=False, indent=2, default=str))
    sys.stdout.write("\n")
    sys.stdout.flush()  # a long-running command (serve) is read through a pipe as it goes


def fail(error: FapiaoError | str, *, as_json: bool = False, code: int = 1) -> NoReturn:
    """Report an error without a traceback and exit non-zero."""
    if as_json:
        if isinstance(error, FapiaoError):
            emit_json({"error": error.to_info().model_dump(mode="json")})
        else:
            emit_json({"error": {"message": error}})
    else:
        err_console.print(f"[bold red]错误 / error:[/] {error}", markup=True, highlight=False)
    raise typer.Exit(code)


def _load_commands() -> None:
    from fapiao.cli import commands

    for module in pkgutil.iter_modules(commands.__path__):
        importlib.import_module(f"{commands.__name__}.{module.name}")


def _load_plugin_commands() -> None:
    from fapiao.plugins import discover, get_plugin_manager

    discover()  # registers plugin hook implementations
    get_plugin_manager().hook.fapiao_register_commands(cli=app)


def main() -> None:
    _load_commands()
    try:
        _load_plugin_commands()
    except Exception as exc:  # a broken plugin must not take the CLI down
        err_console.print(f"[yellow]plugin commands not loaded: {exc}[/]")
    app()

"""What every command prints through: the two consoles, ``--json`` output, and failing.

Why one place: a human reads tables on stdout and errors on stderr, a program reads one JSON
document on stdout; every command must fail the same way — a bilingual message (or a JSON
``error`` object), a non-zero exit status, never a traceback.

Importing this module costs rich's console (a command imports it inside its function, so
that ``fapiao CMD --help`` does not pay for it).
"""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from pydantic import BaseModel
from rich.console import Console

from fapiao.errors import FapiaoError

__all__ = ["console", "emit_json", "err_console", "fail"]

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

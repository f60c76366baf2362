"""``fapiao config check``: everything wrong with a config, each problem with file and key.

Checks the TOML, the structure, routing (valid seller tax IDs, profiles that exist), and
per profile the provider plugin, its settings, secret references (the store opens with its
key, the names exist) and secrets written in clear. Exit status 0 when there is no error
(warnings are shown), 1 otherwise.
"""

from __future__ import annotations

import typer

from fapiao.cli.lazy import MARKUP_MODE
from fapiao.cli.options import ConfigOption, JsonOption
from fapiao.cli.runtime import attempt

__all__ = ["check_command", "config_app"]

config_app = typer.Typer(
    name="config",
    help="Check the fapiao configuration (配置检查).",
    no_args_is_help=True,
    rich_markup_mode=MARKUP_MODE,
)


@config_app.command("check")
def check_command(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Validate a config file and say what is wrong and where (file, key)."""
    from rich.markup import escape

    from fapiao.cli.output import console, emit_json, err_console
    from fapiao.engine.config import check_config, config_path

    path = config_path(config)
    problems = attempt(lambda: check_config(path), as_json=as_json)
    errors = [p for p in problems if not p.warning]
    if as_json:
        emit_json(
            {"file": str(path), "ok": not errors, "problems": [p.to_dict() for p in problems]}
        )
    else:
        for problem in problems:
            style = "yellow" if problem.warning else "red"
            err_console.print(
                f"[{style}]{escape(str(problem))}[/]", highlight=False, soft_wrap=True
            )
        if errors:
            err_console.print(
                f"[bold red]✗[/] {path}: {len(errors)} 处错误 / error(s)", highlight=False
            )
        else:
            console.print(
                f"[bold green]✓[/] {path}: 配置有效 / the config is valid", highlight=False
            )
    if errors:
        raise typer.Exit(1)

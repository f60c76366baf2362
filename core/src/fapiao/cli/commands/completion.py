"""``fapiao completion SHELL``: print the shell's completion script (bash, zsh, fish,
powershell).

Why a command instead of typer's ``--install-completion``/``--show-completion`` root options:
the root's options are parsed on every invocation, and typer's parsing of them imports pydantic
— about a third of ``fapiao CMD --help``. As a command it costs nothing until asked for. The
script calls ``fapiao`` back with ``_FAPIAO_COMPLETE`` set; ``fapiao.cli.app.main`` then
registers typer's completion classes before answering.
"""

from __future__ import annotations

from typing import Annotated

import typer

from fapiao.cli.app import COMPLETE_VAR

__all__ = ["SHELLS", "completion_command", "enable_completion"]

SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")


def enable_completion() -> None:
    """Register typer's shell completion classes (what the completion script calls needs)."""
    from typer.completion import completion_init  # type: ignore[attr-defined]  # no __all__

    completion_init()


def completion_command(
    shell: Annotated[str, typer.Argument(help=f"one of: {', '.join(SHELLS)}")],
) -> None:
    """Print the shell completion script (命令补全脚本); e.g. `eval "$(fapiao completion bash)"`."""
    if shell not in SHELLS:
        raise typer.BadParameter(
            f"不支持的 shell / unsupported shell {shell!r}; choose one of {', '.join(SHELLS)}"
        )
    from typer.completion import get_completion_script  # type: ignore[attr-defined]

    enable_completion()
    typer.echo(get_completion_script(prog_name="fapiao", complete_var=COMPLETE_VAR, shell=shell))

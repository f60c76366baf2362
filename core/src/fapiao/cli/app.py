"""The ``fapiao`` command line: the root app and the console script's ``main``.

Why it is this small: everything imported here is paid by every invocation, ``--help``
included, so the root app only knows its built-in commands by name and summary
(``fapiao.cli.builtins``) and imports a command's module when that command is used
(``fapiao.cli.lazy``); plugins add commands through the ``fapiao_register_commands`` hook,
loaded only when the command line may name one (``fapiao.cli.plugin_commands``).

What the commands print through (consoles, ``--json``, failing) is ``fapiao.cli.output``.
"""

from __future__ import annotations

import os
import sys

import typer

from fapiao.cli.builtins import BUILTIN_NAMES, BUILTINS
from fapiao.cli.lazy import MARKUP_MODE, LazyGroup
from fapiao.cli.plugin_commands import add_plugin_commands, needs_plugin_commands

__all__ = ["COMPLETE_VAR", "app", "load_commands", "main"]

COMPLETE_VAR = "_FAPIAO_COMPLETE"
"""Set by the shell completion script when it asks ``fapiao`` for completions."""


class RootGroup(LazyGroup):
    """``fapiao``'s own group: the built-in commands of the table."""

    builtins = BUILTINS


app = typer.Typer(
    name="fapiao",
    help="fapiao: issue, reverse and track 数电发票 through any certified provider.",
    no_args_is_help=True,
    rich_markup_mode=MARKUP_MODE,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=RootGroup,
)


@app.callback()
def _root() -> None:
    """Nothing to do before a command; it makes typer build a group even while no command
    is registered on the app itself (the built-ins are the group's own)."""


def load_commands() -> None:
    """Import and build every built-in command now (the console script never needs this: a
    test may, to have every command module imported as before)."""
    for builtin in BUILTINS:
        builtin.command()


def main() -> None:
    """The ``fapiao`` console script."""
    if os.environ.get(COMPLETE_VAR):  # the completion script asking (``fapiao completion``)
        from fapiao.cli.commands.completion import enable_completion

        enable_completion()
    if needs_plugin_commands(sys.argv[1:], BUILTIN_NAMES):
        add_plugin_commands(app)
    app(prog_name="fapiao", complete_var=COMPLETE_VAR)

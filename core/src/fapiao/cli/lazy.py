"""Built-in commands that are listed by name and summary, and imported only when used.

Why: a command's module imports what the command needs — SQLAlchemy, the engine, rich
tables, the HTTP stack — and importing all of them made ``fapiao --help`` take most of a
second. The root group holds a :class:`LazyCommand` for each built-in: its name and summary
are enough for the command list, and the moment its arguments are parsed (the command runs,
or prints its own ``--help``) the real typer command is built from its module, once per
process. Commands registered on the typer app directly (plugins') come in as usual and win
over a built-in of the same name, as they always did.

Help is click's plain layout (``MARKUP_MODE``): typer's rich help imports rich's markdown,
syntax and traceback modules, which cost more than the rest of ``--help`` together. Command
lists still show each command's whole first help paragraph, wrapped, as the rich layout did
(click alone cuts it to one line).
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import typer
import typer.main
from typer.core import MarkupMode, TyperCommand, TyperGroup

__all__ = ["MARKUP_MODE", "Builtin", "LazyCommand", "LazyGroup"]

MARKUP_MODE: MarkupMode = None


@dataclass(frozen=True)
class Builtin:
    """A built-in command: its name, where it lives, and the summary ``--help`` lists.

    ``target`` is ``module:attribute``: a function whose typer-annotated parameters are the
    command's options, or a ``typer.Typer`` for a command group. ``summary`` is the first
    paragraph of the command's own help (a test keeps the two equal).
    """

    name: str
    target: str
    summary: str
    group: bool = False

    def command(self) -> TyperCommand | TyperGroup:
        """The real typer command (its module imported now; built once per process)."""
        return _build(self)


@functools.cache
def _build(builtin: Builtin) -> TyperCommand | TyperGroup:
    module_name, _, attribute = builtin.target.partition(":")
    target = getattr(importlib.import_module(module_name), attribute)
    if isinstance(target, typer.Typer):
        group = typer.main.get_group(target)
        for command in group.commands.values():
            _list_whole_summary(command)
        return group
    single = typer.Typer(
        rich_markup_mode=MARKUP_MODE, pretty_exceptions_enable=False, add_completion=False
    )
    single.command(builtin.name)(target)
    return cast(TyperCommand, typer.main.get_command(single))


def _list_whole_summary(command: Any) -> None:
    """Have a group's command list show ``command``'s whole first help paragraph."""
    if command.short_help is None and command.help:
        command.short_help = command.help.split("\n\n")[0]


class LazyCommand(TyperCommand):
    """Stands in for a built-in in the root group until its arguments are parsed."""

    def __init__(self, builtin: Builtin) -> None:
        super().__init__(
            builtin.name,
            help=builtin.summary,
            short_help=builtin.summary,
            rich_markup_mode=MARKUP_MODE,
        )
        self.builtin = builtin

    # click's types are private to typer (it vendors click), hence ``Any`` below
    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        """The real command's context: everything after parsing (running, ``--help``,
        completion) is the real command's.

        ``CMD --help`` of a single command is answered from the real command's help without
        parsing the other arguments: parsing builds typer's value coercion, which imports
        pydantic (half of the start-up) for a page that converts no value."""
        command = self.builtin.command()
        if not self.builtin.group and _asks_for_help(args, command):
            context = command.context_class(command, info_name=info_name, parent=parent)
            typer.echo(command.get_help(context), color=context.color)
            context.exit()
        return command.make_context(info_name, args, parent=parent, **extra)


def _asks_for_help(args: list[str], command: Any) -> bool:
    """``--help`` (or another of the command's help names) before any ``--``."""
    names = set(command.get_help_option_names(command.context_class(command)))
    for arg in args:
        if arg == "--":
            return False
        if arg in names:
            return True
    return False


class LazyGroup(TyperGroup):
    """A group whose ``builtins`` are :class:`LazyCommand` stand-ins, listed in typer's own
    order (commands, then groups), each registered command after its kind's built-ins."""

    builtins: ClassVar[tuple[Builtin, ...]] = ()

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        registered = dict(self.commands)
        for command in registered.values():
            _list_whole_summary(command)
        ordered: dict[str, Any] = {}
        for groups in (False, True):
            for builtin in self.builtins:
                if builtin.group is groups:
                    ordered[builtin.name] = (
                        registered.pop(builtin.name)
                        if builtin.name in registered
                        else LazyCommand(builtin)
                    )
            ordered |= {
                name: command
                for name, command in registered.items()
                if isinstance(command, TyperGroup) is groups
            }
        self.commands = ordered

"""Plugins' commands (the ``fapiao_register_commands`` hook), loaded only when they can matter.

Why: loading the plugins imports every provider's SDK client, SQLAlchemy for the custom
connector and the ERP clients — most of a second — while a command line naming a built-in
command (``fapiao validate FILE``) can never reach a plugin's command. So the console script
loads plugins for their commands only when the command line names no built-in (a plugin's
command, a typo, ``--help``, shell completion), and even then only when some installed
plugin *can* add a command: the package holding the module of one of its entry points (in
any ``fapiao.*`` group — providers, connectors, hooks-only plugins, whatever group discovery
loads next) mentions the hook (``fapiao_register_commands``), a ``fapiao_hooks`` object or a
``*`` import — the only ways its hook implementations can reach the plugin manager (see
``fapiao.hookspecs``). That check reads source files and imports nothing; a plugin whose
source cannot be read (compiled, zipped) is taken to add commands. Commands that need the
plugins for other reasons (their providers, validation hooks) load them themselves, as they
always did.
"""

from __future__ import annotations

import importlib.metadata as md
import sys
from collections.abc import Collection, Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path

import typer

__all__ = [
    "HOOK_MARKERS",
    "PLUGIN_GROUP_PREFIX",
    "add_plugin_commands",
    "may_add_commands",
    "needs_plugin_commands",
]

# every group fapiao.plugins discovers starts so (importing that module costs stevedore; a
# test checks its groups against this)
PLUGIN_GROUP_PREFIX = "fapiao."
HOOK_MARKERS = ("fapiao_register_commands", "fapiao_hooks", "import *")


def needs_plugin_commands(args: Sequence[str], builtin_names: Collection[str]) -> bool:
    """Whether this command line may need a plugin's command: it does not start with a
    built-in command. The root's own options (``--help``, the completion ones) all answer
    with the command list, and so does no argument at all."""
    return not args or args[0].startswith("-") or args[0] not in builtin_names


def add_plugin_commands(cli: typer.Typer) -> None:
    """Load the plugins and let them add their commands to ``cli``, if any plugin can.

    A broken plugin must not take the CLI down: the failure is shown and the built-in
    commands still work.
    """
    try:
        if not any(may_add_commands(module) for module in sorted(_plugin_modules())):
            return
        from fapiao.plugins import discover, get_plugin_manager

        discover()  # registers plugin hook implementations
        get_plugin_manager().hook.fapiao_register_commands(cli=cli)
    except Exception as exc:
        from rich.markup import escape

        from fapiao.cli.output import err_console

        err_console.print(
            f"[yellow]插件命令未加载 / plugin commands not loaded: {escape(str(exc))}[/]"
        )


def may_add_commands(module: str) -> bool:
    """Whether the plugin whose entry point names ``module`` can implement the hook, judged
    from the source of the package holding that module, without importing anything."""
    sources = _package_sources(module)
    if sources is None:
        return True
    for source in sources:
        try:
            text = source.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return True
        if any(marker in text for marker in HOOK_MARKERS):
            return True
    return False


def _plugin_modules() -> set[str]:
    """The modules named by entry points in ``fapiao.*`` groups, of every installed
    distribution (a shadowed duplicate only adds a module to read)."""
    return {
        entry_point.module
        for distribution in md.distributions()
        for entry_point in distribution.entry_points
        if entry_point.group.startswith(PLUGIN_GROUP_PREFIX)
    }


def _package_sources(module: str) -> list[Path] | None:
    """The ``.py`` files of the package holding ``module`` (a package's own folder, a
    module's package's folder, a top-level module alone); None if not plain source files."""
    spec = _find_spec(module)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    origin = Path(spec.origin)
    if spec.submodule_search_locations is None and "." not in module:
        return [origin]
    return sorted(origin.parent.rglob("*.py"))


def _find_spec(module: str) -> ModuleSpec | None:
    """``module``'s spec, found through the import system's finders without importing its
    parent packages (``importlib.util.find_spec`` would run their ``__init__``)."""
    parts = module.split(".")
    locations: Sequence[str] | None = None
    spec: ModuleSpec | None = None
    for depth in range(1, len(parts) + 1):
        if depth > 1 and locations is None:
            return None  # a dotted name under a plain module
        name = ".".join(parts[:depth])
        loaded = sys.modules.get(name)
        spec = loaded.__spec__ if loaded is not None else _search(name, locations)
        if spec is None:
            return None
        locations = spec.submodule_search_locations
    return spec


def _search(name: str, locations: Sequence[str] | None) -> ModuleSpec | None:
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        spec = find_spec(name, locations)
        if spec is not None:
            return spec  # type: ignore[no-any-return]
    return None

"""The code's structure, checked from its source with ``ast`` (nothing is imported or run):

- no import cycle among the modules of ``fapiao.engine`` — counting every import, also the
  ones inside functions and under ``TYPE_CHECKING``, since those are circles a reader follows
  too;
- no module reads another module's private (``_underscore``) names: not by importing them,
  not as an attribute of an object of another module's class;
- the layers point one way (docs/architecture.md): the pure layers never import the engine or
  the interfaces, the engine never imports the interfaces, core never imports a plugin, and a
  plugin's runtime code never imports the engine or the interfaces.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CORE = ROOT / "core" / "src"
PLUGIN_SOURCES = sorted(p for p in (ROOT / "plugins").glob("*/src") if p.is_dir())


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    tree: ast.Module
    is_package: bool


def _modules(src: Path) -> list[Module]:
    found = []
    for path in sorted(src.rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found.append(Module(".".join(parts), path, tree, is_package))
    return found


CORE_MODULES = _modules(CORE)
PLUGIN_MODULES = [m for src in PLUGIN_SOURCES for m in _modules(src)]
ALL_MODULES = CORE_MODULES + PLUGIN_MODULES
KNOWN = {m.name for m in ALL_MODULES}


def _resolve(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.name.split(".")
    if not module.is_package:
        base = base[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports(module: Module) -> Iterator[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import of ``module``."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            names = [a.name for a in node.names]
            # ``from package import module`` imports the module
            for name in names:
                if f"{target}.{name}" in KNOWN:
                    yield f"{target}.{name}", [], node.lineno
            yield target, [n for n in names if f"{target}.{n}" not in KNOWN], node.lineno


def _owner(name: str) -> str:
    """The module an imported name belongs to (the deepest known prefix)."""
    while name and name not in KNOWN:
        name = name.rpartition(".")[0]
    return name


def test_no_import_cycle_inside_the_engine() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for module in CORE_MODULES:
        if not module.name.startswith("fapiao.engine"):
            continue
        for target, _, _ in _imports(module):
            owner = _owner(target)
            if not owner.startswith("fapiao.engine") or owner == module.name:
                continue
            if module.name.startswith(f"{owner}."):
                continue  # a submodule's own package (``from . import schema``) is no circle
            graph[module.name].add(owner)
    cycles = _cycles(graph)
    assert not cycles, "import cycles in fapiao.engine: " + "; ".join(
        " → ".join(c) for c in cycles
    )


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _defined_privates(module: Module) -> set[str]:
    """Private names a module defines: functions, classes, attributes, assignments."""
    names: set[str] = set()
    for node in ast.walk(module.tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if _private(n)}


def test_no_module_reads_another_modules_private_names() -> None:
    defined = {m.name: _defined_privates(m) for m in ALL_MODULES}
    anywhere: dict[str, set[str]] = defaultdict(set)
    for name, privates in defined.items():
        for private in privates:
            anywhere[private].add(name)
    problems: list[str] = []
    for module in ALL_MODULES:
        where = f"{module.path.relative_to(ROOT)}"
        for target, names, line in _imports(module):
            owner = _owner(target)
            if owner and owner != module.name:
                for name in names:
                    if _private(name):
                        problems.append(f"{where}:{line} imports {name} from {owner}")
        own = defined[module.name]
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.Attribute) or not _private(node.attr):
                continue
            value = node.value
            if isinstance(value, ast.Name) and value.id in {"self", "cls"}:
                continue
            if isinstance(value, ast.Call) and getattr(value.func, "id", None) == "super":
                continue
            if node.attr in own or node.attr not in anywhere:
                continue  # its own private name, or not one of ours (a library's)
            owners = ", ".join(sorted(anywhere[node.attr]))
            problems.append(f"{where}:{node.lineno} reads .{node.attr} (private to {owners})")
    assert not problems, "\n".join(problems)


_PURE = ("fapiao.models", "fapiao.rules", "fapiao.errors", "fapiao.masking")
_INTERFACES = ("fapiao.cli", "fapiao.service")


def _imported_owners(module: Module) -> Iterator[tuple[str, int]]:
    for target, _, line in _imports(module):
        yield target, line


def test_layers_point_one_way() -> None:
    problems: list[str] = []
    plugin_roots = {m.name.split(".")[0] for m in PLUGIN_MODULES}
    for module in CORE_MODULES:
        where = f"{module.path.relative_to(ROOT)}"
        for target, line in _imported_owners(module):
            root = target.split(".")[0]
            if root in plugin_roots:
                problems.append(f"{where}:{line} (core) imports the plugin {target}")
            if module.name.startswith(_PURE) and target.startswith(
                ("fapiao.engine", *_INTERFACES)
            ):
                problems.append(f"{where}:{line} (pure layer) imports {target}")
            if module.name.startswith("fapiao.engine") and target.startswith(_INTERFACES):
                problems.append(f"{where}:{line} (engine) imports the interface {target}")
    for module in PLUGIN_MODULES:
        where = f"{module.path.relative_to(ROOT)}"
        for target, line in _imported_owners(module):
            if target.startswith(("fapiao.engine", *_INTERFACES)):
                problems.append(f"{where}:{line} (plugin) imports {target}")
    assert not problems, "\n".join(problems)

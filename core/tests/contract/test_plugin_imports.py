"""Plugins import the kit, not core's internals: runtime code only ``fapiao.sdk``, a sandbox or
simulator also ``fapiao.sandboxkit``, tests also ``fapiao.testing``.

Why: ``fapiao.sdk`` is the surface core keeps stable (pinned in test_public_surface.py); a
plugin reaching into ``fapiao.transport`` or ``fapiao.contract.settings`` breaks the day core
moves a class. Checked on the ERP connectors of this repository and on what
``fapiao new-plugin`` generates.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from fapiao.tools.scaffold import generate

REPO = Path(__file__).resolve().parents[3]

RUNTIME = {"fapiao.sdk"}
SANDBOX = RUNTIME | {"fapiao.sandboxkit"}
TESTS = SANDBOX | {"fapiao.testing"}


def fapiao_imports(path: Path) -> set[str]:
    """The ``fapiao`` modules a file imports (a plugin's own ``fapiao_…`` package excluded)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return {name for name in found if name.split(".")[0] == "fapiao"}


def allowed_for(path: Path, sandboxes: tuple[Path, ...], tests: Path) -> set[str]:
    if path.is_relative_to(tests):
        return TESTS
    if any(path.is_relative_to(s) for s in sandboxes):
        return SANDBOX
    return RUNTIME


def outside_the_kit(root: Path, sandboxes: tuple[Path, ...]) -> dict[str, set[str]]:
    """File → the fapiao modules it imports that its part of the plugin may not."""
    wrong: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        allowed = allowed_for(path, sandboxes, root / "tests")
        extra = {
            name
            for name in fapiao_imports(path)
            if not any(name == a or name.startswith(a + ".") for a in allowed)
        }
        if extra:
            wrong[str(path.relative_to(root))] = extra
    return wrong


@pytest.mark.parametrize(
    ("plugin", "package"), [("erp_sap", "fapiao_erp_sap"), ("erp_yonyou", "fapiao_erp_yonyou")]
)
def test_erp_connectors_import_the_kit_only(plugin: str, package: str) -> None:
    root = REPO / "plugins" / plugin
    simulator = root / "src" / package / "simulator"
    assert simulator.is_dir() and (root / "tests").is_dir()
    assert outside_the_kit(root, (simulator,)) == {}
    runtime = set().union(*(fapiao_imports(p) for p in (root / "src" / package).glob("*.py")))
    assert runtime == RUNTIME  # they do import the kit (the check above saw real code)


def test_a_generated_plugin_imports_the_kit_only(tmp_path: Path) -> None:
    root = generate("acme_kit", tmp_path).root
    package = root / "src" / "fapiao_provider_acme_kit"
    assert outside_the_kit(root, (package / "sandbox",)) == {}
    assert fapiao_imports(package / "provider.py") == RUNTIME
    assert "fapiao.sandboxkit" in fapiao_imports(package / "sandbox" / "__init__.py")
    assert "fapiao.testing" in fapiao_imports(root / "tests" / "conftest.py")

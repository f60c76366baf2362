"""Names and files of a generated plugin (the install round trip is tests/test_scaffold_roundtrip.py)."""

from __future__ import annotations

import importlib
import sys
import tomllib
from pathlib import Path

import pytest

from fapiao.contract.operations import OPERATIONS
from fapiao.errors import ConfigError
from fapiao.rules import is_valid_uscc
from fapiao.tools.scaffold import generate, plugin_names


def test_names_derive_from_the_entry_point_name() -> None:
    names = plugin_names("acme_cloud")
    assert (names.dist, names.package, names.cls, names.title) == (
        "fapiao-provider-acme-cloud",
        "fapiao_provider_acme_cloud",
        "AcmeCloud",
        "Acme Cloud",
    )


@pytest.mark.parametrize("bad", ["Acme", "1acme", "a", "acme-cloud", "acme__x", "acme_", "中文"])
def test_bad_names_are_refused_with_a_bilingual_error(bad: str) -> None:
    with pytest.raises(ConfigError) as caught:
        plugin_names(bad)
    assert caught.value.field == "NAME" and "插件名" in caught.value.message_zh


def test_generated_project_is_wired(tmp_path: Path) -> None:
    plugin = generate("acme", tmp_path)
    root = plugin.root
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    entry_points = project["project"]["entry-points"]
    assert entry_points["fapiao.providers"] == {
        "acme": "fapiao_provider_acme.provider:AcmeProvider"
    }
    assert entry_points["fapiao.sandboxes"] == {
        "acme": "fapiao_provider_acme.sandbox:start_sandbox"
    }
    assert project["tool"]["pytest"]["ini_options"]["asyncio_mode"] == "auto"
    sandbox = (root / "src/fapiao_provider_acme/sandbox/__init__.py").read_text(encoding="utf-8")
    tax_id = sandbox.split('DEMO_SELLER_TAX_ID = "')[1].split('"')[0]
    assert is_valid_uscc(tax_id)
    assert "ProviderConformance" in (root / "tests/test_conformance.py").read_text(encoding="utf-8")
    assert (
        (root / "Makefile").read_text(encoding="utf-8").splitlines()[-1].startswith("\t$(PYTHON)")
    )
    for path in plugin.files:  # every placeholder was filled
        text = path.read_text(encoding="utf-8")
        assert "${" not in text and "$name" not in text and "$package" not in text, path
    with pytest.raises(ConfigError, match="not empty"):
        generate("acme", tmp_path)
    assert generate("acme", tmp_path, force=True).root == root


def test_fault_options_are_checked() -> None:
    from fapiao.tools.targets import parse_fault_options

    assert parse_fault_options(["error_5xx_rate=1", "latency-ms=20"]) == {
        "error_5xx_rate": 1.0,
        "latency_ms": 20.0,
    }
    with pytest.raises(ConfigError, match="known: latency_ms"):
        parse_fault_options(["bogus=1"])
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_fault_options(["error_5xx_rate"])


def test_generated_provider_defines_exactly_its_declared_operations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The base refuses undeclared operations, so the scaffold has neither stubs for them nor
    # require() calls; each declared one has a stub raising ProviderBase.not_implemented.
    root = generate("acme_ops", tmp_path).root
    source = (root / "src/fapiao_provider_acme_ops/provider.py").read_text(encoding="utf-8")
    assert "require(" not in source
    monkeypatch.syspath_prepend(str(root / "src"))
    module = importlib.import_module("fapiao_provider_acme_ops.provider")
    try:
        provider_class = module.AcmeOpsProvider
        declared = {OPERATIONS[op].method for op in provider_class.default_capabilities.operations}
        defined = {
            spec.method for spec in OPERATIONS.values() if spec.method in vars(provider_class)
        }
        assert defined == declared
    finally:
        for name in [n for n in sys.modules if n.startswith("fapiao_provider_acme_ops")]:
            del sys.modules[name]

"""Discovery through real entry points: a broken plugin is listed as broken and never breaks
the others; hook implementations in a plugin's module are registered.

Each test writes a tiny installed distribution (a ``.dist-info`` with ``entry_points.txt``) into
a temporary directory and runs the real ``fapiao`` CLI in a subprocess with that directory on
``PYTHONPATH``, exactly as an installed third-party plugin would be found.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def _install_fake_distribution(
    root: Path, name: str, entry_points: str, modules: dict[str, str]
) -> None:
    info = root / f"{name}-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    (info / "RECORD").write_text("")
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))


GOOD = """
from typing import ClassVar
from fapiao.contract import Capabilities, ProviderInfo, ProviderSettings
from fapiao.hookspecs import hookimpl
from fapiao.models import Operation

CALLS = []

class GoodProvider:
    name: ClassVar[str] = "goodtest"
    info = ProviderInfo(display_name="Good test provider")
    settings_model = ProviderSettings
    default_capabilities = Capabilities(
        operations=frozenset({Operation.ISSUE, Operation.QUERY}), issuance="sync", status_updates="polling"
    )

@hookimpl
def fapiao_register_commands(cli):
    @cli.command("goodtest-hello")
    def hello() -> None:
        print("hello from goodtest plugin")
"""

BROKEN = """
raise ImportError("this plugin is broken on purpose: missing vendor SDK")
"""


def _run(args: list[str], pythonpath: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(pythonpath) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-c", "from fapiao.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_broken_plugin_is_listed_and_others_still_load(tmp_path: Path) -> None:
    _install_fake_distribution(
        tmp_path,
        "fapiao_goodtest",
        "[fapiao.providers]\ngoodtest = fapiao_goodtest_mod:GoodProvider\n",
        {"fapiao_goodtest_mod": GOOD},
    )
    _install_fake_distribution(
        tmp_path,
        "fapiao_brokentest",
        "[fapiao.providers]\nbrokentest = fapiao_brokentest_mod:Provider\n",
        {"fapiao_brokentest_mod": BROKEN},
    )
    result = _run(["plugins", "--json"], tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["brokentest"]["status"] == "broken"
    assert "broken on purpose" in rows["brokentest"]["error"]
    assert rows["goodtest"]["status"] == "ok"
    assert rows["goodtest"]["distribution"] == "fapiao_goodtest"
    assert rows["goodtest"]["capabilities"]["issuance"] == "sync"

    table = _run(["plugins"], tmp_path)
    assert table.returncode == 0
    assert "broken" in table.stdout and "goodtest" in table.stdout


def test_plugin_hooks_register_cli_commands(tmp_path: Path) -> None:
    _install_fake_distribution(
        tmp_path,
        "fapiao_goodtest",
        "[fapiao.providers]\ngoodtest = fapiao_goodtest_mod:GoodProvider\n",
        {"fapiao_goodtest_mod": GOOD},
    )
    result = _run(["goodtest-hello"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "hello from goodtest plugin" in result.stdout


def test_unknown_provider_name_is_a_clear_config_error() -> None:
    from fapiao.errors import ConfigError
    from fapiao.plugins import discover

    registry = discover()
    with pytest.raises(ConfigError) as info:
        registry.provider_class("no-such-vendor")
    assert "no-such-vendor" in info.value.message_en
    assert "未知" in info.value.message_zh

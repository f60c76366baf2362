"""Discovery through real entry points: a broken plugin is listed as broken and never breaks
the others; hook implementations in a plugin's module are registered, and a hooks-only plugin
(group ``fapiao.hooks``) installs, is listed, and is called by the engine.

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


ARCHIVE = """
import json
import os
from pathlib import Path

from fapiao.sdk import hookimpl


@hookimpl
def fapiao_archive_invoice(status, documents):
    target = Path(os.environ["ARCHIVE_DIR"]) / f"{status.order_id}.json"
    files = sorted(d.format.value for d in documents)
    target.write_text(json.dumps({"number": status.invoice_number, "files": files}))


@hookimpl
def fapiao_register_commands(cli):
    @cli.command("archivetest-where")
    def where() -> None:
        print("archiving to", os.environ.get("ARCHIVE_DIR", "?"))
"""

TYPO_HOOK = """
from fapiao.sdk import hookimpl

@hookimpl
def fapiao_archive_invoce(status, documents):
    pass
"""

WRONG_SIGNATURE = """
from fapiao.sdk import hookimpl

@hookimpl
def fapiao_archive_invoice(status, documents, bucket):
    pass
"""

NO_HOOKS = """
def fapiao_archive_invoice(status, documents):  # not marked @hookimpl
    pass
"""


def _install_archive_plugin(root: Path) -> None:
    _install_fake_distribution(
        root,
        "fapiao_archivetest",
        "[fapiao.hooks]\narchivetest = fapiao_archivetest_mod\n",
        {"fapiao_archivetest_mod": ARCHIVE},
    )


def test_hook_only_plugins_are_listed_and_broken_ones_reported(tmp_path: Path) -> None:
    _install_archive_plugin(tmp_path)
    _install_fake_distribution(
        tmp_path,
        "fapiao_goodtest",
        "[fapiao.providers]\ngoodtest = fapiao_goodtest_mod:GoodProvider\n",
        {"fapiao_goodtest_mod": GOOD},
    )
    broken = {
        "brokenhooks": BROKEN,
        "typohooks": TYPO_HOOK,
        "signaturehooks": WRONG_SIGNATURE,
        "nohooks": NO_HOOKS,
    }
    for name, source in broken.items():
        _install_fake_distribution(
            tmp_path,
            f"fapiao_{name}",
            f"[fapiao.hooks]\n{name} = fapiao_{name}_mod\n",
            {f"fapiao_{name}_mod": source},
        )
    result = _run(["plugins", "--json"], tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    archive = rows["archivetest"]
    assert (archive["kind"], archive["status"], archive["distribution"]) == (
        "hooks",
        "ok",
        "fapiao_archivetest",
    )
    assert archive["hooks"] == ["fapiao_archive_invoice", "fapiao_register_commands"]
    assert rows["goodtest"]["status"] == "ok"  # the others load
    assert rows["goodtest"]["hooks"] == ["fapiao_register_commands"]
    for name in broken:
        assert (rows[name]["kind"], rows[name]["status"]) == ("hooks", "broken"), rows[name]
    assert "broken on purpose" in rows["brokenhooks"]["error"]
    assert "fapiao_archive_invoce" in rows["typohooks"]["error"]
    assert "未知的钩子" in rows["typohooks"]["error"]  # bilingual
    assert "bucket" in rows["signaturehooks"]["error"]
    assert "no fapiao hook implementation" in rows["nohooks"]["error"]

    table = _run(["plugins"], tmp_path)
    assert table.returncode == 0
    assert "archivetest" in table.stdout and "hooks:" in table.stdout


def test_hook_only_plugin_adds_its_cli_command(tmp_path: Path) -> None:
    _install_archive_plugin(tmp_path)
    result = _run(["archivetest-where"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "archiving to" in result.stdout


ISSUE_AND_DOWNLOAD = """
import asyncio, os, sys
from pathlib import Path

import tomli_w

from fapiao import AsyncClient
from fapiao.plugins import discover, sandbox_starters
from fapiao.sdk import Party, SandboxOptions
from fapiao.testing.samples import service_invoice

work = Path(sys.argv[1])
starters, _ = sandbox_starters()
model = discover().provider_class("baiwang").settings_model
with starters["baiwang"](SandboxOptions()) as sandbox:
    settings = {}
    for key, value in sandbox.settings.items():
        info = model.model_fields.get(key)
        if info is not None and "SecretStr" in str(info.annotation):
            os.environ[f"BW_{key.upper()}"] = str(value)
            value = f"env:BW_{key.upper()}"
        settings[key] = value
    seller = sandbox.seller_tax_ids[0]
    config = {
        "ledger": {"url": f"sqlite:///{work / 'ledger.db'}"},
        "profiles": {"bw": {"provider": "baiwang", "settings": settings}},
        "routing": {seller: "bw"},
    }
    (work / "fapiao.toml").write_text(tomli_w.dumps(config))

    async def run() -> None:
        async with AsyncClient.from_config(work / "fapiao.toml") as client:
            status = await client.issue(service_invoice(Party(name="示例销方", tax_id=seller)))
            documents = await client.documents(seller, status.order_id)
            print(status.order_id, status.invoice_number, len(documents))

    asyncio.run(run())
"""


def test_hook_only_plugin_archives_what_the_engine_issues(tmp_path: Path) -> None:
    # Nothing names the plugin: the engine's client loads it through discovery and calls its
    # fapiao_archive_invoice with the verified documents.
    plugins, archive = tmp_path / "site", tmp_path / "archive"
    archive.mkdir()
    _install_archive_plugin(plugins)
    env = dict(os.environ, ARCHIVE_DIR=str(archive))
    env["PYTHONPATH"] = str(plugins) + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(ISSUE_AND_DOWNLOAD), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    order_id, number, count = done.stdout.split()
    archived = json.loads((archive / f"{order_id}.json").read_text())
    assert archived["number"] == number
    assert archived["files"] == ["ofd", "pdf", "xml"] and int(count) == 3


def test_unknown_provider_name_is_a_clear_config_error() -> None:
    from fapiao.errors import ConfigError
    from fapiao.plugins import discover

    registry = discover()
    with pytest.raises(ConfigError) as info:
        registry.provider_class("no-such-vendor")
    assert "no-such-vendor" in info.value.message_en
    assert "未知" in info.value.message_zh

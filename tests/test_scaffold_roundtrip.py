"""``fapiao new-plugin`` round trip: generate a plugin into a temp dir, install it with pip
into a fresh venv (which sees the installed fapiao through a .pth file, so the shared
environment is left untouched), see ``fapiao plugins`` list it, then run its tests and see
them fail honestly, only on the unimplemented operations."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUFF = Path(sys.executable).parent / "ruff"


def _run(*args: str | Path, cwd: Path | None = None, timeout: float = 300) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def test_generated_plugin_installs_is_listed_and_fails_honestly(tmp_path: Path) -> None:
    _run(
        sys.executable,
        "-c",
        "from fapiao.cli import main; main()",
        "new-plugin",
        "acme_roundtrip",
        "--dir",
        tmp_path,
    )
    project = tmp_path / "fapiao-provider-acme-roundtrip"
    assert (project / "pyproject.toml").is_file()
    if RUFF.exists():  # the generated code meets the project's own lint rules
        _run(RUFF, "check", project, cwd=project)

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    shared = sysconfig.get_paths()["purelib"]
    Path(site, "_fapiao_shared.pth").write_text(f"import site; site.addsitedir({shared!r})\n")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "-e", project)

    listed = json.loads(
        _run(python, "-c", "from fapiao.cli import main; main()", "plugins", "--json")
    )
    mine = [p for p in listed if p["name"] == "acme_roundtrip"]
    assert mine and mine[0]["status"] == "ok", listed
    assert mine[0]["distribution"] == "fapiao-provider-acme-roundtrip"
    assert "issue" in mine[0]["capabilities"]["operations"]

    report = tmp_path / "junit.xml"
    tests = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert tests.returncode == 1, tests.stdout + tests.stderr  # failures, not a crash
    outcomes: dict[str, str] = {}
    messages: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        failure = case.find("failure")
        skipped = case.find("skipped")
        name = case.attrib["name"]
        outcomes[name] = (
            "failed" if failure is not None else "skipped" if skipped is not None else "passed"
        )
        if failure is not None:
            messages[name] = failure.attrib.get("message", "") + (failure.text or "")
    # what holds from the first minute passes
    for name in (
        "test_entry_points_are_installed",
        "test_settings_never_show_the_secret",
        "test_sandbox_is_a_real_server",
        "test_declarations_are_well_formed",
        "test_operations_are_coroutines",
    ):
        assert outcomes[name] == "passed", (name, messages.get(name))
    # the operations fail, each because it is not implemented yet
    for name in (
        "test_issue_then_query_until_issued",
        "test_documents_in_every_declared_format",
        "test_red_reversal_full",
        "test_query_batch_omits_unknown_orders",
    ):
        assert outcomes[name] == "failed", name
        assert "does not implement it yet" in messages[name], messages[name][:500]
    failed = [n for n, o in outcomes.items() if o == "failed"]
    assert all("UNSUPPORTED" in messages[n] or "not implemented" in messages[n] for n in failed)

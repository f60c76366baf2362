"""``fapiao selftest`` against both providers' sandboxes (real servers on loopback): it passes
with evidence, and fails clearly, with a non-zero exit, when a fault switch is on."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from fapiao.contract.sandbox import SandboxOptions
from fapiao.tools.selftest import run_selftest
from fapiao.tools.targets import sandbox_target

NUMBER = re.compile(r"^\d{20}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _selftest_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from fapiao.cli import main; main()", "selftest", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("provider", ["nuonuo", "baiwang"])
async def test_selftest_passes_against_the_sandbox_with_evidence(provider: str) -> None:
    with sandbox_target(provider) as target:
        result = await run_selftest(target, budget=60)
    report = json.loads(json.dumps(result.to_dict()))  # what --json prints
    assert report["passed"] is True and report["counts"]["fail"] == 0
    checks = {c["id"]: c for c in report["checks"]}
    caps = set(checks["declarations"]["evidence"]["operations"].split(", "))
    # every declared capability was exercised, with evidence a person can verify elsewhere
    assert NUMBER.match(checks["issue_special"]["evidence"]["invoice_number"])
    assert NUMBER.match(checks["issue_normal_person"]["evidence"]["invoice_number"])
    for fmt in ("pdf", "ofd", "xml"):
        assert SHA256.match(checks[f"documents_{fmt}"]["evidence"]["sha256"])
    assert NUMBER.match(checks["red_full"]["evidence"]["red_invoice_number"])
    assert NUMBER.match(checks["red_partial"]["evidence"]["red_invoice_number"])
    assert checks["over_reversal_refused"]["evidence"]["refused_with"].startswith("RED_NOT_ALLOWED")
    assert checks["auth_refused"]["evidence"]["refused_with"].startswith("AUTH_FAILED")
    assert checks["invalid_input_refused"]["evidence"]["field"] == "buyer.tax_id"
    assert checks["deliver_email"]["status"] == "pass"
    assert ("callbacks" in checks) == ("callback" in caps)
    if "callback" in caps:
        assert checks["callbacks"]["evidence"]["refused"] == "tampered, unsigned, replayed"
    else:  # polling only: the callback operation must be refused offline
        assert "callback" in checks["undeclared_refused"]["evidence"]["refused"]
    assert report["seller"].count("*") >= 8  # the tax ID is masked in the report
    skipped = [c for c in report["checks"] if c["status"] == "skip"]
    assert all(c["detail"] for c in skipped)  # a skip always says why


def test_cli_passes_and_prints_the_evidence() -> None:
    run = _selftest_cli("--sandbox", "nuonuo", "--budget", "60")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PASSED / 通过" in run.stdout
    assert re.search(r"invoice_number: \d{20}", run.stdout)
    assert re.search(r"sha256: [0-9a-f]{64}", run.stdout)


def test_selftest_fails_clearly_with_a_fault_switch_on() -> None:
    run = _selftest_cli("--sandbox", "baiwang", "--budget", "60", "--fault", "error_5xx_rate=1")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "FAILED / 未通过" in run.stdout
    assert "HTTP 503" in run.stdout  # the cause, as the transport classified it
    assert "issuance failed" in run.stdout  # dependent checks say why they could not run


async def test_selftest_stops_at_its_time_budget() -> None:
    # Every API call hangs after commit: issuance cannot finish within a one-second budget.
    options = SandboxOptions(faults={"timeout_after_commit_rate": 1.0, "hang_seconds": 5})
    with sandbox_target("nuonuo", options) as target:
        report = await run_selftest(target, budget=1.0)
    assert not report.passed
    failed = [c for c in report.failed]
    assert any("budget" in c.detail for c in failed), [c.detail for c in failed]
    assert report.elapsed_seconds < 4


def test_selftest_needs_a_profile_or_a_sandbox() -> None:
    run = _selftest_cli()
    assert run.returncode == 2
    assert "--profile" in run.stderr and "--sandbox" in run.stderr
    unknown = _selftest_cli("--sandbox", "no_such_vendor")
    assert unknown.returncode == 2
    assert "no sandbox for provider 'no_such_vendor'" in unknown.stderr

"""``fapiao demo``, the README's main command, run as a user runs it: a subprocess on a fresh
output folder. Checks the exit status, the summary, and what it leaves on disk — every
invoice's PDF/OFD/XML (verified), a config holding no secret, an encrypted secrets file,
the ledger — and that running it again works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fapiao.documents import verify_document
from fapiao.models import DocumentFormat


def _demo(out: Path, n: int) -> tuple[subprocess.CompletedProcess[str], dict]:  # type: ignore[type-arg]
    fapiao = Path(sys.executable).with_name("fapiao")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAPIAO_")}
    result = subprocess.run(
        [str(fapiao), "demo", "--n", str(n), "--out", str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result, json.loads(result.stdout)


def test_demo_runs_end_to_end_and_again(tmp_path: Path) -> None:
    out = tmp_path / "tmp"
    result, report = _demo(out, 8)
    assert "Traceback" not in result.stderr
    assert report["ok"] is True
    run_dir = Path(report["run_dir"])
    assert run_dir.parent == out and (out / "latest").resolve() == run_dir.resolve()

    providers = {p["provider"]: p for p in report["providers"]}
    assert set(providers) == {"nuonuo", "baiwang"}
    for summary in providers.values():
        assert summary["invoices"] == 4
        assert (summary["issued"], summary["failed"], summary["pending"]) == (4, 0, 0)
        assert summary["red"] == 1
        assert summary["documents"] == 3 * (4 + 1)  # every blue and the red one, 3 formats
        assert summary["issue_p50_ms"] is not None
    # the asynchronous provider's invoices were settled by its signed callbacks
    assert providers["nuonuo"]["callbacks"] >= 4
    assert providers["baiwang"]["callbacks"] == 0  # polling only: no callbacks

    reds = report["red_reversals"]
    assert len(reds) == 2
    assert all(r["state"] == "issued" and r["blue_state"] == "partially_reversed" for r in reds)

    # files: three verified formats per invoice number, in one folder per profile
    files = sorted((run_dir / "documents").rglob("*.*"))
    numbers: dict[str, set[str]] = {}
    for file in files:
        numbers.setdefault(file.stem, set()).add(file.suffix.lstrip("."))
        verify_document(
            DocumentFormat(file.suffix.lstrip(".")), file.read_bytes(), invoice_number=file.stem
        )
    assert len(numbers) == 10 and all(f == {"pdf", "ofd", "xml"} for f in numbers.values())
    assert {p.name for p in (run_dir / "documents").iterdir()} == {
        "hangzhou-nuonuo",
        "beijing-baiwang",
    }

    # config references secrets only; the secrets file holds them encrypted
    config = (run_dir / "fapiao.toml").read_text(encoding="utf-8")
    assert config.count("secret:") >= 4
    sealed = (run_dir / "secrets.enc").read_text(encoding="utf-8")
    for clear in ("SDDED2523BED4643", "bw-sandbox-secret-7f3c9a2e51d84b6f", "Sandbox#2026"):
        assert clear not in config and clear not in sealed
        assert clear not in result.stdout
    assert (run_dir / "ledger.db").stat().st_size > 0
    assert json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))["ok"] is True

    # running it again works: a fresh run directory, everything issued again
    _, second = _demo(out, 2)
    assert second["ok"] is True and second["run_dir"] != report["run_dir"]
    assert (out / "latest").resolve() == Path(second["run_dir"]).resolve()

"""No secret, full tax ID or phone number in any log line of a full run.

Runs the whole product — ``fapiao demo``: two providers, tokens, signed requests, signed
callbacks, a red reversal, documents — with DEBUG logging of every library captured to a
file, then greps every line for each secret value in the run's encrypted secrets file,
every tax ID and phone number the run's invoices carry, and vendor credentials/tokens in
the forms the protocols put them on the wire. The report on stdout is checked too.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from fapiao.engine.secrets import SecretStore

# protocol fields that carry credentials or tokens: their values must show as ***
_CREDENTIAL_FIELDS = re.compile(
    r"(?i)(access_?token|refresh_?token|token|sign|signature|app_?secret|password|client_secret)"
    r"""(["']?\s*[:=]\s*["']?)([^"'&\s,}]+)"""
)


def _values(obj: object, *names: str) -> set[str]:
    found: set[str] = set()
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in names and isinstance(value, str) and value:
                found.add(value)
            found |= _values(value, *names)
    elif isinstance(obj, list):
        for item in obj:
            found |= _values(item, *names)
    return found


def test_full_run_logs_no_secret_tax_id_or_phone(tmp_path: Path) -> None:
    log_file = tmp_path / "debug.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAPIAO_")}
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("fapiao")),
            "demo",
            "--n",
            "6",
            "--out",
            str(tmp_path / "out"),
            "--log-level",
            "debug",
            "--log-file",
            str(log_file),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads(result.stdout)
    run_dir = Path(report["run_dir"])

    key = (run_dir / "secrets.key").read_text(encoding="ascii").strip()
    secrets = set(SecretStore.open(run_dir / "secrets.enc", key).values())
    secrets.add(key)
    assert len(secrets) >= 5  # both vendors' app secrets, password, salt, and the key

    invoices = [
        json.loads(line)
        for line in (run_dir / "invoices.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    tax_ids = _values(invoices, "tax_id")
    phones = _values(invoices, "phone", "mobile")
    assert len(tax_ids) >= 4 and any(p.startswith("1") for p in phones)  # mobiles included

    lines = log_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) > 100
    loggers = {line.split(" ")[3] for line in lines if len(line.split(" ")) > 3}
    # the run really logged the wire: transport, HTTP library, callbacks received
    assert {"fapiao.transport:", "httpx:", "fapiao.service:"} <= loggers
    assert any("DEBUG" in line for line in lines)

    leaks = []
    for number, line in enumerate(lines, start=1):
        for value in (*secrets, *tax_ids, *phones):
            if value in line:
                leaks.append(f"line {number}: {value[:4]}…")
        for match in _CREDENTIAL_FIELDS.finditer(line):
            if match.group(3) not in ("***", "None", "null"):
                leaks.append(f"line {number}: {match.group(1)} = {match.group(3)[:4]}…")
    assert leaks == []
    # tokens and signatures did go over the wire, masked
    assert any("token=***" in line for line in lines)
    assert any("sign=***" in line for line in lines)

    for value in (*secrets, *tax_ids, *phones):
        assert value not in result.stdout and value not in result.stderr

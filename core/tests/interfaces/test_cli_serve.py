"""``fapiao serve`` as an operator runs it: a subprocess that prints where it listens, answers
health checks and the gateway, and stops cleanly on Ctrl-C (SIGINT)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx


def _fapiao() -> list[str]:
    return [str(Path(sys.executable).with_name("fapiao"))]


def test_serve_answers_and_stops_on_sigint(install) -> None:
    inst = install()
    env = {**os.environ, "FAPIAO_API_TOKEN": "serve-test-token-1"}
    process = subprocess.Popen(
        [*_fapiao(), "serve", "--port", "0", "--json", "--config", str(inst.config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("}"):
                break
        started = json.loads("".join(lines))
        assert started["authenticated"] is True
        assert set(started["callbacks"]) == {"hz", "bj"}
        url = started["url"]
        assert httpx.get(f"{url}/healthz", timeout=10).json()["status"] == "ok"
        assert httpx.get(f"{url}/v1/status", timeout=10).status_code == 401
        status = httpx.get(
            f"{url}/v1/status", headers={"Authorization": "Bearer serve-test-token-1"}, timeout=10
        )
        assert status.status_code == 200
        assert status.json()["profiles"] == {"hz": "nuonuo", "bj": "baiwang"}
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err  # Ctrl-C is how a server is stopped: a clean exit
    assert "Traceback" not in err

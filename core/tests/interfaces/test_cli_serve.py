"""``fapiao serve`` as an operator runs it: a subprocess that prints where it listens, answers
health checks and the gateway, and stops cleanly on Ctrl-C (SIGINT)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest


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


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "fapiao.example.com"])
def test_serve_refuses_an_open_gateway_off_loopback(install, cli, monkeypatch, host) -> None:
    inst = install()
    monkeypatch.delenv("FAPIAO_API_TOKEN", raising=False)
    result = cli("serve", "--host", host, "--port", "0", "--config", inst.config)
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert "FAPIAO_API_TOKEN" in result.stderr and "--token-env" in result.stderr
    assert "令牌" in result.stderr and "API token" in result.stderr
    as_json = cli("serve", "--host", host, "--port", "0", "--config", inst.config, "--json")
    assert as_json.exit_code == 1
    error = json.loads(as_json.stdout)["error"]
    assert (error["code"], error["field"]) == ("CONFIG_ERROR", "--token-env")
    assert "FAPIAO_API_TOKEN" in error["message_zh"] and "FAPIAO_API_TOKEN" in error["message_en"]


def test_serve_names_the_variable_it_was_told_to_read(install, cli, monkeypatch) -> None:
    inst = install()
    monkeypatch.delenv("GATEWAY_TOKEN", raising=False)
    result = cli(
        "serve", "--host", "0.0.0.0", "--token-env", "GATEWAY_TOKEN", "--config", inst.config
    )
    assert result.exit_code == 1
    assert "GATEWAY_TOKEN" in result.stderr


def _started(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("}"):
            break
    started: dict[str, Any] = json.loads("".join(lines))
    return started


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    return err


def test_serve_stays_open_on_loopback_and_off_it_with_a_token(install) -> None:
    inst = install()
    env = {k: v for k, v in os.environ.items() if k != "FAPIAO_API_TOKEN"}
    command = [*_fapiao(), "serve", "--port", "0", "--json", "--config", str(inst.config)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        started = _started(process)
        assert started["authenticated"] is False
        assert httpx.get(f"{started['url']}/v1/status", timeout=10).status_code == 200
    finally:
        assert "Traceback" not in _stop(process)

    env["FAPIAO_API_TOKEN"] = "serve-test-token-2"
    process = subprocess.Popen(
        [*command, "--host", "0.0.0.0", "--public-metrics", "--max-body-bytes", "2048"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        started = _started(process)
        assert started["authenticated"] is True
        assert (started["public_metrics"], started["public_docs"]) == (True, True)
        assert started["max_body_bytes"] == 2048
        port = started["url"].rsplit(":", 1)[1]
        local = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{local}/v1/status", timeout=10).status_code == 401
        assert httpx.get(f"{local}/metrics", timeout=10).status_code == 200
        too_large = httpx.post(f"{local}/v1/invoices", content=b" " * 4096, timeout=10)
        assert too_large.status_code == 413
    finally:
        assert "Traceback" not in _stop(process)

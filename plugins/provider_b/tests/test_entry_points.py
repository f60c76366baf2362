"""Installed as a user installs it: found by entry points, sandbox startable alone."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx

from fapiao.contract.sandbox import SandboxOptions
from fapiao.models import InvoiceState, Party
from fapiao.plugins import discover, sandbox_starters
from fapiao.testing.samples import service_invoice
from fapiao_provider_b import BaiwangProvider, BaiwangSettings
from fapiao_provider_b.sandbox import DEMO_APP


def test_provider_is_discovered_by_its_entry_point() -> None:
    registry = discover()
    assert registry.provider_class("baiwang") is BaiwangProvider
    assert registry.providers["baiwang"].distribution == "fapiao-provider-b"
    assert BaiwangProvider.settings_model is BaiwangSettings


async def test_sandbox_starter_serves_extra_sellers() -> None:
    starters, broken = sandbox_starters()
    assert not [b for b in broken if b.name == "baiwang"]
    extra = "91310115MA1K4BW00G"
    with starters["baiwang"](SandboxOptions(seller_tax_ids=(extra,))) as running:
        assert running.provider == "baiwang"
        assert set(running.seller_tax_ids) >= {extra}
        async with BaiwangProvider(BaiwangSettings(**running.settings)) as provider:
            seller = Party(name="示例销方1有限公司", tax_id=extra)
            result = await provider.issue(service_invoice(seller))
            assert result.state is InvoiceState.ISSUED
        running.set_faults({"error_5xx_rate": 1.0})  # type: ignore[misc]
        assert running.admin.faults.config.error_5xx_rate == 1.0


def test_python_dash_m_sandbox_answers_a_token_call() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fapiao_provider_b.sandbox",
            "--port",
            "0",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        url = None
        deadline = time.monotonic() + 20
        assert process.stdout is not None
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            found = re.search(r"listening on (http://\S+)", line)
            url = found.group(1) if found else None
        assert url, "the sandbox did not print its URL"
        import hashlib

        password = hashlib.sha256((DEMO_APP.password + (DEMO_APP.user_salt or "")).encode())
        answer = httpx.post(
            url + "/router/rest",
            params={
                "method": "baiwang.oauth.token",
                "grant_type": "password",
                "client_id": DEMO_APP.app_key,
                "version": "7.0",
                "timestamp": str(int(time.time() * 1000)),
            },
            json={
                "username": DEMO_APP.username,
                "password": password.hexdigest(),
                "client_secret": DEMO_APP.app_secret,
            },
            timeout=10,
        ).json()
        assert answer["success"] is True and answer["response"]["access_token"]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

"""Fault injection against a real loopback server: each fault is observed from the client
side (status, transport error, timeout) and from the server side (what was committed)."""

from __future__ import annotations

import time

import httpx
import pytest
from pydantic import ValidationError

from fapiao.sandboxkit import (
    FaultConfig,
    FaultHeaderError,
    FaultInjector,
    parse_fault_header,
)

TRANSPORT_ERRORS = (httpx.ReadError, httpx.RemoteProtocolError, httpx.ConnectError)


def post(sandbox, key: str, fault: str | None = None, timeout: float = 2.0) -> httpx.Response:
    headers = {"X-Sandbox-Fault": fault} if fault else {}
    return httpx.post(f"{sandbox.url}/create", json={"id": key}, headers=headers, timeout=timeout)


# --- parsing and deciding --------------------------------------------------------------------


def test_header_grammar_combines_tokens() -> None:
    d = parse_fault_header("latency=250, 5xx=502")
    assert d.latency_s == pytest.approx(0.25)
    assert d.error_status == 502
    assert d.explicit and d.before_commit
    d = parse_fault_header("timeout=1.5,dup-callback")
    assert d.timeout_after_commit and d.hang_seconds == 1.5 and d.duplicate_callback
    assert not d.before_commit
    d = parse_fault_header("reset-after-commit")
    assert d.reset and d.reset_after_commit and not d.before_commit
    assert not parse_fault_header("none").faulty


@pytest.mark.parametrize("value", ["explode", "5xx=404", "latency", "latency=abc", "timeout=x"])
def test_header_grammar_refuses_nonsense(value: str) -> None:
    with pytest.raises(FaultHeaderError):
        parse_fault_header(value)


def test_config_refuses_rates_outside_0_1_and_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        FaultConfig(error_5xx_rate=1.5)
    with pytest.raises(ValidationError):
        FaultConfig.model_validate({"error_rate": 0.1})


def test_seeded_injector_is_reproducible_and_follows_the_rate() -> None:
    config = FaultConfig(error_5xx_rate=0.3, reset_rate=0.2, seed=7)
    first = [FaultInjector(config).decide() for _ in range(1)]
    a, b = FaultInjector(config), FaultInjector(config)
    seq_a = [(d.error_status, d.reset) for d in (a.decide() for _ in range(500))]
    seq_b = [(d.error_status, d.reset) for d in (b.decide() for _ in range(500))]
    assert seq_a == seq_b
    errors = sum(1 for status, _ in seq_a if status)
    resets = sum(1 for _, reset in seq_a if reset)
    assert 110 <= errors <= 190  # ~150 expected
    assert 50 <= resets <= 130  # 0.7 * 0.2 * 500 = 70 expected
    assert first[0].hang_seconds == 30


def test_header_wins_over_rates_and_rates_can_be_switched_off() -> None:
    injector = FaultInjector(FaultConfig(error_5xx_rate=1.0))
    assert injector.decide({"x-sandbox-fault": "none"}).error_status is None
    assert injector.decide({}).error_status == 503
    assert injector.decide({}, apply_rates=False).error_status is None


# --- over the wire -----------------------------------------------------------------------------


def test_no_fault_commits_and_answers(sandbox) -> None:
    response = post(sandbox, "a")
    assert response.status_code == 200
    assert sandbox.ledger.committed == ["a"]


def test_5xx_is_answered_before_the_handler_commits(sandbox) -> None:
    response = post(sandbox, "b", "5xx=502")
    assert response.status_code == 502
    assert response.json()["sandbox_fault"] == "5xx"
    assert sandbox.ledger.committed == []
    assert sandbox.injector.counts["5xx"] == 1


def test_reset_before_commit_is_a_transport_error_and_commits_nothing(sandbox) -> None:
    with pytest.raises(TRANSPORT_ERRORS):
        post(sandbox, "c", "reset")
    assert sandbox.ledger.committed == []


def test_reset_after_commit_commits_then_kills_the_connection(sandbox) -> None:
    with pytest.raises(TRANSPORT_ERRORS):
        post(sandbox, "d", "reset-after-commit")
    assert sandbox.ledger.committed == ["d"]


def test_timeout_after_commit_commits_then_holds_the_answer(sandbox) -> None:
    started = time.perf_counter()
    with pytest.raises(httpx.ReadTimeout):
        post(sandbox, "e", "timeout=5", timeout=0.3)
    assert time.perf_counter() - started < 2
    assert sandbox.ledger.committed == ["e"]
    # the held response was dropped when the client hung up: the server is free again
    assert post(sandbox, "f").status_code == 200


def test_short_hang_still_answers_late(sandbox) -> None:
    started = time.perf_counter()
    response = post(sandbox, "g", "timeout=0.2", timeout=3)
    assert response.status_code == 200
    assert time.perf_counter() - started >= 0.2


def test_latency_delays_the_answer(sandbox) -> None:
    started = time.perf_counter()
    assert post(sandbox, "h", "latency=150").status_code == 200
    assert time.perf_counter() - started >= 0.15


def test_bad_header_is_a_clear_400(sandbox) -> None:
    response = post(sandbox, "i", "explode")
    assert response.status_code == 400
    assert "explode" in response.json()["detail"]
    assert sandbox.ledger.committed == []


def test_rates_apply_only_where_the_sandbox_says(sandbox) -> None:
    sandbox.injector.update(error_5xx_rate=1.0)
    assert httpx.post(f"{sandbox.url}/token").status_code == 200  # exempt by applies_to
    assert post(sandbox, "j").status_code == 503


def test_handler_can_ask_for_a_reset_on_its_own_response(sandbox) -> None:
    with pytest.raises(TRANSPORT_ERRORS):
        httpx.get(f"{sandbox.url}/flaky", params={"key": "k", "fail": 1, "mode": "reset"})
    assert httpx.get(f"{sandbox.url}/flaky", params={"key": "k", "fail": 1}).json()["calls"] == 2


def test_admin_endpoint_switches_faults_at_runtime(sandbox) -> None:
    admin = f"{sandbox.url}/__sandbox__/faults"
    snapshot = httpx.get(admin).json()
    assert snapshot["config"]["error_5xx_rate"] == 0
    changed = httpx.put(admin, json={"error_5xx_rate": 1, "error_status": 504}).json()
    assert changed["config"]["error_status"] == 504
    assert post(sandbox, "k").status_code == 504
    # PATCH keeps the other fields; the admin endpoint itself is never faulted
    patched = httpx.patch(admin, json={"latency_ms": 1}).json()["config"]
    assert patched["error_5xx_rate"] == 1 and patched["latency_ms"] == 1
    assert httpx.get(admin).json()["injected"]["5xx"] == 1
    bad = httpx.put(admin, json={"error_5xx_rate": 2})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["error_5xx_rate"]
    cleared = httpx.delete(admin).json()
    assert cleared["config"]["error_5xx_rate"] == 0 and cleared["injected"] == {}
    assert post(sandbox, "l").status_code == 200


@pytest.mark.parametrize("kind", ["httpx", "aiohttp"])
async def test_reset_is_a_transport_error_for_both_async_transports(sandbox, kind: str) -> None:
    transport: httpx.AsyncBaseTransport
    if kind == "aiohttp":
        from httpx_aiohttp import AiohttpTransport

        transport = AiohttpTransport()
    else:
        transport = httpx.AsyncHTTPTransport()
    async with httpx.AsyncClient(base_url=sandbox.url, transport=transport, timeout=2) as client:
        for fault in ("reset", "reset-after-commit"):
            with pytest.raises(httpx.TransportError):
                await client.post("/create", json={"id": fault}, headers={"X-Sandbox-Fault": fault})
        response = await client.post("/create", json={"id": "ok"})
        assert response.status_code == 200
    assert sandbox.ledger.committed == ["reset-after-commit", "ok"]

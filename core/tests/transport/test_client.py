"""The shared transport against real loopback servers, with both transport kinds.

What matters is the exactly-once classification: a request that may have reached the
provider is never resent unless declared idempotent, and its failure is OUTCOME_UNKNOWN;
a request that cannot have left is PROVIDER_UNAVAILABLE. The server's own record of what
it committed is the witness.
"""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from fapiao.errors import OutcomeUnknown, ProviderUnavailable
from fapiao.masking import Scrubber
from fapiao.transport import RateLimiter, scrub_library_logs

FAULT = "X-Sandbox-Fault"


async def test_plain_request_passes(provider, make_http) -> None:
    http = make_http(provider.url)
    response = await http.post("/orders", idempotent=False, json={"id": "o1"})
    assert response.status_code == 200
    assert provider.recorder.committed == ["o1"]


async def test_idempotent_request_is_retried_on_5xx(provider, make_http) -> None:
    http = make_http(provider.url, retries=2)
    response = await http.get("/flaky", params={"key": "a", "fail": 2})
    assert response.json() == {"calls": 3}
    assert provider.recorder.calls["a"] == 3


async def test_idempotent_5xx_beyond_retries_is_unavailable(provider, make_http) -> None:
    http = make_http(provider.url, retries=2)
    with pytest.raises(ProviderUnavailable) as caught:
        await http.get("/flaky", params={"key": "b", "fail": 10})
    assert caught.value.raw_code == "503" and caught.value.retryable
    assert provider.recorder.calls["b"] == 3


async def test_idempotent_request_is_retried_after_a_connection_reset(provider, make_http) -> None:
    http = make_http(provider.url, retries=2)
    response = await http.get("/flaky", params={"key": "c", "fail": 1, "mode": "reset"})
    assert response.json() == {"calls": 2}


async def test_idempotent_request_gives_up_on_persistent_resets(provider, make_http) -> None:
    http = make_http(provider.url, retries=1)
    with pytest.raises(ProviderUnavailable):
        await http.get("/flaky", params={"key": "d", "fail": 10, "mode": "reset"})
    assert provider.recorder.calls["d"] == 2


async def test_non_idempotent_5xx_is_unknown_and_not_resent(provider, make_http) -> None:
    http = make_http(provider.url, retries=2)
    with pytest.raises(OutcomeUnknown) as caught:
        await http.post("/flaky", idempotent=False, params={"key": "e", "fail": 10})
    assert caught.value.raw_code == "503" and not caught.value.retryable
    assert provider.recorder.calls["e"] == 1


async def test_timeout_after_commit_is_unknown_and_not_resent(provider, make_http) -> None:
    http = make_http(provider.url, timeout=0.4, retries=2)
    started = time.perf_counter()
    with pytest.raises(OutcomeUnknown):
        await http.post(
            "/orders", idempotent=False, json={"id": "t1"}, headers={FAULT: "timeout=10"}
        )
    assert time.perf_counter() - started < 3
    assert provider.recorder.committed == ["t1"]  # it happened, exactly once
    # the client stays usable after abandoning the held response
    assert (await http.get("/ping")).status_code == 200


async def test_reset_after_commit_is_unknown_and_not_resent(provider, make_http) -> None:
    http = make_http(provider.url, retries=2)
    with pytest.raises(OutcomeUnknown) as caught:
        await http.post(
            "/orders", idempotent=False, json={"id": "r1"}, headers={FAULT: "reset-after-commit"}
        )
    assert "after sending" in caught.value.message_en
    assert provider.recorder.committed == ["r1"]


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_non_idempotent_put_or_delete_is_never_resent(provider, make_http, method) -> None:
    """HTTP calls PUT and DELETE idempotent; a vendor's PUT may still create an invoice.
    Only the plugin's ``idempotent`` flag decides a resend (aiohttp's own is switched off)."""
    http = make_http(provider.url, retries=2)
    with pytest.raises(OutcomeUnknown):
        await http.request(
            method,
            "/orders",
            idempotent=False,
            json={"id": method},
            headers={FAULT: "reset-after-commit"},
        )
    assert provider.recorder.committed == [method]


async def test_reset_before_commit_is_still_unknown_to_the_client(provider, make_http) -> None:
    """The client cannot tell a reset before the handler from one after: it must query."""
    http = make_http(provider.url)
    with pytest.raises(OutcomeUnknown):
        await http.post("/orders", idempotent=False, json={"id": "r2"}, headers={FAULT: "reset"})
    assert provider.recorder.committed == []


@pytest.mark.parametrize("idempotent", [True, False])
async def test_nothing_listening_is_unavailable(dead_url, make_http, idempotent) -> None:
    http = make_http(dead_url, retries=1, timeout=2)
    started = time.perf_counter()
    with pytest.raises(ProviderUnavailable) as caught:
        await http.request("POST", "/orders", idempotent=idempotent, json={"id": "x"})
    assert caught.value.retryable
    assert time.perf_counter() - started < 2


async def test_rate_limit_holds_the_rate(provider, make_http) -> None:
    """Rate 100/s with a burst of 100: 150 concurrent calls need at least 0.5 s.

    The window check uses the moments the limiter released each call (client side): arrival
    times at the server add scheduling jitter on a loaded machine, which can bunch calls
    together without the limiter being wrong.
    """
    http = make_http(provider.url, rate_limit_per_second=100)
    assert http.limiter is not None
    released: list[float] = []
    acquire = http.limiter.acquire

    async def recording_acquire() -> None:
        await acquire()
        released.append(time.perf_counter())

    http.limiter.acquire = recording_acquire  # type: ignore[method-assign]
    started = time.perf_counter()
    await asyncio.gather(*(http.get("/ping") for _ in range(150)))
    elapsed = time.perf_counter() - started
    assert elapsed >= 0.45
    assert len(provider.recorder.arrivals) == 150
    released.sort()
    # by t seconds after the first release, at most burst + rate x t calls (+1 for rounding)
    for t in (0.1, 0.2, 0.3):
        let_go = sum(1 for r in released if r <= released[0] + t)
        assert let_go <= 100 + 100 * t + 1, (t, let_go)


async def test_rate_limiter_spaces_calls_after_the_burst() -> None:
    limiter = RateLimiter(200, burst=1)
    started = time.perf_counter()
    for _ in range(41):
        await limiter.acquire()
    assert 0.19 <= time.perf_counter() - started < 1.0
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0)


async def test_logs_go_through_the_scrubber(provider, make_http, caplog, dead_url) -> None:
    secret = "s3cr3t-app-secret-value"
    tax_id = "91310000MA1FL8XQ30"
    scrub = Scrubber([secret]).scrub
    scrub_library_logs([secret])  # what the engine does with every configured secret
    http = make_http(provider.url, scrub=scrub)
    caplog.set_level(logging.DEBUG)
    # the httpx logger's own level too: an in-process CLI run earlier in the session may have
    # quietened it (the CLI sets chatty libraries to WARNING)
    caplog.set_level(logging.DEBUG, logger="httpx")
    await http.get(f"/echo/{tax_id}/{secret}?token=tok-123456")
    broken = make_http(dead_url, scrub=scrub, retries=0)
    with pytest.raises(ProviderUnavailable):
        await broken.post(f"/orders?appSecret={secret}", idempotent=False, json={})
    ours = [r for r in caplog.records if r.name == "fapiao.transport"]
    assert len(ours) == 2
    assert {r.levelno for r in ours} == {logging.DEBUG, logging.WARNING}
    assert "9131**********XQ30" in ours[0].getMessage()
    assert "testvendor" in ours[0].getMessage()
    # no record at all, ours or the HTTP libraries' (httpx logs each URL), carries a secret
    # or a clear tax ID
    assert any(r.name == "httpx" and "/echo/" in r.getMessage() for r in caplog.records)
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert secret not in everything and "tok-123456" not in everything
    assert tax_id not in everything


async def test_tls_with_the_sandbox_ca(tls_provider, make_http) -> None:
    http = make_http(tls_provider.url, verify=tls_provider.server.ca_file)
    assert (await http.get("/ping")).json() == {"pong": True}


async def test_tls_without_trusting_the_ca_is_unavailable(tls_provider, make_http) -> None:
    http = make_http(tls_provider.url, retries=0)
    with pytest.raises(ProviderUnavailable):
        await http.post("/orders", idempotent=False, json={"id": "tls"})
    assert "tls" not in tls_provider.recorder.committed

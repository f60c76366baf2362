"""CallbackSender delivering to a real receiver on loopback: signing per attempt, retries
with backoff, giving up, duplicates, out-of-order delivery, clean stop with the server."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fapiao.sandboxkit import (
    CallbackRequest,
    CallbackSender,
    FaultConfig,
    FaultInjector,
    RunningServer,
    serve,
)

SECRET = b"callback-secret"


def build(payload: Mapping[str, Any]) -> tuple[dict[str, str], bytes]:
    """A vendor-style signer: a fresh timestamp and an HMAC over timestamp + body."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    stamp = f"{time.time_ns()}"
    sign = hmac.new(SECRET, stamp.encode() + body, hashlib.sha256).hexdigest()
    return {"content-type": "application/json", "x-stamp": stamp, "x-sign": sign}, body


class Receiver:
    """Records every callback; fails the first ``fail_first[key]`` deliveries with 500."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail_first: dict[str, int] = {}
        self.lock = threading.Lock()

    async def endpoint(self, request: Request) -> JSONResponse:
        return await self._receive(request, request.headers)

    async def query_endpoint(self, request: Request) -> JSONResponse:
        """The same receiver for a vendor that signs in the query string."""
        return await self._receive(request, request.query_params)

    async def _receive(self, request: Request, signed: Mapping[str, str]) -> JSONResponse:
        body = await request.body()
        expected = hmac.new(SECRET, signed["x-stamp"].encode() + body, hashlib.sha256).hexdigest()
        payload = json.loads(body)
        with self.lock:
            self.received.append(
                {
                    "payload": payload,
                    "stamp": signed["x-stamp"],
                    "valid": hmac.compare_digest(expected, signed["x-sign"]),
                    "query": dict(request.query_params),
                }
            )
            remaining = self.fail_first.get(payload["order"], 0)
            if remaining:
                self.fail_first[payload["order"]] = remaining - 1
                return JSONResponse({"status": "9999"}, 500)
        return JSONResponse({"status": "0000"})

    def orders(self) -> list[tuple[str, str]]:
        with self.lock:
            return [(r["payload"]["order"], r["payload"]["state"]) for r in self.received]


@pytest.fixture(scope="module")
def receiver_server() -> Iterator[tuple[Receiver, RunningServer]]:
    receiver = Receiver()
    app = Starlette(
        routes=[
            Route("/cb", receiver.endpoint, methods=["POST"]),
            Route("/qcb", receiver.query_endpoint, methods=["POST"]),
        ]
    )
    with serve(app) as server:
        yield receiver, server


@pytest.fixture
def receiver(receiver_server: tuple[Receiver, RunningServer]) -> tuple[Receiver, str]:
    rec, server = receiver_server
    with rec.lock:
        rec.received.clear()
        rec.fail_first.clear()
    return rec, f"{server.base_url}/cb"


def sender(injector: FaultInjector | None = None, **kwargs: Any) -> CallbackSender:
    options: dict[str, Any] = {"retries": 3, "backoff_s": 0.01, "reorder_hold_s": 0.3}
    options.update(kwargs)
    return CallbackSender(build, injector=injector, **options)


async def test_delivers_signed_callbacks_in_order_per_key(receiver) -> None:
    rec, url = receiver
    async with sender().running() as s:
        for state in ("issuing", "issued"):
            s.send(url, {"order": "A1", "state": state}, key="A1")
        assert await s.wait_idle(5)
    assert rec.orders() == [("A1", "issuing"), ("A1", "issued")]
    assert all(r["valid"] for r in rec.received)
    assert [(d.attempt, d.accepted, d.status_code) for d in s.deliveries] == [
        (1, True, 200),
        (1, True, 200),
    ]
    assert all(
        d.params == () and "x-stamp" not in r["query"]
        for d, r in zip(s.deliveries, rec.received, strict=True)
    )


async def test_query_signed_attempts_carry_fresh_params_next_to_the_receivers_own(
    receiver,
) -> None:
    rec, url = receiver
    rec.fail_first["Q1"] = 1
    own = url.removesuffix("/cb") + "/qcb?tenant=t1"

    def build_in_query(payload: Mapping[str, Any]) -> CallbackRequest:
        headers, body = build(payload)
        signed = {k: headers.pop(k) for k in ("x-stamp", "x-sign")}
        return CallbackRequest(headers, body, signed)

    async with CallbackSender(build_in_query, retries=2, backoff_s=0.01).running() as s:
        s.send(own, {"order": "Q1", "state": "issued"}, key="Q1")
        assert await s.wait_idle(5)
    assert [(d.attempt, d.accepted) for d in s.deliveries] == [(1, False), (2, True)]
    assert [r["valid"] for r in rec.received] == [True, True]
    assert [r["query"]["tenant"] for r in rec.received] == ["t1", "t1"]  # kept, not replaced
    stamps = [dict(d.params)["x-stamp"] for d in s.deliveries]
    assert stamps == [r["stamp"] for r in rec.received] and len(set(stamps)) == 2
    assert {d.url for d in s.deliveries} == {own}  # recorded as given; params apart


async def test_retries_with_backoff_until_accepted_and_resigns_each_attempt(receiver) -> None:
    rec, url = receiver
    rec.fail_first["B1"] = 2
    async with sender(backoff_s=0.05, backoff_factor=2).running() as s:
        s.send(url, {"order": "B1", "state": "issued"}, key="B1")
        assert await s.wait_idle(5)
    attempts = [(d.attempt, d.accepted, d.status_code) for d in s.deliveries]
    assert attempts == [(1, False, 500), (2, False, 500), (3, True, 200)]
    stamps = [r["stamp"] for r in rec.received]
    assert len(set(stamps)) == 3  # built again for every attempt
    gaps = [b.sent_at - a.sent_at for a, b in zip(s.deliveries, s.deliveries[1:], strict=False)]
    assert gaps[0] >= 0.04 and gaps[1] >= 0.09  # 0.05, then 0.1


async def test_gives_up_after_the_configured_retries(receiver) -> None:
    rec, url = receiver
    rec.fail_first["C1"] = 100
    async with sender(retries=2).running() as s:
        s.send(url, {"order": "C1", "state": "issued"}, key="C1")
        assert await s.wait_idle(5)
        assert s.outstanding == 0
    assert [d.attempt for d in s.deliveries] == [1, 2, 3]
    assert not any(d.accepted for d in s.deliveries)


async def test_unreachable_receiver_is_recorded_as_an_error() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    async with sender(retries=1).running() as s:
        s.send(f"http://127.0.0.1:{port}/cb", {"order": "D1", "state": "issued"})
        assert await s.wait_idle(5)
    assert len(s.deliveries) == 2
    assert all(d.status_code is None and "ConnectError" in (d.error or "") for d in s.deliveries)


async def test_duplicate_rate_delivers_accepted_callbacks_twice(receiver) -> None:
    rec, url = receiver
    injector = FaultInjector(FaultConfig(duplicate_callback_rate=1.0))
    async with sender(injector).running() as s:
        s.send(url, {"order": "E1", "state": "issued"}, key="E1")
        s.send(url, {"order": "E2", "state": "issued"}, key="E2", duplicate=False)
        assert await s.wait_idle(5)
    assert sorted(rec.orders()) == [("E1", "issued"), ("E1", "issued"), ("E2", "issued")]
    assert [d.duplicate for d in s.deliveries if d.key == "E1"] == [False, True]
    assert injector.counts["duplicate_callback"] == 1


async def test_out_of_order_delivers_the_newer_callback_first(receiver) -> None:
    rec, url = receiver
    injector = FaultInjector(FaultConfig(out_of_order_callbacks=True))
    async with sender(injector, reorder_hold_s=2).running() as s:
        s.send(url, {"order": "F1", "state": "issuing"}, key="F1")
        s.send(url, {"order": "F2", "state": "issued"}, key="F2")  # alone: released on stop
        s.send(url, {"order": "F1", "state": "issued"}, key="F1")
        for _ in range(200):
            if len(rec.orders()) >= 2:
                break
            await _sleep(0.01)
        assert rec.orders()[:2] == [("F1", "issued"), ("F1", "issuing")]
    # stop() released the lone held callback instead of dropping it
    assert ("F2", "issued") in rec.orders()


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


def test_send_from_another_thread_and_wait_synchronously(receiver) -> None:
    """The sandbox's sender lives in the server loop; a test thread can queue and wait."""
    rec, url = receiver
    s = sender()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with s.running():
            yield

    with serve(Starlette(lifespan=lifespan)):
        s.send(url, {"order": "G1", "state": "issued"}, key="G1")
        assert s.wait_idle_sync(5)
        assert rec.orders() == [("G1", "issued")]
        rec.fail_first["G2"] = 100
        s.send(url, {"order": "G2", "state": "issued"}, key="G2")
    # the server stopped: its lifespan stopped the sender, which stopped retrying
    assert s.outstanding == 0
    with pytest.raises(RuntimeError, match="not running"):
        s.send(url, {"order": "G3", "state": "issued"})


async def test_a_build_bug_is_recorded_and_does_not_kill_the_worker(receiver) -> None:
    rec, url = receiver

    def broken(payload: Mapping[str, Any]) -> tuple[dict[str, str], bytes]:
        if payload["state"] == "bad":
            raise ValueError("cannot sign")
        return build(payload)

    async with CallbackSender(broken, retries=0).running() as s:
        s.send(url, {"order": "H1", "state": "bad"}, key="H")
        s.send(url, {"order": "H1", "state": "issued"}, key="H")
        assert await s.wait_idle(5)
    assert "cannot sign" in (s.deliveries[0].error or "")
    assert rec.orders() == [("H1", "issued")]


def test_deliveries_is_a_snapshot(receiver) -> None:
    s = sender()
    snapshot = s.deliveries
    snapshot.append(None)  # type: ignore[arg-type]
    assert s.deliveries == []

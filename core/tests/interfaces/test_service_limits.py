"""Bodies a hostile or broken caller sends: refused early when too large (before they are
read, declared or chunked), and parsed off the event loop when allowed, so ``/healthz`` and
everyone else are answered meanwhile; an answer never lists an unbounded number of issues."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from fapiao.models.limits import MAX_JSON_BYTES
from fapiao.service import create_app
from fapiao.service.errors import MAX_ISSUES_SHOWN


def _asgi(**options: Any) -> httpx.AsyncClient:
    app = create_app(object(), **options)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service")


async def _raw_exchange(base_url: str, head: bytes, body_parts: list[bytes]) -> bytes:
    """Send ``head`` and ``body_parts`` on a fresh connection, never finishing the body,
    and return what the server answers (the body is never completed: an answer proves it
    was refused before being read to its end)."""
    address = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    try:
        writer.write(head)
        for part in body_parts:
            writer.write(part)
        await writer.drain()
        answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        length = next(
            int(line.split(b":", 1)[1])
            for line in answer.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        return answer + await asyncio.wait_for(reader.readexactly(length), timeout=10)
    finally:
        writer.close()


def _too_large(answer: bytes, limit: int) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    error = json.loads(body)["error"]
    assert error["code"] == "REQUEST_TOO_LARGE"
    assert str(limit) in error["message_en"] and str(limit) in error["message_zh"]
    assert error["retryable"] is False


async def test_a_declared_length_above_the_limit_is_refused_before_the_body(gateway) -> None:
    async with gateway() as (_inst, _client, http):
        head = (
            b"POST /v1/invoices HTTP/1.1\r\nHost: service\r\n"
            b"Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n"
        )
        _too_large(
            await _raw_exchange(str(http.base_url), head, [b'{"order_id": ']), MAX_JSON_BYTES
        )
        assert (await http.get("/healthz")).status_code == 200


async def test_a_chunked_body_is_counted_while_it_streams_in(gateway) -> None:
    async with gateway(max_body_bytes=10_000) as (_inst, _client, http):
        head = (
            b"POST /v1/invoices HTTP/1.1\r\nHost: service\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b" " * 4096
        parts = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * 3  # 12 KiB, and no final chunk
        _too_large(await _raw_exchange(str(http.base_url), head, parts), 10_000)
        metrics = (await http.get("/metrics")).text
        assert 'route="/v1/invoices",status="413"' in metrics


async def test_the_limit_is_the_parsers_bound_by_default_and_configurable() -> None:
    at_limit = b"{}" + b" " * (MAX_JSON_BYTES - 2)
    async with _asgi() as http:
        allowed = await http.post("/v1/invoices", content=at_limit)
        assert allowed.status_code == 422  # read and parsed: a canonical invalid invoice
        assert allowed.json()["error"]["code"] == "INVALID_INVOICE"
        refused = await http.post("/v1/invoices", content=at_limit + b" ")
        assert refused.status_code == 413
        assert refused.json()["error"]["code"] == "REQUEST_TOO_LARGE"
    async with _asgi(max_body_bytes=1024) as http:
        assert (await http.post("/v1/deliveries", content=b"{}" + b" " * 1023)).status_code == 413
        assert (await http.post("/v1/deliveries", content=b"{}")).status_code == 422


async def test_an_answer_lists_a_bounded_number_of_issues() -> None:
    invoice = {"order_id": "X1", "kind": "special", "lines": [{}] * 2000}
    async with _asgi() as http:
        answer = await http.post("/v1/invoices", json=invoice)
    error = answer.json()["error"]
    assert answer.status_code == 422
    assert len(error["issues"]) == MAX_ISSUES_SHOWN
    assert error["issues_omitted"] > 0
    assert error["issues"][0]["path"]


def _busy_body(invoice: dict[str, Any]) -> bytes:
    """An allowed body that takes the parser about a second: two million integers in an
    unknown field, each decoded and bounded before the model refuses the field."""
    head = json.dumps(invoice)[:-1] + ', "padding": ['
    count = (MAX_JSON_BYTES - len(head) - 2) // 2
    return (head + ",".join(["1"] * count) + "]}").encode()


def _poll_healthz(base_url: str, stop: threading.Event) -> list[float]:
    """How long each ``/healthz`` takes, asked from a thread of its own until ``stop``: the
    test's own coroutines share the service's event loop, so only another thread sees the
    loop stall."""
    waits = []
    with httpx.Client(base_url=base_url, timeout=30) as http:
        while not stop.is_set():
            started = time.perf_counter()
            assert http.get("/healthz").status_code == 200
            waits.append(time.perf_counter() - started)
            time.sleep(0.01)
    return waits


async def test_healthz_is_answered_while_big_bodies_are_parsed(gateway) -> None:
    async with gateway() as (inst, _client, http):
        body = _busy_body(inst.invoice("baiwang", "SVC-BUSY").model_dump(mode="json"))
        assert len(body) <= MAX_JSON_BYTES
        stop = threading.Event()
        polling = asyncio.create_task(asyncio.to_thread(_poll_healthz, str(http.base_url), stop))
        await asyncio.sleep(0.1)
        try:
            answers = await asyncio.gather(
                *(http.post("/v1/invoices", content=body) for _ in range(2))
            )
        finally:
            stop.set()
            waits = await polling
    assert len(waits) > 2, waits
    # parsing one of these bodies takes a second or more, on the loop it stalled /healthz
    # for about three; off the loop each answer takes a few hundred milliseconds at worst
    assert max(waits) < 1.5, waits
    for answer in answers:
        assert answer.status_code == 422
        assert answer.json()["error"]["issues"][0]["code"] == "UNKNOWN_FIELD"


async def test_a_10_mb_callback_is_refused_before_it_is_read(gateway) -> None:
    """Issue 11: a 10 MB signed callback body was accepted; callbacks share the bound."""
    async with gateway() as (_inst, _client, http):
        size = 10 * 1024 * 1024
        head = (
            b"POST /callbacks/hz HTTP/1.1\r\nHost: service\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: " + str(size).encode() + b"\r\n\r\n"
        )
        answer = await _raw_exchange(str(http.base_url), head, [b"x" * 1024])
        _too_large(answer, MAX_JSON_BYTES)

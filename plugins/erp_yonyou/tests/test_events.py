"""Event push: the simulator posts signed, encrypted events to a real subscriber on loopback."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from fapiao.sandboxkit import serve
from fapiao.sdk import CallbackRejected
from fapiao_erp_yonyou import parse_event
from fapiao_erp_yonyou.signing import EventEnvelopeError, decrypt_event


def _subscriber(received: list[bytes]) -> Starlette:
    async def receive(request: Request) -> PlainTextResponse:
        received.append(await request.body())
        return PlainTextResponse("success")

    return Starlette(routes=[Route("/yonyou/events", receive, methods=["POST"])])


async def test_audit_pushes_an_event_the_connector_verifies(simulator, server) -> None:
    received: list[bytes] = []
    async with serve(_subscriber(received)) as sink, httpx.AsyncClient(base_url=server.base_url) as admin:
        await admin.post("/__sim__/subscriptions", json={"url": sink.base_url + "/yonyou/events"})
        doc = next(d for d in simulator.documents["saleinvoice"].values() if d["status"] == 0)
        answer = (await admin.post(f"/__sim__/vouchersaleinvoice/{doc['id']}/audit")).json()
    assert answer["delivered"] == 1
    assert len(received) == 1
    envelope = json.loads(received[0])
    assert set(envelope) == {"nonce", "timestamp", "encrypt", "signature"}
    assert doc["code"] not in received[0].decode()  # the content is encrypted on the wire
    event = parse_event(received[0], app_key=simulator.config.app_key, app_secret=simulator.config.app_secret)
    assert event.eventType == "SD_SALEINVOICE_AUDIT"
    assert event.document_code == doc["code"]
    assert event.document_id == str(doc["id"])


def _envelope(simulator: Any) -> dict[str, Any]:
    return simulator.envelope({"eventType": "SD_SALEINVOICE_AUDIT", "content": {"id": "7", "code": "TI7"}})


def test_tampered_signature_is_rejected(simulator) -> None:
    envelope = _envelope(simulator)
    envelope["signature"] = envelope["signature"][:-4] + "AAA="
    with pytest.raises(CallbackRejected, match="signature"):
        parse_event(envelope, app_key=simulator.config.app_key, app_secret=simulator.config.app_secret)


def test_stale_event_is_rejected(simulator) -> None:
    envelope = _envelope(simulator)
    later = int(envelope["timestamp"]) + 10 * 60 * 1000
    with pytest.raises(CallbackRejected, match="stale"):
        parse_event(envelope, app_key=simulator.config.app_key, app_secret=simulator.config.app_secret, now_ms=later)


def test_event_for_another_app_is_rejected(simulator) -> None:
    with pytest.raises(CallbackRejected, match="decrypted"):
        parse_event(_envelope(simulator), app_key="someone-else", app_secret=simulator.config.app_secret)


def test_wrong_secret_cannot_decrypt() -> None:
    from fapiao_erp_yonyou.signing import encrypt_event

    encrypted = encrypt_event("k", "a" * 32, "hello", random16=b"0123456789abcdef")
    with pytest.raises(EventEnvelopeError):
        decrypt_event("b" * 32, encrypted)


def test_missing_field_is_rejected(simulator) -> None:
    envelope = _envelope(simulator)
    del envelope["nonce"]
    with pytest.raises(CallbackRejected, match="nonce"):
        parse_event(envelope, app_key=simulator.config.app_key, app_secret=simulator.config.app_secret)

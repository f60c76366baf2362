"""Hostile and broken input through the real gateway: every body, path and parameter that
once made the service answer 500 (or raise) is now a canonical 4xx, and nothing of it is
recorded. The parser's bounds are ``fapiao.models.limits``; this proves them end to end."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from fapiao.service.schemas import ErrorBody

Body = Callable[[dict[str, Any]], bytes]


def _order(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12].upper()}"


def _line_amount(raw: str) -> Body:
    """The invoice with its first line's amount written as ``raw`` JSON text."""

    def body(invoice: dict[str, Any]) -> bytes:
        invoice["lines"][0]["amount"] = "__RAW__"
        return json.dumps(invoice).replace('"__RAW__"', raw).encode()

    return body


def _with(**fields: Any) -> Body:
    def body(invoice: dict[str, Any]) -> bytes:
        return json.dumps({**invoice, **fields}).encode()

    return body


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"k": value}
    return value


def _buyer_name(raw: str) -> Body:
    def body(invoice: dict[str, Any]) -> bytes:
        invoice["buyer"]["name"] = "__RAW__"
        return json.dumps(invoice).replace('"__RAW__"', raw).encode()

    return body


HOSTILE_INVOICES: dict[str, Body] = {
    "deep brackets": lambda _invoice: b"[" * 100_000,
    "deep objects": lambda _invoice: b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "5000-digit integer": _line_amount("1" * 5000),
    "1e999999 as a number": _line_amount("1e999999"),
    "1e999999 as a string": _line_amount('"1e999999"'),
    "-1e-9999999 as a string": _line_amount('"-1e-9999999"'),
    "NaN": _line_amount("NaN"),
    "Infinity": _line_amount("-Infinity"),
    "a 45-digit amount string": _line_amount('"' + "9" * 45 + '"'),
    "900-deep provider_extra": _with(provider_extra=_nested(900)),
    "wide provider_extra": _with(provider_extra={f"k{i}": "v" * 100 for i in range(2000)}),
    "2001 lines": lambda invoice: json.dumps(
        {**invoice, "lines": invoice["lines"] * 1001}
    ).encode(),
    "a lone surrogate": _buyer_name('"\\ud800"'),
    "a NUL character": _buyer_name('"\\u0000"'),
    "not UTF-8": lambda _invoice: b'{"order_id": "\xff\xfe"}',
    "a JSON array": lambda _invoice: b"[]",
    "JSON null": lambda _invoice: b"null",
    "an empty body": lambda _invoice: b"",
    "an integer order id": _with(order_id=10**20),
    "a 10 KB order id": _with(order_id="A" * 10_000),
}


async def test_hostile_invoices_are_canonical_4xx_and_record_nothing(gateway) -> None:
    async with gateway() as (inst, client, http):
        before = (await client.ledger.stats()).total
        template = inst.invoice("baiwang", _order("SVC-HOSTILE")).model_dump(mode="json")
        answers = {}
        for name, body in HOSTILE_INVOICES.items():
            answer = await http.post(
                "/v1/invoices",
                content=body(json.loads(json.dumps(template))),
                headers={"Content-Type": "application/json"},
            )
            answers[name] = answer
        assert (await client.ledger.stats()).total == before
        assert (await http.get("/healthz")).status_code == 200
    wrong = {
        name: (a.status_code, a.text[:200]) for name, a in answers.items() if a.status_code != 422
    }
    assert not wrong, wrong
    for name, answer in answers.items():
        body = ErrorBody.model_validate(answer.json())  # parseable: no lone surrogate echoed
        assert body.error.code == "INVALID_INVOICE", name
        assert body.error.message_zh and body.error.message_en, name
        assert body.error.issues, name
    for name in ("a NUL character", "a lone surrogate"):
        assert answers[name].json()["error"]["field"] == "buyer.name", name
    assert "\\ud800" in answers["a lone surrogate"].json()["error"]["message_en"]


HOSTILE_RED_AND_DELIVERY: dict[str, bytes] = {
    "deep brackets": b"[" * 100_000,
    "5000-digit integer": b'{"order_id": "R1", "lines": [{"original_line": 1, "amount": '
    + b"1" * 5000
    + b"}]}",
    "1e999999": b'{"order_id": "R1", "wait_seconds": 1e999999}',
    "900-deep": json.dumps({"order_id": "R1", "reason": _nested(900)}).encode(),
    "a lone surrogate": b'{"order_id": "\\ud800"}',
    "a NUL character": b'{"order_id": "R\\u00001"}',
    "NaN": b'{"order_id": "R1", "wait_seconds": NaN}',
    "not UTF-8": b'{"order_id": "\xff"}',
}


@pytest.mark.parametrize("path", ["/v1/red-reversals", "/v1/deliveries"])
async def test_hostile_red_reversals_and_deliveries_are_canonical_422(gateway, path) -> None:
    async with gateway() as (_inst, _client, http):
        answers = {
            name: await http.post(path, content=body)
            for name, body in HOSTILE_RED_AND_DELIVERY.items()
        }
    wrong = {
        name: (a.status_code, a.text[:200]) for name, a in answers.items() if a.status_code != 422
    }
    assert not wrong, wrong
    for answer in answers.values():
        assert ErrorBody.model_validate(answer.json()).error.issues


async def test_hostile_paths_and_parameters_are_canonical_4xx(gateway) -> None:
    async with gateway() as (inst, _client, http):
        seller = inst.baiwang_seller
        cases = {
            "a 1000-character seller": f"/v1/invoices/{'9' * 1000}/ORDER-1",
            "a 1000-character order": f"/v1/invoices/{seller}/{'A' * 1000}",
            "an encoded NUL": f"/v1/invoices/{seller}/ORDER%00-1",
            "an encoded lone surrogate": f"/v1/invoices/{seller}/ORDER%ED%A0%80",
            "a non-boolean refresh": f"/v1/invoices/{seller}/ORDER-1?refresh=perhaps",
            "an unknown document format": f"/v1/invoices/{seller}/ORDER-1/documents/exe",
            "a quota of a long seller": f"/v1/sellers/{'9' * 1000}/quota",
            "an unknown callback profile": "/callbacks/" + "x" * 65,
        }
        answers = {}
        for name, path in cases.items():
            method = "POST" if path.startswith("/callbacks/") else "GET"
            answers[name] = await http.request(method, path)
    wrong = {
        name: (a.status_code, a.text[:200])
        for name, a in answers.items()
        if not 400 <= a.status_code < 500
    }
    assert not wrong, wrong
    for answer in answers.values():
        ErrorBody.model_validate(answer.json())

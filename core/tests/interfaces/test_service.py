"""The ASGI service on a real loopback server: signed callbacks from the real Nuonuo sandbox
reach it and settle the ledger; the REST gateway round-trips every operation over HTTP."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import httpx

from fapiao.documents import verify_document
from fapiao.engine.ledger import EventSource, RequestKey
from fapiao.models import DocumentFormat, InvoiceState
from fapiao.service import create_app, serve_app


def _order(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12].upper()}"


async def _until(predicate: Any, seconds: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_callbacks_from_the_nuonuo_sandbox_settle_the_ledger(gateway) -> None:
    async with gateway() as (inst, client, http):
        invoice = inst.invoice("nuonuo", _order("SVC-CB"))
        status = await client.issue(invoice)
        assert status.state is InvoiceState.ISSUING
        key = RequestKey(inst.nuonuo_seller, invoice.order_id)

        async def issued() -> bool:
            record = await client.ledger.get(key)
            return record is not None and record.state is InvoiceState.ISSUED

        await _until(issued)
        events = await client.ledger.events(key)
        final = events[-1]
        assert (final.to_state, final.source) == (InvoiceState.ISSUED, EventSource.CALLBACK)
        record = await client.ledger.get(key)
        assert record is not None and record.invoice_number and len(record.invoice_number) == 20
        metrics = (await http.get("/metrics")).text
        assert 'fapiao_callbacks_total{outcome="applied",profile="hz"}' in metrics


async def test_forged_callbacks_are_refused_and_change_nothing(gateway) -> None:
    async with gateway() as (_inst, client, http):
        before = await client.ledger.stats()
        forged = await http.post(
            "/callbacks/hz",
            params={"senid": "x1", "nonce": "12345678", "timestamp": "1", "appkey": "SD63236305"},
            headers={"X-Nuonuo-Sign": "AAAA", "Content-Type": "application/x-www-form-urlencoded"},
            content=b"operater=callback&orderno=X&content=%7B%7D",
        )
        assert forged.status_code == 401
        assert forged.json()["error"]["code"] == "CALLBACK_REJECTED"
        unknown = await http.post("/callbacks/nope", content=b"{}")
        assert unknown.status_code == 404
        assert (await client.ledger.stats()).total == before.total
        metrics = (await http.get("/metrics")).text
        assert 'fapiao_callbacks_total{outcome="rejected",profile="hz"} 1.0' in metrics


async def test_gateway_round_trip(gateway) -> None:
    async with gateway() as (inst, _client, http):
        invoice = inst.invoice("baiwang", _order("SVC-GW"))
        seller, order = inst.baiwang_seller, invoice.order_id
        body = invoice.model_dump_json(exclude_defaults=True)

        issued = await http.post(
            "/v1/invoices", content=body, headers={"Content-Type": "application/json"}
        )
        assert issued.status_code == 200, issued.text
        status = issued.json()
        assert status["state"] == "issued" and len(status["invoice_number"]) == 20
        assert status["total_with_tax"] == str(sum_with_tax(invoice))
        again = await http.post("/v1/invoices", content=body)
        assert again.json()["invoice_number"] == status["invoice_number"]

        queried = await http.get(f"/v1/invoices/{seller}/{order}")
        assert queried.json()["invoice_number"] == status["invoice_number"]
        events = (await http.get(f"/v1/invoices/{seller}/{order}/events")).json()
        assert [e["to_state"] for e in events] == ["submitted", "issued"]

        for fmt in DocumentFormat:
            file = await http.get(f"/v1/invoices/{seller}/{order}/documents/{fmt.value}")
            assert file.status_code == 200, file.text
            verify_document(fmt, file.content, invoice_number=status["invoice_number"])
            assert file.headers["content-disposition"].endswith(f'.{fmt.value}"')

        line = invoice.lines[1]
        red = await http.post(
            "/v1/red-reversals",
            json={
                "order_id": f"{order}-R1",
                "seller_tax_id": seller,
                "buyer_tax_id": invoice.buyer.tax_id,
                "original_invoice_number": status["invoice_number"],
                "original_order_id": order,
                "reason": "sales_return",
                "lines": [{"original_line": 1, "amount": str(line.unit_price), "quantity": "1"}],
            },
        )
        assert red.status_code == 200, red.text
        outcome = red.json()
        assert outcome["issued"] is True
        assert Decimal(outcome["red"]["total_amount"]) == -(line.unit_price or 0)
        assert outcome["blue"]["state"] == "partially_reversed"

        delivered = await http.post(
            "/v1/deliveries",
            json={
                "seller_tax_id": seller,
                "invoice_number": status["invoice_number"],
                "order_id": order,
                "channel": "email",
                "address": "ap@example.com",
            },
        )
        assert delivered.status_code == 200 and delivered.json()["accepted"] is True

        quota = (await http.get(f"/v1/sellers/{seller}/quota")).json()
        assert Decimal(quota["remaining"]) > 0

        overview = (await http.get("/v1/status")).json()
        assert overview["ledger"]["by_profile"]["bj"]["partially_reversed"] == 1
        assert overview["profiles"] == {"hz": "nuonuo", "bj": "baiwang"}
        assert any(p["profile"] == "bj" and p["calls"] >= 4 for p in overview["providers"])

        metrics = (await http.get("/metrics")).text
        assert 'fapiao_provider_calls_total{operation="issue",outcome="ok"' in metrics
        assert "fapiao_http_requests_total" in metrics
        assert (await http.get("/healthz")).json()["status"] == "ok"

        spec = (await http.get("/openapi.json")).json()
        assert {"/v1/invoices", "/v1/red-reversals", "/callbacks/{profile}", "/metrics"} <= set(
            spec["paths"]
        )
        request_body = spec["paths"]["/v1/invoices"]["post"]["requestBody"]
        assert request_body["content"]["application/json"]["schema"]["$ref"].endswith("/Invoice")
        assert "lines" in spec["components"]["schemas"]["Invoice"]["properties"]


def sum_with_tax(invoice: Any) -> Decimal:
    from fapiao.rules import compute_totals

    return compute_totals(invoice).total_with_tax


async def test_gateway_errors_are_canonical(gateway) -> None:
    async with gateway() as (inst, _client, http):
        invoice = inst.invoice("baiwang", _order("SVC-BAD"))
        data = invoice.model_dump(mode="json")
        data["lines"][0]["amount"] = 12.5
        data["buyer"]["tax_id"] = "91310000MA1FL8XQ30"
        bad = await http.post("/v1/invoices", json=data)
        assert bad.status_code == 422
        error = bad.json()["error"]
        assert error["code"] == "INVALID_INVOICE"
        assert {"lines[0].amount"} <= {i["path"] for i in error["issues"]}
        assert error["message_zh"] and error["message_en"]

        not_json = await http.post("/v1/invoices", content=b"{oops")
        assert not_json.status_code == 422
        assert not_json.json()["error"]["issues"][0]["code"] == "MALFORMED_JSON"

        unrouted = invoice.model_copy(
            update={"seller": invoice.seller.model_copy(update={"tax_id": "91110000802100433B"})}
        )
        refused = await http.post("/v1/invoices", content=unrouted.model_dump_json())
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "CONFIG_ERROR"
        assert "91110000802100433B" not in refused.text  # masked even in errors

        missing = await http.get(f"/v1/invoices/{inst.baiwang_seller}/NO-SUCH-ORDER-1")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "NOT_FOUND"

        bad_delivery = await http.post("/v1/deliveries", json={"seller_tax_id": "x"})
        assert bad_delivery.status_code == 422
        assert {i["path"] for i in bad_delivery.json()["error"]["issues"]} >= {"channel", "address"}


async def test_api_token_guards_the_gateway_only(gateway) -> None:
    async with gateway(api_token="t0k-gateway-secret") as (_inst, _client, http):
        assert (await http.get("/v1/status")).status_code == 200
        async with httpx.AsyncClient(base_url=str(http.base_url)) as anonymous:
            refused = await anonymous.get("/v1/status")
            assert refused.status_code == 401
            assert refused.json()["error"]["code"] == "UNAUTHORIZED"
            wrong = await anonymous.get("/v1/status", headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            assert (await anonymous.get("/healthz")).status_code == 200
            assert (await anonymous.get("/metrics")).status_code == 401  # unless made public
            # callbacks are authenticated by the provider's signature, not the token
            assert (await anonymous.post("/callbacks/hz", content=b"x")).status_code == 401


async def test_service_connections_have_tcp_nodelay() -> None:
    """The callback/gateway service must answer keep-alive requests without the ~40 ms
    Nagle + delayed-ACK stall (its listening socket is created as TCP explicitly)."""
    import socket

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        sock = send.__self__.transport.get_extra_info("socket")
        flag = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(flag).encode()})

    async with serve_app(app) as url, httpx.AsyncClient() as http:
        answer = await http.get(url)
    assert answer.status_code == 200
    assert answer.text != "0"


def test_openapi_operation_ids_stay_what_generated_clients_call() -> None:
    spec = create_app(object()).openapi()  # type: ignore[arg-type]
    operations = {
        (method, path): operation["operationId"]
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    }
    assert operations == {
        ("post", "/callbacks/{profile}"): "callback_callbacks__profile__post",
        ("post", "/v1/invoices"): "issue_v1_invoices_post",
        ("get", "/v1/invoices/{seller_tax_id}/{order_id}"): (
            "query_v1_invoices__seller_tax_id___order_id__get"
        ),
        ("get", "/v1/invoices/{seller_tax_id}/{order_id}/events"): (
            "events_v1_invoices__seller_tax_id___order_id__events_get"
        ),
        ("get", "/v1/invoices/{seller_tax_id}/{order_id}/documents/{fmt}"): (
            "document_v1_invoices__seller_tax_id___order_id__documents__fmt__get"
        ),
        ("post", "/v1/red-reversals"): "red_reverse_v1_red_reversals_post",
        ("post", "/v1/deliveries"): "deliver_v1_deliveries_post",
        ("get", "/v1/sellers/{seller_tax_id}/quota"): "quota_v1_sellers__seller_tax_id__quota_get",
        ("get", "/v1/status"): "status_v1_status_get",
        ("get", "/metrics"): "metrics_endpoint_metrics_get",
        ("get", "/healthz"): "healthz_healthz_get",
    }
    for name in ("Invoice", "RedReversalIn", "Delivery"):
        assert name in spec["components"]["schemas"]


async def test_the_token_is_checked_before_the_body_is_read() -> None:
    app = create_app(object(), api_token="t0k")  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:
        refused = await http.post("/v1/invoices", content=b"{oops")
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
        malformed = await http.post(
            "/v1/invoices", content=b"{oops", headers={"Authorization": "Bearer t0k"}
        )
        assert malformed.status_code == 422
        assert malformed.json()["error"]["issues"][0]["code"] == "MALFORMED_JSON"

"""The OpenAPI document says what the server does: money is a decimal string (a JSON number
with a fraction is refused), and every error an operation can answer is documented in the
one canonical shape the server really sends."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from fapiao.models.money import DECIMAL_PATTERN
from fapiao.service import create_app
from fapiao.service.schemas import ErrorBody


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return create_app(object(), api_token="t0k").openapi()  # type: ignore[arg-type]


def _asgi() -> httpx.AsyncClient:
    app = create_app(object())  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service")


def _decimal_string(schema: dict[str, Any]) -> bool:
    options = schema.get("anyOf", [schema])
    strings = [o for o in options if o.get("type") != "null"]
    return (
        len(strings) == 1
        and strings[0]["type"] == "string"
        and strings[0]["pattern"] == DECIMAL_PATTERN
    )


@pytest.mark.parametrize(
    ("model", "field"),
    [
        ("InvoiceLine", "amount"),
        ("InvoiceLine", "tax"),
        ("InvoiceLine", "tax_rate"),
        ("InvoiceLine", "quantity"),
        ("InvoiceLine", "unit_price"),
        ("RedLine", "amount"),
        ("InvoiceStatusOut", "total_with_tax"),
        ("Quota", "remaining"),
    ],
)
def test_money_quantities_and_rates_are_decimal_strings(
    spec: dict[str, Any], model: str, field: str
) -> None:
    schema = spec["components"]["schemas"][model]["properties"][field]
    assert _decimal_string(schema), schema
    example = schema.get("anyOf", [schema])[0]["examples"][0]
    assert re.fullmatch(DECIMAL_PATTERN, example)


def test_the_pattern_is_what_the_server_accepts_and_writes() -> None:
    for written in ("12000.00", "0.13", "-12000.00", "0", "2.50000000"):
        assert re.fullmatch(DECIMAL_PATTERN, written)
    for refused in ("12.5.1", "", "1e5", " 1"):
        assert not re.fullmatch(DECIMAL_PATTERN, refused)


def test_every_error_answer_is_documented_in_the_canonical_shape(spec: dict[str, Any]) -> None:
    error_ref = {"$ref": "#/components/schemas/ErrorBody"}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            for status, response in responses.items():
                if status.startswith(("4", "5")) or status == "default":
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == error_ref, (path, method, status)
            assert "default" in responses, (path, method)
            if method == "post":
                assert "413" in responses, (path, method)
            if operation.get("parameters") or operation.get("requestBody"):
                assert "422" in responses, (path, method)
    assert "HTTPValidationError" not in spec["components"]["schemas"]


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/v1/invoices/{seller_tax_id}/{order_id}", "get"),
        ("/v1/invoices/{seller_tax_id}/{order_id}/events", "get"),
        ("/v1/invoices/{seller_tax_id}/{order_id}/documents/{fmt}", "get"),
        ("/v1/red-reversals", "post"),
        ("/v1/deliveries", "post"),
        ("/callbacks/{profile}", "post"),
    ],
)
def test_routes_that_look_something_up_document_their_404(
    spec: dict[str, Any], path: str, method: str
) -> None:
    assert "404" in spec["paths"][path][method]["responses"]


async def test_invalid_parameters_are_answered_in_the_documented_shape() -> None:
    async with _asgi() as http:
        short = await http.get("/v1/invoices/abc/ORDER-1")
        maybe = await http.get("/v1/invoices/91310000MA1FL8XQ37/ORDER-1?refresh=maybe")
        fmt = await http.get("/v1/invoices/91310000MA1FL8XQ37/ORDER-1/documents/docx")
    for answer, field in ((short, "seller_tax_id"), (maybe, "refresh"), (fmt, "fmt")):
        assert answer.status_code == 422, answer.text
        body = ErrorBody.model_validate(answer.json())
        assert body.error.code == "INVALID_REQUEST"
        assert body.error.issues and body.error.issues[0].path == field
        assert body.error.message_zh and body.error.message_en
        assert "detail" not in answer.json()


async def test_refusals_of_the_gateway_itself_match_the_documented_shape() -> None:
    app = create_app(object(), api_token="t0k")  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:
        unauthorized = await http.get("/v1/status")
        malformed = await http.post(
            "/v1/invoices", content=b"{oops", headers={"Authorization": "Bearer t0k"}
        )
    assert unauthorized.status_code == 401
    assert ErrorBody.model_validate(unauthorized.json()).error.code == "UNAUTHORIZED"
    assert malformed.status_code == 422
    assert ErrorBody.model_validate(malformed.json()).error.code == "INVALID_INVOICE"

"""Canonical models: exact JSON round trips, float refusal, unknown fields refused."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from pydantic import ValidationError

from fapiao.models import (
    Document,
    DocumentFormat,
    Invoice,
    InvoiceKind,
    InvoiceState,
    InvoiceStatus,
    RedReason,
    RedReversalRequest,
)

SELLER = {"name": "上海示例科技有限公司", "tax_id": "91310115MA1K4F2N2X"}
BUYER = {"name": "北京采购有限公司", "tax_id": "91110108MA01AAAA1X"}


def invoice_dict(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "order_id": "SO-1",
        "kind": "special",
        "seller": SELLER,
        "buyer": BUYER,
        "lines": [
            {
                "name": "笔记本电脑",
                "tax_code": "1090511030000000000",
                "quantity": "3",
                "unit_price": "4999.12345678",
                "amount": "14997.37",
                "tax_rate": "0.13",
            }
        ],
    }
    data.update(overrides)
    return data


def test_json_round_trip_is_exact() -> None:
    invoice = Invoice.model_validate_json(json.dumps(invoice_dict()))
    text = invoice.model_dump_json()
    assert '"unit_price":"4999.12345678"' in text
    assert '"amount":"14997.37"' in text
    again = Invoice.model_validate_json(text)
    assert again == invoice
    assert again.lines[0].unit_price == Decimal("4999.12345678")
    assert again.kind is InvoiceKind.SPECIAL


def test_float_money_is_refused_with_bilingual_message() -> None:
    raw = json.dumps(invoice_dict()).replace('"14997.37"', "14997.37")
    with pytest.raises(ValidationError) as info:
        Invoice.model_validate_json(raw)
    message = str(info.value)
    assert "浮点数" in message and "not floats" in message
    assert info.value.errors()[0]["loc"] == ("lines", 0, "amount")


def test_integers_are_exact_money() -> None:
    data = invoice_dict()
    data["lines"][0]["amount"] = 100  # type: ignore[index]
    assert Invoice.model_validate(data).lines[0].amount == Decimal(100)


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", True])
def test_non_numbers_refused(bad: object) -> None:
    data = invoice_dict()
    data["lines"][0]["amount"] = bad  # type: ignore[index]
    with pytest.raises(ValidationError):
        Invoice.model_validate(data)


def test_unknown_field_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        Invoice.model_validate(invoice_dict(buyr={"name": "x"}))
    assert info.value.errors()[0]["type"] == "extra_forbidden"


def test_invoice_is_frozen_and_hashable() -> None:
    invoice = Invoice.model_validate(invoice_dict())
    with pytest.raises(ValidationError):
        invoice.order_id = "other"  # type: ignore[misc]
    assert len({invoice, Invoice.model_validate(invoice_dict())}) == 1


def test_document_hash_computed_and_checked() -> None:
    doc = Document.from_bytes(DocumentFormat.PDF, "25312000000000000001", b"%PDF-1.7 body")
    assert doc.size == 13
    assert doc.sha256 is not None and len(doc.sha256) == 64
    with pytest.raises(ValidationError, match="sha256"):
        Document(format=DocumentFormat.PDF, invoice_number="1", content=b"abc", sha256="0" * 64)
    with pytest.raises(ValidationError, match="content or a URL"):
        Document(format=DocumentFormat.XML, invoice_number="1")
    round_tripped = Document.model_validate_json(doc.model_dump_json())
    assert round_tripped.content == b"%PDF-1.7 body"


def test_red_request_full_vs_partial() -> None:
    full = RedReversalRequest(
        order_id="R-1",
        seller_tax_id=SELLER["tax_id"],
        original_invoice_number="25312000000000000001",
        reason=RedReason.INVOICING_ERROR,
    )
    assert full.is_full
    assert not RedReason.INVOICING_ERROR.allows_partial
    assert RedReason.SALES_RETURN.allows_partial


def test_status_serialises_money_as_strings() -> None:
    status = InvoiceStatus(
        provider="x",
        seller_tax_id="s",
        order_id="o",
        state=InvoiceState.ISSUED,
        total_amount=Decimal("0.10"),
    )
    assert json.loads(status.model_dump_json())["total_amount"] == "0.10"
    assert InvoiceState.REVERSED.is_final and not InvoiceState.ISSUED.is_final


def test_red_form_status_codes_are_one_national_table() -> None:
    """Both providers read the tax bureau's 红字确认单 codes from this one table."""
    from fapiao.models import RED_FORM_STATUS_CODES, RedConfirmationState

    assert sorted(RED_FORM_STATUS_CODES) == [f"{n:02d}" for n in range(1, 11)]
    assert RED_FORM_STATUS_CODES["07"] is RedConfirmationState.LAPSED
    assert RED_FORM_STATUS_CODES["10"] is RedConfirmationState.REVOKED
    with pytest.raises(TypeError):
        RED_FORM_STATUS_CODES["11"] = RedConfirmationState.PENDING  # type: ignore[index]

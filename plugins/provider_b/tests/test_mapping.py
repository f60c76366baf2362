"""Canonical ⇄ Baiwang payloads: exact amounts, line natures, and a lossless round trip."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from fapiao.models import (
    InvoiceKind,
    InvoiceLine,
    InvoiceState,
    LineKind,
    Party,
    RedApplicant,
    RedConfirmationState,
    RedLine,
    RedReason,
    RedReversalRequest,
    TaxTreatment,
)
from fapiao.rules import compute_totals, red_lines
from fapiao.testing.samples import sample_invoices, service_invoice
from fapiao_provider_b.mapping import (
    blue_invoice_from_record,
    confirmation_from_form,
    invoice_from_issue_data,
    issue_data,
    red_add_body,
    red_issue_data,
    status_from_record,
)
from fapiao_provider_b.protocol import CHINA_TZ, dumps, loads

SELLER = Party(name="北京百望示例科技有限公司", tax_id="91110108MA01BW000C")


def _wire(data: dict) -> dict:
    """Through JSON and back, as the sandbox receives it."""
    return loads(dumps(data))


@pytest.mark.parametrize("index", [0, 1, 2])
def test_issue_data_round_trips_to_the_same_totals(index: int) -> None:
    invoice = sample_invoices(SELLER)[index]
    totals = compute_totals(invoice)
    data = _wire(issue_data(invoice, totals))
    rebuilt = invoice_from_issue_data(SELLER.tax_id or "", data)
    again = compute_totals(rebuilt)
    assert (again.total_amount, again.total_tax, again.total_with_tax) == (
        totals.total_amount,
        totals.total_tax,
        totals.total_with_tax,
    )
    assert [line.amount for line in again.lines] == [line.amount for line in totals.lines]
    assert rebuilt.kind is invoice.kind
    assert rebuilt.order_id == invoice.order_id
    assert rebuilt.buyer.natural_person is invoice.buyer.natural_person
    assert rebuilt.buyer.tax_id == invoice.buyer.tax_id
    assert [line.kind for line in rebuilt.lines] == [line.kind for line in invoice.lines]


def test_amounts_travel_as_exact_json_numbers_never_floats() -> None:
    invoice = sample_invoices(SELLER)[0]
    raw = dumps(issue_data(invoice, compute_totals(invoice)))
    assert b'"invoiceTotalPrice":3999.99' in raw
    assert b'"goodsPrice":333.33' in raw
    assert b'"goodsTaxRate":0.13' in raw
    parsed = loads(raw)
    assert isinstance(parsed["invoiceTotalTax"], Decimal)


def test_tax_inclusive_input_is_sent_normalised_without_tax() -> None:
    invoice = sample_invoices(SELLER)[1]  # 113.00 含税 at 13 %
    data = issue_data(invoice, compute_totals(invoice))
    assert data["priceTaxMark"] == "0"
    line = data["invoiceDetailsList"][0]
    assert (line["goodsTotalPrice"], line["goodsTotalTax"]) == (Decimal("100.00"), Decimal("13.00"))
    assert data["naturalPersonFlag"] == "Y"
    assert "buyerTaxNo" not in data  # a natural person has none: left out, not sent empty
    assert data["buyerPhone"] == "13812345678"


def test_discount_line_natures() -> None:
    invoice = sample_invoices(SELLER)[2]
    natures = [
        d["invoiceLineNature"]
        for d in issue_data(invoice, compute_totals(invoice))["invoiceDetailsList"]
    ]
    assert natures == ["2", "1"]  # 被折扣行, 折扣行


def test_exempt_line_carries_the_free_tax_mark_and_round_trips() -> None:
    invoice = service_invoice(SELLER, kind=InvoiceKind.NORMAL).model_copy(
        update={
            "lines": (
                InvoiceLine(
                    name="技术转让",
                    tax_code="3040201000000000000",
                    amount=Decimal("500.00"),
                    tax_rate=Decimal("0"),
                    treatment=TaxTreatment.EXEMPT,
                ),
            )
        }
    )
    data = issue_data(invoice, compute_totals(invoice))
    line = data["invoiceDetailsList"][0]
    assert (line["freeTaxMark"], line["preferentialMarkFlag"], line["vatSpecialManagement"]) == (
        "1",
        "1",
        "免税",
    )
    rebuilt = invoice_from_issue_data(SELLER.tax_id or "", _wire(data))
    assert rebuilt.lines[0].treatment is TaxTreatment.EXEMPT
    assert rebuilt.lines[0].preferential_policy is None


def test_provider_extra_is_merged_into_data() -> None:
    invoice = service_invoice(SELLER)
    data = issue_data(invoice, compute_totals(invoice), extra={"invoiceSpecialMark": "00"})
    assert data["invoiceSpecialMark"] == "00"


def test_status_from_an_issue_answer_and_a_query_row() -> None:
    answer = {
        "serialNo": "A1",
        "invoiceNo": "26112000000000000123",
        "invoiceDate": "20260521152632",
        "invoiceTotalPrice": Decimal("100.00"),
        "invoiceTotalTax": Decimal("6.00"),
        "invoiceTotalPriceTax": Decimal("106.00"),
    }
    status = status_from_record(answer, provider="baiwang", seller_tax_id="S")
    assert status.state is InvoiceState.ISSUED
    assert status.issued_at == datetime(2026, 5, 21, 15, 26, 32, tzinfo=CHINA_TZ)
    assert status.issued_at.utcoffset() == timedelta(hours=8)
    assert status.total_with_tax == Decimal("106.00")
    reversed_row = {**answer, "invoiceStatus": "05"}
    assert status_from_record(reversed_row, provider="b", seller_tax_id="S").state is (
        InvoiceState.REVERSED
    )
    red_row = {**answer, "invoiceType": "1", "originalInvoiceNo": "2611"}
    red = status_from_record(red_row, provider="b", seller_tax_id="S")
    assert red.is_red and red.original_invoice_number == "2611"


def _blue_record(invoice_index: int = 0) -> dict:
    invoice = sample_invoices(SELLER)[invoice_index]
    totals = compute_totals(invoice)
    data = issue_data(invoice, totals)
    return {
        **data,
        "invoiceNo": "26112000000000000123",
        "invoiceDate": "20260521152632",
        "invoiceDetailsList": [
            {**d, "goodsName": lt.display_name}
            for d, lt in zip(data["invoiceDetailsList"], totals.lines, strict=True)
        ],
    }


def test_red_add_body_for_a_partial_reversal() -> None:
    record = _blue_record()
    blue = blue_invoice_from_record(_wire(record), SELLER.tax_id or "")
    request = RedReversalRequest(
        order_id="RED1",
        seller_tax_id=SELLER.tax_id or "",
        original_invoice_number=record["invoiceNo"],
        reason=RedReason.SALES_RETURN,
        lines=(RedLine(original_line=1, amount=Decimal("333.33"), quantity=Decimal("1")),),
    )
    body = red_add_body(request, record, red_lines(blue, request), record["invoiceDetailsList"])
    assert body["redInvoiceLabel"] == "02"
    assert body["entryIdentity"] == "01"
    assert body["originInvoiceDate"] == "2026-05-21 15:26:32"
    assert (body["invoiceTotalPrice"], body["invoiceTotalTax"]) == (
        Decimal("-333.33"),
        Decimal("-43.33"),
    )
    (detail,) = body["redConfirmDetailReqEntityList"]
    assert detail["originalInvoiceDetailNo"] == 2
    assert detail["goodsQuantity"] == Decimal("-1")
    assert detail["goodsName"] == record["invoiceDetailsList"][1]["goodsName"]  # printed name


def test_red_issue_data_names_the_form_and_carries_no_lines() -> None:
    form = {
        "redConfirmUuid": "u1",
        "redConfirmNo": "1126052100000000001",
        "redConfirmSerialNo": "RED1",
        "confirmState": "01",
        "originalInvoiceNo": "26112000000000000123",
        "redInvoiceLabel": "01",
        "invoiceTotalPrice": Decimal("-100.00"),
        "invoiceTotalTax": Decimal("-6.00"),
    }
    confirmation = confirmation_from_form(form, provider="baiwang", seller_tax_id="S")
    data = red_issue_data(confirmation)
    assert data["invoiceType"] == "1"
    assert data["redConfirmUuid"] == "u1"
    assert data["serialNo"] == "RED1"
    assert "invoiceDetailsList" not in data


@pytest.mark.parametrize(
    ("raw", "state", "needs_confirmation"),
    [
        ("01", RedConfirmationState.CONFIRMED, False),
        ("02", RedConfirmationState.PENDING, True),
        ("03", RedConfirmationState.PENDING, True),
        ("04", RedConfirmationState.CONFIRMED, False),
        ("05", RedConfirmationState.REJECTED, False),
        ("07", RedConfirmationState.LAPSED, False),
        ("08", RedConfirmationState.REVOKED, False),
    ],
)
def test_confirm_states(raw: str, state: RedConfirmationState, needs_confirmation: bool) -> None:
    form = {
        "redConfirmUuid": "u1",
        "confirmState": raw,
        "redConfirmSerialNo": "RED1",
        "originalInvoiceNo": "2611",
        "redInvoiceLabel": "04",
        "entryIdentity": "02",
        "invoiceTotalPrice": Decimal("-1.00"),
        "invoiceTotalTax": Decimal("-0.06"),
        "entryDate": "2026-05-21 15:26:32",
        "confirmDeadline": "2026-05-24 15:26:32",
    }
    confirmation = confirmation_from_form(form, provider="baiwang", seller_tax_id="S")
    assert confirmation.state is state
    assert confirmation.requires_confirmation is needs_confirmation
    assert confirmation.reason is RedReason.SALES_ALLOWANCE
    assert confirmation.applicant is RedApplicant.BUYER
    assert confirmation.expires_at - confirmation.created_at == timedelta(hours=72)  # type: ignore[operator]


def test_issued_form_reads_as_red_issued() -> None:
    form = {"redConfirmUuid": "u", "confirmState": "01", "alreadyRedInvoiceFlag": "Y"}
    state = confirmation_from_form(form, provider="b", seller_tax_id="S").state
    assert state is RedConfirmationState.RED_ISSUED


def test_kind_codes() -> None:
    for kind, code in ((InvoiceKind.SPECIAL, "01"), (InvoiceKind.NORMAL, "02")):
        invoice = service_invoice(SELLER, kind=kind)
        assert issue_data(invoice, compute_totals(invoice))["invoiceTypeCode"] == code
    assert LineKind.DISCOUNT.value == "discount"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20260521152632", datetime(2026, 5, 21, 15, 26, 32, tzinfo=CHINA_TZ)),
        ("2026-05-24 15:26:32", datetime(2026, 5, 24, 15, 26, 32, tzinfo=CHINA_TZ)),
        ("2026-13-01 00:00:00", None),
        ("2026052115263", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(text: str | None, expected: datetime | None) -> None:
    from fapiao_provider_b.protocol import format_date, parse_date

    assert parse_date(text) == expected
    if expected is not None:
        assert parse_date(format_date(expected)) == expected

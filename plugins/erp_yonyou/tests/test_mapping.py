"""Mapping YonBIP documents to canonical requests, and every bad input reported with its id."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from fapiao.sdk import (
    InvalidInvoice,
    InvoiceKind,
    RedReason,
    SourceDocument,
    TaxTreatment,
    ensure_valid,
)
from fapiao_erp_yonyou.mapping import DocumentMapper
from fapiao_erp_yonyou.simulator.data import red_invoice_for, sample_invoices

from .conftest import make_settings

BASE = datetime(2025, 3, 3, 9, 0, 0)


@pytest.fixture(scope="module")
def docs() -> dict[int, dict]:
    invoices = sample_invoices(BASE)
    by_n = {int(d["code"][-6:]): d for d in invoices}
    blue = by_n[10]
    red = red_invoice_for(blue, "2025-03-04 09:00:00")
    red["_blue"] = blue
    by_n[99] = red
    return by_n


@pytest.fixture(scope="module")
def mapper() -> DocumentMapper:
    return DocumentMapper(make_settings("http://127.0.0.1:1"))


def _source(doc: dict) -> SourceDocument:
    return SourceDocument(id=doc["code"], kind="red" if doc["invDirection"] == 1 else "invoice", payload=doc)


def test_normal_invoice_maps_gross_amounts_and_validates(mapper, docs) -> None:
    mapped = mapper.map(_source(docs[1]))
    invoice = mapped.invoice
    assert invoice is not None and mapped.red is None
    assert invoice.order_id == docs[1]["code"]
    assert invoice.kind is InvoiceKind.NORMAL
    assert invoice.prices_include_tax is True
    assert invoice.seller.tax_id == "91310115MA1K4A2B3A"
    assert invoice.buyer.tax_id == "91330106MA2J9K1L2D"
    assert invoice.buyer.bank == "招商银行 招商银行杭州高新支行"
    assert invoice.buyer.email == "finance@xihu-digital.example.cn"
    assert [line.amount for line in invoice.lines] == [Decimal("11998.00"), Decimal("3798.00")]
    assert invoice.lines[0].tax_rate == Decimal("0.13")
    assert invoice.lines[0].unit == "台" and invoice.lines[0].spec == "ThinkBook 14 G6"
    totals = ensure_valid(invoice)
    assert totals.total_with_tax == Decimal("15796.00")


def test_special_invoice_with_two_rates(mapper, docs) -> None:
    invoice = mapper.map(_source(docs[2])).invoice
    assert invoice is not None
    assert invoice.kind is InvoiceKind.SPECIAL
    assert {line.tax_rate for line in invoice.lines} == {Decimal("0.13"), Decimal("0.09")}
    ensure_valid(invoice)


def test_natural_person_buyer_needs_no_tax_id(mapper, docs) -> None:
    invoice = mapper.map(_source(docs[4])).invoice
    assert invoice is not None
    assert invoice.buyer.natural_person is True
    assert invoice.buyer.tax_id is None
    assert invoice.buyer.mobile == "13812345678"
    ensure_valid(invoice)


def test_exempt_line_is_zero_rate_exempt(mapper, docs) -> None:
    invoice = mapper.map(_source(docs[8])).invoice
    assert invoice is not None
    exempt = invoice.lines[0]
    assert exempt.tax_rate == 0 and exempt.treatment is TaxTreatment.EXEMPT
    ensure_valid(invoice)


def test_net_amounts_are_rounded_to_the_cent(docs) -> None:
    mapper = DocumentMapper(make_settings("http://127.0.0.1:1", amounts="net"))
    invoice = mapper.map(_source(docs[1])).invoice
    assert invoice is not None and invoice.prices_include_tax is False
    assert invoice.lines[0].amount == Decimal("10617.70")  # 11998 / 1.13 = 10617.69912
    assert invoice.lines[0].tax == Decimal("1380.30")
    ensure_valid(invoice)


@pytest.mark.parametrize(
    ("n", "code", "field"),
    [
        (5, "FOREIGN_CURRENCY", "currency_code"),
        (6, "UNKNOWN_PRODUCT", "saleInvoiceDetails[0].productCode"),
        (7, "MISSING_TAX_ID", "invAgentTaxNo"),
    ],
)
def test_bad_documents_name_the_document_and_field(mapper, docs, n, code, field) -> None:
    with pytest.raises(InvalidInvoice) as info:
        mapper.map(_source(docs[n]))
    issue = next(i for i in info.value.issues if i.code == code)
    assert issue.path == f"销售发票 {docs[n]['code']} / {field}"
    assert issue.message_zh and issue.message_en
    assert docs[n]["code"] in str(info.value)


def test_unknown_seller_org_is_reported(docs) -> None:
    mapper = DocumentMapper(make_settings("http://127.0.0.1:1", sellers={}))
    with pytest.raises(InvalidInvoice) as info:
        mapper.map(_source(docs[1]))
    assert info.value.issues[0].code == "UNKNOWN_SELLER_ORG"
    assert "orgId='1001'" in info.value.issues[0].message_en


def test_all_problems_of_one_document_are_reported_together(mapper, docs) -> None:
    doc = dict(docs[6], currency_code="EUR")
    with pytest.raises(InvalidInvoice) as info:
        mapper.map(_source(doc))
    assert {i.code for i in info.value.issues} == {"FOREIGN_CURRENCY", "UNKNOWN_PRODUCT"}


def test_red_invoice_maps_to_a_partial_reversal_of_the_blue_line(mapper, docs) -> None:
    mapped = mapper.map(_source(docs[99]))
    red = mapped.red
    assert red is not None and mapped.invoice is None
    assert red.reason is RedReason.SALES_RETURN
    assert red.original_invoice_number == "24312000000000000101"
    assert red.original_order_id == docs[10]["code"]
    assert red.seller_tax_id == "91310115MA1K4A2B3A"
    assert len(red.lines) == 1
    line = red.lines[0]
    assert line.original_line == 0
    assert line.quantity == 1
    assert line.amount == Decimal("5308.85")  # 5999 / 1.13, positive magnitude
    assert line.tax == Decimal("690.15")


def test_red_invoice_for_invoicing_error_is_a_full_reversal(mapper, docs) -> None:
    red = mapper.map(_source(dict(docs[99], redType="1"))).red
    assert red is not None and red.reason is RedReason.INVOICING_ERROR and red.is_full


def test_red_invoice_without_blue_number_is_reported(mapper, docs) -> None:
    doc = {k: v for k, v in docs[99].items() if k not in {"_blue", "blueEinvoiceHm"}}
    with pytest.raises(InvalidInvoice) as info:
        mapper.map(_source(doc))
    assert "MISSING_BLUE_INVOICE" in {i.code for i in info.value.issues}


def test_tax_code_file_is_read_and_inline_entries_win(tmp_path, docs) -> None:
    table = tmp_path / "codes.csv"
    table.write_text("productCode,tax_code\n0909999,1090511010000000000\n0101001,1090512990000000000\n", encoding="utf-8")
    settings = make_settings("http://127.0.0.1:1", tax_code_file=str(table))
    codes = settings.product_tax_codes()
    assert codes["0909999"] == "1090511010000000000"
    assert codes["0101001"] == "1090509010000000000"  # inline tax_codes override the file
    assert DocumentMapper(settings).map(_source(docs[6])).invoice is not None

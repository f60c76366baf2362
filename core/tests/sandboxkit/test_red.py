"""The red invoice a sandbox issues against a red form: the blue lines it reverses, with the
form's amounts as positive magnitudes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from fapiao.models import Invoice, InvoiceKind, InvoiceLine, Party, TaxTreatment
from fapiao.rules import compute_totals
from fapiao.sandboxkit import document_data_from_invoice, red_invoice_from_form

D = Decimal


def blue() -> Invoice:
    return Invoice(
        order_id="BLUE-1",
        kind=InvoiceKind.SPECIAL,
        seller=Party(name="销方", tax_id="91310000MA1FL8XQ37"),
        buyer=Party(name="购方", tax_id="91330100MA2H3X5K73"),
        prices_include_tax=True,
        lines=(
            InvoiceLine(
                name="打印纸",
                tax_code="1060102010000000000",
                spec="A4",
                unit="箱",
                quantity=D("10"),
                unit_price=D("94.92"),
                amount=D("949.20"),
                tax_rate=D("0.13"),
            ),
            InvoiceLine(
                name="技术转让",
                tax_code="3040201000000000000",
                amount=D("500.00"),
                tax_rate=D("0"),
                treatment=TaxTreatment.EXEMPT,
            ),
        ),
    )


def test_each_form_line_becomes_the_blue_line_it_reverses_with_the_forms_magnitudes() -> None:
    form = [(1, D("-200.00"), D("0.00"), None), (0, D("-420.00"), D("-54.60"), D("-5"))]
    red = red_invoice_from_form(blue(), form, order_id="RED-1")
    assert (red.order_id, red.kind, red.buyer) == ("RED-1", InvoiceKind.SPECIAL, blue().buyer)
    assert not red.prices_include_tax  # a form states 不含税 amounts, whatever the blue did
    exempt, paper = red.lines
    assert (exempt.name, exempt.amount, exempt.tax, exempt.quantity) == (
        "技术转让",
        D("200.00"),
        D("0.00"),
        None,
    )
    assert exempt.treatment is TaxTreatment.EXEMPT
    assert (paper.spec, paper.unit, paper.quantity, paper.unit_price) == ("A4", "箱", D("5"), None)
    totals = compute_totals(red)
    assert (totals.total_amount, totals.total_tax) == (D("620.00"), D("54.60"))
    printed = document_data_from_invoice(
        red,
        invoice_number="26310000000000000002",
        issued_at=datetime(2026, 5, 1),
        is_red=True,
        original_invoice_number="26310000000000000001",
    )
    assert printed.total_amount == D("-620.00")
    assert printed.lines[1].name == "*纸制品*打印纸" and printed.lines[1].quantity == D("-5")

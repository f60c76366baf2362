"""validate_invoice / ensure_valid: every rule, each reported with its code and field path."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fapiao.errors import InvalidInvoice
from fapiao.rules import ensure_valid, line_nature, validate_invoice

from .conftest import BUYER_ID, PAPER, RICE, SELLER_ID, SOFTWARE, line, make


def errors(invoice):
    return {(i.code, i.path) for i in validate_invoice(invoice) if not i.warning}


def test_valid_invoices_have_no_issues() -> None:
    assert validate_invoice(make()) == []
    assert validate_invoice(make(line(tax_code=SOFTWARE, amount="50000.00", tax_rate="0.06"))) == []
    special = make(kind="special")
    assert validate_invoice(special) == []
    assert ensure_valid(special).total_with_tax == Decimal("949.20")


def test_seller_tax_id_is_required_and_checked() -> None:
    assert ("MISSING_TAX_ID", "seller.tax_id") in errors(make(seller={"name": "x"}))
    bad = SELLER_ID[:17] + ("0" if SELLER_ID[17] != "0" else "1")
    assert ("INVALID_TAX_ID", "seller.tax_id") in errors(make(seller={"name": "x", "tax_id": bad}))


def test_special_invoice_needs_an_entity_buyer_with_a_tax_id() -> None:
    person = {"name": "张三", "natural_person": True}
    assert errors(make(kind="special", buyer=person)) == {
        ("SPECIAL_NEEDS_ENTITY_BUYER", "buyer.natural_person"),
        ("SPECIAL_NEEDS_ENTITY_BUYER", "buyer.tax_id"),
    }
    assert errors(make(kind="special", buyer={"name": "x", "tax_id": "9111010812345"})) == {
        ("INVALID_TAX_ID", "buyer.tax_id")
    }
    legacy = make(kind="special", buyer={"name": "x", "tax_id": "440104190283746"})
    assert [(i.code, i.warning) for i in validate_invoice(legacy)] == [("LEGACY_TAX_ID", True)]


def test_normal_invoice_buyers() -> None:
    assert validate_invoice(make(buyer={"name": "张三", "natural_person": True})) == []
    (warning,) = validate_invoice(make(buyer={"name": "某单位"}))
    assert (warning.code, warning.warning) == ("BUYER_TAX_ID_RECOMMENDED", True)
    ensure_valid(make(buyer={"name": "某单位"}))  # warnings do not block


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"tax_code": "106010201"}, ("INVALID_TAX_CODE", "lines[0].tax_code")),
        ({"tax_code": "1060102019000000000"}, ("UNKNOWN_TAX_CODE", "lines[0].tax_code")),
        ({"tax_code": "1060102000000000000"}, ("TAX_CODE_IS_SUMMARY", "lines[0].tax_code")),
        ({"tax_rate": "0.17"}, ("RATE_NOT_ALLOWED", "lines[0].tax_rate")),
        ({"tax_code": RICE, "tax_rate": "0.13"}, ("RATE_NOT_ALLOWED", "lines[0].tax_rate")),
        ({"tax_code": SOFTWARE, "tax_rate": "0.13"}, ("RATE_NOT_ALLOWED", "lines[0].tax_rate")),
        ({"treatment": "exempt"}, ("TREATMENT_MISMATCH", "lines[0].tax_rate")),
        ({"tax_rate": "0"}, ("TREATMENT_MISMATCH", "lines[0].treatment")),
        (
            {"treatment": "not_taxable", "tax_rate": "0"},
            ("TREATMENT_MISMATCH", "lines[0].treatment"),
        ),
        (
            {"tax_code": "6010000000000000000", "tax_rate": "0"},
            ("TREATMENT_MISMATCH", "lines[0].treatment"),
        ),
        (
            {"treatment": "exempt", "tax_rate": "0", "tax": "1.00"},
            ("TREATMENT_MISMATCH", "lines[0].tax"),
        ),
        ({"amount": "0"}, ("ZERO_AMOUNT", "lines[0].amount")),
        ({"amount": "840.005"}, ("TOO_MANY_DECIMALS", "lines[0].amount")),
        ({"tax": "109.205"}, ("TOO_MANY_DECIMALS", "lines[0].tax")),
        ({"tax": "109.27"}, ("TAX_OUT_OF_TOLERANCE", "lines[0].tax")),
        ({"tax": "-109.20"}, ("TAX_OUT_OF_TOLERANCE", "lines[0].tax")),
        (
            {"quantity": "5", "unit_price": "168", "amount": "840.02"},
            ("AMOUNT_MISMATCH", "lines[0].amount"),
        ),
        ({"quantity": "0", "unit_price": "168"}, ("INVALID_QUANTITY", "lines[0].quantity")),
        ({"amount": "1E+20"}, ("AMOUNT_TOO_LARGE", "lines[0].amount")),
    ],
)
def test_line_rules(changes: dict[str, str], expected: tuple[str, str]) -> None:
    assert expected in errors(make(line(**changes)))


def test_tolerances_are_inclusive() -> None:
    assert errors(make(line(tax="109.26"))) == set()  # exactly 0.06 off
    assert errors(make(line(quantity="3", unit_price="33.333333", amount="100.00"))) == set()
    assert errors(make(line(quantity="5", unit_price="168", amount="840.01"))) == set()


def test_simplified_and_zero_rate_lines_are_valid() -> None:
    for rate in ("0.05", "0.03", "0.01"):
        assert errors(make(line(tax_code=RICE, tax_rate=rate))) == set()
    assert errors(make(line(tax_rate="0", treatment="zero_rate"))) == set()
    assert errors(make(line(tax_rate="0", treatment="exempt"), line())) == set()
    assert (
        errors(make(line(tax_code="6010000000000000000", tax_rate="0", treatment="not_taxable")))
        == set()
    )


def test_negative_and_zero_totals() -> None:
    found = errors(make(line(), line(name="退货", amount="-100.00")))
    assert ("NEGATIVE_AMOUNT", "lines[1].amount") in found
    assert ("ZERO_AMOUNT", "total_with_tax") in errors(make(line(amount="0.00")))


def test_discount_rules() -> None:
    assert errors(make(line(), line(amount="-40.00", kind="discount"))) == set()
    assert errors(make(line(), line(amount="-840.00", kind="discount"))) >= {
        ("ZERO_AMOUNT", "total_with_tax")
    }
    assert ("DISCOUNT_WITHOUT_PARENT", "lines[0].kind") in errors(
        make(line(amount="-40.00", kind="discount"), line())
    )
    assert ("DISCOUNT_WITHOUT_PARENT", "lines[2].kind") in errors(
        make(line(), line(amount="-40.00", kind="discount"), line(amount="-40.00", kind="discount"))
    )
    assert ("DISCOUNT_TOO_LARGE", "lines[1].amount") in errors(
        make(line(), line(amount="-840.01", kind="discount"))
    )
    assert ("DISCOUNT_TOO_LARGE", "lines[1].tax") in errors(
        make(line(), line(amount="-840.00", tax="-109.26", kind="discount"))
    )
    mismatch = errors(
        make(line(), line(amount="-40.00", tax_code=RICE, tax_rate="0.09", kind="discount"))
    )
    assert {
        ("DISCOUNT_MISMATCH", "lines[1].tax_code"),
        ("DISCOUNT_MISMATCH", "lines[1].tax_rate"),
    } <= mismatch
    assert ("DISCOUNT_NOT_NEGATIVE", "lines[1].amount") in errors(
        make(line(), line(amount="40.00", kind="discount"))
    )


def test_total_tax_tolerance() -> None:
    lines = [line(name=f"纸{i}", amount="100.00", tax="13.06") for i in range(22)]
    assert errors(make(*lines)) == {("TOTAL_TAX_OUT_OF_TOLERANCE", "total_tax")}  # 1.32 off
    assert errors(make(*lines[:21])) == set()  # 1.26 off


def test_every_problem_is_reported_at_once() -> None:
    invoice = make(
        line(tax_code="1", tax_rate="0.17"),
        line(amount="-5.00", kind="discount", tax_rate="0.13"),
        line(amount="0"),
        seller={"name": "x", "tax_id": "123"},
    )
    found = errors(invoice)
    assert {
        ("INVALID_TAX_ID", "seller.tax_id"),
        ("INVALID_TAX_CODE", "lines[0].tax_code"),
        ("RATE_NOT_ALLOWED", "lines[0].tax_rate"),
        ("DISCOUNT_MISMATCH", "lines[1].tax_code"),
        ("ZERO_AMOUNT", "lines[2].amount"),
    } <= found
    with pytest.raises(InvalidInvoice) as caught:
        ensure_valid(invoice)
    assert {(i.code, i.path) for i in caught.value.issues} >= found
    assert caught.value.code == "INVALID_INVOICE"
    assert caught.value.field == "seller.tax_id"
    assert "另有" in caught.value.message_zh and "more" in caught.value.message_en


def test_messages_are_bilingual_and_name_the_expectation() -> None:
    for found in validate_invoice(make(line(tax_code=RICE, tax_rate="0.13"))):
        assert found.message_zh and found.message_en and found.expected
        assert any("\u4e00" <= ch <= "\u9fff" for ch in found.message_zh)
    (rate,) = validate_invoice(make(line(tax_code=RICE, tax_rate="0.13")))
    assert "9%" in rate.expected and "13%" in rate.message_en  # type: ignore[operator]


def test_buyer_id_constant_is_valid() -> None:
    assert errors(make(buyer={"name": "x", "tax_id": BUYER_ID})) == set()
    assert PAPER.startswith("106")


def test_repeated_checks_of_one_invoice_object_reuse_the_result() -> None:
    """The engine and then the plugin validate the same object: the second check is reused,
    returns an independent copy of the issues, and an equal but distinct invoice is checked
    on its own."""
    from fapiao.rules import check_invoice
    from fapiao.rules import validate as module

    bad = make(line(tax_code="1234567890123456789"))
    first_totals, first = check_invoice(bad)
    first.clear()  # a caller mutating its list must not change what others get
    again_totals, again = check_invoice(bad)
    assert again_totals is first_totals
    assert [i.code for i in again] == [i.code for i in validate_invoice(bad)]
    assert again
    twin = make(line(tax_code="1234567890123456789"))
    assert twin is not bad
    twin_totals, twin_issues = check_invoice(twin)
    assert twin_totals is not first_totals
    assert [i.code for i in twin_issues] == [i.code for i in again]

    small = module._RecentChecks(size=2)
    invoices = [make(), make(), make()]
    for invoice in invoices:
        small.put(invoice, None, [])
    assert small.get(invoices[0]) is None  # evicted, oldest first
    assert small.get(invoices[2]) == (None, [])


def test_line_nature_codes_normal_discount_and_discounted_lines() -> None:
    invoice = make(
        line(amount="100.00"),
        line(amount="840.00"),
        line(amount="-40.00", kind="discount"),
        line(amount="50.00"),
    )
    assert [line_nature(invoice.lines, i) for i in range(4)] == ["0", "2", "1", "0"]
    assert line_nature(invoice.lines[:2], 1) == "0"  # the last line: nothing follows it

"""Line and invoice arithmetic: half-up cents, 含税 conversion, totals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fapiao.errors import InvalidInvoice
from fapiao.rules import ALLOWED_RATES, compute_totals, line_tax, round_cent, split_gross

from .conftest import RICE, line, make

D = Decimal


@pytest.mark.parametrize(
    ("amount", "rate", "tax"),
    [
        ("10.50", "0.13", "1.37"),  # 1.365 half-up
        ("100.00", "0.06", "6.00"),
        ("0.04", "0.13", "0.01"),  # 0.0052
        ("0.03", "0.13", "0.00"),  # 0.0039
        ("-10.50", "0.13", "-1.37"),  # half-up is symmetric for discounts and red lines
        ("1.15", "0.1", "0.12"),  # 0.115 exactly: no binary float error
    ],
)
def test_line_tax(amount: str, rate: str, tax: str) -> None:
    assert line_tax(D(amount), D(rate)) == D(tax)


@pytest.mark.parametrize(
    ("gross", "rate", "amount", "tax"),
    [
        ("113.00", "0.13", "100.00", "13.00"),
        ("100.00", "0.09", "91.74", "8.26"),
        ("119.80", "0.09", "109.91", "9.89"),
        ("1.00", "0.06", "0.94", "0.06"),
        ("50.00", "0", "50.00", "0.00"),
    ],
)
def test_split_gross(gross: str, rate: str, amount: str, tax: str) -> None:
    assert split_gross(D(gross), D(rate)) == (D(amount), D(tax))


money = st.decimals(min_value=D("0.01"), max_value=D("99999999999.99"), places=2)
rates = st.sampled_from(sorted(ALLOWED_RATES))


@given(money, rates)
def test_split_gross_adds_up_and_stays_within_tolerance(gross: Decimal, rate: Decimal) -> None:
    amount, tax = split_gross(gross, rate)
    assert amount + tax == gross
    assert amount == round_cent(amount) and tax == round_cent(tax)
    assert abs(tax - line_tax(amount, rate)) <= D("0.01")


@given(money, rates)
def test_line_tax_is_within_half_a_cent(amount: Decimal, rate: Decimal) -> None:
    assert abs(line_tax(amount, rate) - amount * rate) <= D("0.005")


@given(st.lists(st.tuples(money, rates), min_size=1, max_size=30))
def test_rounding_drift_is_at_most_half_a_cent_per_line(
    lines: list[tuple[Decimal, Decimal]],
) -> None:
    """Why 1.27 is the total tolerance: up to 254 lines × 0.005 of honest rounding."""
    exact = sum((a * r for a, r in lines), D(0))
    rounded = sum((line_tax(a, r) for a, r in lines), D(0))
    assert abs(rounded - exact) <= D("0.005") * len(lines)


def test_compute_totals_with_discount_and_given_tax() -> None:
    invoice = make(
        line(quantity="2", unit_price="5999.00", amount="11998.00"),
        line(amount="-500.00", kind="discount"),
        line(amount="199.12", tax="25.89"),
    )
    totals = compute_totals(invoice)
    assert [x.tax for x in totals.lines] == [D("1559.74"), D("-65.00"), D("25.89")]
    assert totals.total_amount == D("11697.12")
    assert totals.total_tax == D("1520.63")
    assert totals.total_with_tax == D("13217.75")
    assert totals.amount_in_words == "壹万叁仟贰佰壹拾柒圆柒角伍分"
    assert all(x.gross == x.amount + x.tax for x in totals.lines)
    assert totals.lines[0].display_name == "*纸制品*打印纸 A4"


def test_compute_totals_tax_inclusive_converts_amount_and_unit_price() -> None:
    invoice = make(
        line(tax_code=RICE, quantity="3", unit_price="33.3333", amount="100.00", tax_rate="0.09"),
        prices_include_tax=True,
    )
    (row,) = compute_totals(invoice).lines
    assert (row.amount, row.tax, row.gross) == (D("91.74"), D("8.26"), D("100.00"))
    assert row.unit_price == D("30.58")
    assert abs(row.quantity * row.unit_price - row.amount) <= D("0.01")  # type: ignore[operator]


def test_compute_totals_tax_inclusive_with_given_tax() -> None:
    invoice = make(
        line(tax_code=RICE, amount="100.00", tax_rate="0.09", tax="8.30"), prices_include_tax=True
    )
    (row,) = compute_totals(invoice).lines
    assert (row.amount, row.tax) == (D("91.70"), D("8.30"))


def test_numbers_too_large_raise_invalid_invoice_not_decimal_errors() -> None:
    with pytest.raises(InvalidInvoice) as caught:
        compute_totals(make(line(amount="1E+40")))
    assert caught.value.issues[0].code == "AMOUNT_TOO_LARGE"
    with pytest.raises(InvalidInvoice):
        compute_totals(make(line(tax_rate="-1")))

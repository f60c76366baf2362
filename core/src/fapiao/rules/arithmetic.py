"""Line and invoice arithmetic: cents, tax per line, 含税 → 不含税, and the invoice totals.

Everything is ``Decimal`` with half-up rounding to the cent, the rounding the tax bureau's
platform applies; providers send the normalised 不含税 amounts and taxes computed here so
that two providers never disagree by a cent on the same request.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from fapiao.errors import InvalidInvoice, ValidationIssue
from fapiao.models import CENT, Invoice, InvoiceLine, LineKind, TaxTreatment
from fapiao.rules.amount_words import MAX_AMOUNT_IN_WORDS, amount_in_words
from fapiao.rules.issues import AMOUNT_TOO_LARGE, RATE_NOT_ALLOWED, issue
from fapiao.rules.tax_codes import item_display_name

__all__ = [
    "LINE_TAX_TOLERANCE",
    "MAX_VALUE",
    "TOTAL_TAX_TOLERANCE",
    "UNIT_PRICE_PLACES",
    "InvoiceTotals",
    "LineTotals",
    "check_magnitudes",
    "compute_totals",
    "line_tax",
    "round_cent",
    "split_gross",
]

LINE_TAX_TOLERANCE = Decimal("0.06")
"""A given line tax may differ from round(amount × rate) by at most this much."""
TOTAL_TAX_TOLERANCE = Decimal("1.27")
"""The invoice's total tax may differ from Σ(amount × rate) by at most this much."""
UNIT_PRICE_PLACES = Decimal("1E-8")
"""Converted unit prices keep 8 decimals: quantity × price then lands on the cent."""

MAX_VALUE = MAX_AMOUNT_IN_WORDS
"""No amount, tax, quantity or unit price may exceed this (16 integer digits): beyond it no
invoice field holds the number and 大写 cannot say it."""


def round_cent(value: Decimal) -> Decimal:
    """Half-up to two decimals (``-0.005`` → ``-0.01``: half-up is symmetric about zero)."""
    with localcontext() as ctx:
        ctx.prec = 60
        return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_tax(amount: Decimal, rate: Decimal) -> Decimal:
    """Tax of a 不含税 amount: round(amount × rate) to the cent, half-up."""
    with localcontext() as ctx:
        ctx.prec = 60
        return round_cent(amount * rate)


def split_gross(gross: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """含税 → (不含税 amount, tax): amount = round(gross / (1 + rate)), tax = gross − amount,
    so amount + tax is always exactly the gross the customer paid."""
    with localcontext() as ctx:
        ctx.prec = 60
        gross = round_cent(gross)
        amount = round_cent(gross / (1 + rate))
        return amount, gross - amount


def _unit(value: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        quantized = value.quantize(UNIT_PRICE_PLACES, rounding=ROUND_HALF_UP)
        return quantized.normalize() if quantized == quantized.to_integral() else quantized


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


@dataclass(frozen=True)
class LineTotals:
    """One line as it will be invoiced: 不含税 amount, tax, and the printed item name.

    ``unit_price`` is 不含税 (converted from a 含税 price when the invoice is tax-inclusive);
    ``gross`` is amount + tax.
    """

    amount: Decimal
    tax: Decimal
    gross: Decimal
    display_name: str
    index: int = 0
    tax_code: str = ""
    rate: Decimal = Decimal("0")
    treatment: TaxTreatment = TaxTreatment.TAXABLE
    kind: LineKind = LineKind.NORMAL
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    unit: str | None = None
    spec: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "display_name": self.display_name,
            "tax_code": self.tax_code,
            "kind": self.kind.value,
            "treatment": self.treatment.value,
            "rate": _plain(self.rate),
            "quantity": _plain(self.quantity),
            "unit_price": _plain(self.unit_price),
            "amount": _plain(self.amount),
            "tax": _plain(self.tax),
            "gross": _plain(self.gross),
        }


@dataclass(frozen=True)
class InvoiceTotals:
    """金额合计, 税额合计, 价税合计 and its 大写 — what the invoice prints at the bottom."""

    lines: tuple[LineTotals, ...]
    total_amount: Decimal
    total_tax: Decimal
    total_with_tax: Decimal
    amount_in_words: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "total_amount": _plain(self.total_amount),
            "total_tax": _plain(self.total_tax),
            "total_with_tax": _plain(self.total_with_tax),
            "amount_in_words": self.amount_in_words,
            "lines": [line.to_dict() for line in self.lines],
        }


def _line_totals(line: InvoiceLine, index: int, inclusive: bool) -> LineTotals:
    rate = line.tax_rate
    if inclusive:
        gross = round_cent(line.amount)
        if line.tax is not None:
            tax = round_cent(line.tax)
            amount = gross - tax
        else:
            amount, tax = split_gross(gross, rate)
        if line.quantity is not None and line.quantity != 0:
            unit_price: Decimal | None = _unit(amount / line.quantity)
        elif line.unit_price is not None:
            unit_price = _unit(line.unit_price / (1 + rate))
        else:
            unit_price = None
    else:
        amount = round_cent(line.amount)
        tax = round_cent(line.tax) if line.tax is not None else line_tax(amount, rate)
        unit_price = line.unit_price
    return LineTotals(
        amount=amount,
        tax=tax,
        gross=amount + tax,
        display_name=item_display_name(line),
        index=index,
        tax_code=line.tax_code,
        rate=rate,
        treatment=line.treatment,
        kind=line.kind,
        quantity=line.quantity,
        unit_price=unit_price,
        unit=line.unit,
        spec=line.spec,
    )


def words_or_overflow(total: Decimal) -> str:
    """大写 of a total, or a marker when it is beyond what the words can say (validation
    reports the amount itself)."""
    if abs(total) > MAX_AMOUNT_IN_WORDS:
        return "（金额超出范围 / amount out of range）"
    return amount_in_words(total)


def check_magnitudes(invoice: Invoice) -> list[ValidationIssue]:
    """Numbers too large to compute with: reported before any arithmetic is attempted."""
    issues: list[ValidationIssue] = []
    for i, line in enumerate(invoice.lines):
        for field in ("amount", "tax", "quantity", "unit_price"):
            value = getattr(line, field)
            if value is not None and abs(value) > MAX_VALUE:
                issues.append(
                    issue(
                        AMOUNT_TOO_LARGE,
                        f"lines[{i}].{field}",
                        f"数值过大：{value}，上限 {MAX_VALUE}",
                        f"value too large: {value}; at most {MAX_VALUE}",
                        expected=f"at most {MAX_VALUE}",
                    )
                )
        if not (0 <= line.tax_rate < 1):
            issues.append(
                issue(
                    RATE_NOT_ALLOWED,
                    f"lines[{i}].tax_rate",
                    f"税率 {line.tax_rate} 不在 0 到 1 之间（税率以小数表示，如 0.13）",
                    f"rate {line.tax_rate} is not between 0 and 1 (a fraction such as 0.13)",
                    expected="one of 0.13, 0.09, 0.06, 0.05, 0.03, 0.01, 0",
                )
            )
    return issues


def compute_totals(invoice: Invoice) -> InvoiceTotals:
    """Normalised 不含税 amount and tax of every line, and the invoice totals.

    Works on any parsed invoice, valid or not (validation reports the problems), so a
    caller can always show what the invoice would add up to; only numbers too large to
    compute with raise :class:`InvalidInvoice` (``AMOUNT_TOO_LARGE``/``RATE_NOT_ALLOWED``).
    """
    blocking = check_magnitudes(invoice)
    if blocking:
        raise InvalidInvoice(blocking)
    with localcontext() as ctx:
        ctx.prec = 60
        lines = tuple(
            _line_totals(line, i, invoice.prices_include_tax)
            for i, line in enumerate(invoice.lines)
        )
        total_amount = sum((line.amount for line in lines), Decimal("0.00"))
        total_tax = sum((line.tax for line in lines), Decimal("0.00"))
        total = total_amount + total_tax
    return InvoiceTotals(
        lines=lines,
        total_amount=total_amount,
        total_tax=total_tax,
        total_with_tax=total,
        amount_in_words=words_or_overflow(total),
    )

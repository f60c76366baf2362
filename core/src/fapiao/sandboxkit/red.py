"""The red invoice a sandbox issues against a red confirmation form (红字确认单).

A platform issues it from the form, whose lines each name the blue line they reverse, not
from a request's lines; every sandbox builds it from the blue invoice the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from fapiao.models import Invoice, InvoiceLine

__all__ = ["RedFormLine", "red_invoice_from_form"]

RedFormLine = tuple[int, Decimal, Decimal, Decimal | None]
"""One form line: (blue line index, 不含税 amount, tax, quantity or None); signs are ignored."""


def red_invoice_from_form(blue: Invoice, lines: Iterable[RedFormLine], *, order_id: str) -> Invoice:
    """The blue invoice under ``order_id`` with one line per form line: the blue line it
    reverses with the form's 不含税 amount, tax and quantity as positive magnitudes (the
    renderer negates them); no unit price, since a partial amount need not be qty × price."""
    red = []
    for index, amount, tax, quantity in lines:
        source = blue.lines[index]
        red.append(
            InvoiceLine(
                name=source.name,
                tax_code=source.tax_code,
                spec=source.spec,
                unit=source.unit,
                quantity=abs(quantity) if quantity is not None else None,
                amount=abs(amount),
                tax_rate=source.tax_rate,
                tax=abs(tax),
                treatment=source.treatment,
            )
        )
    update = {"order_id": order_id, "lines": tuple(red), "prices_include_tax": False}
    return blue.model_copy(update=update)

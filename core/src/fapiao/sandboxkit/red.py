"""The red invoice a sandbox issues against a red confirmation form (红字确认单).

A platform issues the red invoice from the form, not from a request's lines: each form line
names the blue line it reverses and the amount, tax and quantity reversed. Every sandbox
keeps the red invoice as a canonical :class:`~fapiao.models.Invoice` of positive magnitudes
(the document renderer negates them, see ``document_data_from_invoice``), built the same way
from the blue invoice, whatever its vendor calls the form's fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from fapiao.models import Invoice, InvoiceLine

__all__ = ["RedFormLine", "red_invoice_from_form"]

RedFormLine = tuple[int, Decimal, Decimal, Decimal | None]
"""One form line: (blue line index, 不含税 amount, tax, quantity or None); signs are ignored."""


def red_invoice_from_form(blue: Invoice, lines: Iterable[RedFormLine], *, order_id: str) -> Invoice:
    """The blue invoice's parties and kind under ``order_id``, with one line per form line:
    the name, code, spec, unit, rate and tax treatment of the blue line it reverses, and the
    form's amount, tax and quantity as positive magnitudes. Amounts are 不含税 (as a form
    states them), and no unit price is carried: a partial amount need not be quantity × a
    price, so the document shows what the form reverses and nothing it does not say."""
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

"""Checking a provider's report against what the ledger knows, before it is applied.

Why: a report (callback, poll, query answer) comes from outside. A provider with a bug — or
someone holding a leaked signing key — could otherwise set an invoice number on a request
that is still issuing, record a negative total on a blue invoice, or move a record with
another seller's answer. Such a report is refused and flagged (an event on the record, a
warning in the log) for a person; it never changes the record. The one check that needs the
database (an invoice number already recorded for another request) is the ledger's own, in
``ledger/lifecycle.py``.
"""

from __future__ import annotations

from decimal import Decimal

from fapiao.errors import FapiaoError
from fapiao.models import Invoice, InvoiceState, InvoiceStatus
from fapiao.rules import TOTAL_TAX_TOLERANCE

from .ledger import HAS_INVOICE_STATES, LedgerRecord, RequestKind

__all__ = ["disagreement"]

S = InvoiceState
_NUMBERED = HAS_INVOICE_STATES | {S.CANCELLED}


def disagreement(
    record: LedgerRecord, status: InvoiceStatus, requested: Invoice | None = None
) -> str | None:
    """Why ``status`` cannot be a true report about ``record``; ``None`` when it can.
    ``requested`` is the invoice itself when the caller holds it (issuing): its totals are
    then not rebuilt from the stored payload."""
    if (status.seller_tax_id, status.order_id) != (
        record.key.seller_tax_id,
        record.key.order_id,
    ):
        return "the report is about another seller or order"
    if status.is_red != (record.kind is RequestKind.RED):
        kind = "red" if status.is_red else "blue"
        return f"a {kind} invoice reported for a {record.kind.value} request"
    if status.invoice_number is not None and status.state not in _NUMBERED:
        return f"an invoice number reported with state {status.state.value}"
    return _amounts(record, status, requested)


def _amounts(record: LedgerRecord, status: InvoiceStatus, requested: Invoice | None) -> str | None:
    reported = (status.total_amount, status.total_tax, status.total_with_tax)
    if all(value is None for value in reported):
        return None
    negative = record.kind is RequestKind.RED
    for value in reported:
        if value is not None and (value > 0 if negative else value < 0):
            sign = "positive" if negative else "negative"
            return f"a {sign} amount {value} reported for a {record.kind.value} invoice"
    if record.kind is not RequestKind.BLUE:
        return None
    expected = _expected_totals(record, requested)
    if expected is None:
        return None
    for name, value, want in zip(
        ("total amount", "total tax", "total with tax"), reported, expected, strict=True
    ):
        # a provider may round a 含税 split or its tax differently, within the rules' tolerance
        if value is not None and abs(value - want) > TOTAL_TAX_TOLERANCE:
            return f"{name} {value} reported, {want} requested"
    return None


def _expected_totals(
    record: LedgerRecord, requested: Invoice | None
) -> tuple[Decimal, Decimal, Decimal] | None:
    """The totals the ledger knows: recorded ones, else those of the requested invoice."""
    if record.total_amount is not None and record.total_with_tax is not None:
        tax = record.total_tax if record.total_tax is not None else Decimal("0.00")
        return record.total_amount, tax, record.total_with_tax
    from fapiao.rules import compute_totals  # the rules' table loads on first use

    try:
        invoice = requested if requested is not None else Invoice.model_validate(record.payload)
        totals = compute_totals(invoice)
    except (FapiaoError, ValueError):
        return None  # an old payload the rules no longer accept: nothing to compare with
    return totals.total_amount, totals.total_tax, totals.total_with_tax

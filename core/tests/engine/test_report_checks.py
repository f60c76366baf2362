"""A provider's report that cannot be true of a record is refused and noted, never applied
(issue: hostile input and broken peers — "nothing a provider says can corrupt the ledger").

Before these checks an unknown status set an invoice number on a request still issuing, a
total of -5.00 was stored for a blue invoice, and two records could end up with the same
invoice number.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from fapiao.models import InvoiceState, InvoiceStatus
from fapiao.testing.samples import service_invoice

S = InvoiceState


def _report(record, **fields) -> InvoiceStatus:
    base = {
        "provider": record.provider,
        "seller_tax_id": record.key.seller_tax_id,
        "order_id": record.key.order_id,
        "state": S.ISSUED,
    }
    return InvoiceStatus(**{**base, **fields})


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"state": S.ISSUING, "invoice_number": "26310000000000009999"}, "invoice number"),
        (
            {"invoice_number": "26310000000000009998", "total_with_tax": Decimal("-5.00")},
            "negative amount",
        ),
        (
            {"invoice_number": "26310000000000009997", "total_with_tax": Decimal("99999.00")},
            "total with tax",
        ),
        ({"invoice_number": "26310000000000009996", "is_red": True}, "red invoice"),
    ],
    ids=["number-while-issuing", "negative-total", "wrong-total", "red-for-blue"],
)
async def test_an_impossible_report_changes_nothing_and_is_noted(
    engine_env, fields: dict, reason: str
) -> None:
    env = engine_env
    vendor = env.vendors["nuonuo"]  # asynchronous: the record waits in issuing
    invoice = service_invoice(vendor.seller(), amount="100.00")
    async with env.client() as client:
        assert (await client.issue(invoice)).state is S.ISSUING
        record = await client.record(vendor.seller_tax_id, invoice.order_id)
        after = await client.kernel.apply(record, _report(record, **fields), "callback")
        assert (after.state, after.invoice_number, after.total_with_tax) == (
            record.state,
            record.invoice_number,
            record.total_with_tax,
        )
        events = await client.ledger.events(record.key)
        noted = [e.detail for e in events if e.detail and "rejected_report" in e.detail]
        assert noted and reason in noted[-1]["rejected_report"], noted
        # the true report still applies afterwards
        true = _report(
            record,
            invoice_number="26310000000000001234",
            total_amount=Decimal("100.00"),
            total_tax=Decimal("6.00"),
            total_with_tax=Decimal("106.00"),
        )
        applied = await client.kernel.apply(after, true, "callback")
        assert (applied.state, applied.invoice_number) == (S.ISSUED, "26310000000000001234")


async def test_an_invoice_number_is_never_given_to_a_second_record(engine_env) -> None:
    env = engine_env
    vendor = env.vendors["nuonuo"]
    first, second = (service_invoice(vendor.seller(), amount="100.00") for _ in range(2))
    async with env.client() as client:
        for invoice in (first, second):
            assert (await client.issue(invoice)).state is S.ISSUING
        a = await client.record(vendor.seller_tax_id, first.order_id)
        b = await client.record(vendor.seller_tax_id, second.order_id)
        number = "26310000000000004321"
        assert (await client.kernel.apply(a, _report(a, invoice_number=number), "poll")).state is (
            S.ISSUED
        )
        kept = await client.kernel.apply(b, _report(b, invoice_number=number), "callback")
        assert (kept.state, kept.invoice_number) == (S.ISSUING, None)
        reasons = [e.detail.get("reason") for e in await client.ledger.events(b.key) if e.detail]
        assert "invoice number already recorded for another request" in reasons

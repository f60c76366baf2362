"""The synchronous facade: the same client on a private event loop thread."""

from __future__ import annotations

import threading

import pytest

import fapiao
from fapiao.errors import NotFound
from fapiao.models import Delivery, DeliveryChannel, InvoiceState
from fapiao.testing.samples import service_invoice


def test_sync_client_issue_many_query_deliver(engine_env) -> None:
    env = engine_env
    v = env.vendors["baiwang"]
    invoices = [service_invoice(v.seller(), amount=f"{500 + i}.00") for i in range(4)]
    threads_before = threading.active_count()
    with fapiao.Client.from_config(env.write_config()) as client:
        items = list(client.issue_many(iter(invoices), concurrency=2))
        assert sorted(i.index for i in items) == [0, 1, 2, 3]
        assert all(i.ok and i.state is InvoiceState.ISSUED for i in items)
        again = client.issue(invoices[0])  # replay through the sync path: no second call
        assert (
            again.invoice_number
            == client.query(v.seller_tax_id, invoices[0].order_id).invoice_number
        )
        assert v.issues(invoices[0].order_id) == 1
        with pytest.raises(NotFound):  # neither the ledger nor the provider knows it
            client.query(v.seller_tax_id, "NO-SUCH-ORDER-123")
        result = client.deliver(
            Delivery(
                seller_tax_id=v.seller_tax_id,
                invoice_number=again.invoice_number or "",
                order_id=invoices[0].order_id,
                channel=DeliveryChannel.EMAIL,
                address="buyer@example.com",
            )
        )
        assert result.accepted
        # a stream abandoned midway is closed cleanly
        stream = client.issue_many(iter([service_invoice(v.seller()) for _ in range(3)]))
        first = next(stream)
        assert first.ok
        stream.close()
    assert threading.active_count() <= threads_before  # loop, writer and workers all stopped

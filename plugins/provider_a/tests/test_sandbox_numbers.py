"""The sandbox numbers its invoices with the shared 数电 generator: 20 digits, the province of
the seller's tax bureau, the year of the sandbox's own (movable) clock, never twice."""

from __future__ import annotations

from datetime import timedelta

from fapiao.models import InvoiceKind, Party
from fapiao.rules import compute_totals
from fapiao.sandboxkit import parse_invoice_number
from fapiao.testing.samples import service_invoice
from fapiao_provider_a import mapping
from fapiao_provider_a.sandbox import DEMO_BUYER, DEMO_MERCHANT, Merchant, SandboxConfig
from fapiao_provider_a.sandbox.invoices import finalize, submit
from fapiao_provider_a.sandbox.state import SandboxState

from .conftest import SELLER


def _issue(state: SandboxState, merchant: Merchant, seller: Party) -> str:
    buyer = Party(name="王小明", natural_person=True)
    invoice = service_invoice(seller, buyer, kind=InvoiceKind.NORMAL)
    order = mapping.order_payload(
        invoice, compute_totals(invoice), clerk="张三", extension_number=None, callback_url=None
    )
    record = submit(state, merchant, order, base_url="http://127.0.0.1:1")
    assert finalize(state, record)
    assert record.number is not None
    return record.number


def test_numbers_carry_the_sellers_province_and_the_sandbox_clocks_year() -> None:
    state = SandboxState(SandboxConfig(issue_delay_seconds=0, callbacks=False))
    other_seller = Party(name=DEMO_BUYER.name, tax_id=DEMO_BUYER.tax_id)
    first = _issue(state, DEMO_MERCHANT, SELLER)
    second = _issue(state, DEMO_BUYER, other_seller)
    state.clock.advance(timedelta(days=400))
    third = _issue(state, DEMO_MERCHANT, SELLER)

    parts = [parse_invoice_number(n) for n in (first, second, third)]  # raises if malformed
    assert [p.province for p in parts] == ["33", "31", "33"]  # 9133… Zhejiang, 9131… Shanghai
    assert parts[2].year == f"{state.clock.now():%y}" != parts[0].year
    assert len({first, second, third}) == 3

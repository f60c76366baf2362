"""Red reversal (红冲) through the engine: partial then the rest, full, pending forms."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import pytest

from fapiao.engine.client import AsyncClient
from fapiao.engine.ledger import RequestKey
from fapiao.errors import InvalidInvoice
from fapiao.models import (
    InvoiceState,
    InvoiceStatus,
    RedConfirmationState,
    RedLine,
    RedReason,
    RedReversalRequest,
)
from fapiao.testing.samples import new_order_id, sample_invoices

S = InvoiceState


async def issued_blue(client: AsyncClient, vendor) -> tuple[InvoiceStatus, object]:
    blue = sample_invoices(vendor.seller())[0]  # 专票, two lines: 3000.00 @6 %, 999.99 @13 %
    status = await client.issue(blue)
    for _ in range(100):
        if status.state is S.ISSUED:
            return status, blue
        await asyncio.sleep(0.02)
        status = await client.query(vendor.seller_tax_id, blue.order_id)
    raise AssertionError(f"blue invoice not issued: {status.state}")


def red_request(status: InvoiceStatus, blue, reason: RedReason, lines=()) -> RedReversalRequest:
    return RedReversalRequest(
        order_id=new_order_id("RED"),
        seller_tax_id=status.seller_tax_id,
        buyer_tax_id=blue.buyer.tax_id,
        original_invoice_number=status.invoice_number or "",
        original_order_id=blue.order_id,
        reason=reason,
        lines=tuple(lines),
    )


async def settled(client: AsyncClient, seller: str, order_id: str) -> InvoiceStatus:
    for _ in range(100):
        status = await client.query(seller, order_id)
        if status.state not in {S.SUBMITTED, S.ISSUING}:
            return status
        await asyncio.sleep(0.02)
    raise AssertionError("red invoice not settled")


async def test_partial_then_the_rest_nuonuo(engine_env) -> None:
    v = engine_env.vendors["nuonuo"]
    async with engine_env.client() as client:
        status, blue = await issued_blue(client, v)
        first = red_request(
            status,
            blue,
            RedReason.SALES_RETURN,
            [RedLine(original_line=0, amount=Decimal("1000.00"))],
        )
        outcome = await client.red_reverse(first)
        assert outcome.confirmation is not None
        assert outcome.confirmation.state in {
            RedConfirmationState.CONFIRMED,
            RedConfirmationState.RED_ISSUED,
        }
        await client.reconcile()  # the red invoice is issued asynchronously
        red = await settled(client, v.seller_tax_id, first.order_id)
        assert red.state is S.ISSUED and red.is_red and red.total_amount == Decimal("-1000.00")
        blue_now = await client.query(v.seller_tax_id, blue.order_id)
        assert blue_now.state is S.PARTIALLY_REVERSED
        key = RequestKey(v.seller_tax_id, blue.order_id)
        assert await client.ledger.reversed_amounts(key) == {0: Decimal("1000.00")}
        applied = v.proxy.count("saveInvoiceRedConfirm")
        again = await client.red_reverse(first)  # replay: same outcome, no second form
        assert again.red.state is S.ISSUED and v.proxy.count("saveInvoiceRedConfirm") == applied
        too_much = red_request(
            status,
            blue,
            RedReason.SALES_RETURN,
            [RedLine(original_line=0, amount=Decimal("2000.01"))],
        )
        with pytest.raises(InvalidInvoice) as caught:
            await client.red_reverse(too_much)
        assert caught.value.issues[0].code == "RED_EXCEEDS_LINE_REMAINING"
        assert await client.ledger.get(RequestKey(v.seller_tax_id, too_much.order_id)) is None
        rest = red_request(
            status,
            blue,
            RedReason.SALES_RETURN,
            [
                RedLine(original_line=0, amount=Decimal("2000.00")),
                RedLine(original_line=1, amount=Decimal("999.99")),
            ],
        )
        await client.red_reverse(rest)
        await client.reconcile()
        assert (await settled(client, v.seller_tax_id, rest.order_id)).state is S.ISSUED
        assert (await client.query(v.seller_tax_id, blue.order_id)).state is S.REVERSED


async def test_full_reversal_baiwang(engine_env) -> None:
    v = engine_env.vendors["baiwang"]
    async with engine_env.client() as client:
        status, blue = await issued_blue(client, v)
        request = red_request(status, blue, RedReason.INVOICING_ERROR)
        outcome = await client.red_reverse(request)
        if not outcome.issued:
            await client.reconcile()
        red = await settled(client, v.seller_tax_id, request.order_id)
        assert red.state is S.ISSUED and red.total_with_tax == -status.total_with_tax  # type: ignore[operator]
        assert (await client.query(v.seller_tax_id, blue.order_id)).state is S.REVERSED


async def test_form_awaiting_the_buyer_then_lapsed_or_confirmed(engine_env) -> None:
    v = engine_env.vendors["nuonuo"]
    admin = v.sandbox.base_url
    async with (
        engine_env.client() as client,
        httpx.AsyncClient(verify=v.sandbox.ca_file or True) as http,
    ):
        # the buyer has used (deducted) both invoices: the seller's forms need its confirmation
        one, blue_one = await issued_blue(client, v)
        two, blue_two = await issued_blue(client, v)
        for status in (one, two):
            used = await http.post(f"{admin}/__sandbox__/invoices/{status.invoice_number}/use")
            assert used.status_code == 200
        lapsing = red_request(one, blue_one, RedReason.INVOICING_ERROR)
        outcome = await client.red_reverse(lapsing)
        assert outcome.awaiting_confirmation
        assert outcome.red.state is S.VALIDATED and outcome.blue.state is S.RED_REQUESTED
        confirming = red_request(two, blue_two, RedReason.INVOICING_ERROR)
        pending = await client.red_reverse(confirmation_wait := confirming)
        assert pending.awaiting_confirmation
        # the buyer confirms the second form on its own side (the sandbox's buyer merchant)
        state = v.sandbox.admin.state_ref
        buyer = next(m for m in state.config.merchants if m.tax_id == blue_two.buyer.tax_id)
        state.confirm_form(
            buyer,
            {
                "billId": pending.confirmation.confirmation_id,
                "identity": "1",
                "confirmAgreement": "1",
            },
            base_url=admin,
        )
        # 73 hours later the first form has lapsed
        moved = await http.post(f"{admin}/__sandbox__/clock", json={"advance_seconds": 73 * 3600})
        assert moved.status_code == 200
        await client.reconcile()
        await client.reconcile()
        lapsed = await client.query(v.seller_tax_id, lapsing.order_id)
        assert lapsed.state is S.FAILED and lapsed.error is not None
        assert lapsed.error.code == "RED_NOT_ALLOWED"
        assert (await client.query(v.seller_tax_id, blue_one.order_id)).state is S.ISSUED
        assert (
            await client.ledger.reversed_amounts(RequestKey(v.seller_tax_id, blue_one.order_id))
            == {}
        )
        red = await settled(client, v.seller_tax_id, confirmation_wait.order_id)
        assert red.state is S.ISSUED
        assert (await client.query(v.seller_tax_id, blue_two.order_id)).state is S.REVERSED


async def test_lapsed_second_partial_leaves_the_blue_partially_reversed(engine_env) -> None:
    """A partial reversal went through; a later form lapses: the blue invoice goes back to
    partially_reversed (not issued) and only the first reversal's amount stays reversed."""
    v = engine_env.vendors["nuonuo"]
    admin = v.sandbox.base_url
    async with (
        engine_env.client() as client,
        httpx.AsyncClient(verify=v.sandbox.ca_file or True) as http,
    ):
        status, blue = await issued_blue(client, v)
        first = red_request(
            status,
            blue,
            RedReason.SALES_RETURN,
            [RedLine(original_line=0, amount=Decimal("500.00"))],
        )
        await client.red_reverse(first)
        await client.reconcile()
        assert (await settled(client, v.seller_tax_id, first.order_id)).state is S.ISSUED
        assert (await client.query(v.seller_tax_id, blue.order_id)).state is S.PARTIALLY_REVERSED
        # the buyer deducts the invoice: the next seller-raised form needs its confirmation
        used = await http.post(f"{admin}/__sandbox__/invoices/{status.invoice_number}/use")
        assert used.status_code == 200
        second = red_request(
            status,
            blue,
            RedReason.SALES_RETURN,
            [RedLine(original_line=0, amount=Decimal("700.00"))],
        )
        pending = await client.red_reverse(second)
        assert pending.awaiting_confirmation
        assert pending.blue.state is S.RED_REQUESTED
        moved = await http.post(f"{admin}/__sandbox__/clock", json={"advance_seconds": 73 * 3600})
        assert moved.status_code == 200
        await client.reconcile()
        await client.reconcile()
        lapsed = await client.query(v.seller_tax_id, second.order_id)
        assert lapsed.state is S.FAILED
        assert (await client.query(v.seller_tax_id, blue.order_id)).state is S.PARTIALLY_REVERSED
        key = RequestKey(v.seller_tax_id, blue.order_id)
        assert await client.ledger.reversed_amounts(key) == {0: Decimal("500.00")}


async def test_two_reversals_at_once_run_one_after_the_other(engine_env) -> None:
    env = engine_env
    v = env.vendors["baiwang"]
    config = env.write_config(engine={"stale_validated_seconds": 0})
    async with env.client(config) as client:
        status, blue = await issued_blue(client, v)
        first, second = (
            red_request(
                status, blue, RedReason.SALES_RETURN, [RedLine(original_line=0, amount=Decimal(a))]
            )
            for a in ("1000.00", "500.00")
        )
        outcomes = await asyncio.gather(
            client.red_reverse(first), client.red_reverse(second), return_exceptions=True
        )
        refused = [o for o in outcomes if isinstance(o, Exception)]
        assert len(refused) == 1 and getattr(refused[0], "code", None) == "RED_NOT_ALLOWED"
        waiting = second if outcomes[1] is refused[0] else first
        assert (await client.record(v.seller_tax_id, waiting.order_id)).state is S.VALIDATED
        for _ in range(3):  # the first settles, then the waiting one starts and settles
            await client.reconcile()
        for request in (first, second):
            assert (await settled(client, v.seller_tax_id, request.order_id)).state is S.ISSUED
        key = RequestKey(v.seller_tax_id, blue.order_id)
        assert await client.ledger.reversed_amounts(key) == {0: Decimal("1500.00")}
        assert (await client.query(v.seller_tax_id, blue.order_id)).state is S.PARTIALLY_REVERSED

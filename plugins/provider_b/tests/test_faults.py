"""Faults on a real loopback server: an unknown outcome is settled by a query, never by
sending the invoice again, and the platform's serialNo makes a second invoice impossible."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from fapiao.errors import DuplicateOrder, OutcomeUnknown, ProviderUnavailable
from fapiao.models import InvoiceState
from fapiao_provider_b.protocol import Method

from .conftest import SELLER, Sandbox, invoice

TAX = SELLER.tax_id or ""


@pytest.fixture
def box(make_sandbox: Callable[..., Sandbox]) -> Sandbox:
    return make_sandbox()


async def _issue_unknown(box: Sandbox, **faults: object) -> str:
    """Issue under ``faults``; the outcome must be unknown. Returns the order id."""
    blue = invoice()
    async with box.provider(timeout_seconds=0.5) as provider:
        await provider.quota(TAX)  # token first, outside the fault
        box.app.faults.update(**faults)
        with pytest.raises(OutcomeUnknown) as caught:
            await provider.issue(blue)
        box.app.faults.clear()
    assert not caught.value.retryable
    assert caught.value.message_zh and caught.value.message_en
    return blue.order_id


async def _settle(box: Sandbox, order_id: str) -> tuple[list[object], object]:
    """What the engine does: query by order id, then (only if unseen) resubmit."""
    async with box.provider() as provider:
        found = await provider.query(TAX, [order_id])
        blue = invoice(order_id=order_id)
        try:
            again: object = await provider.issue(blue)
        except DuplicateOrder as exc:
            again = exc
    return list(found), again


async def test_timeout_after_commit_is_found_by_query(box: Sandbox) -> None:
    order = await _issue_unknown(box, timeout_after_commit_rate=1.0, hang_seconds=2.0)
    found, again = await _settle(box, order)
    (status,) = found
    assert status.state is InvoiceState.ISSUED and status.invoice_number  # type: ignore[attr-defined]
    assert isinstance(again, DuplicateOrder) and again.raw_code == "70110"
    assert box.counter("issued") == 1


async def test_reset_after_commit_is_found_by_query(box: Sandbox) -> None:
    order = await _issue_unknown(box, reset_rate=1.0, reset_after_commit=True)
    found, again = await _settle(box, order)
    assert len(found) == 1 and isinstance(again, DuplicateOrder)
    assert box.counter("issued") == 1


async def test_reset_before_commit_leaves_nothing_so_resubmitting_is_safe(box: Sandbox) -> None:
    order = await _issue_unknown(box, reset_rate=1.0, reset_after_commit=False)
    found, again = await _settle(box, order)
    assert found == []
    assert again.state is InvoiceState.ISSUED  # type: ignore[attr-defined]
    assert box.counter("issued") == 1


async def test_5xx_on_issue_is_unknown_and_nothing_was_issued(box: Sandbox) -> None:
    order = await _issue_unknown(box, error_5xx_rate=1.0, error_status=502)
    found, again = await _settle(box, order)
    assert found == [] and again.state is InvoiceState.ISSUED  # type: ignore[attr-defined]
    assert box.app.faults.counts["5xx"] == 0  # cleared after the fault ...
    assert box.counter("issued") == 1


async def test_5xx_on_query_is_retried_then_unavailable(box: Sandbox) -> None:
    async with box.provider() as provider:
        provider.http.backoff = 0.01  # keep the transport's retry pauses short in tests
        await provider.quota(TAX)
        box.app.faults.update(error_5xx_rate=1.0)
        with pytest.raises(ProviderUnavailable):
            await provider.query(TAX, ["A"])
        assert box.app.faults.counts["5xx"] == 3  # one call and the transport's two retries
        box.app.faults.clear()
        box.app.faults.update(error_5xx_rate=0.5, seed=7)
        outcomes = []
        for _ in range(8):
            try:
                outcomes.append(await provider.query(TAX, ["A"]))
            except ProviderUnavailable:
                outcomes.append(None)
    failed = outcomes.count(None)
    assert [] in outcomes
    # more 5xx were injected than the failed queries account for: retries absorbed them
    assert box.app.faults.counts["5xx"] > 3 * failed


async def test_slow_platform_past_the_timeout(box: Sandbox) -> None:
    """The gateway is slow to read the request and the client gives up first: unknown to the
    client, but never processed, so the query finds nothing and the resubmission issues."""
    order = await _issue_unknown(box, latency_ms=900)
    await asyncio.sleep(1.0)  # let the slow request reach the gateway, with nobody waiting
    found, again = await _settle(box, order)
    assert box.counter("client_gone") == 1
    assert found == []
    assert again.state is InvoiceState.ISSUED  # type: ignore[attr-defined]
    assert box.counter("issued") == 1


async def test_unknown_red_apply_is_resolved_by_resending_the_same_request(box: Sandbox) -> None:
    """The form's serial number is the red order id: a resend is refused as a duplicate and
    the plugin reads the existing form back, so one request never makes two forms."""
    from fapiao.models import RedReason, RedReversalRequest
    from fapiao.testing.samples import new_order_id

    async with box.provider(timeout_seconds=0.5) as provider:
        blue = await provider.issue(invoice())
        request = RedReversalRequest(
            order_id=new_order_id("RED"),
            seller_tax_id=TAX,
            original_invoice_number=blue.invoice_number or "",
            reason=RedReason.INVOICING_ERROR,
        )
        box.app.faulted_methods = frozenset({Method.RED_ADD})
        box.app.faults.update(timeout_after_commit_rate=1.0, hang_seconds=2.0)
        with pytest.raises(OutcomeUnknown):
            await provider.red_apply(request)
        box.app.faults.clear()
        box.app.faulted_methods = None
        form = await provider.red_apply(request)
        assert form.order_id == request.order_id and form.amount == -blue.total_amount  # type: ignore[operator]
        assert len(box.app.state.red_forms) == 1
        box.app.faults.update(reset_rate=1.0, reset_after_commit=True)
        with pytest.raises(OutcomeUnknown):
            await provider.red_issue(form)
        box.app.faults.clear()
        (red,) = await provider.query(TAX, [request.order_id])
        assert red.is_red and red.state is InvoiceState.ISSUED
        assert red.original_invoice_number == blue.invoice_number

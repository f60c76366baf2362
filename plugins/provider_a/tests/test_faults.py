"""Exactly-once under the sandbox's faults: an answer lost after the platform committed the
order is OutcomeUnknown, never a resend, and the query by order number finds the invoice."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fapiao.errors import OutcomeUnknown, ProviderUnavailable
from fapiao.models import InvoiceState
from fapiao.testing.conformance import settle
from fapiao.testing.samples import service_invoice
from fapiao_provider_a import NuonuoProvider

from .conftest import SELLER


@pytest.fixture
def faults(sandbox_app: Any) -> Iterator[Callable[..., None]]:
    def set_faults(**config: Any) -> None:
        sandbox_app.injector.configure(config)

    yield set_faults
    sandbox_app.injector.clear()


@pytest.mark.parametrize(
    "fault",
    [
        {"timeout_after_commit_rate": 1.0, "hang_seconds": 3.0},
        {"reset_rate": 1.0, "reset_after_commit": True},
    ],
    ids=["timeout-after-commit", "reset-after-commit"],
)
async def test_lost_answer_after_commit_is_unknown_and_query_finds_the_invoice(
    provider_factory: Callable[..., NuonuoProvider],
    sandbox_app: Any,
    faults: Callable[..., None],
    fault: dict[str, Any],
) -> None:
    provider = provider_factory(timeout_seconds=0.5)
    state = sandbox_app.state_ref
    try:
        await provider.query(SELLER.tax_id or "", ["WARMUP"])  # token fetched before faults
        invoice = service_invoice(SELLER)
        before = len(state.records)
        faults(**fault)
        with pytest.raises(OutcomeUnknown):
            await provider.issue(invoice)
        sandbox_app.injector.clear()
        assert len(state.records) == before + 1  # committed exactly once, not resent
        status = await settle(provider, SELLER.tax_id or "", invoice.order_id)
        assert status.state is InvoiceState.ISSUED and status.invoice_number
    finally:
        await provider.aclose()


async def test_5xx_before_commit_on_issue_is_unknown_and_nothing_was_created(
    provider_factory: Callable[..., NuonuoProvider], sandbox_app: Any, faults: Callable[..., None]
) -> None:
    provider = provider_factory()
    state = sandbox_app.state_ref
    try:
        await provider.query(SELLER.tax_id or "", ["WARMUP"])
        invoice = service_invoice(SELLER)
        before = len(state.records)
        faults(error_5xx_rate=1.0)
        with pytest.raises(OutcomeUnknown):  # a non-idempotent call can't tell; query decides
            await provider.issue(invoice)
        sandbox_app.injector.clear()
        assert len(state.records) == before
        assert await provider.query(SELLER.tax_id or "", [invoice.order_id]) == []
    finally:
        await provider.aclose()


async def test_idempotent_query_retries_through_5xx_then_reports_unavailable(
    provider_factory: Callable[..., NuonuoProvider], sandbox_app: Any, faults: Callable[..., None]
) -> None:
    provider = provider_factory()
    try:
        await provider.query(SELLER.tax_id or "", ["WARMUP"])
        counters = sandbox_app.injector.snapshot
        faults(error_5xx_rate=1.0)
        with pytest.raises(ProviderUnavailable):
            await provider.query(SELLER.tax_id or "", ["X"])
        assert counters()["injected"].get("5xx") == 3  # one try and two transport retries
    finally:
        await provider.aclose()


async def test_reset_before_commit_on_issue_never_creates_twice(
    provider_factory: Callable[..., NuonuoProvider], sandbox_app: Any, faults: Callable[..., None]
) -> None:
    provider = provider_factory()
    state = sandbox_app.state_ref
    try:
        await provider.query(SELLER.tax_id or "", ["WARMUP"])
        invoice = service_invoice(SELLER)
        before = len(state.records)
        faults(reset_rate=1.0)
        with pytest.raises((OutcomeUnknown, ProviderUnavailable)):
            await provider.issue(invoice)
        sandbox_app.injector.clear()
        assert len(state.records) == before
    finally:
        await provider.aclose()

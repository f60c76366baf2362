"""Callbacks as the sandbox sends them: signed, retried, duplicated, shuffled; verified and
applied idempotently by the provider."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from fapiao.errors import CallbackRejected
from fapiao.models import InvoiceState
from fapiao.sandboxkit import RunningServer
from fapiao.testing import CallbackReceiver
from fapiao.testing.conformance import settle
from fapiao.testing.samples import service_invoice
from fapiao_provider_a import NuonuoProvider

from .conftest import SELLER


async def test_duplicate_callbacks_are_each_signed_and_both_verify(
    provider_factory: Callable[..., NuonuoProvider],
    sandbox_app: Any,
    callback_receiver: CallbackReceiver,
) -> None:
    provider = provider_factory(callback_url=callback_receiver.url)
    sandbox_app.injector.configure({"duplicate_callback_rate": 1.0, "out_of_order_callbacks": True})
    try:
        invoices = [service_invoice(SELLER) for _ in range(3)]
        for invoice in invoices:
            await provider.issue(invoice)
        for invoice in invoices:
            await settle(provider, SELLER.tax_id or "", invoice.order_id)
        for _ in range(250):
            if len(callback_receiver.snapshot()) >= 6:
                break
            await asyncio.sleep(0.02)
        captured = callback_receiver.snapshot()
        assert len(captured) == 6
        results = [provider.verify_callback(c.headers, c.body, c.query) for c in captured]
        by_order: dict[str, set[str | None]] = {}
        for result in results:
            (status,) = result.statuses
            assert status.state is InvoiceState.ISSUED
            by_order.setdefault(status.order_id, set()).add(status.invoice_number)
        assert sorted(by_order) == sorted(i.order_id for i in invoices)
        assert all(len(numbers) == 1 for numbers in by_order.values())  # same event twice
        with pytest.raises(CallbackRejected):  # the exact bytes again: a replay
            provider.verify_callback(captured[0].headers, captured[0].body, captured[0].query)
    finally:
        sandbox_app.injector.clear()
        await provider.aclose()


async def test_stale_and_foreign_callbacks_are_rejected(
    provider_factory: Callable[..., NuonuoProvider], callback_receiver: CallbackReceiver
) -> None:
    provider = provider_factory(callback_url=callback_receiver.url, callback_max_age_seconds=10)
    try:
        invoice = service_invoice(SELLER)
        await provider.issue(invoice)
        genuine = await callback_receiver.wait_for(lambda r: invoice.order_id.encode() in r.body)
        stale = {**genuine.query, "timestamp": str(int(genuine.query["timestamp"]) - 3600)}
        with pytest.raises(CallbackRejected):
            provider.verify_callback(genuine.headers, genuine.body, stale)  # signature breaks too
        foreign = {**genuine.query, "appkey": "SOMEONE-ELSE"}
        with pytest.raises(CallbackRejected):
            provider.verify_callback(genuine.headers, genuine.body, foreign)
        result = provider.verify_callback(genuine.headers, genuine.body, genuine.query)
        assert result.statuses[0].order_id == invoice.order_id
    finally:
        await provider.aclose()


async def test_undeliverable_callback_is_retried_then_given_up(
    provider_factory: Callable[..., NuonuoProvider], sandbox_app: Any, sandbox: RunningServer
) -> None:
    provider = provider_factory(callback_url="http://127.0.0.1:9/callback")  # nothing listens
    try:
        invoice = service_invoice(SELLER)
        await provider.issue(invoice)
        await settle(provider, SELLER.tax_id or "", invoice.order_id)  # the callback is queued
        assert await sandbox_app.callbacks.wait_idle(5)  # every attempt failed: given up
        wanted = sandbox_app.config.callback_attempts
        attempts = [d for d in sandbox_app.callbacks.deliveries if d.key == invoice.order_id]
        assert [a.attempt for a in attempts] == list(range(1, wanted + 1))
        assert all(a.error and not a.accepted for a in attempts)
        assert len({dict(a.params)["senid"] for a in attempts}) == wanted  # each signed anew
        async with httpx.AsyncClient() as client:
            shown = (await client.get(f"{sandbox.base_url}/__sandbox__/state")).json()
        mine = [c for c in shown["callbacks"] if c["orderno"] == invoice.order_id]
        assert [(c["attempt"], c["accepted"]) for c in mine] == [
            (n, False) for n in range(1, wanted + 1)
        ]
        assert [c["senid"] for c in mine] == [dict(a.params)["senid"] for a in attempts]
    finally:
        await provider.aclose()

"""Provider callbacks through the engine: verified by the plugin, applied idempotently."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pluggy
import pytest

from fapiao import hookspecs
from fapiao.engine.ledger import RequestKey
from fapiao.errors import CallbackRejected
from fapiao.models import InvoiceState
from fapiao.testing.samples import service_invoice


class Recorder:
    def __init__(self) -> None:
        self.changes: list[tuple[str, Any, Any]] = []

    @hookspecs.hookimpl
    def fapiao_status_changed(self, seller_tax_id: str, order_id: str, old: Any, new: Any) -> None:
        self.changes.append((order_id, old, new))


def manager(recorder: Recorder) -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(recorder)
    return pm


async def test_duplicate_and_reordered_callbacks_apply_once(engine_env, callback_receiver) -> None:
    env = engine_env
    v = env.vendors["nuonuo"]
    profiles = {
        "nn": env.profile("nuonuo", callback_url=callback_receiver.url),
        "bw": env.profile("baiwang"),
    }
    recorder = Recorder()
    invoices = [service_invoice(v.seller(), amount=f"{200 + i}.00") for i in range(3)]
    assert v.sandbox.set_faults is not None
    v.sandbox.set_faults({"duplicate_callback_rate": 1.0})  # every callback delivered twice
    try:
        async with env.client(
            env.write_config(profiles=profiles), plugin_manager=manager(recorder)
        ) as client:
            for invoice in invoices:
                assert (await client.issue(invoice)).state is InvoiceState.ISSUING
            for invoice in invoices:
                needle = invoice.order_id.encode()
                await callback_receiver.wait_for(lambda r, n=needle: n in r.body)
            deadline = asyncio.get_running_loop().time() + 5
            while len(callback_receiver.snapshot()) < 2 * len(invoices):
                assert asyncio.get_running_loop().time() < deadline, "duplicates not delivered"
                await asyncio.sleep(0.01)
            captured = callback_receiver.snapshot()
            # newest first: duplicates and out-of-order arrivals all verify (fresh signatures)
            for request in reversed(captured):
                result = await client.apply_callback(
                    "nn", request.headers, request.body, request.query
                )
                assert result.response_status == 200
            with pytest.raises(CallbackRejected):  # the same delivery again is a replay
                await client.apply_callback(
                    "nn", captured[0].headers, captured[0].body, captured[0].query
                )
            forged = captured[0].body.replace(b"%E5%BC%80", b"%E5%BC%81")  # one byte of c_msg
            assert forged != captured[0].body
            with pytest.raises(CallbackRejected, match="signature"):
                await client.apply_callback("nn", captured[0].headers, forged, captured[0].query)
            for invoice in invoices:
                key = RequestKey(v.seller_tax_id, invoice.order_id)
                record = await client.ledger.get(key)
                assert record is not None and record.state is InvoiceState.ISSUED
                assert record.invoice_number
                events = await client.ledger.events(key)
                assert [e.to_state for e in events].count(InvoiceState.ISSUED) == 1
                changes = [c for c in recorder.changes if c[0] == invoice.order_id]
                assert changes == [
                    (invoice.order_id, None, InvoiceState.SUBMITTED),
                    (invoice.order_id, InvoiceState.SUBMITTED, InvoiceState.ISSUING),
                    (invoice.order_id, InvoiceState.ISSUING, InvoiceState.ISSUED),
                ]
            # a late poll answer ("issuing" from before) never moves a record back
            stale = (
                await client.query(v.seller_tax_id, invoices[0].order_id, refresh=False)
            ).model_copy(update={"state": InvoiceState.ISSUING})
            record = await client.record(v.seller_tax_id, invoices[0].order_id)
            after = await client.kernel.apply(record, stale, "poll")
            assert after.state is InvoiceState.ISSUED
    finally:
        v.sandbox.set_faults({})


def _signed_nuonuo_callback(vendor, content: object) -> tuple[dict, bytes, dict]:
    """A callback signed with the sandbox merchant's real key, as Nuonuo signs them."""
    from urllib.parse import urlencode

    from fapiao_provider_a.protocol import CALLBACK_PATH
    from fapiao_provider_a.signing import signed_query

    settings = vendor.sandbox.settings
    raw = content if isinstance(content, str) else json.dumps(content)
    body = urlencode({"operater": "callback", "content": raw})
    query, signature = signed_query(
        settings["app_secret"], settings["app_key"], body, path=CALLBACK_PATH
    )
    return {"X-Nuonuo-Sign": signature}, body.encode(), query


@pytest.mark.parametrize(
    "content",
    [
        ["not", "an", "object"],
        '"a string"',
        {"c_status": "1", "c_orderno": "{order}", "c_bhsje": "abc"},
        {"c_status": "1", "c_orderno": "{order}", "c_bhsje": "NaN", "c_hjse": "1"},
        {"c_status": "1", "c_orderno": "{order}", "c_bhsje": "1e999999999", "c_hjse": "1"},
        {"c_status": "1", "c_orderno": "{order}", "c_kprq": "abc"},
        {"c_status": "1", "c_orderno": "{order}", "c_kprq": 10**30},
        "[" * 100_000 + "]" * 100_000,
        {"c_status": "1", "c_fphm": "26310000000000000001"},
    ],
    ids=["list", "string", "abc", "nan", "overflow", "date-abc", "date-huge", "deep", "no-order"],
)
async def test_signed_but_malformed_callbacks_are_refused_and_change_nothing(
    engine_env, content: object
) -> None:
    """Each of these once gave an unhandled 500 (the plugin crashed reading it)."""
    env = engine_env
    vendor = env.vendors["nuonuo"]
    invoice = service_invoice(vendor.seller(), amount="100.00")
    async with env.client() as client:
        assert (await client.issue(invoice)).state is InvoiceState.ISSUING
        before = await client.record(vendor.seller_tax_id, invoice.order_id)
        if isinstance(content, dict):
            content = {k: (invoice.order_id if v == "{order}" else v) for k, v in content.items()}
        headers, body, query = _signed_nuonuo_callback(vendor, content)
        with pytest.raises(CallbackRejected) as refusal:
            await client.apply_callback("nn", headers, body, query)
        assert refusal.value.message_zh and refusal.value.message_en
        after = await client.record(vendor.seller_tax_id, invoice.order_id)
        assert (after.state, after.invoice_number, after.version) == (
            before.state,
            before.invoice_number,
            before.version,
        )


async def test_a_callback_to_a_polling_only_profile_is_refused_not_unavailable(
    engine_env,
) -> None:
    """Before: UnsupportedOperation, which the gateway answered 503 (the sender retries
    forever); a refusal tells it to stop."""
    async with engine_env.client() as client:
        with pytest.raises(CallbackRejected) as refusal:
            await client.apply_callback("bw", {}, b"anything", {})
        assert "polling" in refusal.value.message_en and refusal.value.message_zh


async def test_a_replayed_callback_is_refused_by_another_process_and_after_a_restart(
    engine_env,
) -> None:
    """Replay protection used to live in each plugin instance's memory: a callback refused
    as a replay before a restart of ``fapiao serve`` (or by one worker) passed after it (or
    at another worker). The ledger keeps the ids now."""
    env = engine_env
    vendor = env.vendors["nuonuo"]
    invoice = service_invoice(vendor.seller(), amount="100.00")
    async with env.client() as first:
        assert (await first.issue(invoice)).state is InvoiceState.ISSUING
        content = {"c_status": "0", "c_orderno": invoice.order_id}  # still issuing
        headers, body, query = _signed_nuonuo_callback(vendor, content)
        await first.apply_callback("nn", headers, body, query)
    async with env.client() as restarted:  # a new process: new plugin instances
        with pytest.raises(CallbackRejected) as refusal:
            await restarted.apply_callback("nn", headers, body, query)
        assert "replay" in refusal.value.message_en and "重放" in refusal.value.message_zh
        fresh = _signed_nuonuo_callback(vendor, content)  # a new delivery: a new senid
        await restarted.apply_callback("nn", *fresh)

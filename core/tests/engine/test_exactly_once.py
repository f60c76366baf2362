"""Exactly-once issuance against the real sandboxes, on SQLite and PostgreSQL ledgers."""

from __future__ import annotations

import asyncio

import pytest

from fapiao.engine.ledger import RequestKey
from fapiao.errors import OutcomeUnknown
from fapiao.models import InvoiceState
from fapiao.testing.samples import service_invoice

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


COMBINATIONS = pytest.mark.parametrize(
    ("ledger_url", "vendor"),
    [
        ("sqlite", "nuonuo"),
        ("sqlite", "baiwang"),
        pytest.param("postgres", "nuonuo", marks=pytest.mark.postgres),
    ],
    indirect=["ledger_url"],
)


@COMBINATIONS
async def test_same_request_twice_one_provider_call(engine_env_any_ledger, vendor: str) -> None:
    env = engine_env_any_ledger
    v = env.vendors[vendor]
    invoice = service_invoice(v.seller())
    async with env.client() as client:
        first = await client.issue(invoice)
        second = await client.issue(invoice)
        # concurrent duplicates too: still one call
        third, fourth = await asyncio.gather(client.issue(invoice), client.issue(invoice))
        assert first.state in {InvoiceState.ISSUED, InvoiceState.ISSUING}
        assert {second.state, third.state, fourth.state} <= {
            InvoiceState.ISSUED,
            InvoiceState.ISSUING,
        }
        assert v.issues(invoice.order_id) == 1
        record = await client.record(v.seller_tax_id, invoice.order_id)
        assert record.provider == vendor and record.provider_profile in {"nn", "bw"}
        events = await client.ledger.events(RequestKey(v.seller_tax_id, invoice.order_id))
        assert events[0].from_state is None and events[0].to_state is InvoiceState.SUBMITTED


@COMBINATIONS
async def test_timeout_after_commit_is_settled_by_query(engine_env_any_ledger, vendor: str) -> None:
    env = engine_env_any_ledger
    v = env.vendors[vendor]
    invoice = service_invoice(v.seller())
    profiles = {
        "nn": env.profile("nuonuo", timeout_seconds=1.0),
        "bw": env.profile("baiwang", timeout_seconds=1.0),
    }
    v.proxy.fault_next(v.issue_op, "timeout=2.5", order_id=invoice.order_id)
    async with env.client(env.write_config(profiles=profiles)) as client:
        status = await client.issue(invoice)  # timed out, then found by the query
        assert status.state in {InvoiceState.ISSUED, InvoiceState.ISSUING}
        events = await client.ledger.events(RequestKey(v.seller_tax_id, invoice.order_id))
        assert [e.to_state for e in events][:2] == [InvoiceState.SUBMITTED, status.state]
        again = await client.issue(invoice)
        report = await client.reconcile()
        assert again.state in {InvoiceState.ISSUED, InvoiceState.ISSUING}
        assert report.resubmitted == []
    assert v.issues(invoice.order_id) == 1


async def test_reset_before_commit_waits_for_visibility_then_resends(engine_env) -> None:
    env = engine_env
    v = env.vendors["nuonuo"]
    invoice = service_invoice(v.seller())
    profiles = {
        "nn": env.profile("nuonuo", timeout_seconds=1.0, limits={"resubmit_after_seconds": 0.5}),
        "bw": env.profile("baiwang"),
    }
    v.proxy.fault_next(v.issue_op, "reset", order_id=invoice.order_id)  # dropped before the sandbox
    async with env.client(env.write_config(profiles=profiles)) as client:
        with pytest.raises(OutcomeUnknown):
            await client.issue(invoice)
        record = await client.record(v.seller_tax_id, invoice.order_id)
        assert record.state is InvoiceState.SUBMITTED
        with pytest.raises(OutcomeUnknown):  # asking again queries; it never resends
            await client.issue(invoice)
        early = await client.reconcile()
        assert early.resubmitted == []  # too soon: it might still appear
        assert v.issues(invoice.order_id) == 1
        await asyncio.sleep(1.6)  # timeout + visibility delay
        late = await client.reconcile()
        assert late.resubmitted == [invoice.order_id]
        events = await client.ledger.events(RequestKey(v.seller_tax_id, invoice.order_id))
        assert any((e.detail or {}).get("resubmit") for e in events)
        final = await client.query(v.seller_tax_id, invoice.order_id)
        assert final.state in {InvoiceState.ISSUED, InvoiceState.ISSUING}
    assert v.issues(invoice.order_id) == 2  # the dropped one and the resend


@pytest.mark.parametrize("vendor", ["nuonuo", "baiwang"])
async def test_duplicate_order_answer_is_adopted(engine_env, vendor: str) -> None:
    """The provider already has the order (sent by another system, or a lost ledger): its
    DUPLICATE_ORDER answer makes the engine query and adopt the original invoice."""
    env = engine_env
    v = env.vendors[vendor]
    invoice = service_invoice(v.seller())
    async with env.client() as client:
        profile = client.router.profile_for(v.seller_tax_id)
        direct = client.providers.get(profile)
        first = await direct.issue(invoice)  # straight through the plugin, not recorded
        status = await client.issue(invoice)
        assert status.state in {InvoiceState.ISSUED, InvoiceState.ISSUING}
        if first.invoice_number and status.invoice_number:
            assert status.invoice_number == first.invoice_number
        record = await client.record(v.seller_tax_id, invoice.order_id)
        assert record.state is not InvoiceState.FAILED and record.error_code is None
    assert v.issues(invoice.order_id) == 2  # the original, then the one answered "duplicate"


async def test_validation_hook_and_capabilities_refuse_before_anything_is_recorded(
    engine_env,
) -> None:
    import pluggy

    from fapiao import hookspecs
    from fapiao.errors import InvalidInvoice, UnsupportedOperation, ValidationIssue

    class HouseRules:
        @hookspecs.hookimpl
        def fapiao_validate_invoice(self, invoice):
            if invoice.remarks and "禁止" in invoice.remarks:
                return [ValidationIssue("HOUSE_RULE", "remarks", "备注含禁用词", "forbidden word")]
            if invoice.remarks == "boom":
                raise RuntimeError("validator crashed")
            return None

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(HouseRules())
    env = engine_env
    v = env.vendors["baiwang"]
    refused = service_invoice(v.seller()).model_copy(update={"remarks": "禁止开票"})
    long_id = service_invoice(v.seller(), order_id="X" * 60)  # Baiwang allows 50 characters
    async with env.client(plugin_manager=pm) as client:
        with pytest.raises(InvalidInvoice) as caught:
            await client.issue(refused)
        assert [i.code for i in caught.value.issues] == ["HOUSE_RULE"]
        crashing = service_invoice(v.seller()).model_copy(update={"remarks": "boom"})
        with pytest.raises(InvalidInvoice) as broken:  # a broken validator never lets one through
            await client.issue(crashing)
        assert [i.code for i in broken.value.issues] == ["HOOK_FAILED"]
        with pytest.raises(UnsupportedOperation, match="50") as too_long:
            await client.issue(long_id)
        assert too_long.value.field == "order_id"
        issued = service_invoice(v.seller())
        await client.issue(issued)
        with pytest.raises(UnsupportedOperation):  # 数电票 are reversed, not voided, here
            await client.cancel(v.seller_tax_id, issued.order_id)
        for invoice in (refused, long_id, crashing):
            assert await client.ledger.get(RequestKey(v.seller_tax_id, invoice.order_id)) is None
            assert v.issues(invoice.order_id) == 0

"""Routing by seller tax ID, a subsidiary switched by one config line, a provider that is down."""

from __future__ import annotations

import asyncio
import difflib
from typing import Any

import pluggy
import pytest

from fapiao import hookspecs
from fapiao.engine.client import AsyncClient
from fapiao.engine.outcomes import BatchItem
from fapiao.errors import ConfigError, ProviderUnavailable
from fapiao.models import Invoice, InvoiceState
from fapiao.testing.samples import service_invoice


async def bill(client: AsyncClient, invoices: list[Invoice]) -> list[BatchItem]:
    """The business code: it never names a vendor."""
    return [item async for item in client.issue_many(invoices, concurrency=4)]


async def test_switching_a_subsidiary_to_another_vendor_is_one_line(engine_env) -> None:
    env = engine_env
    nn, bw = env.vendors["nuonuo"], env.vendors["baiwang"]
    subsidiary = nn.seller_tax_id  # also a seller at the Baiwang sandbox
    before = env.write_config(
        routing={subsidiary: "nn", bw.seller_tax_id: "bw"}, name="before.toml"
    )
    after = env.write_config(routing={subsidiary: "bw", bw.seller_tax_id: "bw"}, name="after.toml")
    changed = [
        line
        for line in difflib.unified_diff(
            before.read_text().splitlines(), after.read_text().splitlines(), lineterm="", n=0
        )
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed == [f'-{subsidiary} = "nn"', f'+{subsidiary} = "bw"']

    def invoices() -> list[Invoice]:
        return [service_invoice(nn.seller(), amount=f"{300 + i}.00") for i in range(3)]

    first, second = invoices(), invoices()
    async with env.client(before) as client:
        done_before = await bill(client, first)
    async with env.client(after) as client:
        done_after = await bill(client, second)
        for items, vendor in ((done_before, "nuonuo"), (done_after, "baiwang")):
            assert all(item.ok for item in items), [i.error for i in items]
            for item in items:
                record = await client.record(subsidiary, item.order_id)
                assert record.provider == vendor
        # requests sent before the switch still settle through the profile that sent them
        for invoice in first:
            status = await client.query(subsidiary, invoice.order_id)
            assert status.provider == "nuonuo" and status.state in {
                InvoiceState.ISSUED,
                InvoiceState.ISSUING,
            }
        totals_before = sorted(
            [(await client.record(subsidiary, i.order_id)).total_with_tax for i in first]
        )
        totals_after = sorted(
            [(await client.record(subsidiary, i.order_id)).total_with_tax for i in second]
        )
        assert totals_before == totals_after
    for invoice in first:
        assert nn.issues(invoice.order_id) == 1 and bw.issues(invoice.order_id) == 0
    for invoice in second:
        assert bw.issues(invoice.order_id) == 1 and nn.issues(invoice.order_id) == 0


class Alerts:
    def __init__(self) -> None:
        self.fired: list[dict[str, Any]] = []

    @hookspecs.hookimpl
    def fapiao_success_rate_alert(
        self, provider: str, success_rate: float, threshold: float, window_seconds: float
    ) -> None:
        self.fired.append({"provider": provider, "rate": success_rate, "threshold": threshold})


async def test_provider_down_leaves_submitted_alerts_and_reconcile_settles(engine_env) -> None:
    env = engine_env
    v = env.vendors["baiwang"]
    alerts = Alerts()
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(alerts)
    down = env.write_config(
        profiles={
            "nn": env.profile("nuonuo"),
            "bw": env.profile("baiwang", base_url="http://127.0.0.1:9"),  # nothing listens
        },
        engine={"unavailable_retries": 0},
        monitoring={"min_calls": 3},
        name="down.toml",
    )
    invoices = [service_invoice(v.seller(), amount=f"{400 + i}.00") for i in range(3)]
    async with env.client(down, plugin_manager=pm) as client:
        for invoice in invoices:
            with pytest.raises(ProviderUnavailable):
                await client.issue(invoice)
            record = await client.record(v.seller_tax_id, invoice.order_id)
            assert record.state is InvoiceState.SUBMITTED
            assert record.error_code == "PROVIDER_UNAVAILABLE"
        assert [a["provider"] for a in alerts.fired] == ["bw"]  # once, not once per failure
        assert alerts.fired[0]["rate"] == 0.0 and alerts.fired[0]["threshold"] == 0.999
        assert client.monitor.success_rate("bw") == 0.0
    await asyncio.sleep(1.55)  # past timeout + visibility delay below: never accepted
    async with env.client(back_config(env)) as client:
        report = await client.reconcile()
        assert sorted(report.resubmitted) == sorted(i.order_id for i in invoices)
        await settle(client, v.seller_tax_id, invoices)
        for invoice in invoices:
            record = await client.record(v.seller_tax_id, invoice.order_id)
            assert record.state is InvoiceState.ISSUED and record.attempts == 1
    for invoice in invoices:
        assert v.issues(invoice.order_id) == 1  # the refused connections never reached it


async def settle(client: AsyncClient, seller: str, invoices: list[Invoice]) -> None:
    """On a loaded machine a resend may itself time out: reconcile again (it queries first
    and never resends before the delay) until everything is settled."""
    for _ in range(40):
        records = [await client.record(seller, i.order_id) for i in invoices]
        if all(r.state is not InvoiceState.SUBMITTED for r in records):
            return
        await asyncio.sleep(0.1)
        await client.reconcile()


def back_config(env) -> Any:
    return env.write_config(
        profiles={
            "nn": env.profile("nuonuo"),
            "bw": env.profile(
                "baiwang", timeout_seconds=0.5, limits={"resubmit_after_seconds": 1.0}
            ),
        },
        name="back.toml",
    )


async def test_reconcile_queries_in_the_declared_batch_size(engine_env) -> None:
    env = engine_env
    v = env.vendors["baiwang"]
    # 21 orders, more than Baiwang's declared max_query_batch (20), each refused with a 5xx
    # before the sandbox handled it: unknown outcomes, settled by reconcile
    invoices = [service_invoice(v.seller(), amount=f"{600 + i}.00") for i in range(21)]
    for invoice in invoices:
        v.proxy.fault_next(v.issue_op, "5xx", order_id=invoice.order_id)
    config = back_config(env)
    async with env.client(config) as client:
        items = [item async for item in client.issue_many(invoices, concurrency=21)]
        assert {item.error.code for item in items if item.error} == {"OUTCOME_UNKNOWN"}
    await asyncio.sleep(1.55)
    async with env.client(config) as client:
        mark = len(v.proxy.calls)
        report = await client.reconcile()
        ids = [i.order_id.encode() for i in invoices]
        per_query = [
            sum(1 for i in ids if i in call.body)
            for call in v.proxy.calls[mark:]
            if "invoice.query" in call.operation
        ]
        assert max(per_query) == 20 and sum(1 for n in per_query if n > 1) == 1  # 20 + 1
        assert report.queried == 21
        assert sorted(report.resubmitted) == sorted(i.order_id for i in invoices)
        for invoice in invoices:
            assert (
                await client.record(v.seller_tax_id, invoice.order_id)
            ).state is InvoiceState.ISSUED
    for invoice in invoices:
        assert v.accepted(invoice.order_id) == 1


async def test_bad_config_stops_at_start_up(engine_env) -> None:
    env = engine_env
    unknown = env.write_config(
        profiles={"nn": {"provider": "nosuchvendor"}, "bw": env.profile("baiwang")}, name="u.toml"
    )
    with pytest.raises(ConfigError, match=r"profiles\.nn\.provider"):
        AsyncClient.from_config(unknown)
    missing = env.profile("baiwang")
    missing["settings"]["app_secret"] = "secret:not_there"
    with pytest.raises(ConfigError, match="not_there"):
        AsyncClient.from_config(
            env.write_config(profiles={"nn": env.profile("nuonuo"), "bw": missing}, name="m.toml")
        )

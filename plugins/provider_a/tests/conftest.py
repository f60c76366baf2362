"""Fixtures: one sandbox per test module (real uvicorn on loopback), providers wired to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from fapiao.models import Invoice, InvoiceKind, InvoiceLine, Party
from fapiao.sandboxkit import RunningServer, serve
from fapiao.testing import CallbackReceiver, ConformanceHarness, new_order_id
from fapiao.testing.samples import SERVICE_CODE, code_for, service_invoice
from fapiao_provider_a import NuonuoProvider, NuonuoSettings
from fapiao_provider_a.client import TokenCache
from fapiao_provider_a.sandbox import (
    DEMO_APP_KEY,
    DEMO_APP_SECRET,
    DEMO_MERCHANT,
    DEMO_TAX_ID,
    SandboxConfig,
    create_app,
)

SELLER = Party(
    name=DEMO_MERCHANT.name,
    tax_id=DEMO_TAX_ID,
    address=DEMO_MERCHANT.address,
    phone=DEMO_MERCHANT.phone,
    bank=DEMO_MERCHANT.bank,
    account=DEMO_MERCHANT.account,
)


@pytest.fixture(scope="module")
def sandbox_app() -> Any:
    return create_app(SandboxConfig(issue_delay_seconds=0.02, callback_backoff_seconds=0.01))


@pytest.fixture(scope="module")
def sandbox(sandbox_app: Any) -> Iterator[RunningServer]:
    with serve(sandbox_app) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_tokens() -> None:
    TokenCache.clear()


def make_settings(base_url: str, **overrides: Any) -> NuonuoSettings:
    values: dict[str, Any] = {
        "app_key": DEMO_APP_KEY,
        "app_secret": DEMO_APP_SECRET,
        "user_tax": DEMO_TAX_ID,
        "base_url": base_url,
        "timeout_seconds": 5.0,
    }
    values.update(overrides)
    return NuonuoSettings(**values)


@pytest.fixture
def provider_factory(sandbox: RunningServer) -> Callable[..., NuonuoProvider]:
    def factory(**overrides: Any) -> NuonuoProvider:
        overrides.setdefault("base_url", sandbox.base_url)
        return NuonuoProvider(make_settings(**overrides))

    return factory


@pytest.fixture
def conformance_harness(
    sandbox_app: Any,
    provider_factory: Callable[..., NuonuoProvider],
    callback_receiver: CallbackReceiver,
) -> ConformanceHarness:
    state = sandbox_app.state_ref

    def factory(**overrides: Any) -> NuonuoProvider:
        overrides.setdefault("callback_url", callback_receiver.url)
        return provider_factory(**overrides)

    async def wrong_secret(_: Any) -> Any:
        bad = provider_factory(app_secret="not-the-secret-at-all")
        try:
            return await bad.query(DEMO_TAX_ID, [new_order_id()])
        finally:
            await bad.aclose()

    async def duplicate(provider: Any) -> Any:
        invoice = service_invoice(SELLER)
        await provider.issue(invoice)
        return await provider.issue(invoice)

    bad_buyer = service_invoice(SELLER).model_copy(
        update={"buyer": Party(name="税号错误公司", tax_id="91310000MA1FL8XQ38")}
    )
    zero = Invoice(
        order_id=new_order_id(),
        kind=InvoiceKind.NORMAL,
        seller=SELLER,
        buyer=Party(name="王小明", natural_person=True),
        lines=(
            InvoiceLine(
                name="软件开发服务",
                tax_code=code_for("0.06", SERVICE_CODE)[0],
                amount=Decimal("0"),
                tax_rate=code_for("0.06", SERVICE_CODE)[1],
            ),
        ),
    )
    too_big = service_invoice(SELLER, amount="99999999.00")
    return ConformanceHarness(
        provider_factory=factory,
        seller=SELLER,
        bad_inputs={
            "INVALID_TAX_ID": bad_buyer,
            "ZERO_AMOUNT": zero,
            "QUOTA_EXCEEDED": too_big,
            "DUPLICATE_ORDER": duplicate,
            "AUTH_FAILED": wrong_secret,
        },
        secrets=[DEMO_APP_SECRET],
        callbacks=callback_receiver,
        advance_clock=lambda delta: state.clock.advance(delta),
        mark_used=state.mark_used,
        extra={"state": state},
    )

"""Fixtures: Baiwang sandboxes on loopback (real servers) and providers wired to them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from fapiao.models import Invoice, Party, RedLine, RedReason, RedReversalRequest
from fapiao.sandboxkit import RunningServer, serve
from fapiao.testing import ConformanceHarness
from fapiao.testing.samples import DEFAULT_BUYER, new_order_id, service_invoice
from fapiao_provider_b import BaiwangProvider, BaiwangSettings
from fapiao_provider_b.sandbox import (
    DEMO_APP,
    DEMO_SELLER,
    BaiwangSandbox,
    SandboxConfig,
    create_app,
    demo_settings,
)

SELLER = Party(
    name=DEMO_SELLER.name,
    tax_id=DEMO_SELLER.tax_no,
    address=DEMO_SELLER.address,
    phone=DEMO_SELLER.phone,
    bank=DEMO_SELLER.bank,
    account=DEMO_SELLER.account,
)
UNREGISTERED_BUYER = "91440300MA5FBW001R"  # well-formed, unknown to the sandbox's tax system


class Sandbox:
    """A running sandbox: the app (state, faults, steering) and its server."""

    def __init__(self, app: BaiwangSandbox, server: RunningServer) -> None:
        self.app = app
        self.server = server
        self.url = server.base_url

    def settings(self, **overrides: Any) -> BaiwangSettings:
        values = demo_settings(self.url, ca_file=self.server.ca_file)
        values.update(overrides)
        return BaiwangSettings(**values)

    def provider(self, **overrides: Any) -> BaiwangProvider:
        return BaiwangProvider(self.settings(**overrides))

    def counter(self, name: str) -> int:
        return self.app.state.counters.get(name, 0)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """One sandbox for the session's tests that do not steer time or faults."""
    app = create_app(SandboxConfig())
    with serve(app) as server:
        yield Sandbox(app, server)


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """Private sandboxes (own clock, faults, limits), stopped after the test."""
    running: list[RunningServer] = []

    def start(tls: bool = False, **config: Any) -> Sandbox:
        app = create_app(SandboxConfig(**config))
        server = serve(app, tls=tls)
        running.append(server)
        return Sandbox(app, server)

    yield start
    for server in running:
        server.stop()


@pytest.fixture
async def provider(sandbox: Sandbox) -> AsyncIterator[BaiwangProvider]:
    async with sandbox.provider() as p:
        yield p  # type: ignore[misc]


def invoice(**changes: Any) -> Invoice:
    """A fresh 6 % 专票 of the sandbox seller to the default buyer."""
    return service_invoice(SELLER).model_copy(update={"order_id": new_order_id(), **changes})


# --- the conformance harness ------------------------------------------------------------------


async def _duplicate(provider: Any) -> None:
    first = invoice()
    await provider.issue(first)
    await provider.issue(first)


def _bad_inputs(sandbox: Sandbox) -> dict[str, Any]:
    async def wrong_secret(_provider: Any) -> None:
        async with sandbox.provider(app_secret="not-the-secret") as wrong:
            await wrong.quota(SELLER.tax_id or "")

    async def red_partial_for_invoicing_error(provider: Any) -> None:
        blue = invoice()
        issued = await provider.issue(blue)
        await provider.red_apply(
            RedReversalRequest(
                order_id=new_order_id("RED"),
                seller_tax_id=SELLER.tax_id or "",
                original_invoice_number=issued.invoice_number or "",
                reason=RedReason.INVOICING_ERROR,
                lines=(RedLine(original_line=0, amount=Decimal("1.00")),),
            )
        )

    async def unknown_invoice_documents(provider: Any) -> None:
        from fapiao.models import DocumentFormat, InvoiceState, InvoiceStatus

        status = InvoiceStatus(
            provider="baiwang",
            seller_tax_id=SELLER.tax_id or "",
            order_id="NOPE",
            state=InvoiceState.ISSUED,
            invoice_number="26110000000000000001",
        )
        await provider.fetch_document(status, DocumentFormat.PDF)

    async def sms_delivery(provider: Any) -> None:
        from fapiao.models import Delivery, DeliveryChannel

        await provider.deliver(
            Delivery(
                seller_tax_id=SELLER.tax_id or "",
                invoice_number="26110000000000000001",
                channel=DeliveryChannel.SMS,
                address="13812345678",
            )
        )

    zero = invoice()
    zero = zero.model_copy(
        update={
            "lines": (
                zero.lines[0].model_copy(
                    update={"amount": Decimal("0"), "unit_price": Decimal("0")}
                ),
            )
        }
    )
    return {
        "INVALID_INVOICE": zero,
        "INVALID_TAX_ID": invoice(
            buyer=DEFAULT_BUYER.model_copy(update={"tax_id": UNREGISTERED_BUYER})
        ),
        "QUOTA_EXCEEDED": invoice(
            lines=(
                invoice()
                .lines[0]
                .model_copy(
                    update={
                        "amount": Decimal("20000000.00"),
                        "unit_price": Decimal("20000000.00"),
                    }
                ),
            )
        ),
        "DUPLICATE_ORDER": _duplicate,
        "AUTH_FAILED": wrong_secret,
        "RED_NOT_ALLOWED": red_partial_for_invoicing_error,
        "NOT_FOUND": unknown_invoice_documents,
        "UNSUPPORTED": sms_delivery,
    }


@pytest.fixture(scope="session")
def conformance_sandbox() -> Iterator[Sandbox]:
    """The conformance suite moves the sandbox clock (72 h rule): it gets its own sandbox."""
    app = create_app(SandboxConfig())
    with serve(app) as server:
        yield Sandbox(app, server)


@pytest.fixture
def conformance_harness(conformance_sandbox: Sandbox) -> ConformanceHarness:
    own = conformance_sandbox
    return ConformanceHarness(
        provider_factory=lambda **overrides: own.provider(**overrides),
        seller=SELLER,
        bad_inputs=_bad_inputs(own),
        secrets=[DEMO_APP.app_secret, DEMO_APP.password, DEMO_APP.user_salt or ""],
        advance_clock=own.app.advance_clock,
        mark_used=own.app.mark_used,
        extra={"sandbox": own},
    )

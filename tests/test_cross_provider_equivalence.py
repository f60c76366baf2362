"""The same canonical invoices through two different vendors give the same canonical results.

Nuonuo (provider_a: asynchronous issuance, callbacks, documents by URL) and Baiwang
(provider_b: synchronous issuance, polling only, documents inline) differ on the wire in
almost everything; business code must not see it. Both plugins and their sandboxes are found
through entry points only (``fapiao.providers`` and ``fapiao.sandboxes``), as an installed
application finds them, and both run here against their own real loopback sandbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack
from decimal import Decimal
from typing import Any

import pytest

from fapiao.contract.sandbox import RunningSandbox, SandboxOptions
from fapiao.errors import DuplicateOrder, FapiaoError, InvalidInvoice
from fapiao.models import (
    DocumentFormat,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceState,
    InvoiceStatus,
    LineKind,
    Party,
    RedLine,
    RedReason,
    RedReversalRequest,
    TaxTreatment,
)
from fapiao.plugins import discover, sandbox_starters
from fapiao.rules import compute_totals
from fapiao.testing.conformance import settle
from fapiao.testing.samples import (
    DEFAULT_BUYER,
    GOODS_CODE,
    SERVICE_CODE,
    code_for,
    new_order_id,
    sample_invoices,
)

PROVIDERS = ("nuonuo", "baiwang")

Provider = Any  # each plugin's own class, found by entry point


@pytest.fixture(scope="module")
def sandboxes() -> Iterator[dict[str, RunningSandbox]]:
    """Both vendors' sandboxes, the second registering the first one's seller, so the very
    same invoices (same seller tax ID) go to both."""
    starters, broken = sandbox_starters()
    missing = [name for name in PROVIDERS if name not in starters]
    if missing:
        pytest.skip(f"sandbox not installed: {missing} (broken: {[b.name for b in broken]})")
    with ExitStack() as stack:
        first = stack.enter_context(starters[PROVIDERS[0]](SandboxOptions()))
        seller = first.seller_tax_ids[0]
        second = stack.enter_context(
            starters[PROVIDERS[1]](SandboxOptions(seller_tax_ids=(seller,)))
        )
        assert seller in second.seller_tax_ids
        yield {PROVIDERS[0]: first, PROVIDERS[1]: second}


@pytest.fixture(scope="module")
def seller(sandboxes: dict[str, RunningSandbox]) -> Party:
    return Party(
        name="跨服务商一致性测试有限公司", tax_id=sandboxes[PROVIDERS[0]].seller_tax_ids[0]
    )


def _build(name: str, running: RunningSandbox, **overrides: Any) -> Provider:
    klass = discover().provider_class(name)
    return klass(klass.settings_model(**{**dict(running.settings), **overrides}))


@pytest.fixture
async def providers(sandboxes: dict[str, RunningSandbox]) -> AsyncIterator[dict[str, Provider]]:
    built = {name: _build(name, sandboxes[name]) for name in PROVIDERS}
    try:
        yield built
    finally:
        for provider in built.values():
            await provider.aclose()


def _invoices(seller: Party) -> list[Invoice]:
    """The kit's samples (专票 two rates, 含税 natural person, discount line) and more:
    several rates with awkward cents, and a 免税 line."""
    service, service_rate = code_for("0.06", SERVICE_CODE)
    goods, goods_rate = code_for("0.13", GOODS_CODE)
    mixed = Invoice(
        order_id=new_order_id("X"),
        kind=InvoiceKind.NORMAL,
        seller=seller,
        buyer=DEFAULT_BUYER,
        lines=(
            InvoiceLine(
                name="配件",
                tax_code=goods,
                unit="个",
                quantity=Decimal("7"),
                unit_price=Decimal("14.285714"),
                amount=Decimal("100.00"),
                tax_rate=goods_rate,
            ),
            InvoiceLine(
                name="维护服务",
                tax_code=service,
                amount=Decimal("0.05"),
                tax_rate=service_rate,
            ),
            InvoiceLine(
                name="维护服务",
                tax_code=service,
                amount=Decimal("1234567.89"),
                tax_rate=service_rate,
            ),
            InvoiceLine(
                name="维护服务",
                tax_code=service,
                amount=Decimal("-0.05"),
                tax_rate=service_rate,
                kind=LineKind.DISCOUNT,
            ),
        ),
        remarks="跨服务商",
    )
    inclusive = mixed.model_copy(update={"order_id": new_order_id("X"), "prices_include_tax": True})
    return [*sample_invoices(seller), mixed, inclusive]


def _fresh(invoice: Invoice) -> Invoice:
    return invoice.model_copy(update={"order_id": new_order_id("X")})


async def _issued(provider: Provider, invoice: Invoice) -> InvoiceStatus:
    result = await provider.issue(invoice)
    if result.state is InvoiceState.ISSUING:
        result = await settle(provider, invoice.seller.tax_id or "", invoice.order_id)
    return result


async def test_same_invoices_same_totals(providers: dict[str, Provider], seller: Party) -> None:
    for invoice in _invoices(seller):
        expected = compute_totals(invoice)
        seen: dict[str, tuple[Any, ...]] = {}
        for name, provider in providers.items():
            status = await _issued(provider, invoice)
            assert status.state is InvoiceState.ISSUED, (name, status)
            assert status.order_id == invoice.order_id
            assert status.invoice_number and len(status.invoice_number) == 20
            (queried,) = await provider.query(seller.tax_id, [invoice.order_id])
            assert queried.invoice_number == status.invoice_number
            seen[name] = tuple(
                getattr(s, field)
                for s in (status, queried)
                for field in ("total_amount", "total_tax", "total_with_tax")
            )
        reference = (expected.total_amount, expected.total_tax, expected.total_with_tax) * 2
        for name, totals in seen.items():
            # a vendor may leave totals out of a status, never get them wrong
            for got, want in zip(totals, reference, strict=True):
                assert got is None or got == want, (name, invoice.order_id, totals)
        present = [t for t in seen.values() if None not in t]
        assert present, "at least one vendor reports totals"


async def test_same_documents_content(providers: dict[str, Provider], seller: Party) -> None:
    """Each vendor's XML of the same invoice carries the same amounts."""
    import xml.etree.ElementTree as ET

    invoice = _invoices(seller)[0]
    amounts: dict[str, list[str]] = {}
    for name, provider in providers.items():
        status = await _issued(provider, _fresh(invoice))
        document = await provider.fetch_document(status, DocumentFormat.XML)
        root = ET.fromstring(document.content or b"")
        amounts[name] = sorted(
            (el.text or "").strip()
            for el in root.iter()
            if el.tag.split("}")[-1]
            in {"TotalAmWithoutTax", "TotalTaxAm", "TotalTax-includedAmount"}
        )
    assert amounts[PROVIDERS[0]] == amounts[PROVIDERS[1]]
    assert amounts[PROVIDERS[0]], "the XML carries the totals"


def _bad_invoices(seller: Party) -> dict[str, Invoice]:
    base = sample_invoices(seller)[0]
    line = base.lines[0]
    return {
        "ZERO_AMOUNT": base.model_copy(
            update={
                "lines": (
                    line.model_copy(update={"amount": Decimal("0"), "unit_price": Decimal("0")}),
                )
            }
        ),
        "INVALID_TAX_ID": base.model_copy(
            update={"buyer": DEFAULT_BUYER.model_copy(update={"tax_id": "91310000MA1FL8XQ38"})}
        ),
        "SPECIAL_NEEDS_ENTITY_BUYER": base.model_copy(
            update={"buyer": Party(name="王小明", natural_person=True)}
        ),
        "TAX_OUT_OF_TOLERANCE": base.model_copy(
            update={"lines": (line.model_copy(update={"tax": line.amount}),)}
        ),
        "RATE_NOT_ALLOWED": base.model_copy(
            update={"lines": (line.model_copy(update={"tax_rate": Decimal("0.07")}),)}
        ),
        "TREATMENT": base.model_copy(
            update={
                "lines": (
                    line.model_copy(
                        update={"treatment": TaxTreatment.EXEMPT, "tax_rate": Decimal("0.06")}
                    ),
                )
            }
        ),
    }


async def _outcome(call: Callable[[], Awaitable[Any]], provider: Provider) -> tuple[str, ...]:
    """The canonical error code (and, for an invalid invoice, its issue codes)."""
    try:
        result = await call()
    except InvalidInvoice as exc:
        return (exc.code, *sorted({i.code for i in exc.issues if not i.warning}))
    except FapiaoError as exc:
        bilingual = bool(exc.message_zh and exc.message_en)
        return (exc.code,) if bilingual else (exc.code, "not bilingual")
    if isinstance(result, InvoiceStatus) and result.state is InvoiceState.ISSUING:
        result = await settle(provider, result.seller_tax_id, result.order_id)
    if isinstance(result, InvoiceStatus) and result.error is not None:
        return (result.error.code,)
    return ("no error",)


async def test_same_bad_invoices_same_canonical_errors(
    providers: dict[str, Provider], seller: Party
) -> None:
    for label, bad in _bad_invoices(seller).items():
        outcomes = {
            name: await _outcome(lambda p=provider, b=bad: p.issue(_fresh(b)), provider)
            for name, provider in providers.items()
        }
        assert outcomes[PROVIDERS[0]] == outcomes[PROVIDERS[1]], (label, outcomes)
        assert outcomes[PROVIDERS[0]][0] == "INVALID_INVOICE", (label, outcomes)


async def test_same_refusals_from_the_platforms(
    providers: dict[str, Provider], sandboxes: dict[str, RunningSandbox], seller: Party
) -> None:
    """Errors only the vendor's platform can tell: over the credit line, wrong credentials,
    an operation 数电 does not have."""
    huge = sample_invoices(seller)[0]
    huge = huge.model_copy(
        update={
            "lines": (
                huge.lines[0].model_copy(
                    update={
                        "amount": Decimal("99999999.00"),
                        "unit_price": Decimal("99999999.00"),
                        "quantity": Decimal("1"),
                    }
                ),
            )
        }
    )
    for label, make_call, expected in (
        ("quota", lambda p: p.issue(_fresh(huge)), "QUOTA_EXCEEDED"),
        ("cancel", lambda p: p.cancel(seller.tax_id, "ANY"), "UNSUPPORTED"),
    ):
        outcomes = {
            name: await _outcome(lambda p=provider, call=make_call: call(p), provider)
            for name, provider in providers.items()
        }
        assert set(outcomes.values()) == {(expected,)}, (label, outcomes)
    for name in PROVIDERS:
        wrong = _build(name, sandboxes[name], app_secret="not-the-secret-at-all")
        try:
            assert await _outcome(lambda w=wrong: w.quota(seller.tax_id), wrong) == (
                "AUTH_FAILED",
            ), name
        finally:
            await wrong.aclose()


async def test_same_order_twice_never_two_invoices(
    providers: dict[str, Provider], seller: Party
) -> None:
    for name, provider in providers.items():
        invoice = _fresh(sample_invoices(seller)[2])
        first = await _issued(provider, invoice)
        try:
            again = await provider.issue(invoice)
            assert again.invoice_number in {None, first.invoice_number}, name
        except DuplicateOrder:
            pass
        statuses = await provider.query(seller.tax_id, [invoice.order_id, new_order_id("NONE")])
        assert [s.invoice_number for s in statuses] == [first.invoice_number], name


async def test_same_red_reversal_outcomes(providers: dict[str, Provider], seller: Party) -> None:
    blue = sample_invoices(seller)[0]
    results: dict[str, tuple[Any, ...]] = {}
    for name, provider in providers.items():
        invoice = _fresh(blue)
        status = await _issued(provider, invoice)

        def request(
            reason: RedReason,
            *lines: RedLine,
            invoice: Invoice = invoice,
            number: str = status.invoice_number or "",
        ) -> RedReversalRequest:
            return RedReversalRequest(
                order_id=new_order_id("RED"),
                seller_tax_id=seller.tax_id or "",
                buyer_tax_id=invoice.buyer.tax_id,
                original_invoice_number=number,
                original_order_id=invoice.order_id,
                reason=reason,
                lines=lines,
            )

        half = RedLine(original_line=0, amount=Decimal("1500.00"))
        form = await provider.red_apply(request(RedReason.SALES_RETURN, half))
        red = await provider.red_issue(form)
        if red.state is InvoiceState.ISSUING:
            red = await settle(provider, seller.tax_id or "", red.order_id)
        full_only = await _outcome(
            lambda p=provider: p.red_apply(
                request(RedReason.INVOICING_ERROR, RedLine(original_line=0, amount=Decimal("1")))
            ),
            provider,
        )
        too_much = await _outcome(
            lambda p=provider: p.red_apply(
                request(RedReason.SALES_RETURN, RedLine(original_line=0, amount=Decimal("3000.00")))
            ),
            provider,
        )
        (after,) = await provider.query(seller.tax_id, [invoice.order_id])
        # Whether a vendor's query of the *blue* invoice reflects a partial reversal is the
        # vendor's choice (Baiwang does, Nuonuo does not); the engine's ledger tracks it.
        assert after.state in {InvoiceState.ISSUED, InvoiceState.PARTIALLY_REVERSED}, name
        results[name] = (
            form.amount,
            form.tax,
            red.state,
            red.is_red,
            red.total_amount,
            red.original_invoice_number == status.invoice_number,
            full_only[0],
            too_much[0],
        )
    assert results[PROVIDERS[0]] == results[PROVIDERS[1]], results
    assert results[PROVIDERS[0]] == (
        Decimal("-1500.00"),
        Decimal("-90.00"),
        InvoiceState.ISSUED,
        True,
        Decimal("-1500.00"),
        True,
        "RED_NOT_ALLOWED",
        "RED_NOT_ALLOWED",
    ), results

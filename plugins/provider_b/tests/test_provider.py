"""The Baiwang provider against its sandbox: the flows that make this vendor different."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from fapiao.documents import verify_document
from fapiao.errors import (
    InvalidInvoice,
    InvalidRequest,
    RedReversalNotAllowed,
    UnsupportedOperation,
)
from fapiao.models import (
    Delivery,
    DeliveryChannel,
    DocumentFormat,
    InvoiceState,
    RedApplicant,
    RedConfirmationState,
    RedLine,
    RedReason,
    RedReversalRequest,
    SpecialBusiness,
)
from fapiao.rules import compute_totals
from fapiao.testing.samples import new_order_id, sample_invoices
from fapiao_provider_b import BaiwangProvider
from fapiao_provider_b.protocol import Method

from .conftest import SELLER, Sandbox, invoice

TAX = SELLER.tax_id or ""


async def test_issue_is_synchronous_one_call_and_query_agrees(
    sandbox: Sandbox, provider: BaiwangProvider
) -> None:
    for blue in sample_invoices(SELLER):
        before = sandbox.counter(f"call:{Method.ISSUE}")
        result = await provider.issue(blue)
        assert sandbox.counter(f"call:{Method.ISSUE}") == before + 1
        assert result.state is InvoiceState.ISSUED
        assert result.invoice_number and len(result.invoice_number) == 20
        assert result.issued_at is not None and result.issued_at.utcoffset() is not None
        totals = compute_totals(blue)
        assert (result.total_amount, result.total_tax, result.total_with_tax) == (
            totals.total_amount,
            totals.total_tax,
            totals.total_with_tax,
        )
        (found,) = await provider.query(TAX, [blue.order_id])
        assert (found.invoice_number, found.state) == (result.invoice_number, InvoiceState.ISSUED)
        assert found.raw_status == "00"


async def test_limits_are_checked_before_the_network(
    sandbox: Sandbox, provider: BaiwangProvider
) -> None:
    line = invoice().lines[0]
    calls = sandbox.counter(f"call:{Method.ISSUE}")
    # declared limits are refused by the shared base class, as the engine refuses them
    with pytest.raises(UnsupportedOperation) as too_many:
        await provider.issue(invoice(lines=(line,) * 201))
    assert too_many.value.field == "lines"
    assert "200" in too_many.value.message_en and "200" in too_many.value.message_zh
    with pytest.raises(UnsupportedOperation) as too_long:
        await provider.issue(invoice(order_id="X" * 51))
    assert too_long.value.field == "order_id"
    with pytest.raises(InvalidInvoice):  # the shared rules refuse a zero amount
        await provider.issue(
            invoice(
                lines=(line.model_copy(update={"amount": Decimal(0), "unit_price": Decimal(0)}),)
            )
        )
    assert sandbox.counter(f"call:{Method.ISSUE}") == calls


async def test_special_business_is_refused_unless_relaxed(sandbox: Sandbox) -> None:
    special = invoice(special_business=SpecialBusiness.CONSTRUCTION)
    async with sandbox.provider() as strict:
        with pytest.raises(UnsupportedOperation) as caught:
            await strict.issue(special)
        assert caught.value.field == "special_business"
    async with sandbox.provider(strict_features=False) as relaxed:
        assert (await relaxed.issue(special)).state is InvoiceState.ISSUED


async def test_provider_extra_reaches_the_platform(
    sandbox: Sandbox, provider: BaiwangProvider
) -> None:
    blue = invoice(provider_extra={"baiwang": {"remarks": "扩展字段备注"}, "nuonuo": {"x": 1}})
    await provider.issue(blue)
    record = sandbox.app.state.invoices[(TAX, blue.order_id)]
    assert record.invoice.remarks == "扩展字段备注"


async def test_documents_inline_on_issue_need_no_second_call(sandbox: Sandbox) -> None:
    async with sandbox.provider(documents_on_issue=frozenset({DocumentFormat.PDF})) as p:
        result = await p.issue(invoice())
        (pdf,) = result.documents
        assert pdf.format is DocumentFormat.PDF and pdf.content
        verify_document(DocumentFormat.PDF, pdf.content, invoice_number=result.invoice_number)
        calls = sandbox.counter(f"call:{Method.FORMAT_QUERY}")
        assert (await p.fetch_document(result, DocumentFormat.PDF)) is pdf
        assert sandbox.counter(f"call:{Method.FORMAT_QUERY}") == calls
        ofd = await p.fetch_document(result, DocumentFormat.OFD)
        assert sandbox.counter(f"call:{Method.FORMAT_QUERY}") == calls + 1
        again = await p.fetch_document(result, DocumentFormat.OFD)
        assert again.sha256 == ofd.sha256  # the platform keeps the file: same bytes each time


def _red(
    blue_number: str,
    reason: RedReason,
    applicant: RedApplicant = RedApplicant.SELLER,
    lines: tuple[RedLine, ...] = (),
) -> RedReversalRequest:
    return RedReversalRequest(
        order_id=new_order_id("RED"),
        seller_tax_id=TAX,
        original_invoice_number=blue_number,
        reason=reason,
        applicant=applicant,
        lines=lines,
    )


async def test_buyer_raised_form_is_confirmed_by_the_seller(
    sandbox: Sandbox, provider: BaiwangProvider
) -> None:
    blue = await provider.issue(invoice())
    sandbox.app.mark_used(blue.invoice_number or "")
    pending = await provider.red_apply(
        _red(blue.invoice_number or "", RedReason.SALES_RETURN, RedApplicant.BUYER)
    )
    assert pending.state is RedConfirmationState.PENDING and pending.raw_status == "03"
    assert pending.applicant is RedApplicant.BUYER
    confirmed = await provider.red_confirm(TAX, pending.confirmation_id, accept=True)
    assert (confirmed.state, confirmed.raw_status) == (RedConfirmationState.CONFIRMED, "04")
    red = await provider.red_issue(confirmed)
    assert red.is_red and red.total_amount == -blue.total_amount  # type: ignore[operator]
    (after,) = await provider.query(TAX, [blue.order_id])
    assert after.state is InvoiceState.REVERSED
    issued_form = await provider.red_query(TAX, pending.confirmation_id)
    assert issued_form.state is RedConfirmationState.RED_ISSUED


async def test_seller_raised_form_waits_for_the_buyer(
    sandbox: Sandbox, provider: BaiwangProvider
) -> None:
    blue = await provider.issue(invoice())
    sandbox.app.mark_used(blue.invoice_number or "")
    pending = await provider.red_apply(_red(blue.invoice_number or "", RedReason.INVOICING_ERROR))
    assert pending.raw_status == "02" and pending.requires_confirmation
    with pytest.raises(RedReversalNotAllowed) as caught:  # the seller cannot confirm its own form
        await provider.red_confirm(TAX, pending.confirmation_id)
    assert caught.value.raw_code == "70035"
    with pytest.raises(RedReversalNotAllowed):  # while one form is open, no second one
        await provider.red_apply(_red(blue.invoice_number or "", RedReason.INVOICING_ERROR))
    from fapiao_provider_b.sandbox.red_forms import counterparty_decides

    counterparty_decides(sandbox.app.state, pending.confirmation_id, accept=True)
    confirmed = await provider.red_query(TAX, pending.confirmation_id)
    assert confirmed.state is RedConfirmationState.CONFIRMED
    assert (await provider.red_issue(confirmed)).is_red


async def test_rejected_form_is_refused_without_a_call(
    sandbox: Sandbox, provider: BaiwangProvider
) -> None:
    blue = await provider.issue(invoice())
    sandbox.app.mark_used(blue.invoice_number or "")
    pending = await provider.red_apply(
        _red(blue.invoice_number or "", RedReason.SERVICE_SUSPENSION, RedApplicant.BUYER)
    )
    rejected = await provider.red_confirm(TAX, pending.confirmation_id, accept=False)
    assert (rejected.state, rejected.raw_status) == (RedConfirmationState.REJECTED, "06")
    calls = sandbox.counter(f"call:{Method.ISSUE}")
    with pytest.raises(RedReversalNotAllowed):
        await provider.red_issue(rejected)
    assert sandbox.counter(f"call:{Method.ISSUE}") == calls


async def test_two_partial_reversals_reverse_the_whole_invoice(
    sandbox: Sandbox, provider: BaiwangProvider
) -> None:
    blue_invoice = sample_invoices(SELLER)[0]  # two lines
    blue = await provider.issue(blue_invoice)
    number = blue.invoice_number or ""
    quota_before = await provider.quota(TAX)
    first = await provider.red_apply(
        _red(
            number,
            RedReason.SALES_RETURN,
            lines=(RedLine(original_line=0, amount=blue_invoice.lines[0].amount),),
        )
    )
    await provider.red_issue(first)
    (middle,) = await provider.query(TAX, [blue_invoice.order_id])
    assert middle.state is InvoiceState.PARTIALLY_REVERSED and middle.raw_status == "04"
    second = await provider.red_apply(
        _red(
            number,
            RedReason.SALES_ALLOWANCE,
            lines=(RedLine(original_line=1, amount=blue_invoice.lines[1].amount),),
        )
    )
    red = await provider.red_issue(second)
    assert red.original_invoice_number == number
    (after,) = await provider.query(TAX, [blue_invoice.order_id])
    assert after.state is InvoiceState.REVERSED
    quota_after = await provider.quota(TAX)
    assert (
        quota_after.remaining == quota_before.remaining + compute_totals(blue_invoice).total_amount
    )  # type: ignore[operator]


async def test_quota_follows_issuance(provider: BaiwangProvider) -> None:
    before = await provider.quota(TAX)
    blue = invoice()
    await provider.issue(blue)
    after = await provider.quota(TAX)
    spent = compute_totals(blue).total_amount
    assert after.remaining == before.remaining - spent  # type: ignore[operator]
    assert after.used == before.used + spent  # type: ignore[operator]
    assert after.total == before.total


async def test_delivery_by_email_only(sandbox: Sandbox, provider: BaiwangProvider) -> None:
    blue = await provider.issue(invoice())
    delivered = await provider.deliver(
        Delivery(
            seller_tax_id=TAX,
            invoice_number=blue.invoice_number or "",
            channel=DeliveryChannel.EMAIL,
            address="buyer@example.com",
        )
    )
    assert delivered.accepted and delivered.provider_ref
    assert sandbox.app.state.deliveries[-1]["email"] == "buyer@example.com"
    with pytest.raises(InvalidRequest):
        await provider.deliver(
            Delivery(
                seller_tax_id=TAX,
                invoice_number=blue.invoice_number or "",
                channel=DeliveryChannel.EMAIL,
                address="nobody",
            )
        )
    with pytest.raises(UnsupportedOperation):
        await provider.deliver(
            Delivery(
                seller_tax_id=TAX,
                invoice_number=blue.invoice_number or "",
                channel=DeliveryChannel.SMS,
                address="13812345678",
            )
        )


async def test_no_cancel_and_no_callbacks(provider: BaiwangProvider) -> None:
    with pytest.raises(UnsupportedOperation):
        await provider.cancel(TAX, "ANY")
    with pytest.raises(UnsupportedOperation):
        provider.verify_callback({}, b"{}", {})
    assert provider.capabilities.issuance == "sync"
    assert provider.capabilities.status_updates == "polling"
    assert provider.capabilities.documents_inline


async def test_scrub_removes_tokens_and_the_password_digest(provider: BaiwangProvider) -> None:
    from fapiao_provider_b.sandbox import DEMO_APP
    from fapiao_provider_b.signing import digest_password

    await provider.quota(TAX)  # obtains a token
    token = await provider.client.access_token()
    digest = digest_password(DEMO_APP.password, DEMO_APP.user_salt, "sha256")
    transcript = (
        f"POST /router/rest?method=x&token={token}&sign=ABCDEF0123456789ABCDEF0123456789\n"
        f'{{"password":"{digest}","client_secret":"{DEMO_APP.app_secret}","taxNo":"{TAX}"}}\n'
        f"raw {token} and {digest}"
    )
    scrubbed = provider.scrub(transcript)
    for secret in (token, digest, DEMO_APP.app_secret, "ABCDEF0123456789ABCDEF0123456789", TAX):
        assert secret not in scrubbed


async def test_https_sandbox_with_its_ca(make_sandbox: Callable[..., Sandbox]) -> None:
    secure = make_sandbox(tls=True)
    assert secure.url.startswith("https://")
    async with secure.provider() as p:
        assert (await p.issue(invoice())).state is InvoiceState.ISSUED

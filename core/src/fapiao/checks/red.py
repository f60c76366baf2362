"""Checks of red reversal (红冲): full and partial through a red confirmation form, a form
the other party must confirm, over-reversal refused, and a pending form lapsing after 72 h."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from fapiao.checks.check import (
    SELFTEST_ONLY,
    SUITE_ONLY,
    CheckFailed,
    Declared,
    Evidence,
    check,
    refusal_evidence,
)
from fapiao.checks.context import CheckContext, Issued
from fapiao.errors import InvalidInvoice, InvalidStateTransition, RedReversalNotAllowed
from fapiao.models import (
    InvoiceState,
    InvoiceStatus,
    Operation,
    RedApplicant,
    RedConfirmation,
    RedConfirmationState,
    RedLine,
    RedReason,
    RedReversalRequest,
)
from fapiao.testing.samples import new_order_id

__all__ = ["over_reversal_refused", "red_confirm", "red_full", "red_lapse", "red_partial"]

RED = Declared(Operation.RED_APPLY)
REFUSED_ISSUE = (RedReversalNotAllowed, InvalidStateTransition)
"""How the provider refuses a form that is lapsed, pending or has nothing left to reverse."""


def _request(
    ctx: CheckContext,
    blue: Issued,
    reason: RedReason,
    lines: Sequence[RedLine] = (),
    applicant: RedApplicant = RedApplicant.SELLER,
) -> RedReversalRequest:
    return RedReversalRequest(
        order_id=new_order_id("RED"),
        seller_tax_id=ctx.seller_tax_id,
        buyer_tax_id=blue.invoice.buyer.tax_id,
        original_invoice_number=blue.number,
        original_order_id=blue.invoice.order_id,
        reason=reason,
        applicant=applicant,
        lines=tuple(lines),
    )


async def _reverse(
    ctx: CheckContext, blue: Issued, reason: RedReason, lines: Sequence[RedLine] = ()
) -> tuple[RedConfirmation, InvoiceStatus]:
    """Apply for a form the seller may issue on at once, read it back, issue the red invoice."""
    request = _request(ctx, blue, reason, lines)
    form = await ctx.provider.red_apply(request)
    if form.state not in {RedConfirmationState.CONFIRMED, RedConfirmationState.RED_ISSUED}:
        raise CheckFailed(f"red form {form.confirmation_id} is {form.state.value}, not confirmed")
    if (form.order_id, form.original_invoice_number, form.reason) != (
        request.order_id,
        blue.number,
        reason,
    ):
        raise CheckFailed(f"red form {form.confirmation_id} is not the one applied for")
    if Operation.RED_QUERY in ctx.caps.operations:
        again = await ctx.provider.red_query(ctx.seller_tax_id, form.confirmation_id)
        if again.confirmation_id != form.confirmation_id:
            raise CheckFailed("red_query answered for another form")
    return form, await _issue_red(ctx, form, blue)


async def _issue_red(ctx: CheckContext, form: RedConfirmation, blue: Issued) -> InvoiceStatus:
    if (answer := await ctx.provider.red_issue(form)).order_id != form.order_id:
        raise CheckFailed(f"red_issue answered for order {answer.order_id}, not {form.order_id}")
    red = await ctx.settle(form.order_id)
    if red.state is not InvoiceState.ISSUED or not red.is_red:
        raise CheckFailed(f"red invoice for form {form.confirmation_id} ended {red.state.value}")
    if red.original_invoice_number != blue.number or red.invoice_number in {None, blue.number}:
        raise CheckFailed(f"red invoice {red.invoice_number} does not reverse {blue.number}")
    return red


@check("red_full", "full red reversal / 全额红冲", "red_reversal_full", RED)
async def red_full(ctx: CheckContext) -> Evidence:
    from fapiao.rules import compute_totals

    blue = await ctx.blue("a red reversal")
    form, red = await _reverse(ctx, blue, RedReason.INVOICING_ERROR)
    totals = compute_totals(blue.invoice)
    if (form.amount, form.tax) != (-totals.total_amount, -totals.total_tax):
        raise CheckFailed(f"red form {form.amount} + {form.tax} ≠ −{totals.total_with_tax}")
    if red.total_amount not in {None, -totals.total_amount}:
        raise CheckFailed(f"red invoice amount {red.total_amount} ≠ −{totals.total_amount}")
    ctx.reversed_fully.append(blue)
    return {
        "blue_invoice_number": blue.number,
        "confirmation_id": form.confirmation_id,
        "confirmation_number": form.confirmation_number or "-",
        "red_invoice_number": red.invoice_number or "",
        "red_amount": str(form.amount),
    }


@check("over_reversal_refused", "over-reversal refused / 超额红冲被拒", "red_reversal_full", RED)
async def over_reversal_refused(ctx: CheckContext) -> Evidence:
    """A second full reversal of a fully reversed invoice raises (nothing is left)."""
    if not ctx.reversed_fully:
        raise CheckFailed("needs the fully reversed invoice of the full red reversal check")
    blue = ctx.reversed_fully[0]
    try:
        await _reverse(ctx, blue, RedReason.INVOICING_ERROR)
    except REFUSED_ISSUE as exc:
        return {"invoice_number": blue.number, "refused_with": refusal_evidence(exc)}
    raise CheckFailed("a second full reversal of a reversed invoice was accepted")


@check(
    "red_partial",
    "partial red reversal / 部分红冲",
    "red_reversal_partial",
    Declared(Operation.RED_APPLY, red_partial=True),
)
async def red_partial(ctx: CheckContext) -> Evidence:
    """Half of the first line is reversed; a partial 开票有误 (full reversal only) and more
    than what remains of the line are refused, before sending or by the provider."""
    from fapiao.rules import compute_totals

    blue = await ctx.blue("a partial red reversal")
    line = compute_totals(blue.invoice).lines[0].amount
    half = (line / 2).quantize(Decimal("0.01"))
    form, red = await _reverse(
        ctx, blue, RedReason.SALES_RETURN, [RedLine(original_line=0, amount=half)]
    )
    if form.amount != -half or red.total_amount not in {None, -half}:
        raise CheckFailed(f"partial red form {form.amount}, invoice {red.total_amount} ≠ −{half}")
    refused: list[str] = []
    for what, reason, amount in (
        ("开票有误 partial", RedReason.INVOICING_ERROR, Decimal("1.00")),
        ("beyond the line", RedReason.SALES_RETURN, line),
    ):
        try:
            await _reverse(ctx, blue, reason, [RedLine(original_line=0, amount=amount)])
        except (RedReversalNotAllowed, InvalidInvoice) as exc:
            refused.append(f"{what}: {refusal_evidence(exc)}")
            continue
        raise CheckFailed(f"a partial reversal {what} was accepted")
    return {
        "blue_invoice_number": blue.number,
        "confirmation_id": form.confirmation_id,
        "red_invoice_number": red.invoice_number or "",
        "red_amount": str(form.amount),
        "refused": "; ".join(refused),
    }


async def _used_invoice(ctx: CheckContext, what: str) -> Issued:
    """A fresh invoice the buyer has used, so that a red form on it needs confirmation."""
    if ctx.mark_used is None:
        raise ctx.lacks("mark_used", f"{what} needs an invoice the buyer has used")
    used = await ctx.issue(ctx.fresh("normal_discount"))
    ctx.mark_used(used.number)
    return used


@check(
    "red_confirm",
    "confirm a buyer-raised red form / 确认红字确认单",
    "red_form_confirmed_by_the_seller",
    Declared(Operation.RED_CONFIRM),
    SELFTEST_ONLY,
)
async def red_confirm(ctx: CheckContext) -> Evidence:
    """The buyer raises a form on a used invoice; it waits for the seller, who confirms."""
    blue = await _used_invoice(ctx, "confirming a form")
    request = _request(ctx, blue, RedReason.SALES_RETURN, applicant=RedApplicant.BUYER)
    if (pending := await ctx.provider.red_apply(request)).state is not RedConfirmationState.PENDING:
        raise CheckFailed(f"a buyer-raised form on a used invoice is {pending.state.value}")
    confirmed = await ctx.provider.red_confirm(ctx.seller_tax_id, pending.confirmation_id)
    if confirmed.state is not RedConfirmationState.CONFIRMED:
        raise CheckFailed(f"after confirmation the form is {confirmed.state.value}")
    red = await _issue_red(ctx, confirmed, blue)
    ctx.reversed_fully.append(blue)
    return {
        "blue_invoice_number": blue.number,
        "confirmation_id": confirmed.confirmation_id,
        "red_invoice_number": red.invoice_number or "",
    }


@check(
    "red_lapse",
    "red form lapses after 72 h / 红字确认单 72 小时失效",
    "red_confirmation_lapses_after_72_hours",
    RED,
    SUITE_ONLY,
)
async def red_lapse(ctx: CheckContext) -> Evidence:
    """A form waiting for the other party expires 72 h after it was raised; neither the
    pending nor the lapsed form can be issued on."""
    if (advance := ctx.advance_clock) is None:
        raise ctx.lacks("clock", "the 72-hour lapse needs the sandbox clock")
    blue = await _used_invoice(ctx, "the 72-hour lapse")
    form = await ctx.provider.red_apply(_request(ctx, blue, RedReason.INVOICING_ERROR))
    if form.state is not RedConfirmationState.PENDING or not form.requires_confirmation:
        raise CheckFailed(f"a seller's form on a used invoice is {form.state.value}")
    if not (form.created_at and form.expires_at) or form.expires_at - form.created_at != timedelta(
        hours=72
    ):
        raise CheckFailed(f"the form runs {form.created_at} → {form.expires_at}, not 72 h")
    refused = [await _issue_refused(ctx, form, "pending")]
    advance(timedelta(hours=72, minutes=1))
    if Operation.RED_QUERY in ctx.caps.operations:
        form = await ctx.provider.red_query(ctx.seller_tax_id, form.confirmation_id)
        if form.state is not RedConfirmationState.LAPSED:
            raise CheckFailed(f"after 72 h the form is {form.state.value}")
    refused.append(await _issue_refused(ctx, form, "lapsed"))
    return {"confirmation_id": form.confirmation_id, "refused": "; ".join(refused)}


async def _issue_refused(ctx: CheckContext, form: RedConfirmation, state: str) -> str:
    try:
        await ctx.provider.red_issue(form)
    except REFUSED_ISSUE as exc:
        return f"{state}: {refusal_evidence(exc)}"
    raise CheckFailed(f"a red invoice was issued on a {state} form")

"""Checks that bad requests are refused with the right canonical error: a bad buyer tax ID, a
wrong secret, and each bad input a conformance harness declares."""

from __future__ import annotations

from dataclasses import dataclass

from fapiao.checks.check import SUITE_ONLY, CheckFailed, Evidence, check, refusal_evidence
from fapiao.checks.context import CheckContext
from fapiao.errors import AuthFailed, FapiaoError
from fapiao.models import Invoice, InvoiceState, InvoiceStatus, Operation
from fapiao.testing.harness import BadInput
from fapiao.testing.samples import new_order_id
from fapiao.tools.calls import error_codes
from fapiao.tools.invoices import BAD_BUYER_TAX_ID

__all__ = ["auth_refused", "declared_errors", "invalid_input_refused"]


@dataclass(frozen=True)
class _Refusal:
    codes: frozenset[str]
    """The canonical codes produced (an ``InvalidInvoice`` adds its issues' rule codes)."""
    shown: str
    field: str | None = None


async def _refusal(ctx: CheckContext, bad: BadInput) -> _Refusal:
    """What a bad input produced: raised, or a failed status once issuance settles. A
    refusal without both a Chinese and an English message counts as no refusal."""
    try:
        if isinstance(bad, Invoice):
            result: InvoiceStatus = await ctx.provider.issue(bad)
            if result.state is InvoiceState.ISSUING:
                result = await ctx.settle(bad.order_id)
            if result.state is InvoiceState.FAILED and result.error is not None:
                error = result.error
                return _Refusal(frozenset({error.code}), error.code, error.field)
            return _Refusal(frozenset(), f"no error (state {result.state.value})")
        await bad(ctx.provider)
    except FapiaoError as exc:
        if not (exc.message_zh and exc.message_en):
            return _Refusal(frozenset(), f"{exc.code} without bilingual messages", exc.field)
        return _Refusal(frozenset(error_codes(exc)), refusal_evidence(exc), exc.field)
    return _Refusal(frozenset(), "no error")


@check("invalid_input_refused", "bad tax ID refused / 错误税号被拒", "bad_tax_id_refused")
async def invalid_input_refused(ctx: CheckContext) -> Evidence:
    invoice = ctx.fresh()
    bad = invoice.model_copy(
        update={
            "order_id": new_order_id("BAD"),
            "buyer": invoice.buyer.model_copy(update={"tax_id": BAD_BUYER_TAX_ID}),
        }
    )
    refusal = await _refusal(ctx, bad)
    if "INVALID_TAX_ID" not in refusal.codes:
        raise CheckFailed(f"a bad buyer tax ID: {refusal.shown}, not INVALID_TAX_ID")
    return {"refused_with": refusal.shown, "field": refusal.field or "-"}


@check("auth_refused", "wrong secret refused / 错误密钥被拒", "wrong_secret_refused")
async def auth_refused(ctx: CheckContext) -> Evidence:
    name = ctx.secret_field
    if name is None:
        raise ctx.lacks("secret_field", "the settings hold no secret field to get wrong")
    wrong = ctx.provider_with(**{name: "wrong-secret-0000-fapiao-checks"})
    try:
        if Operation.QUOTA in ctx.caps.operations:
            await wrong.quota(ctx.seller_tax_id)
        else:
            await wrong.query(ctx.seller_tax_id, [new_order_id("NONE")])
    except AuthFailed as exc:
        return {"setting": name, "refused_with": refusal_evidence(exc)}
    except FapiaoError as exc:
        raise CheckFailed(f"a wrong {name} gave {exc.code}, not AUTH_FAILED") from exc
    finally:
        await wrong.aclose()
    raise CheckFailed(f"a wrong {name} was accepted")


@check(
    "declared_errors",
    "each declared error produced / 各类错误均可复现",
    "each_declared_error_is_produced",
    runners=SUITE_ONLY,
)
async def declared_errors(ctx: CheckContext) -> Evidence:
    """Each bad input produces the canonical code it is keyed by."""
    if not ctx.bad_inputs:
        raise ctx.lacks("bad_inputs", "no bad input is declared")
    produced: Evidence = {}
    problems: list[str] = []
    for code, bad in ctx.bad_inputs.items():
        refusal = await _refusal(ctx, bad)
        produced[code] = refusal.shown
        if code not in refusal.codes:
            problems.append(f"{code}: got {', '.join(sorted(refusal.codes)) or refusal.shown}")
    if problems:
        raise CheckFailed("; ".join(problems))
    return produced

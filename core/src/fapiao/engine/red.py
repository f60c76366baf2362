"""The red reversal (红冲) workflow: 红字确认单 → confirmation → red invoice, exactly once.

Two records move together: the *red request* (its own order id, kind ``red``) and the *blue
invoice* it reverses. Each network step is preceded by a committed state that says it may
have been sent, so a crash or an unknown outcome is never repaired by repeating a step:

- blue ``issued``/``partially_reversed`` → ``red_requested`` is committed before
  ``red_apply``; the returned form is saved with the per-line amounts it reverses (the
  ledger's ``reversed_amounts`` counts them, so a second reversal can never exceed what
  remains);
- red ``validated`` → ``submitted`` is committed before ``red_issue``; an unknown outcome is
  settled by querying the red order id;
- red ``issued`` → blue ``reversed`` (nothing remains) or ``partially_reversed``;
- a rejected, revoked or lapsed form (72 h) → red ``failed``, blue back to ``issued``.

The one step that can't be settled automatically is a ``red_apply`` whose outcome is
unknown (providers find forms by their id, which never arrived): the call raises
``OutcomeUnknown`` and ``reconcile`` lists it for a person to check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from decimal import Decimal

from fapiao.errors import (
    FapiaoError,
    InvalidInvoice,
    InvalidRequest,
    InvalidStateTransition,
    NotAccepted,
    OutcomeUnknown,
    RedReversalNotAllowed,
    UnsupportedOperation,
)
from fapiao.masking import mask_tax_id
from fapiao.models import (
    Invoice,
    InvoiceState,
    Operation,
    RedConfirmation,
    RedConfirmationState,
    RedReason,
    RedReversalRequest,
)

from .issuance import Issuance
from .kernel import Kernel
from .ledger import (
    RED_WORKFLOW_STATES,
    REVERSIBLE_STATES,
    SENT_UNSETTLED_STATES,
    EventSource,
    LedgerRecord,
    RedConfirmationRecord,
    RequestKey,
    RequestKind,
)
from .ledger.payload import canonical_payload
from .outcomes import RedOutcome, status_from_record

__all__ = ["RedWorkflow", "confirmation_of"]

log = logging.getLogger("fapiao.engine")

S = InvoiceState
F = RedConfirmationState
_CLOSED_FORMS = frozenset({F.REJECTED, F.LAPSED, F.REVOKED})


def confirmation_of(
    form: RedConfirmationRecord, *, seller_tax_id: str, original_invoice_number: str
) -> RedConfirmation:
    """The canonical form model from its ledger row (to hand back to the provider)."""
    return RedConfirmation(
        provider=form.provider,
        confirmation_id=form.confirmation_id,
        confirmation_number=form.confirmation_number,
        seller_tax_id=seller_tax_id,
        original_invoice_number=original_invoice_number,
        order_id=form.red_order_id,
        reason=RedReason(form.reason),
        state=form.state,
        amount=form.amount,
        tax=form.tax,
        requires_confirmation=form.requires_confirmation,
        created_at=form.created_at,
        expires_at=form.expires_at,
    )


def _busy(blue: LedgerRecord) -> RedReversalNotAllowed:
    return RedReversalNotAllowed(
        f"another red reversal of invoice {blue.invoice_number} is in progress; this one "
        "can start once it is settled (calling again, or reconcile, continues it)",
        message_zh=f"发票 {blue.invoice_number} 另有一笔红冲正在进行；待其完成后本笔才能开始"
        "（再次调用或对账时会继续）",
        field="original_order_id",
        retryable=True,
    )


_FORM_ZH = {F.REJECTED: "被对方否认", F.LAPSED: "超过 72 小时未确认而失效", F.REVOKED: "被撤销"}


class RedWorkflow:
    """The 红字确认单 workflow over the kernel: :meth:`reverse` starts or continues one,
    :meth:`resume` takes a stopped one as far as it can go (reconcile), :meth:`issue_red` and
    :meth:`finish_blue` are the steps reconciliation repeats. The blue invoice's follow-up when
    its red invoice is issued is a kernel listener, whoever reported the red invoice."""

    def __init__(self, kernel: Kernel, issuance: Issuance) -> None:
        self.kernel = kernel
        self.issuance = issuance
        kernel.on_applied(self._on_applied)

    async def _on_applied(self, before: LedgerRecord, after: LedgerRecord, source: str) -> None:
        """A red invoice issued (whoever reported it): its blue invoice is reversed."""
        if after.kind is RequestKind.RED and after.state is S.ISSUED:
            await self.finish_blue(after, source)

    async def _blue_of(self, request: RedReversalRequest) -> LedgerRecord:
        if not request.original_order_id:
            raise InvalidRequest(
                "original_order_id is required: the order id of the blue invoice to reverse",
                message_zh="须填写 original_order_id：被红冲蓝字发票的订单号",
                field="original_order_id",
            )
        blue = await self.kernel.record(
            RequestKey(request.seller_tax_id, request.original_order_id)
        )
        if blue.kind is not RequestKind.BLUE:
            raise InvalidRequest(
                f"order {request.original_order_id} is a red request, not a blue invoice",
                message_zh=f"订单 {request.original_order_id} 是红票请求，不是蓝字发票",
                field="original_order_id",
            )
        if blue.invoice_number != request.original_invoice_number:
            raise InvalidRequest(
                f"order {request.original_order_id} was invoiced as {blue.invoice_number or '(none yet)'}, "
                f"not {request.original_invoice_number}",
                message_zh=f"订单 {request.original_order_id} 的发票号码为 {blue.invoice_number or '（尚无）'}，"
                f"不是 {request.original_invoice_number}",
                field="original_invoice_number",
            )
        return blue

    async def _line_amounts(
        self, blue: LedgerRecord, request: RedReversalRequest
    ) -> dict[int, Decimal]:
        """Check the request against the rules and what is already reversed; the amounts it
        reverses per blue line (positive magnitudes)."""
        from fapiao.rules import check_red_reversal, red_lines

        if blue.state not in REVERSIBLE_STATES:
            raise RedReversalNotAllowed(
                f"invoice {blue.invoice_number} is {blue.state.value}; only an issued or partially "
                "reversed invoice can be reversed (one red reversal at a time)",
                message_zh=f"发票 {blue.invoice_number} 当前为 {blue.state.value}；只有已开具或部分红冲的"
                "发票可以红冲（同一发票一次只能进行一笔红冲）",
                field="original_order_id",
            )
        profile = blue.provider_profile
        self.kernel.require(profile, Operation.RED_APPLY)
        self.kernel.require(profile, Operation.RED_ISSUE)
        if not request.is_full and not self.kernel.providers.capabilities(profile).red_partial:
            raise UnsupportedOperation(
                f"provider {blue.provider} does not support partial red reversal",
                message_zh=f"服务商 {blue.provider} 不支持部分红冲",
                provider=blue.provider,
                field="lines",
            )
        invoice = Invoice.model_validate(blue.payload)
        already = await self.kernel.ledger.reversed_amounts(blue.key)
        issues = check_red_reversal(invoice, request, already)
        if any(not issue.warning for issue in issues):
            raise InvalidInvoice(issues)
        amounts: dict[int, Decimal] = {}
        for line in red_lines(invoice, request):
            amounts[line.index] = amounts.get(line.index, Decimal("0.00")) + abs(line.amount)
        return amounts

    async def reverse(
        self,
        request: RedReversalRequest,
        *,
        confirm: bool,
        wait_seconds: float,
        poll_interval: float,
    ) -> RedOutcome:
        blue = await self._blue_of(request)
        red_key = RequestKey(request.seller_tax_id, request.order_id)
        payload = canonical_payload(request)
        existing = await self.kernel.ledger.get(red_key)
        if existing is None:
            amounts = await self._line_amounts(blue, request)
            existing, created = await self.kernel.ledger.reserve(
                red_key,
                kind=RequestKind.RED,
                provider_profile=blue.provider_profile,
                provider=blue.provider,
                payload=payload,
                initial_state=S.VALIDATED,
                original_order_id=blue.key.order_id,
                source=EventSource.API,
            )
            if created:
                self.kernel.changed(existing, None)
                return await self._apply_form(
                    existing,
                    blue,
                    request,
                    amounts,
                    confirm=confirm,
                    wait_seconds=wait_seconds,
                    poll_interval=poll_interval,
                )
        if existing.kind is not RequestKind.RED or RedReversalRequest.model_validate(
            existing.payload
        ) != RedReversalRequest.model_validate(payload):
            raise self.kernel.mismatch(red_key)
        return await self.resume(
            existing,
            confirm=confirm,
            wait_seconds=wait_seconds,
            poll_interval=poll_interval,
            source=EventSource.API,
        )

    async def _apply_form(
        self,
        red: LedgerRecord,
        blue: LedgerRecord,
        request: RedReversalRequest,
        amounts: dict[int, Decimal],
        *,
        confirm: bool,
        wait_seconds: float,
        poll_interval: float,
    ) -> RedOutcome:
        """Raise the 红字确认单 (blue → red_requested committed first)."""
        try:
            blue = await self.kernel.transition(
                blue, S.RED_REQUESTED, EventSource.API, detail={"red_order_id": red.key.order_id}
            )
        except InvalidStateTransition as exc:
            # Someone else moved the blue invoice first (another reversal, or this one from a
            # concurrent call): nothing was sent for this request, which stays as it is.
            raise _busy(blue) from exc
        profile = red.provider_profile
        provider = self.kernel.providers.get(profile)
        try:
            confirmation = await self.kernel.call(
                profile, Operation.RED_APPLY, request, lambda: provider.red_apply(request)
            )
        except OutcomeUnknown:
            log.warning(
                "red application %s/%s: outcome unknown; it is not resent automatically",
                mask_tax_id(red.key.seller_tax_id),
                red.key.order_id,
            )
            raise
        except FapiaoError as exc:
            # refused: the form does not exist; give the blue invoice its state back
            await self.kernel.transition(
                blue, S.ISSUED, EventSource.API, detail={"red_apply_refused": exc.code}
            )
            if not isinstance(exc, NotAccepted):
                await self.kernel.transition(red, S.FAILED, EventSource.API, error=exc)
            raise
        await self.kernel.ledger.save_red_confirmation(
            blue.key, confirmation, line_amounts=amounts, red_order_id=red.key.order_id
        )
        return await self._continue_form(
            red,
            blue,
            confirmation,
            confirm=confirm,
            wait_seconds=wait_seconds,
            poll_interval=poll_interval,
            source=EventSource.API,
        )

    async def _holder(self, blue: LedgerRecord) -> str | None:
        """The red order id whose workflow moved the blue invoice into red_requested last."""
        for event in reversed(await self.kernel.ledger.events(blue.key)):
            if event.to_state is S.RED_REQUESTED and event.detail:
                holder = event.detail.get("red_order_id")
                return holder if isinstance(holder, str) else None
        return None

    async def _save(
        self, blue: LedgerRecord, red: LedgerRecord, confirmation: RedConfirmation
    ) -> None:
        forms = await self.kernel.ledger.red_confirmations(blue.key)
        current = next(
            (f for f in forms if f.confirmation_id == confirmation.confirmation_id), None
        )
        amounts = dict(current.line_amounts) if current is not None else {}
        await self.kernel.ledger.save_red_confirmation(
            blue.key, confirmation, line_amounts=amounts, red_order_id=red.key.order_id
        )

    async def _continue_form(
        self,
        red: LedgerRecord,
        blue: LedgerRecord,
        confirmation: RedConfirmation,
        *,
        confirm: bool,
        wait_seconds: float,
        poll_interval: float,
        source: str,
    ) -> RedOutcome:
        profile = red.provider_profile
        provider = self.kernel.providers.get(profile)
        seller = red.key.seller_tax_id
        form_id = confirmation.confirmation_id
        if confirmation.state is F.PENDING and confirm:
            self.kernel.require(profile, Operation.RED_CONFIRM)
            confirmation = await self.kernel.call(
                profile,
                Operation.RED_CONFIRM,
                form_id,
                lambda: provider.red_confirm(seller, form_id, accept=True),
            )
            await self._save(blue, red, confirmation)
        deadline = time.monotonic() + wait_seconds
        while confirmation.state is F.PENDING and time.monotonic() < deadline:
            await asyncio.sleep(max(0.0, min(poll_interval, deadline - time.monotonic())))
            confirmation = await self.kernel.call(
                profile, Operation.RED_QUERY, form_id, lambda: provider.red_query(seller, form_id)
            )
            await self._save(blue, red, confirmation)
        if confirmation.state is F.PENDING:
            return RedOutcome(status_from_record(red), status_from_record(blue), confirmation)
        if confirmation.state in _CLOSED_FORMS:
            refusal = RedReversalNotAllowed(
                f"the red confirmation form was {confirmation.state.value}",
                message_zh=f"红字确认单已{_FORM_ZH[confirmation.state]}",
                provider=red.provider,
            )
            if blue.state is S.RED_REQUESTED:
                earlier = await self.kernel.ledger.reversed_amounts(blue.key, include_pending=False)
                back_to = S.PARTIALLY_REVERSED if any(earlier.values()) else S.ISSUED
                blue = await self._advance(
                    blue, back_to, source, detail={"red_form": confirmation.state.value}
                )
            if red.state is S.VALIDATED:
                red = await self._advance(red, S.FAILED, source, error=refusal)
            return RedOutcome(status_from_record(red), status_from_record(blue), confirmation)
        # confirmed (or the provider already issued the red invoice)
        if blue.state is S.RED_REQUESTED:
            blue = await self._advance(
                blue, S.RED_CONFIRMED, source, detail={"red_form": confirmation.confirmation_id}
            )
        if red.state is S.VALIDATED:
            red = await self._advance(red, S.SUBMITTED, source, attempts_increment=1)
            if red.state is S.SUBMITTED and confirmation.state is F.CONFIRMED:
                return await self.issue_red(red, confirmation, source)
        return await self._settle_red(red, confirmation, source)

    async def _advance(
        self, record: LedgerRecord, to: S, source: str, **fields: object
    ) -> LedgerRecord:
        """Make a workflow step unless a callback or poll has already moved the record on.

        Providers that issue the red invoice themselves on confirmation (Nuonuo) report it by
        callback, which can land between reading the record and this step; the ledger's
        compare-and-set then refuses the step. That is not an error: the fresh record is returned
        and the caller continues from where the provider's report left it.
        """
        try:
            return await self.kernel.transition(record, to, source, **fields)
        except InvalidStateTransition:
            fresh = await self.kernel.ledger.get(record.key)
            if fresh is None or fresh.state is record.state:
                raise
            return fresh

    async def issue_red(
        self, red: LedgerRecord, confirmation: RedConfirmation, source: str
    ) -> RedOutcome:
        profile = red.provider_profile
        provider = self.kernel.providers.get(profile)
        try:
            result = await self.kernel.call(
                profile, Operation.RED_ISSUE, confirmation, lambda: provider.red_issue(confirmation)
            )
        except OutcomeUnknown:
            return await self._settle_red(red, confirmation, source)
        except FapiaoError as exc:
            if isinstance(exc, NotAccepted):
                raise  # nothing issued; reconcile sends it again after the visibility delay
            await self.kernel.transition(red, S.FAILED, source, error=exc)
            raise
        if result.order_id != red.key.order_id or not result.is_red:
            result = result.model_copy(update={"order_id": red.key.order_id, "is_red": True})
        new = await self.kernel.apply(red, result, source)
        return await self._outcome(new, confirmation)

    async def resend(self, red: LedgerRecord, source: str) -> None:
        """Send the red invoice of a confirmed form again (reconcile has proven the first
        send never arrived)."""
        blue = await self.kernel.record(
            RequestKey(red.key.seller_tax_id, red.original_order_id or "")
        )
        forms = [
            f
            for f in await self.kernel.ledger.red_confirmations(blue.key)
            if f.red_order_id == red.key.order_id
        ]
        if not forms:
            return
        confirmation = confirmation_of(
            forms[-1],
            seller_tax_id=red.key.seller_tax_id,
            original_invoice_number=blue.invoice_number or "",
        )
        await self.issue_red(red, confirmation, source)

    async def _settle_red(
        self, red: LedgerRecord, confirmation: RedConfirmation, source: str
    ) -> RedOutcome:
        if red.state in SENT_UNSETTLED_STATES:
            with contextlib.suppress(OutcomeUnknown):  # left submitted: reconcile finishes it
                await self.issuance.settle(red, source)
        return await self._outcome(await self.kernel.record(red.key), confirmation)

    async def _outcome(self, red: LedgerRecord, confirmation: RedConfirmation | None) -> RedOutcome:
        blue = await self.kernel.record(
            RequestKey(red.key.seller_tax_id, red.original_order_id or "")
        )
        return RedOutcome(status_from_record(red), status_from_record(blue), confirmation)

    async def resume(
        self,
        red: LedgerRecord,
        *,
        confirm: bool = False,
        wait_seconds: float = 0.0,
        poll_interval: float = 1.0,
        source: str = EventSource.RECONCILE,
        refresh_form: bool = False,
    ) -> RedOutcome:
        """Take a red request as far as it can go now, from whatever step it stopped at."""
        seller = red.key.seller_tax_id
        blue = await self.kernel.record(RequestKey(seller, red.original_order_id or ""))
        if red.state in {S.ISSUED, S.FAILED}:
            if red.state is S.ISSUED:
                await self.finish_blue(red, source)
            return await self._outcome(red, None)
        forms = [
            f
            for f in await self.kernel.ledger.red_confirmations(blue.key)
            if f.red_order_id == red.key.order_id
        ]
        if not forms:
            if blue.state in RED_WORKFLOW_STATES:
                if await self._holder(blue) != red.key.order_id:
                    raise _busy(blue)  # another reversal of this invoice is in flight
                raise OutcomeUnknown(
                    f"the red confirmation form for order {red.key.order_id} was requested but "
                    "its outcome is unknown; check it at the provider (it is not requested twice)",
                    message_zh=f"订单 {red.key.order_id} 的红字确认单已申请但结果未知，"
                    "请在服务商处核实（不会重复申请）",
                    provider=red.provider,
                )
            request = RedReversalRequest.model_validate(red.payload)
            amounts = await self._line_amounts(blue, request)
            return await self._apply_form(
                red,
                blue,
                request,
                amounts,
                confirm=confirm,
                wait_seconds=wait_seconds,
                poll_interval=poll_interval,
            )
        confirmation = confirmation_of(
            forms[-1], seller_tax_id=seller, original_invoice_number=blue.invoice_number or ""
        )
        if refresh_form and confirmation.state is F.PENDING:
            profile = red.provider_profile
            provider = self.kernel.providers.get(profile)
            form_id = confirmation.confirmation_id
            confirmation = await self.kernel.call(
                profile, Operation.RED_QUERY, form_id, lambda: provider.red_query(seller, form_id)
            )
            await self._save(blue, red, confirmation)
        if red.state is S.VALIDATED:
            return await self._continue_form(
                red,
                blue,
                confirmation,
                confirm=confirm,
                wait_seconds=wait_seconds,
                poll_interval=poll_interval,
                source=source,
            )
        if blue.state is S.RED_REQUESTED and confirmation.state is not F.PENDING:
            await self.kernel.transition(blue, S.RED_CONFIRMED, source)
        return await self._settle_red(red, confirmation, source)

    async def finish_blue(self, red: LedgerRecord, source: str) -> None:
        """The red invoice exists: mark its form issued and the blue (partially) reversed."""
        if not red.original_order_id:
            return
        blue = await self.kernel.ledger.get(
            RequestKey(red.key.seller_tax_id, red.original_order_id)
        )
        if blue is None:
            return
        for form in await self.kernel.ledger.red_confirmations(blue.key):
            if form.red_order_id == red.key.order_id and form.state is not F.RED_ISSUED:
                confirmation = confirmation_of(
                    form,
                    seller_tax_id=red.key.seller_tax_id,
                    original_invoice_number=blue.invoice_number or "",
                ).model_copy(update={"state": F.RED_ISSUED})
                await self.kernel.ledger.save_red_confirmation(
                    blue.key,
                    confirmation,
                    line_amounts=form.line_amounts,
                    red_order_id=form.red_order_id,
                )
        # the red-reverse call may be moving the same blue record at this moment (its own
        # red_confirmed step): a refused compare-and-set means "re-read and go on", not "done"
        for _ in range(3):
            try:
                await self._finish_blue_states(blue, red, source)
                return
            except InvalidStateTransition:
                fresh = await self.kernel.ledger.get(blue.key)
                if fresh is None:
                    break
                blue = fresh
        log.info(
            "blue invoice of red order %s/%s already moved on",
            mask_tax_id(red.key.seller_tax_id),
            red.key.order_id,
        )

    async def _finish_blue_states(self, blue: LedgerRecord, red: LedgerRecord, source: str) -> None:
        from fapiao.rules import compute_totals

        if blue.state is S.RED_REQUESTED:
            blue = await self.kernel.transition(blue, S.RED_CONFIRMED, source)
        if blue.state is not S.RED_CONFIRMED:
            return
        request = RedReversalRequest.model_validate(red.payload)
        full = request.is_full
        if not full:
            reversed_ = await self.kernel.ledger.reversed_amounts(blue.key, include_pending=False)
            total = compute_totals(Invoice.model_validate(blue.payload)).total_amount
            full = sum(reversed_.values(), Decimal("0.00")) >= total
        await self.kernel.transition(
            blue,
            S.REVERSED if full else S.PARTIALLY_REVERSED,
            source,
            detail={"red_order_id": red.key.order_id, "red_invoice_number": red.invoice_number},
        )

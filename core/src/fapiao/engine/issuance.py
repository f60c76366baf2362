"""Issuing blue invoices exactly once: validate, reserve, send, settle.

Exactly-once, the heart of it (docs/architecture.md §3). The idempotency key is
seller tax ID + order id.

1. The invoice is checked (``fapiao.rules`` + the ``fapiao_validate_invoice`` hook) and against
   the profile's declared capabilities and limits, before anything is recorded.
2. ``ledger.reserve`` creates the record directly in ``submitted`` and returns only once that
   is committed — *before* the network call. A key already in the ledger is never sent
   again from here: its recorded outcome is returned, and a request still ``submitted`` or
   ``issuing`` is settled by querying the provider (never by resending).
3. The provider's answer is applied to the ledger (``issued``/``issuing``; a definitive
   refusal → ``failed``, raised). A refusal that proves non-acceptance (``NotAccepted``) is
   retried with backoff when it is likely to pass (``retry_now``: unavailable, rate limited;
   an authentication failure needs a person); either way it leaves the record ``submitted``
   for ``reconcile``.
4. ``OUTCOME_UNKNOWN`` (timeout or reset after sending) leaves the record ``submitted`` and
   triggers a query by order id; a ``DUPLICATE_ORDER`` answer does the same and adopts the
   original outcome. If the provider doesn't know the order yet, the call raises
   ``OutcomeUnknown`` and the request is left to reconciliation, which resends only once the
   provider's declared visibility delay has passed without the order appearing — the one
   proof that it was never accepted — and records that as an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import TypeVar

from fapiao.errors import (
    DuplicateOrder,
    FapiaoError,
    InvalidInvoice,
    InvalidStateTransition,
    NotAccepted,
    OutcomeUnknown,
    ValidationIssue,
)
from fapiao.masking import mask_tax_id
from fapiao.models import Invoice, InvoiceState, InvoiceStatus, Operation

from .kernel import Kernel
from .ledger import (
    SENT_UNSETTLED_STATES,
    UNSENT_STATES,
    LedgerRecord,
    RequestKey,
    RequestKind,
)
from .ledger.payload import canonical_payload
from .outcomes import BatchItem, error_from_record, status_from_record

__all__ = ["Issuance"]

log = logging.getLogger("fapiao.engine")

T = TypeVar("T")
S = InvoiceState


class Issuance:
    """Blue invoices: one request (:meth:`issue`), a stream (:meth:`stream`), and the two
    steps other workflows reuse (:meth:`send` a ``submitted`` record, :meth:`settle` one by
    query)."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    # -- checks before anything is recorded -----------------------------------------------

    def validate(self, invoice: Invoice) -> None:
        """The 数电 rules and every ``fapiao_validate_invoice`` hook; ``InvalidInvoice`` with
        every issue. A validator that crashes refuses, it never lets an invoice through."""
        from fapiao.rules import ensure_valid

        issues: list[ValidationIssue] = []
        try:
            ensure_valid(invoice)
        except InvalidInvoice as exc:
            issues.extend(exc.issues)
        try:
            results = self.kernel.hooks.fapiao_validate_invoice(invoice=invoice)
        except Exception as exc:
            detail = self.kernel.providers.scrub(f"{type(exc).__name__}: {exc}")
            results = [[_hook_failed(detail)]]
        for found in results:
            if found:
                issues.extend(found)
        if any(not issue.warning for issue in issues):
            raise InvalidInvoice(issues)

    def check_capabilities(self, profile: str, invoice: Invoice) -> None:
        """The profile's provider declares issuance and the invoice is within its limits."""
        providers = self.kernel.providers
        self.kernel.require(profile, Operation.ISSUE)
        refusal = providers.capabilities(profile).refuse_invoice(
            invoice,
            providers.provider_name(profile),
            strict_features=providers.profile(profile).settings.strict_features,
        )
        if refusal is not None:
            raise refusal

    # -- one request ----------------------------------------------------------------------

    async def issue(self, invoice: Invoice, source: str) -> InvoiceStatus:
        """Issue one blue invoice, exactly once per (seller tax ID, order id)."""
        self.validate(invoice)
        seller = invoice.seller.tax_id or ""
        profile = self.kernel.router.profile_for(seller)
        self.check_capabilities(profile, invoice)
        key = RequestKey(seller, invoice.order_id)
        inflight = self.kernel.inflight
        running = inflight.get(key)
        if running is not None:
            first, waiting = running
            if first != invoice:
                raise self.kernel.mismatch(key)
            status: InvoiceStatus = await asyncio.shield(waiting)
            return status
        future = inflight.start(key, invoice)
        try:
            status = await self._issue_once(invoice, key, profile, source)
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(exc)
                future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        else:
            future.set_result(status)
            return status
        finally:
            inflight.finish(key)

    async def _issue_once(
        self, invoice: Invoice, key: RequestKey, profile: str, source: str
    ) -> InvoiceStatus:
        kernel = self.kernel
        record, created = await kernel.ledger.reserve(
            key,
            kind=RequestKind.BLUE,
            provider_profile=profile,
            provider=kernel.providers.provider_name(profile),
            payload=invoice,  # the ledger stores it as exact JSON (secret-looking keys masked)
            initial_state=S.SUBMITTED,
            source=source,
        )
        if created:
            kernel.changed(record, None)
            return await self.send(record, invoice, source)
        if not self.same_request(record, invoice):
            raise kernel.mismatch(key)
        return await self._resume(record, invoice, source)

    @staticmethod
    def same_request(record: LedgerRecord, invoice: Invoice) -> bool:
        """Whether ``record`` is this very invoice (compared as the ledger stores it, so
        masked ``provider_extra`` values compare equal): the same key for another invoice is
        a mismatch, never a replay."""
        if record.kind is not RequestKind.BLUE:
            return False
        return Invoice.model_validate(record.payload) == Invoice.model_validate(
            canonical_payload(invoice)
        )

    def settled_for(self, record: LedgerRecord, invoice: Invoice) -> bool:
        """``record`` is ``invoice``'s and needs nothing more from issuance: issuing it again
        would only return the recorded outcome (a resumed batch skips it)."""
        unsettled = UNSENT_STATES | SENT_UNSETTLED_STATES
        return record.state not in unsettled and self.same_request(record, invoice)

    async def _resume(self, record: LedgerRecord, invoice: Invoice, source: str) -> InvoiceStatus:
        """A request already in the ledger: return its outcome, finish it, never resend."""
        if record.state in UNSENT_STATES:
            record = await self.kernel.transition(record, S.SUBMITTED, source, attempts_increment=1)
            return await self.send(record, invoice, source)
        if record.state in SENT_UNSETTLED_STATES:
            return await self.settle(record, source)
        if record.state is S.FAILED:
            raise error_from_record(record)
        return status_from_record(record)

    # -- the two steps other workflows reuse ----------------------------------------------

    async def send(self, record: LedgerRecord, invoice: Invoice, source: str) -> InvoiceStatus:
        """Send a ``submitted`` request; only failures that prove non-acceptance are retried."""
        kernel = self.kernel
        profile = record.provider_profile
        provider = kernel.providers.get(profile)
        retries = kernel.config.engine.unavailable_retries
        backoff = kernel.config.engine.retry_backoff_seconds
        attempt = 0
        while True:
            try:
                result = await kernel.call(
                    profile, Operation.ISSUE, invoice, lambda: provider.issue(invoice)
                )
            except (OutcomeUnknown, DuplicateOrder) as exc:
                log.warning(
                    "issue of %s/%s: %s; settling by query, never by resending",
                    mask_tax_id(record.key.seller_tax_id),
                    record.key.order_id,
                    exc.code,
                )
                return await self.settle(record, source, cause=exc)
            except NotAccepted as exc:
                if exc.retry_now and attempt < retries:
                    await asyncio.sleep(backoff * 2**attempt)
                    attempt += 1
                    continue
                await self._note(record, source, exc)
                raise
            except FapiaoError as exc:
                await kernel.transition(record, S.FAILED, source, error=exc)
                log.info(
                    "issue of %s/%s refused: %s",
                    mask_tax_id(record.key.seller_tax_id),
                    record.key.order_id,
                    exc.code,
                )
                raise
            if result.order_id != record.key.order_id:
                result = result.model_copy(update={"order_id": record.key.order_id})
            new = await kernel.apply(record, result, source, requested=invoice)
            if new.state is S.FAILED:
                raise error_from_record(new)
            return status_from_record(new, documents=result.documents, raw_status=result.raw_status)

    async def _note(self, record: LedgerRecord, source: str, error: FapiaoError) -> None:
        """Leave the record ``submitted`` with the error noted as an event (for reconcile)."""
        with contextlib.suppress(InvalidStateTransition):  # moved on meanwhile: nothing to note
            await self.kernel.ledger.transition(
                record.key,
                record.state,
                source=source,
                error=error,
                detail={"not_accepted": error.code},
                expect_from={record.state},
            )

    async def settle(
        self, record: LedgerRecord, source: str, *, cause: FapiaoError | None = None
    ) -> InvoiceStatus:
        """Find out what happened to a sent request by querying the provider."""
        kernel = self.kernel
        key = record.key
        profile = record.provider_profile
        provider = kernel.providers.get(profile)
        try:
            found = await kernel.call(
                profile,
                Operation.QUERY,
                [key.order_id],
                lambda: provider.query(key.seller_tax_id, [key.order_id]),
            )
        except FapiaoError as exc:
            if record.state is S.ISSUING:
                return status_from_record(record)
            raise self._unknown(record, cause or exc) from exc
        status = next((s for s in found if s.order_id == key.order_id), None)
        if status is None:
            if record.state is S.ISSUING:
                return status_from_record(record)
            raise self._unknown(record, cause)
        new = await kernel.apply(record, status, source)
        if new.state is S.FAILED:
            raise error_from_record(new)
        if new.state is S.SUBMITTED:
            raise self._unknown(new, cause)
        return status_from_record(new, raw_status=status.raw_status)

    def _unknown(self, record: LedgerRecord, cause: FapiaoError | None) -> OutcomeUnknown:
        seconds = self.kernel.providers.visibility_seconds(record.provider_profile)
        why = f" ({cause.code})" if cause is not None else ""
        return OutcomeUnknown(
            f"order {record.key.order_id} was sent but the provider does not show it yet{why}; "
            f"it is never resent before {seconds:g} s have passed without it appearing: "
            "`reconcile` settles it",
            message_zh=f"订单 {record.key.order_id} 已发送，服务商暂查不到{why}；"
            f"{seconds:g} 秒内查不到才会重发，请稍后运行 reconcile 对账",
            provider=record.provider,
            retryable=False,
        )

    # -- a stream ---------------------------------------------------------------------------

    async def stream(
        self,
        invoices: Iterable[Invoice] | AsyncIterable[Invoice],
        *,
        concurrency: int | None,
        source: str,
    ) -> AsyncIterator[BatchItem]:
        """Issue a stream with bounded concurrency, yielding each outcome as it completes.

        The input is consumed lazily (a generator over a huge file stays in constant memory);
        completions are handed out through a ready queue, not by waiting on every task."""
        limit = max(1, concurrency or self.kernel.config.engine.concurrency)
        running: set[asyncio.Task[BatchItem]] = set()
        ready: deque[asyncio.Task[BatchItem]] = deque()
        signal = asyncio.Event()

        def finished(task: asyncio.Task[BatchItem]) -> None:
            running.discard(task)
            ready.append(task)
            signal.set()

        async def next_ready() -> BatchItem:
            while not ready:
                signal.clear()
                await signal.wait()
            return ready.popleft().result()

        index = 0
        try:
            async for invoice in _aiter(invoices):
                while ready:
                    yield ready.popleft().result()
                while len(running) >= limit:
                    yield await next_ready()
                task = asyncio.create_task(self._item(index, invoice, source))
                running.add(task)
                task.add_done_callback(finished)
                index += 1
            while running or ready:
                yield await next_ready()
        finally:
            # Let calls in flight finish: cancelling one mid-send would only manufacture an
            # unknown outcome for reconcile to clear up.
            if running:
                await asyncio.gather(*running, return_exceptions=True)

    async def _item(self, index: int, invoice: Invoice, source: str) -> BatchItem:
        seller = invoice.seller.tax_id or ""
        try:
            status = await self.issue(invoice, source)
        except FapiaoError as exc:
            return BatchItem(index, seller, invoice.order_id, error=exc)
        return BatchItem(index, seller, invoice.order_id, status=status)


def _hook_failed(detail: str) -> ValidationIssue:
    return ValidationIssue(
        code="HOOK_FAILED",
        path="",
        message_zh=f"校验插件出错：{detail[:200]}",
        message_en=f"a fapiao_validate_invoice hook failed: {detail[:200]}",
    )


async def _aiter(items: Iterable[T] | AsyncIterable[T]) -> AsyncIterator[T]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item

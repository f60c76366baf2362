"""Reconciliation: settle every record whose outcome is still open, from the providers' word.

Why it exists: an unknown outcome (timeout, reset, a killed process) is never repaired by
resending. ``reconcile`` asks each provider about its unsettled orders — in batches of the
provider's declared ``max_query_batch`` — and applies the answers through the same
idempotent, monotonic path as callbacks. It resends a request only when that is provably
safe:

- ``validated`` (recorded, never sent: ``submitted`` is committed before any send) and older
  than ``engine.stale_validated_seconds`` (so a request another worker is about to send is
  left alone);
- ``submitted`` and *not found* by the provider although longer than its timeout plus its
  declared visibility delay has passed since it was sent — by then any send has finished
  and an accepted order would be visible, so it was never accepted.

Each resend is recorded as an event (``submitted → submitted``, detail ``resubmit``). A
provider slower than its own declared delay could still receive both; the vendors' own
order-id check then answers ``DUPLICATE_ORDER``, which the engine adopts (query, keep the
original), so the delay should be declared generously rather than tight.
Red requests are continued from their step (a form confirmed since → the red invoice is
issued; a form rejected or lapsed → the blue invoice is issued again).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fapiao.errors import (
    FapiaoError,
    InvalidStateTransition,
    OutcomeUnknown,
    RedReversalNotAllowed,
)
from fapiao.masking import mask_tax_id
from fapiao.models import Invoice, InvoiceState, InvoiceStatus, Operation

from .issuance import Issuance
from .kernel import Kernel
from .ledger import (
    RED_WORKFLOW_STATES,
    SENT_UNSETTLED_STATES,
    UNSENT_STATES,
    UNSETTLED_STATES,
    EventSource,
    LedgerRecord,
    RequestKey,
    RequestKind,
)
from .red import RedWorkflow

__all__ = ["ReconcileReport", "Reconciler"]

log = logging.getLogger("fapiao.engine")

S = InvoiceState
_PAGE = 1000
_PARALLEL_QUERIES = 4  # query batches in flight per (profile, seller); profile limits apply too


@dataclass
class ReconcileReport:
    """What one reconciliation pass found and did."""

    checked: int = 0
    queried: int = 0
    settled: Counter[str] = field(default_factory=Counter)  # new state → count
    unchanged: int = 0
    resubmitted: list[str] = field(default_factory=list)  # order ids, sent again
    red_continued: int = 0
    attention: list[dict[str, str]] = field(default_factory=list)  # for a person to check
    errors: list[dict[str, str]] = field(default_factory=list)

    def _entry(self, record: LedgerRecord, **extra: str) -> dict[str, str]:
        return {
            "seller_tax_id": mask_tax_id(record.key.seller_tax_id),
            "order_id": record.key.order_id,
            "state": record.state.value,
            **extra,
        }

    def error(self, record: LedgerRecord, error: FapiaoError) -> None:
        self.errors.append(
            self._entry(record, code=error.code, message=f"{error.message_zh} / {error.message_en}")
        )

    def needs_attention(self, record: LedgerRecord, reason: str) -> None:
        self.attention.append(self._entry(record, reason=reason))

    def to_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "queried": self.queried,
            "settled": dict(self.settled),
            "unchanged": self.unchanged,
            "resubmitted": list(self.resubmitted),
            "red_continued": self.red_continued,
            "attention": list(self.attention),
            "errors": list(self.errors),
        }


def _age_seconds(record: LedgerRecord, now: datetime) -> float:
    updated = record.updated_at
    if updated.tzinfo is None:
        updated = updated.replace(tzinfo=UTC)
    return (now - updated).total_seconds()


def _count(report: ReconcileReport, old: LedgerRecord, new: LedgerRecord) -> None:
    if new.state is old.state:
        report.unchanged += 1
    else:
        report.settled[new.state.value] += 1


class Reconciler:
    """One reconciliation pass over the ledger (every unsettled record, or given keys)."""

    def __init__(self, kernel: Kernel, issuance: Issuance, red: RedWorkflow) -> None:
        self.kernel = kernel
        self.issuance = issuance
        self.red = red

    async def run(
        self,
        *,
        profile: str | None = None,
        keys: Iterable[RequestKey] | None = None,
    ) -> ReconcileReport:
        report = ReconcileReport()
        if keys is not None:
            wanted = list(keys)
            for start in range(0, len(wanted), _PAGE):
                found = await self.kernel.ledger.get_many(wanted[start : start + _PAGE])
                page = [
                    r
                    for r in found.values()
                    if r.state in UNSETTLED_STATES
                    and (profile is None or r.provider_profile == profile)
                ]
                await self._reconcile_page(page, report)
            return report
        after: int | None = None
        while True:
            page = await self.kernel.ledger.non_final(profile=profile, limit=_PAGE, after_id=after)
            if not page:
                break
            await self._reconcile_page(page, report)
            if len(page) < _PAGE:
                break
            after = page[-1].id
        return report

    async def _reconcile_page(self, page: list[LedgerRecord], report: ReconcileReport) -> None:
        now = datetime.now(UTC)
        to_query: dict[tuple[str, str], list[LedgerRecord]] = defaultdict(list)
        for record in page:
            if record.key in self.kernel.inflight:
                continue  # this process is working on it right now
            report.checked += 1
            if record.state in SENT_UNSETTLED_STATES:
                to_query[(record.provider_profile, record.key.seller_tax_id)].append(record)
            elif record.kind is RequestKind.RED:
                await self._continue_red(record, report, now)
            elif record.state in RED_WORKFLOW_STATES:
                await self._blue_in_red_flow(record, report)
            elif record.state in UNSENT_STATES:
                await self._send_never_sent(record, report, now)
        for (profile, seller), records in to_query.items():
            await self._query_and_settle(profile, seller, records, report, now)

    async def _query_and_settle(
        self,
        profile: str,
        seller: str,
        records: list[LedgerRecord],
        report: ReconcileReport,
        now: datetime,
    ) -> None:
        try:
            provider = self.kernel.providers.get(profile)
            batch = self.kernel.providers.capabilities(profile).max_query_batch
        except FapiaoError as exc:  # the profile was removed from the config
            for record in records:
                report.error(record, exc)
            return

        async def settle_chunk(chunk: list[LedgerRecord]) -> None:
            order_ids = [r.key.order_id for r in chunk]
            try:
                statuses = await self.kernel.call(
                    profile, Operation.QUERY, order_ids, lambda: provider.query(seller, order_ids)
                )
            except FapiaoError as exc:
                for record in chunk:
                    report.error(record, exc)
                return
            report.queried += len(chunk)
            by_order: dict[str, InvoiceStatus] = {s.order_id: s for s in statuses}
            # applied concurrently: the ledger commits them together
            await asyncio.gather(*(settle_one(r, by_order.get(r.key.order_id)) for r in chunk))

        async def settle_one(record: LedgerRecord, status: InvoiceStatus | None) -> None:
            try:
                if status is not None:
                    new = await self.kernel.apply(record, status, EventSource.RECONCILE)
                    _count(report, record, new)
                elif record.state is S.SUBMITTED:
                    await self._maybe_resubmit(record, report, now)
                else:
                    report.needs_attention(
                        record, "the provider accepted this request but no longer finds it"
                    )
            except FapiaoError as exc:
                report.error(record, exc)

        chunks = [records[i : i + batch] for i in range(0, len(records), batch)]
        for start in range(0, len(chunks), _PARALLEL_QUERIES):
            await asyncio.gather(
                *(settle_chunk(c) for c in chunks[start : start + _PARALLEL_QUERIES])
            )

    async def _maybe_resubmit(
        self, record: LedgerRecord, report: ReconcileReport, now: datetime
    ) -> None:
        settings = self.kernel.providers.profile(record.provider_profile).settings
        wait = (
            self.kernel.providers.visibility_seconds(record.provider_profile)
            + settings.timeout_seconds
        )
        age = _age_seconds(record, now)
        if age < wait:
            report.unchanged += 1
            return
        detail = {
            "resubmit": True,
            "reason": f"not found at the provider {age:.0f} s after sending "
            f"(timeout + visibility delay = {wait:g} s): it was never accepted",
        }
        try:
            record = await self.kernel.transition(
                record, S.SUBMITTED, EventSource.RECONCILE, attempts_increment=1, detail=detail
            )
        except InvalidStateTransition:
            report.unchanged += 1  # settled meanwhile (a callback)
            return
        report.resubmitted.append(record.key.order_id)
        log.info(
            "resubmitting %s/%s: %s",
            mask_tax_id(record.key.seller_tax_id),
            record.key.order_id,
            detail["reason"],
        )
        try:
            if record.kind is RequestKind.RED:
                await self.red.resend(record, EventSource.RECONCILE)
            else:
                await self.issuance.send(
                    record, Invoice.model_validate(record.payload), EventSource.RECONCILE
                )
        except FapiaoError as exc:
            report.error(record, exc)
            return
        new = await self.kernel.record(record.key)
        _count(report, record, new)

    async def _send_never_sent(
        self, record: LedgerRecord, report: ReconcileReport, now: datetime
    ) -> None:
        if _age_seconds(record, now) < self.kernel.config.engine.stale_validated_seconds:
            report.unchanged += 1
            return
        try:
            submitted = await self.kernel.transition(
                record,
                S.SUBMITTED,
                EventSource.RECONCILE,
                attempts_increment=1,
                detail={"reason": "recorded but never sent"},
            )
            report.resubmitted.append(record.key.order_id)
            await self.issuance.send(
                submitted, Invoice.model_validate(record.payload), EventSource.RECONCILE
            )
        except InvalidStateTransition:
            report.unchanged += 1
            return
        except FapiaoError as exc:
            report.error(record, exc)
            return
        _count(report, record, await self.kernel.record(record.key))

    async def _continue_red(
        self, red: LedgerRecord, report: ReconcileReport, now: datetime
    ) -> None:
        if (
            red.state is S.VALIDATED
            and _age_seconds(red, now) < self.kernel.config.engine.stale_validated_seconds
        ):
            blue_key = RequestKey(red.key.seller_tax_id, red.original_order_id or "")
            forms = await self.kernel.ledger.red_confirmations(blue_key)
            if not any(f.red_order_id == red.key.order_id for f in forms):
                report.unchanged += 1  # just reserved: its own call is raising the form now
                return

        try:
            outcome = await self.red.resume(red, source=EventSource.RECONCILE, refresh_form=True)
        except FapiaoError as exc:
            if isinstance(exc, OutcomeUnknown):
                report.needs_attention(red, exc.message_en)
            elif isinstance(exc, RedReversalNotAllowed) and exc.retryable:
                report.unchanged += 1  # waits for another reversal of the same invoice
            else:
                report.error(red, exc)
            return
        if outcome.red.state is red.state:
            report.unchanged += 1
        else:
            report.red_continued += 1
            report.settled[outcome.red.state.value] += 1

    async def _blue_in_red_flow(self, blue: LedgerRecord, report: ReconcileReport) -> None:
        """A blue invoice in the red workflow whose red request has already settled (a crash
        between the two records' updates): finish it from the red request's outcome."""
        forms = await self.kernel.ledger.red_confirmations(blue.key)
        if not forms:
            if blue.state is S.RED_REQUESTED:
                report.needs_attention(
                    blue, "red reversal requested but no confirmation form recorded"
                )
            return
        red = await self.kernel.ledger.get(
            RequestKey(blue.key.seller_tax_id, forms[-1].red_order_id)
        )
        if red is None or red.state in UNSETTLED_STATES:
            return  # its red request is handled on its own
        try:
            if red.state is S.ISSUED:
                await self.red.finish_blue(red, EventSource.RECONCILE)
            elif red.state is S.FAILED and blue.state is S.RED_REQUESTED:
                await self.kernel.transition(
                    blue, S.ISSUED, EventSource.RECONCILE, detail={"red_order_id": red.key.order_id}
                )
        except FapiaoError as exc:
            report.error(blue, exc)
            return
        _count(report, blue, await self.kernel.record(blue.key))

"""Batches: issue a JSON Lines or CSV file of invoices, streamed, bounded, resumable.

Why it is built this way:

- **Constant memory.** The file is read item by item and handed to
  :meth:`AsyncClient.issue_many` lazily; only requests in flight (and completions that
  finished ahead of an older one) are held. A first streaming pass counts the items (for
  progress and ETA) and hashes the file (the batch's identity).
- **Resumable, exactly-once.** Exactly-once comes from the ledger (seller tax ID + order id):
  re-running a file never issues an invoice twice, whatever was interrupted. On top of that
  the batch's progress — the number of leading items all finished — is saved in the ledger
  (``save_batch``) as it advances, so a re-run skips finished work quickly instead of
  replaying it. Nothing is missed either: an item past the saved position is simply handled
  again, and a request that was sent but whose outcome was lost with the process is
  settled by query (and resent only once the provider's visibility delay proves it never
  arrived) in the settling pass at the end.
- **Bad rows don't stop a batch.** An invalid row is reported with its line number and the
  field path (``line 7: lines[1].tax_rate``) and skipped.

The file formats (JSON Lines, the CSV layout documented in docs/config.md) are read and
written by ``batch_files.py``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from fapiao.errors import InvalidInvoice, ValidationIssue
from fapiao.masking import mask_tax_id
from fapiao.models import Invoice, InvoiceState
from fapiao.rules import compute_totals, load_json

from .batch_files import (
    FileItem,
    Format,
    detect_format,
    open_error,
    parse_item,
    read_items,
    relocate,
    scan,
)
from .issuance import Issuance
from .kernel import Kernel
from .ledger import SENT_UNSETTLED_STATES, EventSource, RequestKey
from .outcomes import BatchItem
from .reconcile import Reconciler, ReconcileReport

__all__ = [
    "BatchProgress",
    "BatchReport",
    "BatchRunner",
    "InvalidRow",
    "PilotRow",
]

_KEEP_ERRORS = 1000  # detailed failures kept in the report (all are counted)
_SAVE_EVERY = 0.5  # seconds between progress saves
_RESUME_CHUNK = 500  # items looked up in the ledger at once when a batch resumes
_TRACK_PENDING = 10_000
"""Asynchronously issued items kept for the settling pass; beyond this (huge batches on an
async vendor) they are only counted, so memory stays flat: callbacks or ``reconcile`` settle
them. Unknown outcomes are always kept (they are rare and must be settled)."""


# -- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvalidRow:
    """An input item that was skipped: where it is and every problem, with field paths."""

    line: int
    order_id: str | None
    issues: tuple[ValidationIssue, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "order_id": self.order_id,
            "issues": [i.to_dict() for i in self.issues],
        }


@dataclass(frozen=True)
class PilotRow:
    """One pilot order against its invoice: what the input says vs what was invoiced."""

    line: int
    seller_tax_id: str  # masked
    order_id: str
    state: str
    invoice_number: str | None
    expected_total_with_tax: Decimal
    invoiced_total_with_tax: Decimal | None

    @property
    def matches(self) -> bool:
        return (
            self.state == InvoiceState.ISSUED.value
            and self.invoiced_total_with_tax == self.expected_total_with_tax
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "seller_tax_id": self.seller_tax_id,
            "order_id": self.order_id,
            "state": self.state,
            "invoice_number": self.invoice_number,
            "expected_total_with_tax": str(self.expected_total_with_tax),
            "invoiced_total_with_tax": (
                str(self.invoiced_total_with_tax)
                if self.invoiced_total_with_tax is not None
                else None
            ),
            "matches": self.matches,
        }


@dataclass(frozen=True)
class BatchProgress:
    """Passed to the ``progress`` callback after every finished item."""

    total: int
    done: int
    issued: int
    pending: int
    failed: int
    invalid: int
    skipped: int
    elapsed: float

    @property
    def rate(self) -> float:
        worked = self.done - self.skipped
        return worked / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        return (self.total - self.done) / self.rate if self.rate > 0 else None


@dataclass
class BatchReport:
    path: str
    format: str
    batch_id: str
    total: int = 0
    skipped: int = 0  # finished by an earlier run (resumed past them)
    processed: int = 0
    issued: int = 0
    pending: int = 0  # issuing, or sent with an outcome still unknown after settling
    failed: int = 0
    invalid: int = 0
    invalid_rows: list[InvalidRow] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    pending_orders: list[dict[str, str]] = field(default_factory=list)
    pilot: list[PilotRow] | None = None
    settled: ReconcileReport | None = None
    elapsed: float = 0.0
    complete: bool = False

    @property
    def rate(self) -> float:
        return self.processed / self.elapsed if self.elapsed > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "batch_id": self.batch_id,
            "total": self.total,
            "skipped": self.skipped,
            "processed": self.processed,
            "issued": self.issued,
            "pending": self.pending,
            "failed": self.failed,
            "invalid": self.invalid,
            "complete": self.complete,
            "elapsed_seconds": round(self.elapsed, 3),
            "rate_per_second": round(self.rate, 1),
            "invalid_rows": [r.to_dict() for r in self.invalid_rows],
            "failures": list(self.failures),
            "pending_orders": list(self.pending_orders),
            "pilot": [r.to_dict() for r in self.pilot] if self.pilot is not None else None,
            "settled": self.settled.to_dict() if self.settled is not None else None,
        }


# -- running ----------------------------------------------------------------------------------


class _Tracker:
    """Which items are finished, so the saved position only ever covers finished work."""

    def __init__(self, start: int) -> None:
        self.watermark = start  # every item before this ordinal is finished
        self._done: set[int] = set()

    @property
    def finished(self) -> int:
        """How many items are finished (before the watermark or past it)."""
        return self.watermark + len(self._done)

    def finish(self, ordinal: int) -> None:
        self._done.add(ordinal)
        while self.watermark in self._done:
            self._done.remove(self.watermark)
            self.watermark += 1


class BatchRunner:
    """Runs batch files through issuance; settles what is left in flight by reconciliation."""

    def __init__(self, kernel: Kernel, issuance: Issuance, reconciler: Reconciler) -> None:
        self.kernel = kernel
        self.issuance = issuance
        self.reconciler = reconciler

    async def run(
        self,
        path: str | Path,
        *,
        fmt: Format | None = None,
        concurrency: int | None = None,
        pilot: int | None = None,
        progress: Callable[[BatchProgress], None] | None = None,
        settle: bool = True,
        settle_timeout: float | None = None,
    ) -> BatchReport:
        """Issue every invoice of a JSON Lines (``.jsonl``) or CSV (``.csv``) file.

        ``concurrency`` bounds requests in flight (each provider profile's limit and rate apply
        too). ``pilot=N`` issues the first N valid invoices, then stops and returns a
        reconciliation of orders vs invoices (``report.pilot``) — the go-live practice of
        checking a few real invoices before the rest. ``progress`` is called after each item.
        With ``settle`` (default) requests still in flight at the end — asynchronous issuance,
        unknown outcomes — are reconciled until settled or ``settle_timeout`` seconds (default:
        long enough for the slowest involved provider's timeout plus visibility delay).
        Re-running a killed batch finishes it with no duplicate and no loss.
        """
        file = Path(path)
        kind = detect_format(file, fmt)
        try:
            sha256, total = await asyncio.to_thread(scan, file, kind)
        except OSError as exc:
            raise open_error(file, exc) from None
        batch_id = f"{kind}:{sha256}"
        input_path = str(await asyncio.to_thread(file.resolve))
        report = BatchReport(str(file), kind, batch_id, total=total)
        saved = await self.kernel.ledger.get_batch(batch_id)
        # a pilot always means the file's first N orders: re-running it shows the same
        # reconciliation again (recorded outcomes, no provider call); a full run resumes
        start = min(saved.position, total) if saved is not None and pilot is None else 0
        if saved is not None and saved.done and pilot is None:
            report.skipped = total
            report.complete = True
            _restore_counts(report, saved.counts)
            return report
        report.skipped = start
        tracker = _Tracker(start)
        meta: dict[int, FileItem] = {}
        expected: dict[int, Decimal] = {}  # pilot: index → expected total with tax
        pending_keys: list[_Pending] = []
        began = time.monotonic()
        last_save = began

        async def save(done: bool = False) -> None:
            await self.kernel.ledger.save_batch(
                batch_id,
                input_path=input_path,
                input_sha256=sha256,
                position=tracker.watermark,
                counts=_counts(report),
                done=done,
            )

        await save()

        def tick() -> None:
            if progress is not None:
                progress(
                    BatchProgress(
                        total=total,
                        done=tracker.finished,
                        issued=report.issued,
                        pending=report.pending,
                        failed=report.failed,
                        invalid=report.invalid,
                        skipped=report.skipped,
                        elapsed=time.monotonic() - began,
                    )
                )

        def emit(item: FileItem, invoice: Invoice) -> Invoice:
            index = yielded[0]
            yielded[0] += 1
            meta[index] = item
            if pilot is not None:
                expected[index] = compute_totals(invoice).total_with_tax
            return invoice

        async def already_done(parsed: list[tuple[FileItem, Invoice]]) -> AsyncIterator[Invoice]:
            """Resuming: what the ledger already settled is skipped (an earlier run finished
            it), the rest goes on — one ledger read per chunk instead of a replay per item."""
            keys = [RequestKey(inv.seller.tax_id or "", inv.order_id) for _, inv in parsed]
            records = await self.kernel.ledger.get_many(keys)
            for (item, invoice), key in zip(parsed, keys, strict=True):
                record = records.get(key)
                if record is not None and self.issuance.settled_for(record, invoice):
                    report.skipped += 1
                    tracker.finish(item.ordinal)
                    tick()
                    continue
                yield emit(item, invoice)

        async def invoices() -> AsyncIterator[Invoice]:
            wanted = pilot
            resuming = saved is not None and pilot is None
            parsed: list[tuple[FileItem, Invoice]] = []
            for item in read_items(file, kind, parse=True):
                if item.ordinal < start:
                    continue
                if wanted is not None and wanted <= 0:
                    return
                try:
                    invoice = parse_item(item)
                    if wanted is not None:  # a pilot counts valid invoices only
                        self.issuance.validate(invoice)
                except InvalidInvoice as exc:
                    _invalid(report, item, relocate(exc.issues, item))
                    tracker.finish(item.ordinal)
                    tick()
                    continue
                if wanted is not None:
                    wanted -= 1
                if not resuming:
                    yield emit(item, invoice)
                    continue
                parsed.append((item, invoice))
                if len(parsed) >= _RESUME_CHUNK:
                    async for pending in already_done(parsed):
                        yield pending
                    parsed = []
            async for pending in already_done(parsed):
                yield pending

        yielded = [0]  # how many invoices went to the client: the BatchItem index
        stream = self.issuance.stream(invoices(), concurrency=concurrency, source=EventSource.BATCH)
        pilot_items: list[tuple[BatchItem, FileItem]] = []
        async for outcome in stream:
            item = meta.pop(outcome.index)
            report.processed += 1
            unknown = _record(report, outcome, item, pending_keys)
            if pilot is not None:
                pilot_items.append((outcome, item))
            if not unknown:  # an unknown outcome holds the saved position until it is settled
                tracker.finish(item.ordinal)
            tick()
            now = time.monotonic()
            if now - last_save >= _SAVE_EVERY:
                last_save = now
                await save()
        if settle and pending_keys:
            report.settled = await _settle(
                self.kernel, self.reconciler, report, pending_keys, settle_timeout, tracker
            )
        if settle and saved is not None:
            # resuming: what the interrupted run left open (issuing, unknown) is settled too
            extra = await self.reconciler.run()
            if report.settled is None:
                report.settled = extra
            else:
                report.settled.settled.update(extra.settled)
                report.settled.resubmitted.extend(extra.resubmitted)
        report.complete = tracker.watermark >= total
        report.elapsed = time.monotonic() - began
        await save(done=report.complete and pilot is None)
        if pilot is not None:
            report.pilot = await _pilot_rows(self.kernel, pilot_items, expected)
        return report


def _counts(report: BatchReport) -> dict[str, int]:
    return {
        "processed": report.processed,
        "issued": report.issued,
        "pending": report.pending,
        "failed": report.failed,
        "invalid": report.invalid,
    }


def _restore_counts(report: BatchReport, counts: Any) -> None:
    for name in ("issued", "pending", "failed", "invalid"):
        if isinstance(counts, dict) and isinstance(counts.get(name), int):
            setattr(report, name, counts[name])


def _invalid(report: BatchReport, item: FileItem, issues: tuple[ValidationIssue, ...]) -> None:
    report.invalid += 1
    data: Any = item.data
    if not isinstance(data, dict):
        try:
            data = load_json(data)  # bounded: the row may be hostile
        except InvalidInvoice:
            data = None
    value = data.get("order_id") if isinstance(data, dict) else None
    order_id = value if isinstance(value, str) else None
    if len(report.invalid_rows) < _KEEP_ERRORS:
        report.invalid_rows.append(InvalidRow(item.line, order_id, issues))


@dataclass(frozen=True)
class _Pending:
    key: RequestKey
    line: int
    ordinal: int
    unknown: bool  # sent, outcome unknown (or not accepted): it holds the saved position


def _record(
    report: BatchReport,
    outcome: BatchItem,
    item: FileItem,
    pending_keys: list[_Pending],
) -> bool:
    """Count one outcome; True when it is unknown (the saved position must wait for it)."""
    error = outcome.error
    if isinstance(error, InvalidInvoice):
        _invalid(report, item, relocate(error.issues, item))
        return False
    if outcome.pending:
        report.pending += 1
        unknown = error is not None
        if unknown or len(pending_keys) < _TRACK_PENDING:
            key = RequestKey(outcome.seller_tax_id, outcome.order_id)
            pending_keys.append(_Pending(key, item.line, item.ordinal, unknown))
        return unknown
    if error is not None:
        report.failed += 1
        if len(report.failures) < _KEEP_ERRORS:
            report.failures.append(
                {
                    "line": item.line,
                    "seller_tax_id": mask_tax_id(outcome.seller_tax_id),
                    "order_id": outcome.order_id,
                    "code": error.code,
                    "message": f"{error.message_zh} / {error.message_en}",
                }
            )
        return False
    report.issued += 1
    return False


async def _settle(
    kernel: Kernel,
    reconciler: Reconciler,
    report: BatchReport,
    pending_keys: list[_Pending],
    within: float | None,
    tracker: _Tracker,
) -> ReconcileReport:
    """Reconcile what is still in flight until it settles (or the time is up)."""
    entries = {p.key: p for p in pending_keys}
    keys = list(entries)
    timeout = within
    if timeout is None:
        known = await kernel.ledger.get_many(keys)
        profiles = {r.provider_profile for r in known.values()} or {""}
        profiles &= set(kernel.providers.profiles)
        timeout = (
            5.0
            + max(
                kernel.providers.visibility_seconds(p)
                + kernel.providers.profile(p).settings.timeout_seconds
                for p in profiles
            )
            if profiles
            else 5.0
        )
    deadline = time.monotonic() + timeout
    total = ReconcileReport()
    delay = 0.05
    while keys:
        step = await reconciler.run(keys=keys)
        total.resubmitted.extend(step.resubmitted)
        total.settled.update(step.settled)
        total.attention.extend(step.attention)
        total.errors = step.errors
        records = await kernel.ledger.get_many(keys)
        keys = [k for k in keys if k in records and records[k].state in SENT_UNSETTLED_STATES]
        if not keys or time.monotonic() >= deadline:
            break
        await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 1.0)
    records = await kernel.ledger.get_many(list(entries))
    report.pending -= len(entries)
    for key, entry in entries.items():
        record = records.get(key)
        if record is None:
            continue
        if record.state in SENT_UNSETTLED_STATES:
            report.pending += 1
            report.pending_orders.append(
                {
                    "line": str(entry.line),
                    "seller_tax_id": mask_tax_id(key.seller_tax_id),
                    "order_id": key.order_id,
                    "state": record.state.value,
                }
            )
            if record.state is InvoiceState.ISSUING and entry.unknown:
                tracker.finish(entry.ordinal)  # accepted now: not missing
            continue
        if entry.unknown:
            tracker.finish(entry.ordinal)
        if record.state is InvoiceState.FAILED:
            report.failed += 1
            report.failures.append(
                {
                    "line": entry.line,
                    "seller_tax_id": mask_tax_id(key.seller_tax_id),
                    "order_id": key.order_id,
                    "code": record.error_code or "",
                    "message": record.error_message or "",
                }
            )
        else:
            report.issued += 1
    return total


async def _pilot_rows(
    kernel: Kernel,
    items: list[tuple[BatchItem, FileItem]],
    expected: dict[int, Decimal],
) -> list[PilotRow]:
    keys = [RequestKey(o.seller_tax_id, o.order_id) for o, _ in items]
    records = await kernel.ledger.get_many(keys)
    rows = []
    for outcome, item in sorted(items, key=lambda pair: pair[1].ordinal):
        record = records.get(RequestKey(outcome.seller_tax_id, outcome.order_id))
        want = expected.get(outcome.index)
        if want is None:
            continue
        rows.append(
            PilotRow(
                line=item.line,
                seller_tax_id=mask_tax_id(outcome.seller_tax_id),
                order_id=outcome.order_id,
                state=record.state.value if record is not None else "not_recorded",
                invoice_number=record.invoice_number if record is not None else None,
                expected_total_with_tax=want,
                invoiced_total_with_tax=record.total_with_tax if record is not None else None,
            )
        )
    return rows

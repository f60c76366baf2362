"""The ledger's async API: what the engine calls to make issuance exactly-once (docs/architecture.md §3).

Every write goes through the group-commit writer (``writer.py``) and returns only after its
transaction committed, so a state the caller acts on (above all ``submitted``, recorded
before the provider is called) is durable. Reads run on a small pool of read connections in
worker threads by default (``reads="pool"``): under write load a read through the writer
queue (``reads="writer"``) waits for the group ahead of it to commit, fsync included, which
made its median latency about ten times the pool's in bench/ledger_commit.py; the writer
queue costs the writes less CPU, which is why it stays available.
Input is checked in the caller's thread before it is queued: a float amount, an unknown
event source or a secret in a payload fails at once with a bilingual error naming the field.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Literal, TypeVar

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import SQLAlchemyError

from fapiao.engine.ledger import fastpath, lifecycle, progress, red_forms
from fapiao.engine.ledger.database import (
    Synchronous,
    is_sqlite,
    make_engine,
    normalise_url,
)
from fapiao.engine.ledger.migrate import current_revision, head_revision, upgrade
from fapiao.engine.ledger.payload import canonical_payload, json_detail
from fapiao.engine.ledger.records import (
    BatchRecord,
    DocumentRecord,
    EventSource,
    LedgerEvent,
    LedgerRecord,
    LedgerStats,
    RedConfirmationRecord,
    RequestKey,
    RequestKind,
)
from fapiao.engine.ledger.writer import GroupCommitWriter, Operation, WriterStats
from fapiao.errors import ConfigError, FapiaoError, InvalidRequest, LedgerUnavailable
from fapiao.masking import Scrubber
from fapiao.models import (
    DocumentFormat,
    ErrorInfo,
    InvoiceState,
    InvoiceStatus,
    RedConfirmation,
    to_decimal,
)

__all__ = ["DEFAULT_URL", "Ledger"]

DEFAULT_URL = "sqlite:///fapiao.db"
_MAX_ERROR_TEXT = 2000

T = TypeVar("T")
Reads = Literal["pool", "writer"]


def _bad_argument(field: str, message_en: str, message_zh: str) -> InvalidRequest:
    return InvalidRequest(message_en, message_zh=message_zh, field=field, retryable=False)


def _source(value: str | EventSource) -> EventSource:
    try:
        return EventSource(value)
    except ValueError:
        allowed = ", ".join(s.value for s in EventSource)
        raise _bad_argument(
            "source",
            f"unknown event source {value!r}; expected one of: {allowed}",
            f"未知的事件来源 {value!r}，应为：{allowed}",
        ) from None


def _kind(value: str | RequestKind) -> RequestKind:
    try:
        return RequestKind(value)
    except ValueError:
        raise _bad_argument(
            "kind",
            f"unknown request kind {value!r}; expected blue or red",
            f"未知的请求类型 {value!r}，应为 blue（蓝票）或 red（红票）",
        ) from None


def _money(name: str, value: Decimal | str | int | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return to_decimal(value)
    except (ValueError, ArithmeticError) as exc:
        raise _bad_argument(name, f"{name}: {exc}", f"{name}：{exc}") from None


def _check_key(key: RequestKey) -> RequestKey:
    if not isinstance(key, RequestKey):
        raise TypeError(f"expected a RequestKey, got {type(key).__name__}")
    if not key.seller_tax_id or not key.order_id:
        raise _bad_argument(
            "order_id",
            "the key needs a seller tax ID and an order id",
            "幂等键须包含销方税号与订单号",
        )
    return key


class Ledger:
    """The durable record of every invoice request, its state and its events.

    Open it with :meth:`open`; use it from asyncio code; close it once (``close``/``aclose``
    or ``async with``). One ``Ledger`` per process: it owns the process's write connection.
    """

    def __init__(
        self,
        url: URL,
        writer_engine: Engine,
        reader_engine: Engine,
        *,
        scrubber: Scrubber | None = None,
        reads: Reads = "pool",
        max_batch: int = 500,
        max_delay: float = 0.0,
    ) -> None:
        self.url = url
        self._writer_engine = writer_engine
        self._reader_engine = reader_engine
        self._scrubber = scrubber or Scrubber()
        self._reads: Reads = reads
        self._writer = GroupCommitWriter(
            writer_engine, max_batch=max_batch, max_delay=max_delay, on_rollback=fastpath.forget
        )

    @classmethod
    def open(
        cls,
        url: str | URL = DEFAULT_URL,
        *,
        migrate: bool = True,
        synchronous: Synchronous = "FULL",
        scrubber: Scrubber | None = None,
        reads: Reads = "pool",
        read_pool_size: int = 4,
        max_batch: int = 500,
        max_delay: float = 0.0,
    ) -> Ledger:
        """Connect, bring the schema to the current revision (or check it is there), start
        the writer. ``synchronous`` applies to SQLite only (see ``database.py``)."""
        parsed = normalise_url(url)
        if is_sqlite(parsed):
            writer = make_engine(parsed, role="writer", synchronous=synchronous)
            reader = make_engine(
                parsed, role="reader", synchronous=synchronous, pool_size=read_pool_size
            )
            migrator = make_engine(parsed, role="migrator", synchronous=synchronous)
        else:
            writer = reader = migrator = make_engine(
                parsed, role="writer", pool_size=read_pool_size + 1
            )
        try:
            if migrate:
                upgrade(migrator)
            else:
                cls._check_revision(migrator)
        except SQLAlchemyError as exc:
            writer.dispose()
            reader.dispose()
            raise LedgerUnavailable(
                f"cannot open the ledger at {parsed.render_as_string(hide_password=True)}: "
                f"{type(exc).__name__}",
                message_zh=f"无法打开账本 {parsed.render_as_string(hide_password=True)}："
                f"{type(exc).__name__}",
            ) from exc
        finally:
            if migrator is not writer:
                migrator.dispose()
        return cls(
            parsed,
            writer,
            reader,
            scrubber=scrubber,
            reads=reads,
            max_batch=max_batch,
            max_delay=max_delay,
        )

    @classmethod
    async def aopen(cls, url: str | URL = DEFAULT_URL, **options: Any) -> Ledger:
        """:meth:`open` without blocking the event loop (migrations may take a while)."""
        return await asyncio.to_thread(lambda: cls.open(url, **options))

    @staticmethod
    def _check_revision(engine: Engine) -> None:
        current, head = current_revision(engine), head_revision()
        if current != head:
            raise ConfigError(
                f"the ledger schema is at revision {current or 'none'}, this fapiao needs "
                f"{head}; open it with migrate=True to upgrade",
                message_zh=f"账本结构版本为 {current or '无'}，当前 fapiao 需要 {head}；"
                "请以 migrate=True 打开以升级",
                field="ledger.url",
            )

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        """Commit what is queued, stop the writer, release every connection."""
        self._writer.close()
        self._writer_engine.dispose()
        self._reader_engine.dispose()

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    async def __aenter__(self) -> Ledger:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def writer_stats(self) -> WriterStats:
        return self._writer.stats

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    # -- plumbing ---------------------------------------------------------------------------

    async def _write(self, op: Operation[T]) -> T:
        return await self._writer.submit(op)

    def _read_now(self, op: Operation[T]) -> T:
        try:
            with self._reader_engine.connect() as connection, connection.begin():
                return op(connection)
        except SQLAlchemyError as exc:
            raise LedgerUnavailable(
                f"the ledger could not be read ({type(exc).__name__})",
                message_zh=f"账本读取失败（{type(exc).__name__}）",
            ) from exc

    async def _read(self, op: Operation[T]) -> T:
        if self._writer.closed:
            raise LedgerUnavailable(
                "the ledger is closed", message_zh="账本已关闭", retryable=False
            )
        if self._reads == "writer":
            return await self._writer.submit(op)
        return await asyncio.to_thread(self._read_now, op)

    def _error_text(self, text: str | None) -> str | None:
        if text is None:
            return None
        return self._scrubber.scrub(text)[:_MAX_ERROR_TEXT]

    @staticmethod
    def _describe(error: FapiaoError | ErrorInfo) -> tuple[str, str]:
        text = f"{error.message_zh} / {error.message_en}"
        if error.raw_code or error.raw_message:
            text += f" (provider: {error.raw_code or ''} {error.raw_message or ''})".replace(
                "  ", " "
            )
        return error.code, text

    # -- requests ---------------------------------------------------------------------------

    async def reserve(
        self,
        key: RequestKey,
        *,
        kind: str | RequestKind = RequestKind.BLUE,
        provider_profile: str,
        provider: str,
        payload: Mapping[str, Any] | BaseModel,
        initial_state: InvoiceState = InvoiceState.VALIDATED,
        original_order_id: str | None = None,
        source: str | EventSource = EventSource.API,
    ) -> tuple[LedgerRecord, bool]:
        """Claim the idempotency key. Returns ``(record, created)``; for a key already in the
        ledger, the existing record comes back untouched (whatever ``payload`` says now)."""
        _check_key(key)
        request_kind = _kind(kind)
        if request_kind is RequestKind.RED and not original_order_id:
            raise _bad_argument(
                "original_order_id",
                "a red request needs the order id of the blue invoice it reverses",
                "红票请求须给出被冲蓝票的订单号",
            )
        if initial_state not in lifecycle.RESERVABLE_STATES:
            allowed = ", ".join(sorted(s.value for s in lifecycle.RESERVABLE_STATES))
            raise _bad_argument(
                "initial_state",
                f"a record cannot start as {initial_state}; it starts as one of: {allowed}",
                f"记录不能以 {initial_state} 状态创建，只能是：{allowed}",
            )
        stored = canonical_payload(payload)
        event_source = _source(source)

        def op(connection: Connection) -> tuple[LedgerRecord, bool]:
            return lifecycle.reserve(
                connection,
                key,
                kind=request_kind,
                provider_profile=provider_profile,
                provider=provider,
                payload=stored,
                initial_state=initial_state,
                original_order_id=original_order_id,
                source=event_source,
            )

        return await self._write(op)

    async def transition(
        self,
        key: RequestKey,
        to: InvoiceState,
        *,
        source: str | EventSource,
        detail: Mapping[str, Any] | None = None,
        serial_number: str | None = None,
        invoice_number: str | None = None,
        issued_at: datetime | None = None,
        total_amount: Decimal | str | int | None = None,
        total_tax: Decimal | str | int | None = None,
        total_with_tax: Decimal | str | int | None = None,
        error: FapiaoError | ErrorInfo | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
        attempts_increment: int = 0,
        expect_from: Collection[InvoiceState] | None = None,
    ) -> LedgerRecord:
        """Move the record to ``to`` and write its event, in one transaction.

        Refused with ``InvalidStateTransition`` unless the state machine allows it (and,
        with ``expect_from``, unless the record is in one of those states: a compare-and-set
        for decisions taken on an earlier read). Fields left ``None`` keep their value;
        reaching ``issued`` clears the last error unless one is given.
        """
        _check_key(key)
        event_source = _source(source)
        fields: dict[str, Any] = {
            "serial_number": serial_number,
            "invoice_number": invoice_number,
            "issued_at": issued_at,
            "total_amount": _money("total_amount", total_amount),
            "total_tax": _money("total_tax", total_tax),
            "total_with_tax": _money("total_with_tax", total_with_tax),
        }
        if error is not None:
            error_code, error_message = self._describe(error)
        fields["error_code"] = error_code
        fields["error_message"] = self._error_text(error_message)
        fields = {name: value for name, value in fields.items() if value is not None}
        stored_detail = json_detail(detail, self._scrubber)
        target = InvoiceState(to)

        def op(connection: Connection) -> LedgerRecord:
            return lifecycle.transition(
                connection,
                key,
                target,
                source=event_source,
                detail=stored_detail,
                fields=fields,
                attempts_increment=attempts_increment,
                expect_from=expect_from,
            )

        return await self._write(op)

    async def apply_status(
        self, key: RequestKey, status: InvoiceStatus, *, source: str | EventSource
    ) -> LedgerRecord:
        """Apply a provider's report idempotently: duplicates, late and out-of-order reports
        never move the record backwards (see ``fapiao.engine.ledger.states.decide_status``)."""
        _check_key(key)
        if (status.seller_tax_id, status.order_id) != (key.seller_tax_id, key.order_id):
            raise _bad_argument(
                "order_id",
                f"the status reports order {status.order_id}, not {key.order_id}",
                f"状态报告的订单为 {status.order_id}，而非 {key.order_id}",
            )
        event_source = _source(source)
        message = None
        if status.error is not None:
            message = self._error_text(self._describe(status.error)[1])

        def op(connection: Connection) -> LedgerRecord:
            return lifecycle.apply_status(
                connection, key, status, source=event_source, error_message=message
            )

        return await self._write(op)

    async def get(self, key: RequestKey) -> LedgerRecord | None:
        _check_key(key)
        return await self._read(lambda c: lifecycle.get(c, key))

    async def get_many(self, keys: Iterable[RequestKey]) -> dict[RequestKey, LedgerRecord]:
        wanted = [_check_key(k) for k in keys]
        return await self._read(lambda c: lifecycle.get_many(c, wanted))

    async def non_final(
        self,
        *,
        states: Collection[InvoiceState] | None = None,
        profile: str | None = None,
        limit: int = 1000,
        after_id: int | None = None,
    ) -> list[LedgerRecord]:
        """Unsettled records (default: ``lifecycle.UNSETTLED_STATES``), oldest first; pass the last
        record's ``id`` as ``after_id`` for the next page."""
        return await self._read(
            lambda c: lifecycle.non_final(
                c, states=states, profile=profile, limit=limit, after_id=after_id
            )
        )

    async def events(self, key: RequestKey) -> list[LedgerEvent]:
        _check_key(key)
        return await self._read(lambda c: lifecycle.events(c, key))

    async def stats(self) -> LedgerStats:
        return await self._read(lifecycle.stats)

    # -- documents --------------------------------------------------------------------------

    async def add_document(
        self, key: RequestKey, fmt: DocumentFormat | str, sha256: str, size: int, location: str
    ) -> None:
        """Record a verified file (hash, size, where it is); the same file twice is a no-op."""
        _check_key(key)
        document_format = DocumentFormat(fmt)
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise _bad_argument(
                "sha256",
                "sha256 must be 64 lowercase hexadecimal characters",
                "sha256 须为 64 位小写十六进制字符",
            )
        await self._write(
            lambda c: lifecycle.add_document(c, key, document_format, sha256, size, location)
        )

    async def documents(self, key: RequestKey) -> list[DocumentRecord]:
        _check_key(key)
        return await self._read(lambda c: lifecycle.documents(c, key))

    # -- red reversal -----------------------------------------------------------------------

    async def save_red_confirmation(
        self,
        original: RequestKey,
        confirmation: RedConfirmation,
        *,
        line_amounts: Mapping[int, Decimal | str | int],
        red_order_id: str | None = None,
    ) -> RedConfirmationRecord:
        """Record (or update) a 红字确认单 against the blue request ``original``.

        ``line_amounts`` maps each blue line index to the positive amount (不含税) the form
        reverses; :meth:`reversed_amounts` sums them for the "never above what remains" rule.
        """
        _check_key(original)
        amounts: dict[int, Decimal] = {}
        for line, value in line_amounts.items():
            amount = _money(f"line_amounts[{line}]", value)
            if not isinstance(line, int) or line < 0 or amount is None or amount < 0:
                raise _bad_argument(
                    f"line_amounts[{line}]",
                    "line amounts map a blue line index (0, 1, ...) to a positive amount",
                    "行金额须为 蓝票行号（0 起）→ 正数金额",
                )
            amounts[line] = amount
        order = red_order_id or confirmation.order_id
        return await self._write(
            lambda c: red_forms.save_red_confirmation(
                c, original, confirmation, line_amounts=amounts, red_order_id=order
            )
        )

    async def red_confirmations(self, original: RequestKey) -> list[RedConfirmationRecord]:
        _check_key(original)
        return await self._read(lambda c: red_forms.red_confirmations(c, original))

    async def reversed_amounts(
        self, original: RequestKey, *, include_pending: bool = True
    ) -> dict[int, Decimal]:
        _check_key(original)
        return await self._read(
            lambda c: red_forms.reversed_amounts(c, original, include_pending=include_pending)
        )

    # -- cursors and batches ----------------------------------------------------------------

    async def get_cursor(self, name: str) -> str | None:
        return await self._read(lambda c: progress.get_cursor(c, name))

    async def set_cursor(self, name: str, value: str) -> None:
        await self._write(lambda c: progress.set_cursor(c, name, value))

    async def claim_callback(self, profile: str, callback_id: str, *, keep: float) -> bool:
        """True the first time a provider's callback id is seen (by any process), False for a
        replay; ids are kept ``keep`` seconds (the plugin's freshness window)."""
        return await self._write(lambda c: progress.claim_callback(c, profile, callback_id, keep))

    async def get_batch(self, batch_id: str) -> BatchRecord | None:
        return await self._read(lambda c: progress.get_batch(c, batch_id))

    async def save_batch(
        self,
        batch_id: str,
        *,
        input_path: str,
        input_sha256: str | None = None,
        position: int = 0,
        counts: Mapping[str, int] | None = None,
        done: bool = False,
    ) -> BatchRecord:
        """Create or advance a batch's progress (the position never moves back)."""
        return await self._write(
            lambda c: progress.save_batch(
                c,
                batch_id,
                input_path=input_path,
                input_sha256=input_sha256,
                position=position,
                counts=dict(counts or {}),
                done=done,
            )
        )

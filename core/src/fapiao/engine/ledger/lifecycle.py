"""Requests, their events and documents: the ledger's core SQL, as functions of a connection.

They run in the writer thread (writes) or on a read connection (reads).

Each write function changes a request row and inserts its event in the caller's transaction,
so a group commit can never persist one without the other. Updates carry an optimistic
``version`` check: with several worker processes on one PostgreSQL database, a concurrent
change makes the update miss, and the function re-reads and re-decides instead of
overwriting a state it never saw.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import Row, func, select, tuple_
from sqlalchemy.engine import Connection

from fapiao.engine.ledger import fastpath
from fapiao.engine.ledger import schema as t
from fapiao.engine.ledger.columns import to_utc
from fapiao.engine.ledger.records import (
    DocumentRecord,
    EventSource,
    LedgerEvent,
    LedgerRecord,
    LedgerStats,
    RequestKey,
    RequestKind,
)
from fapiao.engine.ledger.statements import (
    KEY,
    SELECT_REQUEST,
    insert_on_conflict,
    key_params,
    not_found,
    now,
    request_id,
)
from fapiao.engine.ledger.states import (
    RESERVABLE_STATES,
    UNSETTLED_STATES,
    StatusDecision,
    check_transition,
    decide_status,
)
from fapiao.errors import InvalidStateTransition, LedgerUnavailable
from fapiao.models import DocumentFormat, InvoiceState, InvoiceStatus

__all__ = [
    "RESERVABLE_STATES",
    "UNSETTLED_STATES",
    "add_document",
    "apply_status",
    "documents",
    "events",
    "get",
    "get_many",
    "non_final",
    "reserve",
    "stats",
    "transition",
]

S = InvoiceState

_MAX_RETRIES = 5
_CHUNK = 400  # keys per IN (...) query: far below every driver's parameter limit


def _record(row: Row[Any]) -> LedgerRecord:
    m = row._mapping
    return LedgerRecord(
        key=RequestKey(m["seller_tax_id"], m["order_id"]),
        kind=RequestKind(m["kind"]),
        state=InvoiceState(m["state"]),
        provider_profile=m["provider_profile"],
        provider=m["provider"],
        payload=m["payload"],
        serial_number=m["serial_number"],
        invoice_number=m["invoice_number"],
        issued_at=m["issued_at"],
        total_amount=m["total_amount"],
        total_tax=m["total_tax"],
        total_with_tax=m["total_with_tax"],
        attempts=m["attempts"],
        error_code=m["error_code"],
        error_message=m["error_message"],
        original_order_id=m["original_order_id"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        version=m["version"],
        id=m["id"],
    )


def _load(
    connection: Connection, key: RequestKey, *, fresh: bool = False
) -> tuple[LedgerRecord, bool]:
    """The record and whether it was read from the database just now. The writer's cache
    serves unless ``fresh``: a decision not to write must never rest on a cached copy,
    since another process may have moved the row."""
    session = fastpath.session(connection)
    if not fresh:
        found = session.cached(key)
        if found is not None:
            return found, False
    row = connection.execute(SELECT_REQUEST, key_params(key)).first()
    if row is None:
        raise not_found(key)
    record = _record(row)
    session.remember(record)
    return record, True


def _event(
    session: fastpath.Session,
    row_id: int,
    from_state: InvoiceState | None,
    to_state: InvoiceState,
    source: EventSource,
    detail: Mapping[str, Any] | None,
    at: Any,
) -> None:
    """Insert an event; ``at`` is already in the database's form (``FastSql.time``)."""
    params: dict[str, Any] = {
        "request_id": row_id,
        "from_state": from_state.value if from_state is not None else None,
        "to_state": to_state.value,
        "source": source.value,
        "detail": session.sql.bind_detail(detail),
        "at": at,
    }
    session.cursor.execute(session.sql.insert_event, params)


def _write(
    connection: Connection,
    record: LedgerRecord,
    fields: Mapping[str, Any],
    *,
    to_state: InvoiceState,
    source: EventSource,
    detail: Mapping[str, Any] | None,
) -> LedgerRecord | None:
    """Update the row (and insert its event) if nobody changed it since ``record`` was read;
    None if somebody did. ``fields`` hold Python values of request columns."""
    session = fastpath.session(connection)
    sql = session.sql
    at = now()
    at_db = sql.time(at)
    version = record.version + 1
    params: dict[str, Any] = {"state": to_state.value, "updated_at": at_db, "version": version}
    sql.bind("fapiao_requests", fields, params)
    statement = sql.update_request(params)
    params["w_seller"] = record.key.seller_tax_id
    params["w_order"] = record.key.order_id
    params["w_version"] = record.version
    if sql.combined:  # the statement inserts the event too
        params["e_from"] = record.state.value
        params["e_source"] = source.value
        params["e_detail"] = sql.bind_detail(detail)
    cursor = session.cursor
    cursor.execute(statement, params)
    if cursor.rowcount != 1:
        return None
    if not sql.combined:
        _event(session, record.id, record.state, to_state, source, detail, at_db)
    changes = dict(fields)
    if changes.get("issued_at") is not None:
        changes["issued_at"] = to_utc(changes["issued_at"])
    written = replace(record, state=to_state, updated_at=at, version=version, **changes)
    session.remember(written)
    return written


def _conflict_exhausted(key: RequestKey) -> LedgerUnavailable:
    return LedgerUnavailable(
        f"order {key.order_id} kept changing under concurrent writers; retry",
        message_zh=f"订单 {key.order_id} 被并发写入反复修改，请重试",
    )


# -- requests ---------------------------------------------------------------------------------


def reserve(
    connection: Connection,
    key: RequestKey,
    *,
    kind: RequestKind,
    provider_profile: str,
    provider: str,
    payload: dict[str, Any],
    initial_state: InvoiceState,
    original_order_id: str | None,
    source: EventSource,
) -> tuple[LedgerRecord, bool]:
    """Create the record unless the key exists; the existing record is returned untouched."""
    if initial_state not in RESERVABLE_STATES:
        allowed = ", ".join(sorted(s.value for s in RESERVABLE_STATES))
        raise InvalidStateTransition(
            f"a record cannot start as {initial_state.value}; it starts as one of: {allowed}",
            message_zh=f"记录不能以 {initial_state.value} 状态创建，只能是：{allowed}",
            field="initial_state",
        )
    session = fastpath.session(connection)
    sql = session.sql
    at = now()
    at_db = sql.time(at)
    params = dict.fromkeys(sql.request_columns)
    params.update(
        seller_tax_id=key.seller_tax_id,
        order_id=key.order_id,
        kind=kind.value,
        original_order_id=original_order_id,
        provider_profile=provider_profile,
        provider=provider,
        state=initial_state.value,
        attempts=0,
        created_at=at_db,
        updated_at=at_db,
        version=1,
    )
    sql.bind("fapiao_requests", {"payload": payload}, params)
    if sql.combined:  # the statement inserts the creation event too
        params["e_source"] = source.value
    cursor = session.cursor
    cursor.execute(sql.insert_request, params)
    inserted = cursor.fetchone()
    if inserted is None:
        return _load(connection, key, fresh=True)[0], False
    new_id = int(inserted[0])
    if not sql.combined:
        _event(session, new_id, None, initial_state, source, None, at_db)
    record = LedgerRecord(
        key=key,
        kind=kind,
        state=initial_state,
        provider_profile=provider_profile,
        provider=provider,
        payload=payload,
        serial_number=None,
        invoice_number=None,
        issued_at=None,
        total_amount=None,
        total_tax=None,
        total_with_tax=None,
        attempts=0,
        error_code=None,
        error_message=None,
        original_order_id=original_order_id,
        created_at=at,
        updated_at=at,
        version=1,
        id=new_id,
    )
    session.remember(record)
    return record, True


def transition(
    connection: Connection,
    key: RequestKey,
    to: InvoiceState,
    *,
    source: EventSource,
    detail: Mapping[str, Any] | None,
    fields: Mapping[str, Any],
    attempts_increment: int,
    expect_from: Collection[InvoiceState] | None,
) -> LedgerRecord:
    """An explicit change decided by us: refused unless the state machine allows it."""
    fresh = False
    for _ in range(_MAX_RETRIES):
        record, fresh = _load(connection, key, fresh=fresh)
        try:
            _check_explicit(record, to, expect_from)
        except InvalidStateTransition:
            if fresh:
                raise
            fresh = True  # refuse only on what the database says, not on a cached copy
            continue
        values = dict(fields)
        if attempts_increment:
            values["attempts"] = record.attempts + attempts_increment
        if to is S.ISSUED and "error_code" not in fields:
            values["error_code"] = None
            values["error_message"] = None
        written = _write(connection, record, values, to_state=to, source=source, detail=detail)
        if written is not None:
            return written
        fresh = True
    raise _conflict_exhausted(key)


def _check_explicit(
    record: LedgerRecord, to: InvoiceState, expect_from: Collection[InvoiceState] | None
) -> None:
    key = record.key
    if expect_from is not None and record.state not in expect_from:
        expected = ", ".join(sorted(s.value for s in expect_from))
        raise InvalidStateTransition(
            f"order {key.order_id} is {record.state.value}, expected {expected} "
            f"before moving to {to.value}",
            message_zh=f"订单 {key.order_id} 当前为 {record.state.value}，"
            f"转为 {to.value} 前应为：{expected}",
            field="state",
        )
    check_transition(record.state, to, seller_tax_id=key.seller_tax_id, order_id=key.order_id)


def _status_values(status: InvoiceStatus, message: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in (
        "serial_number",
        "invoice_number",
        "issued_at",
        "total_amount",
        "total_tax",
        "total_with_tax",
    ):
        value = getattr(status, name)
        if value is not None:
            values[name] = value
    if status.error is not None:
        values["error_code"] = status.error.code
        values["error_message"] = message
    return values


def _status_detail(status: InvoiceStatus, extra: Mapping[str, Any]) -> dict[str, Any]:
    detail: dict[str, Any] = {"provider": status.provider, **extra}
    if status.raw_status is not None:
        detail["raw_status"] = status.raw_status
    if status.error is not None:
        detail["error_code"] = status.error.code
    return detail


def _number_taken(connection: Connection, number: str, record: LedgerRecord) -> bool:
    """Whether another request already holds ``number`` (an invoice number is one invoice's:
    a report giving it to a second record is refused, never applied)."""
    holder = connection.execute(
        select(t.requests.c.id)
        .where(t.requests.c.invoice_number == number, t.requests.c.id != record.id)
        .limit(1)
    ).first()
    return holder is not None


def apply_status(
    connection: Connection,
    key: RequestKey,
    status: InvoiceStatus,
    *,
    source: EventSource,
    error_message: str | None,
) -> LedgerRecord:
    """A provider's report: applied only if it moves the record forward (see ``states``)."""
    fresh = False
    for _ in range(_MAX_RETRIES):
        record, fresh = _load(connection, key, fresh=fresh)
        decision = decide_status(record.state, status.state)
        reported = _status_values(status, error_message)
        missing = {
            name: value
            for name, value in reported.items()
            if name not in {"error_code", "error_message"} and getattr(record, name) is None
        }
        if decision in {StatusDecision.STALE, StatusDecision.HELD} or (
            decision is StatusDecision.SAME and not missing
        ):
            if fresh:
                return record
            fresh = True  # a no-op must rest on the database, not on a cached copy
            continue
        number = reported.get("invoice_number")
        if (
            decision is not StatusDecision.CONFLICT
            and number is not None
            and number != record.invoice_number
            and _number_taken(connection, number, record)
        ):
            decision = StatusDecision.CONFLICT
            reason = "invoice number already recorded for another request"
        else:
            reason = "conflicts with the ledger"
        if decision is StatusDecision.APPLY:
            values = reported
            if status.state is S.ISSUED and status.error is None:
                values = {**reported, "error_code": None, "error_message": None}
            detail = _status_detail(status, {})
            written = _write(
                connection, record, values, to_state=status.state, source=source, detail=detail
            )
        elif decision is StatusDecision.SAME:
            detail = _status_detail(status, {"filled": sorted(missing)})
            written = _write(
                connection, record, missing, to_state=record.state, source=source, detail=detail
            )
        else:  # CONFLICT: keep the record, leave a trace for reconciliation and audits
            detail = _status_detail(status, {"ignored": status.state.value, "reason": reason})
            written = _write(
                connection, record, {}, to_state=record.state, source=source, detail=detail
            )
        if written is not None:
            return written
        fresh = True
    raise _conflict_exhausted(key)


def get(connection: Connection, key: RequestKey) -> LedgerRecord | None:
    row = connection.execute(SELECT_REQUEST, key_params(key)).first()
    return _record(row) if row is not None else None


def get_many(connection: Connection, keys: Iterable[RequestKey]) -> dict[RequestKey, LedgerRecord]:
    wanted = list(dict.fromkeys(keys))
    found: dict[RequestKey, LedgerRecord] = {}
    columns = tuple_(t.requests.c.seller_tax_id, t.requests.c.order_id)
    for start in range(0, len(wanted), _CHUNK):
        chunk = [(k.seller_tax_id, k.order_id) for k in wanted[start : start + _CHUNK]]
        for row in connection.execute(select(t.requests).where(columns.in_(chunk))):
            record = _record(row)
            found[record.key] = record
    return found


def non_final(
    connection: Connection,
    *,
    states: Collection[InvoiceState] | None,
    profile: str | None,
    limit: int,
    after_id: int | None,
) -> list[LedgerRecord]:
    """Unsettled records in creation order; page with ``after_id`` (the last record's id)."""
    wanted = UNSETTLED_STATES if states is None else frozenset(states)
    query = select(t.requests).where(t.requests.c.state.in_([s.value for s in wanted]))
    if profile is not None:
        query = query.where(t.requests.c.provider_profile == profile)
    if after_id is not None:
        query = query.where(t.requests.c.id > after_id)
    rows = connection.execute(query.order_by(t.requests.c.id).limit(limit))
    return [_record(row) for row in rows]


_SELECT_EVENTS = (
    select(t.events)
    .join(t.requests, t.requests.c.id == t.events.c.request_id)
    .where(KEY)
    .order_by(t.events.c.id)
)


def events(connection: Connection, key: RequestKey) -> list[LedgerEvent]:
    return [
        LedgerEvent(
            key=key,
            from_state=InvoiceState(m["from_state"]) if m["from_state"] else None,
            to_state=InvoiceState(m["to_state"]),
            source=EventSource(m["source"]),
            detail=m["detail"],
            at=m["at"],
            id=m["id"],
        )
        for m in (row._mapping for row in connection.execute(_SELECT_EVENTS, key_params(key)))
    ]


def stats(connection: Connection) -> LedgerStats:
    query = select(
        t.requests.c.provider_profile, t.requests.c.state, func.count().label("n")
    ).group_by(t.requests.c.provider_profile, t.requests.c.state)
    by_state: dict[InvoiceState, int] = {}
    by_profile: dict[str, dict[InvoiceState, int]] = {}
    for profile, state_value, count in connection.execute(query):
        state = InvoiceState(state_value)
        by_state[state] = by_state.get(state, 0) + count
        by_profile.setdefault(profile, {})[state] = count
    return LedgerStats(
        total=sum(by_state.values()),
        by_state=by_state,
        by_profile=by_profile,
        non_final=sum(n for s, n in by_state.items() if s in UNSETTLED_STATES),
    )


# -- documents ---------------------------------------------------------------------------------


_ADD_DOCUMENT = insert_on_conflict(t.documents, ["request_id", "format", "sha256"])


def add_document(
    connection: Connection,
    key: RequestKey,
    fmt: DocumentFormat,
    sha256: str,
    size: int,
    location: str,
) -> None:
    """Record a verified file; recording the same file again is a no-op."""
    connection.execute(
        _ADD_DOCUMENT,
        {
            "request_id": request_id(connection, key),
            "format": fmt.value,
            "sha256": sha256,
            "size": size,
            "location": location,
            "created_at": now(),
        },
    )


_SELECT_DOCUMENTS = (
    select(t.documents)
    .join(t.requests, t.requests.c.id == t.documents.c.request_id)
    .where(KEY)
    .order_by(t.documents.c.id)
)


def documents(connection: Connection, key: RequestKey) -> list[DocumentRecord]:
    return [
        DocumentRecord(
            key=key,
            format=DocumentFormat(m["format"]),
            sha256=m["sha256"],
            size=m["size"],
            location=m["location"],
            created_at=m["created_at"],
        )
        for m in (row._mapping for row in connection.execute(_SELECT_DOCUMENTS, key_params(key)))
    ]

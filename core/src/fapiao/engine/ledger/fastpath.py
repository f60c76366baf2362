"""The three statements every invoice runs through, kept off SQLAlchemy's per-call overhead.

An invoice's life in the ledger is: insert the request and its event, then for each
transition update the row and insert an event. Through SQLAlchemy Core each ``execute``
costs several times the SQL itself in Python (bench/ledger_commit.py), and that CPU is taken
from the event loop that drives the providers. So these statements run on a DBAPI cursor of
the writer's SQLAlchemy connection: same connection, same transaction and SAVEPOINTs
(SQLAlchemy still owns those), values converted by the very bind processors of the schema's
column types, so rows are exactly what SQLAlchemy would write and read back. Everything else
(reads, documents, red forms, cursors, migrations) stays plain SQLAlchemy.

The writer also keeps the records it wrote in a small per-connection cache, so a transition
needs no SELECT. The cache is only a hint: every update is conditional on the row's key and
``version``, so a stale entry (another process wrote the row; a rolled-back group) makes the
update miss, and the caller re-reads and decides again. The writer empties the cache on any
rollback anyway (:func:`forget`).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.engine import Connection

from fapiao.engine.ledger import schema as t
from fapiao.engine.ledger.records import LedgerRecord, RequestKey

__all__ = ["CACHE_SIZE", "FastSql", "Session", "forget", "session"]

CACHE_SIZE = 4096
"""Records kept per writer connection: enough for every invoice in flight, flat in memory."""

_SESSION_KEY = "fapiao.ledger.session"
_EVENT_COLUMNS = "request_id, from_state, to_state, source, detail, at"
_NAMED = re.compile(r"(?<![:\w]):(\w+)")

Processor = Callable[[Any], Any]


class FastSql:
    """Pre-rendered SQL and bind processors for one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self._pg = dialect.name == "postgresql"
        self._binders: dict[str, Processor] = {}
        for table in (t.requests, t.events):
            for column in table.columns:
                process = column.type.dialect_impl(dialect).bind_processor(dialect)
                if process is not None:
                    self._binders[f"{table.name}.{column.name}"] = process
        self._time = self._binders["fapiao_requests.updated_at"]
        # PostgreSQL writes the row and its event in one statement (a data-modifying CTE):
        # one round trip instead of two. SQLite runs in-process and has no such CTE.
        self.combined = self._pg
        self.request_columns = [c.name for c in t.requests.columns if not c.primary_key]
        insert = (
            f"INSERT INTO {t.requests.name} ({', '.join(self.request_columns)}) "
            f"VALUES ({', '.join(':' + n for n in self.request_columns)}) "
            "ON CONFLICT (seller_tax_id, order_id) DO NOTHING RETURNING id"
        )
        if self.combined:
            insert = (
                f"WITH r AS ({insert}), e AS (INSERT INTO {t.events.name} ({_EVENT_COLUMNS}) "
                "SELECT id, NULL, :state, :e_source, NULL, :created_at FROM r) SELECT id FROM r"
            )
        self.insert_request = self._render(insert)
        self.insert_event = self._render(
            f"INSERT INTO {t.events.name} ({_EVENT_COLUMNS}) "
            "VALUES (:request_id, :from_state, :to_state, :source, :detail, :at)"
        )
        self._updates: dict[frozenset[str], str] = {}

    def _render(self, sql: str) -> str:
        """SQL written with ``:name`` placeholders, in the driver's own paramstyle."""
        return _NAMED.sub(r"%(\1)s", sql) if self._pg else sql

    def update_request(self, columns: Iterable[str]) -> str:
        """``UPDATE`` of these columns, conditional on the key and the version read (with
        ``combined``, also inserting the event from the ``e_*`` parameters)."""
        wanted = frozenset(columns)
        sql = self._updates.get(wanted)
        if sql is None:
            sets = ", ".join(f"{c} = :{c}" for c in sorted(wanted))
            update = (
                f"UPDATE {t.requests.name} SET {sets} WHERE seller_tax_id = :w_seller "
                "AND order_id = :w_order AND version = :w_version"
            )
            if self.combined:
                update = (
                    f"WITH u AS ({update} RETURNING id) "
                    f"INSERT INTO {t.events.name} ({_EVENT_COLUMNS}) "
                    "SELECT id, :e_from, :state, :e_source, :e_detail, :updated_at FROM u"
                )
            sql = self._updates[wanted] = self._render(update)
        return sql

    def bind_detail(self, detail: Mapping[str, Any] | None) -> Any:
        if detail is None:
            return None
        return self._binders["fapiao_events.detail"](dict(detail))

    def time(self, value: datetime) -> Any:
        """An instant as the database stores it (computed once per operation, used twice)."""
        return self._time(value)

    def bind(self, table: str, values: Mapping[str, Any], into: dict[str, Any]) -> None:
        """Add ``values`` to ``into`` as SQLAlchemy would send them (JSON text, UTC
        timestamps, exact decimals); ``None`` and plain strings pass unchanged."""
        binders = self._binders
        for name, value in values.items():
            process = binders.get(f"{table}.{name}") if value is not None else None
            into[name] = value if process is None else process(value)


class Session:
    """What the writer keeps beside one connection: its SQL, one cursor, recent records."""

    __slots__ = ("cursor", "records", "sql")

    def __init__(self, connection: Connection) -> None:
        self.sql = FastSql(connection.dialect)
        self.cursor: Any = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        self.records: OrderedDict[RequestKey, LedgerRecord] = OrderedDict()

    def cached(self, key: RequestKey) -> LedgerRecord | None:
        return self.records.get(key)

    def remember(self, record: LedgerRecord) -> None:
        records = self.records
        records[record.key] = record
        records.move_to_end(record.key)
        if len(records) > CACHE_SIZE:
            records.popitem(last=False)


def session(connection: Connection) -> Session:
    """The writer session of this connection (created on first use)."""
    info = connection.info
    found: Session | None = info.get(_SESSION_KEY)
    if found is None:
        found = info[_SESSION_KEY] = Session(connection)
    return found


def forget(connection: Connection) -> None:
    """Drop the session and its cached records (the writer calls this after any rollback;
    the connection may be replaced next, and the session's cursor with it)."""
    found: Session | None = connection.info.pop(_SESSION_KEY, None)
    if found is not None:
        found.records.clear()
        found.cursor.close()

"""Engines for the ledger: one writer connection, a few readers, the same code on both databases.

SQLite needs two adjustments to behave like a real transactional database:

* the ``sqlite3`` module's own transaction handling is switched off and SQLAlchemy emits
  ``BEGIN`` itself (the recipe in SQLAlchemy's SQLite notes), otherwise SAVEPOINTs, which
  group commit uses to isolate one operation's failure, do not work;
* the writer opens every transaction with ``BEGIN IMMEDIATE``, taking the write lock up front,
  so two processes sharing a file queue on ``busy_timeout`` instead of failing with
  "database is locked" on a read-to-write upgrade.

Durability: the journal is WAL and ``synchronous`` defaults to ``FULL``, so a commit is on disk
when acknowledged, even across a power cut. ``NORMAL`` in WAL mode survives a crash of the
process (kill -9) but a power or OS failure may lose the last commits; an acknowledged
``submitted`` lost that way could let a restart send the same order again, leaving only the
provider's own order-id check between us and a duplicate invoice. Group commit makes FULL
cheap (one fsync per group, not per transition: see bench/ledger_commit.py), so NORMAL is
offered only for throwaway ledgers such as demos and benchmarks.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from fapiao.errors import ConfigError

__all__ = ["Synchronous", "dumps_json", "is_sqlite", "make_engine", "normalise_url"]

Synchronous = Literal["FULL", "NORMAL", "EXTRA"]


def dumps_json(value: Any) -> str:
    """Compact JSON that keeps Chinese text readable in the database."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def normalise_url(url: str | URL) -> URL:
    """Accept the URLs people write: ``postgresql://`` means psycopg 3, the driver we ship."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+pysqlite")
    return parsed


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def make_engine(
    url: URL,
    *,
    role: Literal["writer", "reader", "migrator"],
    synchronous: Synchronous = "FULL",
    pool_size: int = 1,
    busy_timeout_ms: int = 10_000,
) -> Engine:
    """An engine for one role; SQLite writers and migrators lock up front, readers do not."""
    if not is_sqlite(url):
        return create_engine(
            url,
            pool_size=pool_size,
            max_overflow=0,
            pool_pre_ping=True,
            json_serializer=dumps_json,
        )
    database = url.database or ""
    if database in {"", ":memory:"} or database.startswith("file::memory:"):
        raise ConfigError(
            "the ledger needs an SQLite file, not an in-memory database (the writer thread "
            "and the readers share it)",
            message_zh="账本须为 SQLite 文件，不能是内存数据库（写线程与读连接共享同一数据库）",
            field="ledger.url",
        )
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        json_serializer=dumps_json,
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
    )
    begin = "BEGIN" if role == "reader" else "BEGIN IMMEDIATE"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            _enter_wal(cursor, busy_timeout_ms / 1000)
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)

    return engine


def _enter_wal(cursor: Any, within: float) -> None:
    """Put the file in WAL mode. Several workers opening a *new* file at once all try to
    convert it, which needs its exclusive lock, and SQLite may answer "database is locked"
    at once instead of waiting on the busy timeout (seen under load with four openers): so
    the conversion is retried until ``within`` seconds have passed."""
    deadline = time.monotonic() + within
    delay = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

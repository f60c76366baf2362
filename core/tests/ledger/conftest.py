"""Ledger fixtures: every ledger test runs on an SQLite file AND on PostgreSQL.

PostgreSQL tests work in schemas of their own (selected through the connection's
search_path) so parallel runs never see each other's rows; schemas are dropped afterwards.
``ledger_url`` is an empty database (for migration tests); ``ledger`` opens an emptied,
already migrated one (a copied SQLite file, a truncated PostgreSQL schema) to keep the set fast.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from fapiao.engine.ledger import Ledger

PG_URL = os.environ.get("FAPIAO_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available() -> bool:
    engine = create_engine(PG_URL, connect_args={"connect_timeout": 2})
    try:
        with engine.connect():
            return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_available() -> bool:
    return _pg_available()


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
TABLES = "fapiao_events, fapiao_documents, fapiao_red_confirmations, fapiao_requests, fapiao_cursors, fapiao_batches, fapiao_callbacks_seen"


@contextmanager
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema; yields the ledger URL that works in it."""
    schema = f"ledger_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path, pg_available: bool) -> Iterator[str]:
    """A URL to an empty database: an SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    if not pg_available:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    with pg_schema() as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ledger-template") / "ledger.db"
    Ledger.open(f"sqlite:///{path}").close()
    return path


@pytest.fixture(scope="session")
def pg_migrated(pg_available: bool) -> Iterator[str | None]:
    if not pg_available:
        yield None
        return
    with pg_schema() as url:
        Ledger.open(url).close()
        yield url


@pytest.fixture(params=BACKENDS)
def migrated_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    pg_migrated: str | None,
) -> str:
    """A URL to an empty database already at the current schema."""
    if request.param == "sqlite":
        path = tmp_path / "ledger.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    if pg_migrated is None:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    engine = create_engine(pg_migrated)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY"))
    finally:
        engine.dispose()
    return pg_migrated


@pytest.fixture
def ledger(migrated_url: str) -> Iterator[Ledger]:
    opened = Ledger.open(migrated_url)
    try:
        yield opened
    finally:
        opened.close()

"""Migrations: upgrade from empty, idempotent re-runs, models and migrations agree, no floats."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Float, Numeric, create_engine, inspect, text
from sqlalchemy.engine import Engine

from fapiao.engine.ledger import Ledger, RequestKey
from fapiao.engine.ledger.columns import ExactDecimal
from fapiao.engine.ledger.database import normalise_url
from fapiao.engine.ledger.migrate import MIGRATIONS_DIR, current_revision, head_revision
from fapiao.engine.ledger.schema import VERSION_TABLE, metadata
from fapiao.errors import ConfigError

TABLES = {
    "fapiao_requests",
    "fapiao_events",
    "fapiao_documents",
    "fapiao_red_confirmations",
    "fapiao_cursors",
    "fapiao_batches",
    "fapiao_callbacks_seen",
}


def engine_for(url: str) -> Engine:
    return create_engine(normalise_url(url))


def test_upgrade_from_empty_creates_every_table_at_head(ledger_url: str) -> None:
    Ledger.open(ledger_url).close()
    engine = engine_for(ledger_url)
    try:
        assert TABLES | {VERSION_TABLE} <= set(inspect(engine).get_table_names())
        assert current_revision(engine) == head_revision() is not None
    finally:
        engine.dispose()


async def test_reopening_is_idempotent_and_keeps_data(ledger_url: str) -> None:
    ledger = Ledger.open(ledger_url)
    await ledger.reserve(
        RequestKey("91310000MA1FL8XQ30", "M-1"), provider_profile="p", provider="n", payload={}
    )
    await ledger.aclose()
    for _ in range(2):
        again = Ledger.open(ledger_url)
        assert await again.get(RequestKey("91310000MA1FL8XQ30", "M-1")) is not None
        await again.aclose()
    engine = engine_for(ledger_url)
    try:
        with engine.connect() as connection:
            versions = connection.execute(text(f"SELECT count(*) FROM {VERSION_TABLE}")).scalar()
        assert versions == 1
    finally:
        engine.dispose()


def test_concurrent_openers_migrate_once(ledger_url: str) -> None:
    errors: list[BaseException] = []

    def open_close() -> None:
        try:
            Ledger.open(ledger_url).close()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_close) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    engine = engine_for(ledger_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_models_and_migrations_agree(ledger_url: str) -> None:
    """A model change without a migration (or the reverse) shows up here."""
    Ledger.open(ledger_url).close()
    engine = engine_for(ledger_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "include_name": lambda name, kind, _parent: (
                        kind != "table" or name != VERSION_TABLE
                    ),
                },
            )
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_no_float_columns_anywhere(ledger_url: str) -> None:
    for table in metadata.tables.values():
        for column in table.columns:
            assert not isinstance(column.type, Float), f"{table.name}.{column.name}"
            if isinstance(column.type, Numeric):
                assert column.type.asdecimal, f"{table.name}.{column.name}"
    Ledger.open(ledger_url).close()
    engine = engine_for(ledger_url)
    try:
        inspector = inspect(engine)
        for name in TABLES:
            for column in inspector.get_columns(name):
                sql_type = str(column["type"]).upper()
                for floaty in ("FLOAT", "REAL", "DOUBLE"):
                    assert floaty not in sql_type, f"{name}.{column['name']}: {sql_type}"
        money = {
            c["name"]: str(c["type"]).upper() for c in inspector.get_columns("fapiao_requests")
        }
        expected = "NUMERIC" if engine.dialect.name == "postgresql" else "VARCHAR"
        assert money["total_amount"].startswith(expected)
    finally:
        engine.dispose()
    assert isinstance(metadata.tables["fapiao_requests"].c.total_amount.type, ExactDecimal)


def test_opening_without_migrating_refuses_an_old_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    with pytest.raises(ConfigError) as caught:
        Ledger.open(url, migrate=False)
    assert caught.value.field == "ledger.url"
    assert "migrate=True" in caught.value.message_en
    Ledger.open(url).close()
    Ledger.open(url, migrate=False).close()  # at head now: fine


def test_in_memory_sqlite_is_refused_with_a_reason() -> None:
    with pytest.raises(ConfigError) as caught:
        Ledger.open("sqlite://")
    assert "in-memory" in caught.value.message_en
    assert "内存" in caught.value.message_zh


def test_migration_scripts_ship_with_the_package() -> None:
    """The files alembic needs at run time sit inside the package directory (hatch puts
    every file under src/fapiao into the wheel; see the report of `pip wheel core`)."""
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert list((MIGRATIONS_DIR / "versions").glob("v*.py"))

"""Bring a database to the ledger's current schema, safely when several workers start at once.

Upgrading runs in one transaction: on PostgreSQL it first takes a transaction-scoped advisory
lock, on SQLite the migrator's ``BEGIN IMMEDIATE`` takes the write lock; either way a second
worker waits, then finds the schema at head and does nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text

from fapiao.engine.ledger.schema import VERSION_TABLE

if TYPE_CHECKING:
    from alembic.config import Config

# alembic is imported where it is used: half a second of start-up for commands that never
# open a ledger is not worth it.

__all__ = ["MIGRATIONS_DIR", "alembic_config", "current_revision", "head_revision", "upgrade"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# any fixed 64-bit number: identifies "the fapiao ledger migration" among advisory locks
_PG_LOCK_KEY = 0x66617069616F_01


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run every pending migration; a no-op when the database is already at ``revision``."""
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

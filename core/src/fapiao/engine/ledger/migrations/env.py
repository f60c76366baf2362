"""Alembic environment: runs on the connection ``fapiao.engine.ledger.migrate`` hands over.

There is no alembic.ini: the ledger migrates itself when opened, inside the transaction (and,
on PostgreSQL, the advisory lock) its caller holds, so concurrent workers starting together
migrate once. Developers generate new revisions with ``fapiao.engine.ledger.migrate.revision``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from fapiao.engine.ledger.schema import VERSION_TABLE, metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError(
        "the ledger migrations run through fapiao.engine.ledger.migrate, with a connection"
    )
_run(_connection)

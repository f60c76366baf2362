"""Statements and look-ups shared by the ledger's operations.

Statements are built once and executed with parameters: building a SQLAlchemy construct
(and its cache key) per call cost more than the SQL itself in the group-commit loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Table, TextClause, and_, bindparam, select, text
from sqlalchemy.engine import Connection

from fapiao.engine.ledger import schema as t
from fapiao.engine.ledger.records import RequestKey
from fapiao.errors import NotFound
from fapiao.masking import mask_tax_id

__all__ = [
    "KEY",
    "SELECT_REQUEST",
    "insert_on_conflict",
    "key_params",
    "not_found",
    "now",
    "request_id",
]

KEY = and_(
    t.requests.c.seller_tax_id == bindparam("k_seller"),
    t.requests.c.order_id == bindparam("k_order"),
)
"""WHERE clause of one request by its idempotency key (parameters from :func:`key_params`)."""

SELECT_REQUEST = select(t.requests).where(KEY)
_SELECT_REQUEST_ID = select(t.requests.c.id).where(KEY)


def now() -> datetime:
    return datetime.now(UTC)


def key_params(key: RequestKey) -> dict[str, str]:
    return {"k_seller": key.seller_tax_id, "k_order": key.order_id}


def not_found(key: RequestKey) -> NotFound:
    who = f"{mask_tax_id(key.seller_tax_id)}/{key.order_id}"
    return NotFound(
        f"no ledger record for order {who}",
        message_zh=f"账本中没有订单 {who} 的记录",
        field="order_id",
    )


def request_id(connection: Connection, key: RequestKey) -> int:
    found = connection.execute(_SELECT_REQUEST_ID, key_params(key)).scalar()
    if found is None:
        raise not_found(key)
    return int(found)


def insert_on_conflict(
    table: Table, conflict: Sequence[str], *, update: Sequence[str] = ()
) -> TextClause:
    """``INSERT ... ON CONFLICT`` as typed SQL text, identical on SQLite (3.35+) and
    PostgreSQL. SQLAlchemy's dialect ``insert()`` constructs are not cacheable: they
    recompile on every call."""
    names = [c.name for c in table.columns if not (c.primary_key and c.autoincrement is True)]
    sql = (
        f"INSERT INTO {table.name} ({', '.join(names)}) "
        f"VALUES ({', '.join(':' + n for n in names)}) "
        f"ON CONFLICT ({', '.join(conflict)}) "
    )
    if update:
        sql += "DO UPDATE SET " + ", ".join(f"{n} = excluded.{n}" for n in update)
    else:
        sql += "DO NOTHING"
    return text(sql).bindparams(*(bindparam(n, type_=table.c[n].type) for n in names))

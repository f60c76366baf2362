"""Named cursors (an ERP's last synced change), batch progress (for resuming after a kill)
and the callbacks seen (so that a replay is refused by every process)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import RowMapping, delete, select, update
from sqlalchemy.engine import Connection

from fapiao.engine.ledger import schema as t
from fapiao.engine.ledger.records import BatchRecord
from fapiao.engine.ledger.statements import insert_on_conflict, now

__all__ = ["claim_callback", "get_batch", "get_cursor", "save_batch", "set_cursor"]

_SET_CURSOR = insert_on_conflict(t.cursors, ["name"], update=["value", "updated_at"])
_SEE_CALLBACK = insert_on_conflict(t.callbacks_seen, ["profile", "callback_id"])


def get_cursor(connection: Connection, name: str) -> str | None:
    value = connection.execute(select(t.cursors.c.value).where(t.cursors.c.name == name)).scalar()
    return None if value is None else str(value)


def set_cursor(connection: Connection, name: str, value: str) -> None:
    connection.execute(_SET_CURSOR, {"name": name, "value": value, "updated_at": now()})


def _batch(m: RowMapping) -> BatchRecord:
    return BatchRecord(
        batch_id=m["id"],
        input_path=m["input_path"],
        input_sha256=m["input_sha256"],
        position=m["position"],
        counts=dict(m["counts"]),
        done=bool(m["done"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def get_batch(connection: Connection, batch_id: str) -> BatchRecord | None:
    row = connection.execute(select(t.batches).where(t.batches.c.id == batch_id)).first()
    return _batch(row._mapping) if row is not None else None


def save_batch(
    connection: Connection,
    batch_id: str,
    *,
    input_path: str,
    input_sha256: str | None,
    position: int,
    counts: Mapping[str, int],
    done: bool,
) -> BatchRecord:
    """Create or advance a batch. The position never goes back, so a slow writer of an older
    position cannot make a resumed batch redo (or skip) work."""
    at = now()
    existing = get_batch(connection, batch_id)
    if existing is None:
        connection.execute(
            t.batches.insert().values(
                id=batch_id,
                input_path=input_path,
                input_sha256=input_sha256,
                position=position,
                counts=dict(counts),
                done=done,
                created_at=at,
                updated_at=at,
            )
        )
    else:
        connection.execute(
            update(t.batches)
            .where(t.batches.c.id == batch_id)
            .values(
                input_path=input_path,
                input_sha256=input_sha256,
                position=max(position, existing.position),
                counts=dict(counts),
                done=done or existing.done,
                updated_at=at,
            )
        )
    saved = get_batch(connection, batch_id)
    assert saved is not None
    return saved


def claim_callback(connection: Connection, profile: str, callback_id: str, keep: float) -> bool:
    """Record a callback as seen for ``keep`` seconds; False if it was seen already (a replay).
    Expired ids are dropped on the way, so the table holds one freshness window of them."""
    at = now()
    connection.execute(delete(t.callbacks_seen).where(t.callbacks_seen.c.expires_at < at))
    inserted = connection.execute(
        _SEE_CALLBACK,
        {
            "profile": profile,
            "callback_id": callback_id,
            "expires_at": at + timedelta(seconds=keep),
        },
    )
    return inserted.rowcount == 1

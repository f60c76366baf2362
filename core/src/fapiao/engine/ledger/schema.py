"""The ledger's tables as typed SQLAlchemy 2 declarative classes.

These classes are the model that migrations are checked against (a test compares them with
the migrated database); the ledger itself runs Core statements on their tables, because
the ORM's unit of work costs more per row than group commit saves.

Every table name starts with ``fapiao_`` so the ledger can share a database with the host
application; alembic's own version table is ``fapiao_alembic_version`` for the same reason.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fapiao.engine.ledger.columns import ExactDecimal, IdType, JsonType, UTCDateTime
from fapiao.models import InvoiceState

__all__ = [
    "VERSION_TABLE",
    "Base",
    "BatchRow",
    "CursorRow",
    "DocumentRow",
    "EventRow",
    "RedConfirmationRow",
    "RequestRow",
    "batches",
    "cursors",
    "documents",
    "events",
    "metadata",
    "red_confirmations",
    "requests",
]

VERSION_TABLE = "fapiao_alembic_version"

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_STATES = ", ".join(f"'{s.value}'" for s in InvoiceState)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class RequestRow(Base):
    """One invoice request (blue or red), keyed by seller tax ID + external order id."""

    __tablename__ = "fapiao_requests"
    __table_args__ = (
        UniqueConstraint("seller_tax_id", "order_id", name="uq_fapiao_requests_key"),
        CheckConstraint("kind IN ('blue', 'red')", name="kind"),
        CheckConstraint(f"state IN ({_STATES})", name="state"),
        Index("ix_fapiao_requests_state_profile", "state", "provider_profile"),
        Index("ix_fapiao_requests_invoice_number", "invoice_number"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    seller_tax_id: Mapped[str] = mapped_column(String(20))
    order_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    original_order_id: Mapped[str | None] = mapped_column(String(64))
    provider_profile: Mapped[str] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    state: Mapped[str] = mapped_column(String(24))
    serial_number: Mapped[str | None] = mapped_column(String(64))
    invoice_number: Mapped[str | None] = mapped_column(String(32))
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    total_amount: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    total_tax: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    total_with_tax: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)


class EventRow(Base):
    """A state change, written in the same transaction as the row change it describes."""

    __tablename__ = "fapiao_events"
    __table_args__ = (
        Index("ix_fapiao_events_request", "request_id", "id"),
        CheckConstraint(
            "source IN ('api', 'callback', 'poll', 'reconcile', 'batch')", name="source"
        ),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("fapiao_requests.id", ondelete="CASCADE")
    )
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    source: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class DocumentRow(Base):
    """A verified file of an issued invoice: its hash and where it is kept, never its bytes."""

    __tablename__ = "fapiao_documents"
    __table_args__ = (
        UniqueConstraint("request_id", "format", "sha256", name="uq_fapiao_documents_file"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("fapiao_requests.id", ondelete="CASCADE")
    )
    format: Mapped[str] = mapped_column(String(8))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    location: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RedConfirmationRow(Base):
    """A 红字确认单 against the blue request ``request_id``; ``line_amounts`` maps the blue
    line index (as a string key) to the positive amount it reverses, as a decimal string."""

    __tablename__ = "fapiao_red_confirmations"
    __table_args__ = (
        UniqueConstraint("request_id", "confirmation_id", name="uq_fapiao_red_confirmations_form"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("fapiao_requests.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(64))
    confirmation_id: Mapped[str] = mapped_column(String(64))
    confirmation_number: Mapped[str | None] = mapped_column(String(64))
    red_order_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(ExactDecimal)
    tax: Mapped[Decimal] = mapped_column(ExactDecimal)
    line_amounts: Mapped[dict[str, str]] = mapped_column(JsonType)
    requires_confirmation: Mapped[bool] = mapped_column(Boolean)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CursorRow(Base):
    """A named position (an ERP's last synced change, a batch's offset)."""

    __tablename__ = "fapiao_cursors"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BatchRow(Base):
    """Progress of one batch input, for resuming after a kill."""

    __tablename__ = "fapiao_batches"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # "jsonl:<sha256>"
    input_path: Mapped[str] = mapped_column(Text)
    input_sha256: Mapped[str | None] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    counts: Mapped[dict[str, int]] = mapped_column(JsonType)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CallbackSeenRow(Base):
    """A callback a provider has delivered (its own unique id), kept until it could no longer
    pass the plugin's freshness check: a replay is refused by every process, after restarts."""

    __tablename__ = "fapiao_callbacks_seen"
    __table_args__ = (Index("ix_fapiao_callbacks_seen_expires", "expires_at"),)

    profile: Mapped[str] = mapped_column(String(64), primary_key=True)
    callback_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


metadata = Base.metadata
requests = cast(Table, RequestRow.__table__)
events = cast(Table, EventRow.__table__)
documents = cast(Table, DocumentRow.__table__)
red_confirmations = cast(Table, RedConfirmationRow.__table__)
cursors = cast(Table, CursorRow.__table__)
batches = cast(Table, BatchRow.__table__)
callbacks_seen = cast(Table, CallbackSeenRow.__table__)

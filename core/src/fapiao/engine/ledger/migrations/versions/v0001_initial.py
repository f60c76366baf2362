"""The ledger's first schema: requests, events, documents, red forms, cursors, batches.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Frozen: this file states the schema as it was released; later changes get a new revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fapiao.engine.ledger.columns import ExactDecimal, IdType, JsonType, UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_STATES = (
    "'received', 'validated', 'submitted', 'issuing', 'issued', 'failed', 'red_requested', "
    "'red_confirmed', 'partially_reversed', 'reversed', 'cancelled'"
)


def upgrade() -> None:
    op.create_table(
        "fapiao_requests",
        sa.Column("id", IdType, primary_key=True, autoincrement=True),
        sa.Column("seller_tax_id", sa.String(20), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("original_order_id", sa.String(64), nullable=True),
        sa.Column("provider_profile", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("payload", JsonType, nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("serial_number", sa.String(64), nullable=True),
        sa.Column("invoice_number", sa.String(32), nullable=True),
        sa.Column("issued_at", UTCDateTime, nullable=True),
        sa.Column("total_amount", ExactDecimal, nullable=True),
        sa.Column("total_tax", ExactDecimal, nullable=True),
        sa.Column("total_with_tax", ExactDecimal, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_fapiao_requests"),
        sa.UniqueConstraint("seller_tax_id", "order_id", name="uq_fapiao_requests_key"),
        sa.CheckConstraint("kind IN ('blue', 'red')", name="ck_fapiao_requests_kind"),
        sa.CheckConstraint(f"state IN ({_STATES})", name="ck_fapiao_requests_state"),
    )
    op.create_index(
        "ix_fapiao_requests_state_profile", "fapiao_requests", ["state", "provider_profile"]
    )
    op.create_index("ix_fapiao_requests_invoice_number", "fapiao_requests", ["invoice_number"])

    op.create_table(
        "fapiao_events",
        sa.Column("id", IdType, primary_key=True, autoincrement=True),
        sa.Column("request_id", IdType, nullable=False),
        sa.Column("from_state", sa.String(24), nullable=True),
        sa.Column("to_state", sa.String(24), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("detail", JsonType, nullable=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_fapiao_events"),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["fapiao_requests.id"],
            name="fk_fapiao_events_request_id_fapiao_requests",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "source IN ('api', 'callback', 'poll', 'reconcile', 'batch')",
            name="ck_fapiao_events_source",
        ),
    )
    op.create_index("ix_fapiao_events_request", "fapiao_events", ["request_id", "id"])

    op.create_table(
        "fapiao_documents",
        sa.Column("id", IdType, primary_key=True, autoincrement=True),
        sa.Column("request_id", IdType, nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_fapiao_documents"),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["fapiao_requests.id"],
            name="fk_fapiao_documents_request_id_fapiao_requests",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("request_id", "format", "sha256", name="uq_fapiao_documents_file"),
    )

    op.create_table(
        "fapiao_red_confirmations",
        sa.Column("id", IdType, primary_key=True, autoincrement=True),
        sa.Column("request_id", IdType, nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("confirmation_id", sa.String(64), nullable=False),
        sa.Column("confirmation_number", sa.String(64), nullable=True),
        sa.Column("red_order_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("amount", ExactDecimal, nullable=False),
        sa.Column("tax", ExactDecimal, nullable=False),
        sa.Column("line_amounts", JsonType, nullable=False),
        sa.Column("requires_confirmation", sa.Boolean, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_fapiao_red_confirmations"),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["fapiao_requests.id"],
            name="fk_fapiao_red_confirmations_request_id_fapiao_requests",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "request_id", "confirmation_id", name="uq_fapiao_red_confirmations_form"
        ),
    )
    op.create_index(
        "ix_fapiao_red_confirmations_request_id", "fapiao_red_confirmations", ["request_id"]
    )

    op.create_table(
        "fapiao_cursors",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_fapiao_cursors"),
    )

    op.create_table(
        "fapiao_batches",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("input_path", sa.Text, nullable=False),
        sa.Column("input_sha256", sa.String(64), nullable=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("counts", JsonType, nullable=False),
        sa.Column("done", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_fapiao_batches"),
    )


def downgrade() -> None:
    op.drop_table("fapiao_batches")
    op.drop_table("fapiao_cursors")
    op.drop_index("ix_fapiao_red_confirmations_request_id", "fapiao_red_confirmations")
    op.drop_table("fapiao_red_confirmations")
    op.drop_table("fapiao_documents")
    op.drop_index("ix_fapiao_events_request", "fapiao_events")
    op.drop_table("fapiao_events")
    op.drop_index("ix_fapiao_requests_invoice_number", "fapiao_requests")
    op.drop_index("ix_fapiao_requests_state_profile", "fapiao_requests")
    op.drop_table("fapiao_requests")

"""Callbacks seen, shared by every process.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

Replay protection kept in one process's memory let a callback refused as a replay before a
restart of ``fapiao serve`` through after it, and every worker had its own memory: the ids
live in the ledger now, until they expire.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fapiao.engine.ledger.columns import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "fapiao_callbacks_seen",
        sa.Column("profile", sa.String(64), nullable=False),
        sa.Column("callback_id", sa.String(200), nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("profile", "callback_id"),
    )
    op.create_index("ix_fapiao_callbacks_seen_expires", "fapiao_callbacks_seen", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_fapiao_callbacks_seen_expires", "fapiao_callbacks_seen")
    op.drop_table("fapiao_callbacks_seen")

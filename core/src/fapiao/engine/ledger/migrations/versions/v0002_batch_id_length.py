"""Batch ids up to 200 characters.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04

A batch is identified by its format and the file's sha256 (``jsonl:<64 hex>``, 70
characters), which PostgreSQL refused in the first schema's ``varchar(64)``: ``fapiao
batch`` on a PostgreSQL ledger always failed. (SQLite does not enforce the length.)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("fapiao_batches") as batch:
        batch.alter_column(
            "id", type_=sa.String(200), existing_type=sa.String(64), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("fapiao_batches") as batch:
        batch.alter_column(
            "id", type_=sa.String(64), existing_type=sa.String(200), existing_nullable=False
        )

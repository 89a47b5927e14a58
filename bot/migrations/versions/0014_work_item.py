"""Heavy work queued for `beacon worker`: exports, insight, calendar syncs and digests leave the serving process.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import beacon.bot.db

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "work_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("requested_by", sa.String(length=32), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("available_at", beacon.bot.db.UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("lease_until", beacon.bot.db.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", beacon.bot.db.UTCDateTime(), nullable=False),
        sa.Column("finished_at", beacon.bot.db.UTCDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'running', 'done', 'failed')", name="ck_work_item_status"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index("ix_work_item_claimable", "work_item", ["status", "available_at"])


def downgrade() -> None:
    op.drop_index("ix_work_item_claimable", table_name="work_item")
    op.drop_table("work_item")

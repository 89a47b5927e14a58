"""Events already handled, so Slack's retries never repeat an effect.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import beacon.bot.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "processed_event",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", beacon.bot.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index("ix_processed_event_received_at", "processed_event", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_processed_event_received_at", table_name="processed_event")
    op.drop_table("processed_event")

"""Signed Slack requests seen once: a replay of the same signed request, on any replica, does nothing.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import beacon.bot.db

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_request_seen",
        sa.Column("signature_sha256", sa.String(length=64), nullable=False),
        sa.Column("seen_at", beacon.bot.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("signature_sha256"),
    )
    op.create_index("ix_slack_request_seen_seen_at", "slack_request_seen", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_slack_request_seen_seen_at", table_name="slack_request_seen")
    op.drop_table("slack_request_seen")

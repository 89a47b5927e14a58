"""The leader directory: each leader's Slack profile as last copied (name, title, photo) and the commitment
statement they wrote; an index for each leader's next engagements.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from beacon.bot.db import UTCDateTime

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('leader_profile',
                    sa.Column('user_id', sa.String(length=32), nullable=False),
                    sa.Column('name', sa.String(length=200), nullable=False),
                    sa.Column('title', sa.String(length=200), nullable=False),
                    sa.Column('image_url', sa.String(length=500), nullable=False),
                    sa.Column('profile_at', UTCDateTime(), nullable=True),
                    sa.Column('statement', sa.Text(), nullable=True),
                    sa.Column('statement_at', UTCDateTime(), nullable=True),
                    sa.PrimaryKeyConstraint('user_id'))
    op.create_index('ix_engagement_leader', 'engagement', ['leader_user_id', 'starts_at'])


def downgrade() -> None:
    op.drop_index('ix_engagement_leader', table_name='engagement')
    op.drop_table('leader_profile')

"""Anonymous pulse answers are stored in batches: who is waiting (never what) is held in `pulse_held`.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from beacon.bot.db import UTCDateTime

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'pulse_held',
        sa.Column('pulse_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('holder', sa.String(length=64), nullable=False),
        sa.Column('held_until', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['pulse_id'], ['pulse.id']),
        sa.PrimaryKeyConstraint('pulse_id', 'user_id'),
        sqlite_with_rowid=False,
    )
    op.create_index('ix_pulse_held_lease', 'pulse_held', ['held_until'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_pulse_held_lease', table_name='pulse_held')
    op.drop_table('pulse_held')

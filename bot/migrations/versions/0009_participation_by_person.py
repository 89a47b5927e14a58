"""Pulse participation by person: the personal digest, privacy export and erasure look a person's pulses up
without reading every pulse's participation.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_pulse_participation_user', 'pulse_participation', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_pulse_participation_user', table_name='pulse_participation')

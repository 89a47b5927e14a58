"""Weekly digests: who wants a personal digest, when a celebration went out, and indexes for the week's queries.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import beacon.bot.db

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('user_preference') as batch:
        batch.add_column(sa.Column('personal_digest', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('nomination') as batch:
        batch.add_column(sa.Column('celebrated_at', beacon.bot.db.UTCDateTime(), nullable=True))
        batch.create_index('ix_nomination_created', ['created_at'], unique=False)
        batch.create_index('ix_nomination_celebrated', ['celebrated_at'], unique=False)
    with op.batch_alter_table('pulse') as batch:
        batch.create_index(batch.f('ix_pulse_closed_at'), ['closed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pulse') as batch:
        batch.drop_index(batch.f('ix_pulse_closed_at'))
    with op.batch_alter_table('nomination') as batch:
        batch.drop_index('ix_nomination_celebrated')
        batch.drop_index('ix_nomination_created')
        batch.drop_column('celebrated_at')
    with op.batch_alter_table('user_preference') as batch:
        batch.drop_column('personal_digest')

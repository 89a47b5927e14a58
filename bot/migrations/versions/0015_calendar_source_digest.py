"""How many events of a calendar source its last sync could not read (each skipped, the rest of the feed kept),
shown where the source's health is shown; and a digest of the source's last answer, so that syncing an unchanged
feed reads only what has come within the window since.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('calendar_source') as batch:
        batch.add_column(sa.Column('skipped_events', sa.Integer(), server_default=sa.text('0'), nullable=False))
        batch.add_column(sa.Column('facts_digest', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('calendar_source') as batch:
        batch.drop_column('facts_digest')
        batch.drop_column('skipped_events')

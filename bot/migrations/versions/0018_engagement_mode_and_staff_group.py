"""Engagements for a 24/7 service: online or hybrid (a join link, https only), and for a staff group (control
room, 111, patient transport) as well as a site.

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-04
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('engagement') as batch:
        batch.add_column(sa.Column('mode', sa.String(length=12), server_default='in_person', nullable=False))
        batch.add_column(sa.Column('join_link', sa.String(length=500), nullable=True))
        batch.add_column(sa.Column('staff_group', sa.String(length=120), nullable=True))
        batch.create_check_constraint('ck_engagement_mode', "mode IN ('in_person', 'online', 'hybrid')")
        batch.create_check_constraint('ck_engagement_join_link_https',
                                      "join_link IS NULL OR join_link LIKE 'https://%'")


def downgrade() -> None:
    with op.batch_alter_table('engagement') as batch:
        batch.drop_constraint('ck_engagement_join_link_https', type_='check')
        batch.drop_constraint('ck_engagement_mode', type_='check')
        batch.drop_column('staff_group')
        batch.drop_column('join_link')
        batch.drop_column('mode')

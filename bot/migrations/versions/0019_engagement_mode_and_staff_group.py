"""Engagements for a 24/7 service: online or hybrid (a join link, https only), for a staff group (control room,
111, patient transport) as well as a site; and staff's requests for a visit, tracked to a decision.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import beacon.bot.db

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('visit_request',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('requester_id', sa.String(length=32), nullable=False),
                    sa.Column('place', sa.String(length=120), nullable=False),
                    sa.Column('kind', sa.String(length=40), nullable=False),
                    sa.Column('what', sa.String(length=1000), nullable=False),
                    sa.Column('when_suits', sa.String(length=200), nullable=True),
                    sa.Column('status', sa.String(length=12), nullable=False),
                    sa.Column('decided_by', sa.String(length=32), nullable=True),
                    sa.Column('reason', sa.String(length=500), nullable=True),
                    sa.Column('posted_channel', sa.String(length=32), nullable=True),
                    sa.Column('posted_ts', sa.String(length=32), nullable=True),
                    sa.Column('created_at', beacon.bot.db.UTCDateTime(), nullable=False),
                    sa.Column('decided_at', beacon.bot.db.UTCDateTime(), nullable=True),
                    sa.CheckConstraint("status IN ('open', 'accepted', 'declined')", name='ck_visit_request_status'),
                    sa.CheckConstraint("status = 'open' OR decided_by IS NOT NULL",
                                       name='ck_visit_request_decided_by'),
                    sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('engagement') as batch:
        batch.add_column(sa.Column('mode', sa.String(length=12), server_default='in_person', nullable=False))
        batch.add_column(sa.Column('join_link', sa.String(length=500), nullable=True))
        batch.add_column(sa.Column('staff_group', sa.String(length=120), nullable=True))
        batch.create_check_constraint('ck_engagement_mode', "mode IN ('in_person', 'online', 'hybrid')")
        batch.create_check_constraint('ck_engagement_join_link_https',
                                      "join_link IS NULL OR join_link LIKE 'https://%'")


def downgrade() -> None:
    op.drop_table('visit_request')
    with op.batch_alter_table('engagement') as batch:
        batch.drop_constraint('ck_engagement_join_link_https', type_='check')
        batch.drop_constraint('ck_engagement_mode', type_='check')
        batch.drop_column('staff_group')
        batch.drop_column('join_link')
        batch.drop_column('mode')

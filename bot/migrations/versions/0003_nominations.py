"""Peer nominations, their nominees (on Slack or not) and endorsements.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import beacon.bot.db

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('nomination',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nominator_id', sa.String(length=32), nullable=True),
    sa.Column('nominator_name', sa.String(length=120), nullable=True),
    sa.Column('entered_by', sa.String(length=32), nullable=True),
    sa.Column('award', sa.String(length=20), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('story', sa.Text(), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('framework', sa.String(length=60), nullable=True),
    sa.Column('behaviours', sa.JSON(), nullable=False),
    sa.Column('share_publicly', sa.Boolean(), nullable=False),
    sa.Column('hide_nominator', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('duplicate_key', sa.String(length=400), nullable=True),
    sa.Column('public_channel', sa.String(length=32), nullable=True),
    sa.Column('public_ts', sa.String(length=32), nullable=True),
    sa.Column('created_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint("award IN ('values', 'leadership', 'thanks')", name='ck_nomination_award'),
    sa.CheckConstraint("status IN ('active', 'withdrawn')", name='ck_nomination_status'),
    sa.CheckConstraint('nominator_id IS NOT NULL OR nominator_name IS NOT NULL', name='ck_nomination_nominator'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('duplicate_key')
    )
    with op.batch_alter_table('nomination', schema=None) as batch_op:
        batch_op.create_index('ix_nomination_nominator_created', ['nominator_id', 'created_at'], unique=False)

    op.create_table('endorsement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nomination_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['nomination_id'], ['nomination.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('nomination_id', 'user_id', name='uq_endorsement_once')
    )
    with op.batch_alter_table('endorsement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_endorsement_nomination_id'), ['nomination_id'], unique=False)

    op.create_table('nominee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nomination_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=True),
    sa.Column('role', sa.String(length=120), nullable=True),
    sa.Column('site', sa.String(length=120), nullable=True),
    sa.Column('consent', sa.String(length=12), nullable=False),
    sa.Column('consent_at', beacon.bot.db.UTCDateTime(), nullable=True),
    sa.CheckConstraint("consent IN ('pending', 'given', 'declined', 'not_asked')", name='ck_nominee_consent'),
    sa.CheckConstraint('user_id IS NOT NULL OR name IS NOT NULL', name='ck_nominee_identified'),
    sa.ForeignKeyConstraint(['nomination_id'], ['nomination.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('nomination_id', 'user_id', name='uq_nominee_user')
    )
    with op.batch_alter_table('nominee', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nominee_nomination_id'), ['nomination_id'], unique=False)
        batch_op.create_index('ix_nominee_user_nomination', ['user_id', 'nomination_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('nominee', schema=None) as batch_op:
        batch_op.drop_index('ix_nominee_user_nomination')
        batch_op.drop_index(batch_op.f('ix_nominee_nomination_id'))

    op.drop_table('nominee')
    with op.batch_alter_table('endorsement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_endorsement_nomination_id'))

    op.drop_table('endorsement')
    with op.batch_alter_table('nomination', schema=None) as batch_op:
        batch_op.drop_index('ix_nomination_nominator_created')

    op.drop_table('nomination')

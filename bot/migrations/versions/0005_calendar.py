"""The leader engagement calendar: sources, engagements, attendance, questions; outbox edits.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import beacon.bot.db

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('calendar_source',
    sa.Column('key', sa.String(length=400), nullable=False),
    sa.Column('last_success_at', beacon.bot.db.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('failure_reported', sa.Boolean(), nullable=False),
    sa.Column('empty_answers', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('engagement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_key', sa.String(length=400), nullable=False),
    sa.Column('external_id', sa.String(length=400), nullable=False),
    sa.Column('occurrence', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('leader', sa.String(length=200), nullable=False),
    sa.Column('leader_user_id', sa.String(length=32), nullable=True),
    sa.Column('site', sa.String(length=120), nullable=True),
    sa.Column('location', sa.String(length=300), nullable=True),
    sa.Column('starts_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.Column('ends_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.Column('all_day', sa.Boolean(), nullable=False),
    sa.Column('open_to', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('announcement_queued', sa.Boolean(), nullable=False),
    sa.Column('announced_channel', sa.String(length=32), nullable=True),
    sa.Column('announced_ts', sa.String(length=32), nullable=True),
    sa.Column('created_by', sa.String(length=32), nullable=True),
    sa.Column('first_seen_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint("status IN ('scheduled', 'cancelled')", name='ck_engagement_status'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_key', 'external_id', 'occurrence', name='uq_engagement_occurrence')
    )
    with op.batch_alter_table('engagement', schema=None) as batch_op:
        batch_op.create_index('ix_engagement_starts', ['starts_at', 'status'], unique=False)

    op.create_table('unmatched_location',
    sa.Column('location', sa.String(length=300), nullable=False),
    sa.Column('first_seen_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.Column('reported', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('location')
    )
    op.create_table('user_preference',
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('site', sa.String(length=120), nullable=True),
    sa.Column('updated_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('engagement_attendee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('engagement_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagement.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('engagement_id', 'user_id', name='uq_engagement_attendee')
    )
    with op.batch_alter_table('engagement_attendee', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_engagement_attendee_engagement_id'), ['engagement_id'], unique=False)

    op.create_table('engagement_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('engagement_id', sa.Integer(), nullable=False),
    sa.Column('asker_id', sa.String(length=32), nullable=False),
    sa.Column('hide_name', sa.Boolean(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('created_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagement.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('engagement_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_engagement_question_engagement_id'), ['engagement_id'], unique=False)

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('update_ts', sa.String(length=32), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('update_ts')

    with op.batch_alter_table('engagement_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_engagement_question_engagement_id'))

    op.drop_table('engagement_question')
    with op.batch_alter_table('engagement_attendee', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_engagement_attendee_engagement_id'))

    op.drop_table('engagement_attendee')
    op.drop_table('user_preference')
    op.drop_table('unmatched_location')
    with op.batch_alter_table('engagement', schema=None) as batch_op:
        batch_op.drop_index('ix_engagement_starts')

    op.drop_table('engagement')
    op.drop_table('calendar_source')

"""The outbox every scheduled or bulk post goes through, scheduled posts, and once-per-period job runs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import beacon.bot.db

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('job_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=60), nullable=False),
    sa.Column('period', sa.String(length=60), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=False),
    sa.Column('started_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('job', 'period', name='uq_job_run_job_period')
    )
    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('thread_ts', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('due_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.Column('available_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('lease_until', beacon.bot.db.UTCDateTime(), nullable=True),
    sa.Column('sent_at', beacon.bot.db.UTCDateTime(), nullable=True),
    sa.Column('sent_ts', sa.String(length=32), nullable=True),
    sa.Column('sent_channel', sa.String(length=32), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('created_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint("status IN ('held', 'pending', 'sending', 'sent', 'failed', 'missed', 'cancelled')", name='ck_outbox_message_status'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedupe_key')
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_message_claimable', ['status', 'available_at'], unique=False)
        batch_op.create_index('ix_outbox_message_source', ['source', 'source_id'], unique=False)

    op.create_table('scheduled_post',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.String(length=32), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('message', sa.JSON(), nullable=False),
    sa.Column('fallback_text', sa.Text(), nullable=False),
    sa.Column('starts_local', sa.DateTime(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('repeat', sa.String(length=10), nullable=False),
    sa.Column('until_local', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('next_run_at', beacon.bot.db.UTCDateTime(), nullable=True),
    sa.Column('audience', sa.JSON(), nullable=True),
    sa.Column('audience_confirmed', sa.Boolean(), nullable=False),
    sa.Column('approved_by', sa.String(length=32), nullable=True),
    sa.Column('decided_by', sa.String(length=32), nullable=True),
    sa.Column('edit_of', sa.Integer(), nullable=True),
    sa.Column('created_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint("repeat IN ('none', 'daily', 'weekdays', 'weekly', 'monthly')", name='ck_scheduled_post_repeat'),
    sa.CheckConstraint("status IN ('draft', 'pending_approval', 'scheduled', 'paused', 'cancelled', 'rejected', 'completed', 'failed')", name='ck_scheduled_post_status'),
    sa.CheckConstraint('approved_by IS NULL OR approved_by != author_id', name='ck_scheduled_post_second_person'),
    sa.ForeignKeyConstraint(['edit_of'], ['scheduled_post.id'], name='fk_scheduled_post_edit_of'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('scheduled_post', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduled_post_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scheduled_post_next_run_at'), ['next_run_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_scheduled_post_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('scheduled_post', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduled_post_status'))
        batch_op.drop_index(batch_op.f('ix_scheduled_post_next_run_at'))
        batch_op.drop_index(batch_op.f('ix_scheduled_post_author_id'))

    op.drop_table('scheduled_post')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_source')
        batch_op.drop_index('ix_outbox_message_claimable')

    op.drop_table('outbox_message')
    op.drop_table('job_run')

"""Pulse polls: pulses and their series, participation, and answers (anonymous ones kept apart).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import beacon.bot.db

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('pulse_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=150), nullable=False),
    sa.Column('template', sa.JSON(), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('at', sa.String(length=5), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('pulse',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=150), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('live_results', sa.Boolean(), nullable=False),
    sa.Column('remind_hours_before', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('opens_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.Column('closes_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=True),
    sa.Column('message_channel', sa.String(length=32), nullable=True),
    sa.Column('message_ts', sa.String(length=32), nullable=True),
    sa.Column('responses', sa.Integer(), nullable=False),
    sa.Column('responses_shown', sa.Integer(), nullable=False),
    sa.Column('created_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.Column('closed_at', beacon.bot.db.UTCDateTime(), nullable=True),
    sa.CheckConstraint("status IN ('scheduled', 'open', 'closed')", name='ck_pulse_status'),
    sa.ForeignKeyConstraint(['series_id'], ['pulse_series.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pulse', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pulse_closes_at'), ['closes_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pulse_status'), ['status'], unique=False)

    op.create_table('pulse_answer',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('pulse_id', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('answered_on', sa.Date(), nullable=False),
    sa.Column('change_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['pulse_id'], ['pulse.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('change_hash'),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('pulse_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pulse_answer_pulse_id'), ['pulse_id'], unique=False)

    op.create_table('pulse_named_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pulse_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('site', sa.String(length=120), nullable=True),
    sa.Column('area', sa.String(length=120), nullable=True),
    sa.Column('answered_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['pulse_id'], ['pulse.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('pulse_id', 'user_id', name='uq_pulse_named_answer')
    )
    with op.batch_alter_table('pulse_named_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pulse_named_answer_pulse_id'), ['pulse_id'], unique=False)

    op.create_table('pulse_participation',
    sa.Column('pulse_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['pulse_id'], ['pulse.id'], ),
    sa.PrimaryKeyConstraint('pulse_id', 'user_id'),
    sqlite_with_rowid=False
    )


def downgrade() -> None:
    op.drop_table('pulse_participation')
    with op.batch_alter_table('pulse_named_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pulse_named_answer_pulse_id'))

    op.drop_table('pulse_named_answer')
    with op.batch_alter_table('pulse_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pulse_answer_pulse_id'))

    op.drop_table('pulse_answer')
    with op.batch_alter_table('pulse', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pulse_status'))
        batch_op.drop_index(batch_op.f('ix_pulse_closes_at'))

    op.drop_table('pulse')
    op.drop_table('pulse_series')

"""Questions for leaders are never lost, and anonymous ones keep nobody's name: how each reached the leader (the
briefing, or a DM of its own when asked after it), the leader's answer, and a token hash for an anonymous asker
in place of their ID. Existing anonymous questions lose their asker and the time they were asked (the day is kept).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import beacon.bot.db

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('engagement_question') as batch:
        batch.alter_column('asker_id', existing_type=sa.String(length=32), nullable=True)
        batch.add_column(sa.Column('token_hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('delivered', sa.String(length=12), nullable=True))
        batch.add_column(sa.Column('answer', sa.Text(), nullable=True))
        batch.add_column(sa.Column('answered_by', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('answered_at', beacon.bot.db.UTCDateTime(), nullable=True))
        batch.create_unique_constraint('uq_engagement_question_token_hash', ['token_hash'])
        batch.create_index('ix_engagement_question_answered_at', ['answered_at'], unique=False)
    # Questions already asked: those of engagements already briefed stay as they were delivered; anonymous ones
    # lose their asker (and their time of day) before the rule that keeps it so is added.
    op.execute("UPDATE engagement_question SET asker_id = NULL WHERE hide_name")
    if op.get_bind().dialect.name == "sqlite":  # stored as 'YYYY-MM-DD HH:MM:SS[.ffffff]' (UTC)
        op.execute("UPDATE engagement_question SET created_at = substr(created_at, 1, 10) || ' 00:00:00.000000' "
                   "WHERE hide_name")
    else:
        op.execute("UPDATE engagement_question SET created_at = date_trunc('day', created_at AT TIME ZONE 'UTC') "
                   "AT TIME ZONE 'UTC' WHERE hide_name")
    op.execute("UPDATE engagement_question SET delivered = 'briefing' WHERE engagement_id IN (SELECT source_id "
               "FROM outbox_message WHERE dedupe_key LIKE 'notice:leader-briefing:%')")
    with op.batch_alter_table('engagement_question') as batch:
        batch.create_check_constraint('ck_engagement_question_anonymous_has_no_asker',
                                      '(hide_name AND asker_id IS NULL) OR (NOT hide_name AND asker_id IS NOT NULL)')


def downgrade() -> None:
    with op.batch_alter_table('engagement_question') as batch:
        batch.drop_constraint('ck_engagement_question_anonymous_has_no_asker', type_='check')
        batch.drop_constraint('uq_engagement_question_token_hash', type_='unique')
        batch.drop_index('ix_engagement_question_answered_at')
        batch.drop_column('answered_at')
        batch.drop_column('answered_by')
        batch.drop_column('answer')
        batch.drop_column('delivered')
        batch.drop_column('token_hash')
    op.execute("UPDATE engagement_question SET asker_id = '' WHERE asker_id IS NULL")
    with op.batch_alter_table('engagement_question') as batch:
        batch.alter_column('asker_id', existing_type=sa.String(length=32), nullable=False)

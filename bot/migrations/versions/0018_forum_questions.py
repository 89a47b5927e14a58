"""Ask the leaders: staff questions for the leadership team (named or anonymous) and who supported each.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('forum_question',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('asker_id', sa.String(length=32), nullable=True),
    sa.Column('status_hash', sa.String(length=64), nullable=True),
    sa.Column('asked_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('merged_into', sa.String(length=32), nullable=True),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('leader_id', sa.String(length=32), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by', sa.String(length=32), nullable=True),
    sa.Column('answered_on', sa.Date(), nullable=True),
    sa.Column('supporters', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'published', 'answered', 'merged', 'declined')",
                       name='ck_forum_question_status'),
    sa.CheckConstraint('(asker_id IS NULL) <> (status_hash IS NULL)', name='ck_forum_question_named_or_token'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('status_hash'),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('forum_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forum_question_status'), ['status'], unique=False)

    op.create_table('forum_support',
    sa.Column('question_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['forum_question.id'], ),
    sa.PrimaryKeyConstraint('question_id', 'user_id'),
    sqlite_with_rowid=False
    )


def downgrade() -> None:
    op.drop_table('forum_support')
    with op.batch_alter_table('forum_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forum_question_status'))
    op.drop_table('forum_question')

"""Award rounds, the panel's scores, decisions and declared conflicts, and exports.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import beacon.bot.db

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('award_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('closes_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('opened_at', beacon.bot.db.UTCDateTime(), nullable=True),
    sa.Column('closed_at', beacon.bot.db.UTCDateTime(), nullable=True),
    sa.Column('decided_at', beacon.bot.db.UTCDateTime(), nullable=True),
    sa.Column('announced_at', beacon.bot.db.UTCDateTime(), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'open', 'closed', 'decided', 'announced', 'archived')", name='ck_award_round_status'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('award_round', schema=None) as batch_op:
        batch_op.create_index('uq_award_round_one_open', ['status'], unique=True, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))

    op.create_table('candidate_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('award', sa.String(length=20), nullable=False),
    sa.Column('candidate', sa.String(length=400), nullable=False),
    sa.Column('shortlisted', sa.Boolean(), nullable=False),
    sa.Column('winner', sa.Boolean(), nullable=False),
    sa.Column('winner_consents', sa.JSON(), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=False),
    sa.Column('updated_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['award_round.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id', 'award', 'candidate', name='uq_candidate_decision')
    )
    with op.batch_alter_table('candidate_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_candidate_decision_round_id'), ['round_id'], unique=False)

    op.create_table('conflict_declaration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('award', sa.String(length=20), nullable=False),
    sa.Column('candidate', sa.String(length=400), nullable=False),
    sa.Column('panel_member', sa.String(length=32), nullable=False),
    sa.Column('declared_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['award_round.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id', 'award', 'candidate', 'panel_member', name='uq_conflict_once')
    )
    with op.batch_alter_table('conflict_declaration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conflict_declaration_round_id'), ['round_id'], unique=False)

    op.create_table('round_export',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('exported_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['award_round.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('round_export', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_export_round_id'), ['round_id'], unique=False)

    op.create_table('score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nomination_id', sa.Integer(), nullable=False),
    sa.Column('panel_member', sa.String(length=32), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=40), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', beacon.bot.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint('score BETWEEN 1 AND 5', name='ck_score_range'),
    sa.ForeignKeyConstraint(['nomination_id'], ['nomination.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('nomination_id', 'panel_member', name='uq_score_once')
    )
    with op.batch_alter_table('score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_nomination_id'), ['nomination_id'], unique=False)

    with op.batch_alter_table('nomination', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nomination_round_id'), ['round_id'], unique=False)
        batch_op.create_foreign_key('fk_nomination_round_id', 'award_round', ['round_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('nomination', schema=None) as batch_op:
        batch_op.drop_constraint('fk_nomination_round_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_nomination_round_id'))

    with op.batch_alter_table('score', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_nomination_id'))

    op.drop_table('score')
    with op.batch_alter_table('round_export', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_export_round_id'))

    op.drop_table('round_export')
    with op.batch_alter_table('conflict_declaration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conflict_declaration_round_id'))

    op.drop_table('conflict_declaration')
    with op.batch_alter_table('candidate_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_candidate_decision_round_id'))

    op.drop_table('candidate_decision')
    with op.batch_alter_table('award_round', schema=None) as batch_op:
        batch_op.drop_index('uq_award_round_one_open', sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))

    op.drop_table('award_round')

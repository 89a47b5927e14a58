"""Consent to an exact snapshot of a nomination.

A nomination's public content gets a version and a hash; each nominee records the version they said yes to;
the nomination keeps the snapshot everyone named agreed to, and public posts are built only from it.
Existing nominations whose nominees (all on Slack) have all said yes get a snapshot of their current content.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""
import hashlib
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _hash(snapshot: dict[str, Any]) -> str:
    """A frozen copy of bot/services/nominations.py: content_hash, as it was when this migration was written."""
    body = {k: v for k, v in snapshot.items() if k != "version"}
    body["nominees"] = sorted(body.get("nominees") or [], key=lambda n: json.dumps(n, sort_keys=True))
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                          .encode()).hexdigest()


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def upgrade() -> None:
    with op.batch_alter_table('nomination') as batch:
        batch.add_column(sa.Column('content_version', sa.Integer(), server_default=sa.text('1'), nullable=False))
        batch.add_column(sa.Column('content_hash', sa.String(length=64), server_default='', nullable=False))
        batch.add_column(sa.Column('consented_version', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('consented_hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('consented_snapshot', sa.JSON(), nullable=True))
    with op.batch_alter_table('nominee') as batch:
        batch.add_column(sa.Column('consented_version', sa.Integer(), nullable=True))

    bind = op.get_bind()
    nomination = sa.table('nomination', sa.column('id', sa.Integer), sa.column('award', sa.String),
                          sa.column('values', sa.JSON), sa.column('framework', sa.String),
                          sa.column('behaviours', sa.JSON), sa.column('story', sa.Text),
                          sa.column('nominator_id', sa.String), sa.column('nominator_name', sa.String),
                          sa.column('hide_nominator', sa.Boolean), sa.column('share_publicly', sa.Boolean),
                          sa.column('status', sa.String), sa.column('content_hash', sa.String),
                          sa.column('consented_version', sa.Integer), sa.column('consented_hash', sa.String),
                          sa.column('consented_snapshot', sa.JSON))
    nominee = sa.table('nominee', sa.column('id', sa.Integer), sa.column('nomination_id', sa.Integer),
                       sa.column('user_id', sa.String), sa.column('name', sa.String), sa.column('role', sa.String),
                       sa.column('site', sa.String), sa.column('consent', sa.String),
                       sa.column('consented_version', sa.Integer))
    people: dict[int, list[Any]] = {}
    for row in bind.execute(sa.select(nominee).order_by(nominee.c.id)):
        people.setdefault(row.nomination_id, []).append(row)
    for row in bind.execute(sa.select(nomination)).all():
        named = people.get(row.id, [])
        snapshot = {"version": 1, "award": row.award, "values": _json(row.values) or [], "framework": row.framework,
                    "behaviours": _json(row.behaviours) or [], "story": row.story,
                    "nominees": [{"user_id": p.user_id, "name": p.name, "role": p.role, "site": p.site}
                                 for p in named],
                    "nominator_id": row.nominator_id, "nominator_name": row.nominator_name,
                    "hide_nominator": bool(row.hide_nominator)}
        digest = _hash(snapshot)
        values: dict[str, Any] = {"content_hash": digest}
        everyone_agreed = bool(named) and all(p.user_id and p.consent == 'given' for p in named)
        if row.share_publicly and row.status == 'active' and everyone_agreed:
            values |= {"consented_version": 1, "consented_hash": digest, "consented_snapshot": snapshot}
            bind.execute(sa.update(nominee).where(nominee.c.nomination_id == row.id).values(consented_version=1))
        bind.execute(sa.update(nomination).where(nomination.c.id == row.id).values(**values))


def downgrade() -> None:
    with op.batch_alter_table('nominee') as batch:
        batch.drop_column('consented_version')
    with op.batch_alter_table('nomination') as batch:
        batch.drop_column('consented_snapshot')
        batch.drop_column('consented_hash')
        batch.drop_column('consented_version')
        batch.drop_column('content_hash')
        batch.drop_column('content_version')

"""The awards panel's running totals: candidates, which nominations count towards each, who else is involved with
each (nominated it, scored it), and per round and award the counts of nominations, candidates, values and
behaviours. Filled from the nominations, endorsements and scores already stored.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-10
"""
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CANDIDATE_KEY = sa.String(length=400).with_variant(sa.String(length=400, collation="C"), "postgresql")


def _person_key(user_id: str | None, name: str | None) -> str:
    """A frozen copy of bot/services/review_totals.py: person_key, as it was when this migration was written."""
    return user_id or f"name:{(name or '').strip().lower()}"


def _candidate_key(keys: Iterable[str]) -> str:
    """A frozen copy of bot/services/review_totals.py: candidate_key."""
    joined = "+".join(sorted(keys))
    if len(joined) <= 200:
        return joined
    return "team:" + hashlib.sha256(joined.encode()).hexdigest()


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def upgrade() -> None:
    op.create_table('review_candidate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('award', sa.String(length=20), nullable=False),
    sa.Column('candidate', CANDIDATE_KEY, nullable=False),
    sa.Column('people', sa.JSON(), nullable=False),
    sa.Column('nominations', sa.Integer(), nullable=False),
    sa.Column('endorsements', sa.Integer(), nullable=False),
    sa.Column('scores', sa.Integer(), nullable=False),
    sa.Column('score_total', sa.Integer(), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('behaviours', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['award_round.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id', 'award', 'candidate', name='uq_review_candidate')
    )
    op.create_index('ix_review_candidate_rank', 'review_candidate',
                    ['round_id', 'award', sa.desc(sa.column('nominations')), sa.desc(sa.column('endorsements')),
                     'candidate'], unique=False)
    op.create_table('review_nomination',
    sa.Column('nomination_id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['review_candidate.id'], ),
    sa.ForeignKeyConstraint(['nomination_id'], ['nomination.id'], ),
    sa.PrimaryKeyConstraint('nomination_id')
    )
    op.create_index('ix_review_nomination_candidate', 'review_nomination', ['candidate_id', 'nomination_id'],
                    unique=False)
    op.create_table('review_person',
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('nominated', sa.Integer(), nullable=False),
    sa.Column('scored', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['review_candidate.id'], ),
    sa.PrimaryKeyConstraint('candidate_id', 'user_id')
    )
    op.create_table('review_tally',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('award', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['award_round.id'], ),
    sa.PrimaryKeyConstraint('round_id', 'award', 'kind', 'label')
    )
    _fill()


def _fill() -> None:
    """Count every round's active nominations, as bot/services/review_totals.py would have."""
    bind = op.get_bind()
    nomination = sa.table('nomination', sa.column('id', sa.Integer), sa.column('round_id', sa.Integer),
                          sa.column('award', sa.String), sa.column('status', sa.String),
                          sa.column('values', sa.JSON), sa.column('behaviours', sa.JSON),
                          sa.column('nominator_id', sa.String), sa.column('entered_by', sa.String))
    nominee = sa.table('nominee', sa.column('id', sa.Integer), sa.column('nomination_id', sa.Integer),
                       sa.column('user_id', sa.String), sa.column('name', sa.String), sa.column('role', sa.String),
                       sa.column('site', sa.String))
    endorsement = sa.table('endorsement', sa.column('nomination_id', sa.Integer))
    score = sa.table('score', sa.column('nomination_id', sa.Integer), sa.column('panel_member', sa.String),
                     sa.column('score', sa.Integer))
    candidate_t = sa.table('review_candidate', *(sa.column(c) for c in (
        'id', 'round_id', 'award', 'candidate', 'nominations', 'endorsements', 'scores', 'score_total')),
        sa.column('people', sa.JSON), sa.column('values', sa.JSON), sa.column('behaviours', sa.JSON))
    mapping_t = sa.table('review_nomination', sa.column('nomination_id'), sa.column('candidate_id'))
    person_t = sa.table('review_person', *(sa.column(c) for c in ('candidate_id', 'user_id', 'nominated', 'scored')))
    tally_t = sa.table('review_tally', *(sa.column(c) for c in ('round_id', 'award', 'kind', 'label', 'count')))

    active = (nomination.c.status == 'active') & nomination.c.round_id.is_not(None)
    rows = bind.execute(sa.select(nomination).where(active).order_by(nomination.c.id)).all()
    if not rows:
        return
    people: dict[int, list[Any]] = {}
    for p in bind.execute(sa.select(nominee).join(nomination, nomination.c.id == nominee.c.nomination_id)
                          .where(active).order_by(nominee.c.id)):
        people.setdefault(p.nomination_id, []).append(p)
    endorsed: dict[int, int] = dict(bind.execute(sa.select(endorsement.c.nomination_id, sa.func.count())
                                 .group_by(endorsement.c.nomination_id)).all())
    scores: dict[int, list[Any]] = {}
    for s in bind.execute(sa.select(score)):
        scores.setdefault(s.nomination_id, []).append(s)

    groups: dict[tuple[int, str, str], list[Any]] = {}
    for row in rows:
        key = _candidate_key(_person_key(p.user_id, p.name) for p in people.get(row.id, []))
        groups.setdefault((row.round_id, row.award, key), []).append(row)
    candidates, mapping, persons = [], [], []
    tally: Counter[tuple[int, str, str, str]] = Counter()
    for number, ((round_id, award, key), members) in enumerate(sorted(groups.items()), start=1):
        values: Counter[str] = Counter()
        behaviours: Counter[str] = Counter()
        nominated: Counter[str] = Counter()
        scored: Counter[str] = Counter()
        total = endorsements = 0
        for n in members:
            values.update(_json(n.values) or [])
            behaviours.update(_json(n.behaviours) or [])
            nominated.update({u for u in (n.nominator_id, n.entered_by) if u})
            endorsements += endorsed.get(n.id, 0)
            for s in scores.get(n.id, []):
                scored[s.panel_member] += 1
                total += s.score
            mapping.append({"nomination_id": n.id, "candidate_id": number})
        first = sorted(people.get(members[0].id, []), key=lambda p: _person_key(p.user_id, p.name))
        candidates.append({"id": number, "round_id": round_id, "award": award, "candidate": key,
                           "people": [{"user_id": p.user_id, "name": p.name, "role": p.role, "site": p.site}
                                      for p in first],
                           "nominations": len(members), "endorsements": endorsements,
                           "scores": sum(scored.values()), "score_total": total,
                           "values": dict(sorted(values.items())), "behaviours": dict(sorted(behaviours.items()))})
        persons += [{"candidate_id": number, "user_id": u, "nominated": nominated.get(u, 0),
                     "scored": scored.get(u, 0)} for u in sorted({*nominated, *scored})]
        tally[(round_id, award, "nominations", "")] += len(members)
        tally[(round_id, award, "candidates", "")] += 1
        for kind, counted in (("value", values), ("behaviour", behaviours)):
            for label, count in counted.items():
                tally[(round_id, award, kind, label[:200])] += count
    for table, values_ in ((candidate_t, candidates), (mapping_t, mapping), (person_t, persons),
                           (tally_t, [{"round_id": r, "award": a, "kind": k, "label": label, "count": n}
                                      for (r, a, k, label), n in sorted(tally.items())])):
        for start in range(0, len(values_), 2000):
            bind.execute(sa.insert(table), values_[start:start + 2000])
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text("SELECT setval(pg_get_serial_sequence('review_candidate', 'id'), :n)"),
                     {"n": len(candidates)})


def downgrade() -> None:
    op.drop_table('review_tally')
    op.drop_table('review_person')
    op.drop_index('ix_review_nomination_candidate', table_name='review_nomination')
    op.drop_table('review_nomination')
    op.drop_index('ix_review_candidate_rank', table_name='review_candidate')
    op.drop_table('review_candidate')

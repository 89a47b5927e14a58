"""The panel's review as Beacon built it before the running totals: every candidate of a round rebuilt from the
nominations, nominees, endorsements, scores, decisions and declarations. Kept only as the oracle the totals are
checked against (tests/test_review_totals.py); nothing in Beacon calls it."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot.models import (
    CandidateDecision,
    ConflictDeclaration,
    Endorsement,
    Nomination,
    NominationStatus,
    Nominee,
    Score,
)
from beacon.bot.services.panel_review import CandidateSummary, candidate_key, person_key


async def candidates_rebuilt_from_scratch(session: AsyncSession, round_id: int, viewer: str | None,
                                          panel: frozenset[str],
                                          award: str | None = None) -> dict[tuple[str, str], CandidateSummary]:
    """PanelReview._candidates as it was (rows read in id order, so a candidate's people come from its first
    nomination), with its summaries' nomination_ids complete."""
    where = [col(Nomination.round_id) == round_id, col(Nomination.status) == NominationStatus.ACTIVE]
    if award:
        where.append(col(Nomination.award) == award)
    rows = (await session.execute(select(
        col(Nomination.id), col(Nomination.award), col(Nomination.nominator_id), col(Nomination.entered_by),
        col(Nomination.values), col(Nomination.behaviours)).where(*where).order_by(col(Nomination.id)))).all()
    people: dict[int, list[Any]] = defaultdict(list)
    for n in (await session.execute(
            select(col(Nominee.nomination_id), col(Nominee.user_id), col(Nominee.name), col(Nominee.role),
                   col(Nominee.site))
            .join(Nomination, col(Nomination.id) == col(Nominee.nomination_id)).where(*where)
            .order_by(col(Nominee.id)))).all():
        people[n.nomination_id].append(n)
    endorsed = dict((await session.execute(
        select(col(Endorsement.nomination_id), func.count())
        .join(Nomination, col(Nomination.id) == col(Endorsement.nomination_id))
        .where(*where).group_by(col(Endorsement.nomination_id)))).all())
    mine: set[int] = set()
    if viewer:
        mine = set((await session.scalars(
            select(col(Score.nomination_id)).join(Nomination, col(Nomination.id) == col(Score.nomination_id))
            .where(*where, col(Score.panel_member) == viewer))).all())
    candidates: dict[tuple[str, str], CandidateSummary] = {}
    for row in rows:
        nominees = sorted(people[row.id], key=lambda n: person_key(n.user_id, n.name))
        key = candidate_key(person_key(n.user_id, n.name) for n in nominees)
        candidate = candidates.get((row.award, key))
        if candidate is None:
            candidate = candidates[(row.award, key)] = CandidateSummary(
                award=row.award, key=key, people=[{"user_id": n.user_id, "name": n.name, "role": n.role,
                                                  "site": n.site} for n in nominees])
        candidate.nomination_ids.append(row.id)
        candidate.endorsements += endorsed.get(row.id, 0)
        candidate.values.update(row.values or [])
        candidate.behaviours.update(row.behaviours or [])
        candidate.scored_by_me += row.id in mine
        for member in panel:
            if member in {n.user_id for n in nominees}:
                candidate.conflicts.setdefault(member, "nominee")
            elif member in (row.nominator_id, row.entered_by):
                candidate.conflicts.setdefault(member, "nominator")
    for decision in (await session.scalars(select(CandidateDecision).where(
            col(CandidateDecision.round_id) == round_id))).all():
        if (decision.award, decision.candidate) in candidates:
            candidates[(decision.award, decision.candidate)].shortlisted = decision.shortlisted
            candidates[(decision.award, decision.candidate)].winner = decision.winner
    for conflict in (await session.scalars(select(ConflictDeclaration).where(
            col(ConflictDeclaration.round_id) == round_id).order_by(col(ConflictDeclaration.id)))).all():
        if (conflict.award, conflict.candidate) in candidates:
            candidates[(conflict.award, conflict.candidate)].conflicts.setdefault(conflict.panel_member, "declared")
    return candidates

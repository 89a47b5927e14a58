"""The panel's running totals agree with a round rebuilt from scratch, whatever happens to it and however many
panel members act at once."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from beacon.bot.db import alembic_config, upgrade
from beacon.bot.errors import InvalidInput, NotFound
from beacon.bot.models import (
    AwardRound,
    Nomination,
    NominationStatus,
    Nominee,
    ReviewCandidate,
    ReviewNomination,
    ReviewPerson,
    ReviewTally,
    RoundStatus,
    Score,
)
from beacon.bot.organisation import Organisation, Role
from beacon.bot.services import review_totals
from beacon.bot.services.nominations import NominationDraft, NomineeInput
from beacon.bot.services.panel_review import CandidateSummary
from tests.harness import ALICE, BOB, CAROL, DAVE, ERIN, FRANK, GRACE, HEIDI, Beacon, organisation_for
from tests.nominating import STORY
from tests.reference_review import candidates_rebuilt_from_scratch

PANEL = [DAVE, ERIN, FRANK]
NOMINATORS = [BOB, CAROL, ERIN, GRACE, DAVE]
PEOPLE = [NomineeInput(user_id=ALICE), NomineeInput(user_id=HEIDI), NomineeInput(user_id=GRACE),
          NomineeInput(user_id=ERIN), NomineeInput(name="Sam Jones", role="Paramedic", site="Bedford"),
          NomineeInput(name="sam jones ", role="EMT", site="Luton"), NomineeInput(name="Crew Two", role="ECA")]
VALUES = ["care", "teamwork", "quality", "respect", "honesty"]
BEHAVIOURS = ["inspiring_shared_purpose", "leading_with_care", "engaging_the_team"]


@pytest.fixture
def organisation(slack) -> Organisation:  # type: ignore[no-untyped-def]
    return organisation_for(slack.workspace, roles={"panel": PANEL, "comms": [BOB], "admins": [FRANK]})


def _draft(rng: random.Random, nominator: str) -> NominationDraft:
    people = [p for p in rng.sample(PEOPLE, rng.choice([1, 1, 2])) if p.user_id != nominator] or [PEOPLE[4]]
    award = rng.choice(["values", "values", "leadership"])
    return NominationDraft(nominees=tuple(people), award=award, values=tuple(rng.sample(VALUES, rng.randint(1, 3))),
                           behaviours=tuple(rng.sample(BEHAVIOURS, rng.randint(1, 2))) if award == "leadership"
                           else (), story=STORY, share_publicly=False, hide_nominator=False, no_patient_details=True)


def _view(c: CandidateSummary) -> tuple[Any, ...]:
    return (c.award, c.key, c.people, c.nominations, c.endorsements, dict(c.values), dict(c.behaviours),
            dict(sorted(c.conflicts.items())), c.scored_by_me, c.shortlisted, c.winner,
            sorted(c.nomination_ids)[:25])


async def assert_totals_match_a_recount(beacon: Beacon) -> int:
    """Every panel member's review, page by page, equals the round rebuilt from scratch; so do the stored totals
    (scores included). Returns how many candidates there are."""
    review, panel = beacon.deps.panel_review, await beacon.deps.authorisation.members(Role.PANEL)
    async with beacon.deps.db.transaction() as session:
        round_ = (await session.scalars(select(AwardRound).order_by(col(AwardRound.id).desc()))).first()
        assert round_ is not None and round_.id is not None
        for viewer in sorted(panel):
            expected = await candidates_rebuilt_from_scratch(session, round_.id, viewer, panel)
            for award in ("values", "leadership"):
                want = sorted((c for (a, _), c in expected.items() if a == award),
                              key=lambda c: (-c.nominations, -c.endorsements, c.key))
                first = await review.review(session=session, user_id=viewer, award=award, per_page=3)
                got = [c for p in range(first.pages) for c in (await review.review(
                    session=session, user_id=viewer, award=award, page=p, per_page=3)).candidates]
                assert [_view(c) for c in got] == [_view(c) for c in want]
                assert first.total_candidates == len(want)
                assert first.nominations == sum(c.nominations for c in want)
                assert first.values == sum((c.values for c in want), Counter())
                assert first.behaviours == sum((c.behaviours for c in want), Counter())
        by_nomination: dict[int, list[int]] = {}
        for s in (await session.scalars(select(Score))).all():
            by_nomination.setdefault(s.nomination_id, []).append(s.score)
        stored = {(r.award, r.candidate): r for r in (await session.scalars(
            select(ReviewCandidate).where(col(ReviewCandidate.round_id) == round_.id))).all()}
        assert set(stored) == set(expected), "a row for every candidate with nominations, and no other"
        for key, candidate in expected.items():
            marks = [m for n in candidate.nomination_ids for m in by_nomination.get(n, [])]
            assert (stored[key].scores, stored[key].score_total) == (len(marks), sum(marks))
        mapped = {n: (award, key) for n, award, key in (await session.execute(select(
            col(ReviewNomination.nomination_id), col(ReviewCandidate.award), col(ReviewCandidate.candidate))
            .join(ReviewCandidate, col(ReviewCandidate.id) == col(ReviewNomination.candidate_id)))).all()}
        assert mapped == {n: key for key, c in expected.items() for n in c.nomination_ids}
        return len(expected)


async def _act(beacon: Beacon, service_call: Any, **arguments: Any) -> bool:
    """One person's action in its own transaction; a refusal (a conflict, a closed round) changes nothing."""
    try:
        async with beacon.deps.db.transaction() as session:
            await service_call(session=session, **arguments)
    except (InvalidInput, NotFound, IntegrityError):  # an edit that repeats another nomination is refused here
        return False
    return True


async def _active(beacon: Beacon) -> list[Nomination]:
    async with beacon.deps.db.transaction() as session:
        return list((await session.scalars(select(Nomination).where(
            col(Nomination.status) == NominationStatus.ACTIVE).order_by(col(Nomination.id)))).all())


async def _endorse(beacon: Beacon, rng: random.Random, nominations: list[Nomination]) -> None:
    """Someone endorses a celebrated nomination (made celebrated here: consent is another test's business)."""
    target = rng.choice(nominations)
    async with beacon.deps.db.transaction() as session:
        await session.execute(update(Nomination).where(col(Nomination.id) == target.id).values(
            public_ts=f"1.{target.id}", public_channel="C0", consented_snapshot={"agreed": True}))
    endorser = rng.choice([ALICE, BOB, CAROL, DAVE, ERIN, FRANK, GRACE, HEIDI])
    await _act(beacon, beacon.deps.nominations.endorse, user_id=endorser, nomination_id=target.id or 0)


async def _play(beacon: Beacon, rng: random.Random, steps: int = 40) -> None:
    """A round's life in random steps: open, nominate, edit, withdraw, endorse; closed, score, declare conflicts,
    decide, endorse; each step its own transaction, checked against a recount after each phase."""
    deps = beacon.deps
    assert await _act(beacon, deps.award_rounds.open_round, user_id=DAVE, name="2027 Staff Awards",
                      closes_on=datetime(2027, 3, 31).date())
    for _ in range(steps):  # while the round is open: nominate (a repeat merges), edit, withdraw, endorse
        action, active = rng.random(), await _active(beacon)
        if action < 0.5 or not active:
            nominator = rng.choice(NOMINATORS)
            await _act(beacon, deps.nominations.submit, nominator=nominator, draft=_draft(rng, nominator))
        elif action < 0.7:
            mine = rng.choice(active)
            author = mine.nominator_id or ""
            await _act(beacon, deps.nominations.submit, nominator=author, draft=_draft(rng, author),
                       editing=mine.id)
        elif action < 0.85:
            gone = rng.choice(active)
            await _act(beacon, deps.nominations.withdraw, user_id=gone.nominator_id or "",
                       nomination_id=gone.id or 0)
        else:
            await _endorse(beacon, rng, active)
    assert await assert_totals_match_a_recount(beacon) > 3
    assert await _act(beacon, deps.award_rounds.close, user_id=DAVE)
    for _ in range(steps):  # closed: score (refused when conflicted), declare conflicts, decide, endorse
        action, active, member = rng.random(), await _active(beacon), rng.choice(PANEL)
        nomination = rng.choice(active)
        if action < 0.55:
            await _act(beacon, deps.panel_review.score, user_id=member, nomination_id=nomination.id or 0,
                       score=rng.randint(1, 5), level=None, note="")
        elif action < 0.75:
            summary = await _candidate_of(beacon, member, nomination)
            await _act(beacon, deps.panel_review.declare_conflict, user_id=member, award=nomination.award,
                       key=summary.key)
        elif action < 0.9:
            summary = await _candidate_of(beacon, member, nomination)
            await _act(beacon, deps.panel_review.decide_candidate, user_id=member, award=nomination.award,
                       key=summary.key, **{rng.choice(["shortlisted", "winner"]): rng.random() < 0.7})
        else:
            await _endorse(beacon, rng, active)
    await assert_totals_match_a_recount(beacon)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_totals_equal_a_recount_after_any_sequence_of_changes(beacon: Beacon, seed: int) -> None:
    deps = beacon.deps
    await _play(beacon, random.Random(seed))
    # Erasure renames a nominee, a nominator and a scorer: their candidates move to the new keys.
    for person in (ALICE, ERIN):
        async with deps.db.transaction() as session:
            await deps.privacy.erase(session=session, user_id=person, actor="cli:test")
    await assert_totals_match_a_recount(beacon)
    async with deps.db.transaction() as session:
        people = (await session.scalars(select(col(ReviewPerson.user_id)))).all()
        assert ALICE not in people and ERIN not in people


async def _candidate_of(beacon: Beacon, viewer: str, nomination: Nomination) -> CandidateSummary:
    async with beacon.deps.db.transaction() as session:
        return (await beacon.deps.panel_review.candidate_of(session=session, user_id=viewer,
                                                            nomination=nomination)).summary


async def _seed_one_candidate(beacon: Beacon, nominations: int) -> list[int]:
    """A closed round in which HEIDI is nominated `nominations` times, by as many colleagues, written directly."""
    start = datetime(2026, 12, 1, tzinfo=UTC)
    async with beacon.deps.db.transaction() as session:
        round_ = AwardRound(name="2027 Staff Awards", status=RoundStatus.CLOSED, created_by=DAVE,
                            closes_at=start + timedelta(days=30), opened_at=start, closed_at=start)
        session.add(round_)
        await session.flush()
        ids = []
        for i in range(nominations):
            nomination = Nomination(nominator_id=f"U0COLL{i:03d}", award="values", round_id=round_.id, story=STORY,
                                    values=["care"], behaviours=[], created_at=start, updated_at=start)
            session.add(nomination)
            await session.flush()
            await session.execute(insert(Nominee).values(nomination_id=nomination.id, user_id=HEIDI,
                                                         consent="not_asked"))
            ids.append(nomination.id or 0)
        await review_totals.rebuild(session, round_.id or 0)
    return ids


async def test_panel_members_scoring_the_same_candidate_at_once_are_all_counted(beacon: Beacon) -> None:
    """Every score lands in its own transaction at the same moment as the others (each holds its transaction open a
    little, so they overlap): on PostgreSQL a read-modify-write count would lose some of them."""
    ids = await _seed_one_candidate(beacon, 12)
    review = beacon.deps.panel_review

    async def score(member: str, nomination_id: int, mark: int) -> None:
        async with beacon.deps.db.transaction() as session:
            await review.score(session=session, user_id=member, nomination_id=nomination_id, score=mark, level=None,
                               note="")
            await asyncio.sleep(0.02)

    marks = {(member, n): 1 + (i + j) % 5 for i, member in enumerate(PANEL) for j, n in enumerate(ids)}
    await asyncio.gather(*(score(member, n, mark) for (member, n), mark in marks.items()))
    async with beacon.deps.db.transaction() as session:
        [candidate] = (await session.scalars(select(ReviewCandidate))).all()
        recount = (await session.execute(select(func.count(), func.sum(col(Score.score))))).one()
        scored = dict((await session.execute(select(col(ReviewPerson.user_id), col(ReviewPerson.scored)).where(
            col(ReviewPerson.user_id).in_(PANEL)))).all())
        page = await review.review(session=session, user_id=ERIN, award="values")
    assert (candidate.scores, candidate.score_total) == (len(marks), sum(marks.values())) == tuple(recount)
    assert scored == {member: len(ids) for member in PANEL}
    assert page.candidates[0].scored_by_me == len(ids) and page.candidates[0].nominations == len(ids)
    await assert_totals_match_a_recount(beacon)


async def test_two_nominations_making_the_same_new_candidate_at_once_make_one(beacon: Beacon) -> None:
    deps = beacon.deps
    assert await _act(beacon, deps.award_rounds.open_round, user_id=DAVE, name="2027 Staff Awards",
                      closes_on=datetime(2027, 3, 31).date())
    draft = NominationDraft(nominees=(NomineeInput(user_id=HEIDI),), award="values", values=("care",), behaviours=(),
                            story=STORY, share_publicly=False, hide_nominator=False, no_patient_details=True)

    async def nominate(nominator: str) -> None:
        async with deps.db.transaction() as session:
            await deps.nominations.submit(session=session, nominator=nominator, draft=draft)
            await asyncio.sleep(0.02)

    await asyncio.gather(*(nominate(n) for n in (BOB, CAROL, GRACE, ALICE)))
    async with deps.db.transaction() as session:
        [candidate] = (await session.scalars(select(ReviewCandidate))).all()
        tally = dict((await session.execute(select(col(ReviewTally.kind), col(ReviewTally.count)).where(
            col(ReviewTally.label) == ""))).all())
    assert candidate.nominations == 4 and tally == {"nominations": 4, "candidates": 1}
    await assert_totals_match_a_recount(beacon)


async def _stored_totals(beacon: Beacon) -> tuple[Any, ...]:
    async with beacon.deps.db.transaction() as session:
        rows = (await session.scalars(select(ReviewCandidate))).all()
        named = {r.id: (r.round_id, r.award, r.candidate) for r in rows}
        candidates = {named[r.id]: (r.people, r.nominations, r.endorsements, r.scores, r.score_total, r.values,
                                    r.behaviours) for r in rows}
        mapping = {m.nomination_id: named[m.candidate_id] for m in (await session.scalars(
            select(ReviewNomination))).all()}
        people = {(named[p.candidate_id], p.user_id): (p.nominated, p.scored) for p in (await session.scalars(
            select(ReviewPerson))).all()}
        tallies = {(t.round_id, t.award, t.kind, t.label): t.count for t in (await session.scalars(
            select(ReviewTally))).all() if t.count}
    return candidates, mapping, people, tallies


async def test_the_migration_counts_what_is_already_stored_as_beacon_would(beacon: Beacon) -> None:
    """Rounds kept before the totals existed: migration 0013 fills them with what Beacon itself would have kept."""
    await _play(beacon, random.Random(7), steps=30)
    kept = await _stored_totals(beacon)
    assert kept[0] and kept[2] and kept[3]
    await asyncio.to_thread(command.downgrade, alembic_config(beacon.deps.db.url), "0012")
    await upgrade(beacon.deps.db.url)
    assert await _stored_totals(beacon) == kept
    await assert_totals_match_a_recount(beacon)

"""The awards panel's review of a round: candidates, scores, conflicts, decisions, announcement, export
and insight. Everything here is for the panel alone (insight also for the communications team).

A candidate is one person, or one team, for one award in one round; nominations for the same people are
merged into it. A panel member who is a nominee or the nominator of any of a candidate's nominations, or who
declared a conflict, can neither see its score sheet nor score or decide it, and the panel sees the conflict.
Scores of others are shown to a panel member only once they have scored that nomination themselves.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import IO, Any

from sqlalchemy import Row, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot.clock import Clock
from beacon.bot.content import Content
from beacon.bot.csv_export import CsvStream
from beacon.bot.db import insert_ignoring_duplicates
from beacon.bot.errors import InvalidInput, NotFound
from beacon.bot.models import (
    AwardRound,
    CandidateDecision,
    ConflictDeclaration,
    Consent,
    Endorsement,
    Nomination,
    NominationStatus,
    Nominee,
    ReviewCandidate,
    ReviewNomination,
    ReviewPerson,
    ReviewTally,
    RoundExport,
    RoundStatus,
    Score,
)
from beacon.bot.organisation import Organisation, Role
from beacon.bot.services import outbox, review_totals
from beacon.bot.services.audit import Audit
from beacon.bot.services.authorisation import Authorisation
from beacon.bot.services.review_totals import candidate_key, person_key, tally_counts
from beacon.bot.services.suppression import hidden_groups
from beacon.bot.templates import Template

SUPPRESS_BELOW = 5
# The export's consent column in words: a nominee who has not answered has not said no.
CONSENT_WORDS: dict[str, str] = {Consent.GIVEN: "agreed to be shared", Consent.DECLINED: "asked to keep it private",
                 Consent.PENDING: "not yet answered", Consent.NOT_ASKED: "not asked (private)"}
NOT_ON_SLACK = "not on Slack: never shared publicly"


def _consent_words(nominee: Nominee | Row[Any]) -> str:
    return CONSENT_WORDS.get(nominee.consent, nominee.consent) if nominee.user_id else NOT_ON_SLACK
ANNOUNCEMENT = "awards_announcement"


__all__ = ["candidate_key", "person_key"]  # where the review's keys were first defined; others import them here
SHOWN = 25  # a candidate's nominations shown (and listed in its summary) at once
EXPORT_CHUNK = 250  # nominations read, written and let go at a time by the export


@dataclass
class CandidateSummary:
    award: str
    key: str
    people: list[dict[str, Any]]
    nomination_ids: list[int] = field(default_factory=list)
    endorsements: int = 0
    values: Counter[str] = field(default_factory=Counter)
    behaviours: Counter[str] = field(default_factory=Counter)
    shortlisted: bool = False
    winner: bool = False
    conflicts: dict[str, str] = field(default_factory=dict)  # panel member -> why: nominee, nominator, declared
    scored_by_me: int = 0
    nomination_count: int | None = None  # all of its nominations; `nomination_ids` holds the first few

    @property
    def nominations(self) -> int:
        return len(self.nomination_ids) if self.nomination_count is None else self.nomination_count


@dataclass(frozen=True)
class ReviewPage:
    round: AwardRound
    award: str
    candidates: list[CandidateSummary]
    total_candidates: int
    page: int
    pages: int
    nominations: int
    values: Counter[str]
    behaviours: Counter[str]


@dataclass(frozen=True)
class PanelNomination:
    nomination: Nomination
    endorsements: int
    my_score: Score | None
    others: list[Score]  # empty until I have scored it myself


@dataclass(frozen=True)
class CandidateDetail:
    round: AwardRound
    summary: CandidateSummary
    nominations: list[PanelNomination]  # the first few (empty when I have a conflict)
    my_conflict: str | None

    @property
    def not_shown(self) -> int:
        return 0 if self.my_conflict else self.summary.nominations - len(self.nominations)


@dataclass(frozen=True)
class InsightCell:
    label: str
    nominations: int | None  # None: fewer than five people, so not shown
    people: int | None


@dataclass
class Cell:
    """One insight cell while counting: nominations, and the distinct people they recognised."""

    nominations: int = 0
    people: set[str] = field(default_factory=set)

    def add(self, keys: list[str]) -> None:
        self.nominations += 1
        self.people.update(keys)


@dataclass(frozen=True)
class Insight:
    round: AwardRound
    nominations: int
    colleagues: int
    top_tenth_share: float | None
    by_value: list[InsightCell]
    by_behaviour: list[InsightCell]
    by_site: list[InsightCell]
    by_area: list[InsightCell]
    unknown_site: int


@dataclass
class WinnerNaming:
    """For the panel: how many winners the announcement names, and why the others are not named. Only the panel
    sees this; the announcement itself never says why."""

    named: int = 0
    not_named: int = 0
    not_answered: list[str] = field(default_factory=list)  # user IDs: asked, no answer yet (silence is not a no)
    said_no: list[str] = field(default_factory=list)
    not_on_slack: list[str] = field(default_factory=list)  # names: cannot be asked in Slack, so never named


class PanelReview:
    def __init__(self, *, content: Content, organisation: Organisation, clock: Clock, authorisation: Authorisation,
                 audit: Audit):
        self._audit = audit
        self._content = content
        self._organisation = organisation
        self._clock = clock
        self._auth = authorisation

    # -- loading ------------------------------------------------------------------------------------------
    async def _round(self, session: AsyncSession, round_id: int | None = None) -> AwardRound:
        statement = select(AwardRound)
        statement = (statement.where(col(AwardRound.id) == round_id) if round_id else
                     statement.where(col(AwardRound.status) != RoundStatus.ARCHIVED).order_by(col(AwardRound.id)
                                                                                              .desc()))
        round_ = (await session.scalars(statement)).first()
        if round_ is None:
            raise NotFound("There is no award round to review yet.")
        return round_

    async def _summaries(self, session: AsyncSession, round_: AwardRound, viewer: str | None,
                         rows: Sequence[Row[Any]]) -> list[CandidateSummary]:
        """These candidates (rows of `review_candidate`) as the panel sees them: their first nominations, decisions,
        conflicts and what the viewer has scored, read for these candidates only."""
        if not rows:
            return []
        ids = [r.id for r in rows]
        panel = await self._auth.members(Role.PANEL)
        involved: dict[int, dict[str, Any]] = defaultdict(dict)
        for person in (await session.execute(select(ReviewPerson).where(
                col(ReviewPerson.candidate_id).in_(ids),
                col(ReviewPerson.user_id).in_(panel | {viewer or ""})))).scalars():
            involved[person.candidate_id][person.user_id] = person
        first: dict[int, list[int]] = defaultdict(list)
        ranked = select(col(ReviewNomination.candidate_id), col(ReviewNomination.nomination_id),
                        func.row_number().over(partition_by=col(ReviewNomination.candidate_id),
                                               order_by=col(ReviewNomination.nomination_id)).label("n")
                        ).where(col(ReviewNomination.candidate_id).in_(ids)).subquery()
        for candidate_id, nomination_id in (await session.execute(
                select(ranked.c.candidate_id, ranked.c.nomination_id).where(ranked.c.n <= SHOWN)
                .order_by(ranked.c.nomination_id))).all():
            first[candidate_id].append(nomination_id)
        keys = [(r.award, r.candidate) for r in rows]
        decisions = {(d.award, d.candidate): d for d in (await session.scalars(select(CandidateDecision).where(
            col(CandidateDecision.round_id) == round_.id,
            tuple_(col(CandidateDecision.award), col(CandidateDecision.candidate)).in_(keys)))).all()}
        declared: dict[tuple[str, str], list[str]] = defaultdict(list)
        for conflict in (await session.scalars(select(ConflictDeclaration).where(
                col(ConflictDeclaration.round_id) == round_.id,
                tuple_(col(ConflictDeclaration.award), col(ConflictDeclaration.candidate)).in_(keys))
                .order_by(col(ConflictDeclaration.id)))).all():
            declared[(conflict.award, conflict.candidate)].append(conflict.panel_member)
        summaries = []
        for row in rows:
            people = list(row.people)
            nominees = {p["user_id"] for p in people if p["user_id"]}
            conflicts = {member: "nominee" for member in sorted(panel & nominees)}
            for member, person in sorted(involved[row.id].items()):
                if member in panel and person.nominated:
                    conflicts.setdefault(member, "nominator")
            for member in declared[(row.award, row.candidate)]:
                conflicts.setdefault(member, "declared")
            decision = decisions.get((row.award, row.candidate))
            mine = involved[row.id].get(viewer or "")
            summaries.append(CandidateSummary(
                award=row.award, key=row.candidate, people=people, nomination_ids=first[row.id],
                nomination_count=row.nominations, endorsements=row.endorsements, values=Counter(row.values),
                behaviours=Counter(row.behaviours), shortlisted=bool(decision and decision.shortlisted),
                winner=bool(decision and decision.winner), conflicts=conflicts,
                scored_by_me=mine.scored if mine else 0))
        return summaries

    @staticmethod
    def _candidate_rows() -> Any:
        return select(col(ReviewCandidate.id), col(ReviewCandidate.award), col(ReviewCandidate.candidate),
                      col(ReviewCandidate.people), col(ReviewCandidate.nominations),
                      col(ReviewCandidate.endorsements), col(ReviewCandidate.values), col(ReviewCandidate.behaviours))

    async def _summary(self, session: AsyncSession, round_: AwardRound, viewer: str | None, award: str,
                       key: str) -> CandidateSummary | None:
        rows = (await session.execute(self._candidate_rows().where(
            col(ReviewCandidate.round_id) == round_.id, col(ReviewCandidate.award) == award,
            col(ReviewCandidate.candidate) == key))).all()
        return next(iter(await self._summaries(session, round_, viewer, rows)), None)

    # -- reviewing ------------------------------------------------------------------------------------------
    async def review(self, *, session: AsyncSession, user_id: str, award: str, page: int = 0,
                     per_page: int = 8) -> ReviewPage:
        """One page of an award's candidates, most nominated first, read from the running totals."""
        await self._auth.require(user_id, Role.PANEL, action="Reviewing nominations")
        round_ = await self._round(session)
        tallies = (await session.execute(select(col(ReviewTally.kind), col(ReviewTally.label), col(ReviewTally.count))
                                         .where(col(ReviewTally.round_id) == round_.id,
                                                col(ReviewTally.award) == award))).all()
        counts = tally_counts(tallies)
        total = counts.get("candidates", Counter()).get("", 0)
        pages = max(1, math.ceil(total / per_page))
        page = min(max(page, 0), pages - 1)
        rows = (await session.execute(self._candidate_rows().where(
            col(ReviewCandidate.round_id) == round_.id, col(ReviewCandidate.award) == award)
            .order_by(col(ReviewCandidate.nominations).desc(), col(ReviewCandidate.endorsements).desc(),
                      col(ReviewCandidate.candidate))
            .offset(page * per_page).limit(per_page))).all()
        return ReviewPage(round=round_, award=award, candidates=await self._summaries(session, round_, user_id, rows),
                          total_candidates=total, page=page, pages=pages,
                          nominations=counts.get("nominations", Counter()).get("", 0),
                          values=counts.get("value", Counter()), behaviours=counts.get("behaviour", Counter()))

    async def candidate(self, *, session: AsyncSession, user_id: str, award: str, key: str,
                        limit: int = SHOWN) -> CandidateDetail:
        await self._auth.require(user_id, Role.PANEL, action="Reviewing nominations")
        round_ = await self._round(session)
        summary = await self._summary(session, round_, user_id, award, key)
        if summary is None:
            raise NotFound("That candidate is no longer in the round (a nomination may have been withdrawn).")
        conflict = summary.conflicts.get(user_id)
        if conflict:
            return CandidateDetail(round=round_, summary=summary, nominations=[], my_conflict=conflict)
        shown = sorted(summary.nomination_ids)[:limit]
        nominations = (await session.scalars(select(Nomination).where(col(Nomination.id).in_(shown))
                                             .order_by(col(Nomination.created_at)))).all()
        scores = (await session.scalars(select(Score).where(col(Score.nomination_id).in_(shown)))).all()
        endorsed = dict((await session.execute(select(col(Endorsement.nomination_id), func.count()).where(
            col(Endorsement.nomination_id).in_(shown)).group_by(col(Endorsement.nomination_id)))).all())
        detail = []
        for n in nominations:
            mine = next((s for s in scores if s.nomination_id == n.id and s.panel_member == user_id), None)
            others = [s for s in scores if s.nomination_id == n.id and s.panel_member != user_id] if mine else []
            detail.append(PanelNomination(nomination=n, endorsements=endorsed.get(n.id or 0, 0), my_score=mine,
                                          others=others))
        return CandidateDetail(round=round_, summary=summary, nominations=detail, my_conflict=None)

    async def _unconflicted(self, session: AsyncSession, user_id: str, nomination: Nomination) -> AwardRound:
        round_ = await self._round(session, nomination.round_id)
        if round_.status != RoundStatus.CLOSED:
            raise InvalidInput("Scores and decisions are made once the round has closed and until it is decided.")
        rows = (await session.execute(self._candidate_rows().join(
            ReviewNomination, col(ReviewNomination.candidate_id) == col(ReviewCandidate.id)).where(
            col(ReviewNomination.nomination_id) == nomination.id))).all()
        summary = next(iter(await self._summaries(session, round_, user_id, rows)), None)
        if summary and user_id in summary.conflicts:
            raise InvalidInput("You have a conflict of interest with this candidate, so you cannot score or "
                               "decide it. The rest of the panel can.")
        return round_

    async def score_sheet(self, *, session: AsyncSession, user_id: str,
                          nomination_id: int) -> tuple[Nomination, Score | None]:
        """A nomination and this panel member's own score of it, refused when they have a conflict."""
        await self._auth.require(user_id, Role.PANEL, action="Scoring a nomination")
        nomination = await session.get(Nomination, nomination_id)
        if nomination is None or nomination.round_id is None or nomination.status != NominationStatus.ACTIVE:
            raise NotFound("That nomination is not in a round.")
        await self._unconflicted(session, user_id, nomination)
        mine = (await session.scalars(select(Score).where(col(Score.nomination_id) == nomination_id,
                                                          col(Score.panel_member) == user_id))).first()
        return nomination, mine

    async def candidate_of(self, *, session: AsyncSession, user_id: str, nomination: Nomination) -> CandidateDetail:
        nominees = (await session.scalars(select(Nominee).where(col(Nominee.nomination_id) == nomination.id))).all()
        key = candidate_key(person_key(n.user_id, n.name) for n in nominees)
        return await self.candidate(session=session, user_id=user_id, award=nomination.award, key=key)

    async def score(self, *, session: AsyncSession, user_id: str, nomination_id: int, score: int,
                    level: str | None, note: str) -> Score:
        await self._auth.require(user_id, Role.PANEL, action="Scoring a nomination")
        nomination = await session.get(Nomination, nomination_id)
        if nomination is None or nomination.round_id is None or nomination.status != NominationStatus.ACTIVE:
            raise NotFound("That nomination is not in a round.")
        await self._unconflicted(session, user_id, nomination)
        if not 1 <= score <= 5:
            raise InvalidInput("Score from 1 to 5.")
        now = self._clock.now()
        existing = (await session.scalars(select(Score).where(col(Score.nomination_id) == nomination_id,
                                                              col(Score.panel_member) == user_id))).first()
        row = existing or Score(nomination_id=nomination_id, panel_member=user_id, score=score, created_at=now,
                                updated_at=now)
        row.score, row.level, row.note, row.updated_at = score, level, note.strip()[:3000], now
        session.add(row)
        await review_totals.refresh(session, [nomination_id])
        await self._audit.record(session=session, actor=user_id, action="nomination.scored",
                                 subject=f"nomination:{nomination_id}", details={"score": score, "level": level})
        return row

    async def decide_candidate(self, *, session: AsyncSession, user_id: str, award: str, key: str,
                               shortlisted: bool | None = None, winner: bool | None = None) -> CandidateDecision:
        await self._auth.require(user_id, Role.PANEL, action="Shortlisting and choosing winners")
        round_ = await self._round(session)
        summary = await self._summary(session, round_, user_id, award, key)
        if summary is None:
            raise NotFound("That candidate is no longer in the round.")
        if user_id in summary.conflicts:
            raise InvalidInput("You have a conflict of interest with this candidate, so you cannot decide it.")
        if round_.status != RoundStatus.CLOSED:
            raise InvalidInput("Shortlists and winners are chosen once the round has closed, until it is decided.")
        decision = (await session.scalars(select(CandidateDecision).where(
            col(CandidateDecision.round_id) == round_.id, col(CandidateDecision.award) == award,
            col(CandidateDecision.candidate) == key))).first()
        now = self._clock.now()
        if decision is None:
            decision = CandidateDecision(round_id=round_.id or 0, award=award, candidate=key, updated_by=user_id,
                                         updated_at=now)
            session.add(decision)
        if shortlisted is not None:
            decision.shortlisted = shortlisted
            decision.winner = decision.winner and shortlisted
        if winner is not None:
            decision.winner = winner
            decision.shortlisted = decision.shortlisted or winner
        decision.updated_by, decision.updated_at = user_id, now
        await self._audit.record(session=session, actor=user_id, action="candidate.decided",
                                 subject=f"round:{round_.id}:{award}:{key}",
                                 details={"shortlisted": decision.shortlisted, "winner": decision.winner})
        return decision

    async def declare_conflict(self, *, session: AsyncSession, user_id: str, award: str, key: str) -> None:
        await self._auth.require(user_id, Role.PANEL, action="Declaring a conflict of interest")
        round_ = await self._round(session)
        await insert_ignoring_duplicates(session, ConflictDeclaration, {
            "round_id": round_.id, "award": award, "candidate": key, "panel_member": user_id,
            "declared_at": self._clock.now()})
        await self._audit.record(session=session, actor=user_id, action="conflict.declared",
                                 subject=f"round:{round_.id}:{award}:{key}")

    # -- deciding and announcing ------------------------------------------------------------------------------
    async def winners(self, session: AsyncSession, round_: AwardRound) -> list[tuple[CandidateDecision,
                                                                                     CandidateSummary]]:
        decisions = (await session.scalars(select(CandidateDecision).where(
            col(CandidateDecision.round_id) == round_.id, col(CandidateDecision.winner).is_(True)))).all()
        rows = (await session.execute(self._candidate_rows().where(
            col(ReviewCandidate.round_id) == round_.id,
            tuple_(col(ReviewCandidate.award), col(ReviewCandidate.candidate)).in_(
                [(d.award, d.candidate) for d in decisions])))).all() if decisions else []
        candidates = {(c.award, c.key): c for c in await self._summaries(session, round_, None, rows)}
        return [(d, candidates[(d.award, d.candidate)]) for d in decisions if (d.award, d.candidate) in candidates]

    async def decide_round(self, *, session: AsyncSession, user_id: str) -> tuple[AwardRound, int]:
        """The panel has chosen: the round is decided, and each winner is asked about being named."""
        await self._auth.require(user_id, Role.PANEL, action="Deciding the round")
        round_ = await self._round(session)
        if round_.status != RoundStatus.CLOSED:
            raise InvalidInput(f"The round is {round_.status}; it can be decided once it has closed.")
        winners = await self.winners(session, round_)
        if not winners:
            raise InvalidInput("Mark at least one winner (`/awards review`, open a candidate, Mark as winner) first.")
        round_.status, round_.decided_at = RoundStatus.DECIDED, self._clock.now()
        await self.ask_winners(session=session, round_=round_)
        await self._audit.record(session=session, actor=user_id, action="round.decided", subject=f"round:{round_.id}",
                                 details={"winners": len(winners)})
        return round_, len(winners)

    async def announce_round(self, *, session: AsyncSession, user_id: str) -> tuple[AwardRound, WinnerNaming]:
        await self._auth.require_any(user_id, (Role.PANEL, Role.ADMINS), action="Announcing the winners")
        round_ = await self._round(session)
        if round_.status != RoundStatus.DECIDED:
            raise InvalidInput(f"The round is {round_.status}; winners are announced once it is decided "
                               "(`/awards decide`).")
        round_.status, round_.announced_at = RoundStatus.ANNOUNCED, self._clock.now()
        naming = await self.announce(session=session, round_=round_)
        await self._audit.record(session=session, actor=user_id, action="round.announced",
                                 subject=f"round:{round_.id}")
        return round_, naming

    async def ask_winners(self, *, session: AsyncSession, round_: AwardRound) -> int:
        """Once decided: ask each winner on Slack whether they may be named in the announcement."""
        now = self._clock.now()
        promises = []
        for decision, summary in await self.winners(session, round_):
            for person in summary.people:
                if person["user_id"]:
                    promises.append(outbox.notice(
                        key=f"winner:{round_.id}:{decision.id}:{person['user_id']}", user_id=person["user_id"],
                        template=Template.WINNER_CONSENT_REQUEST, now=now, source_id=decision.id,
                        params={"round": round_.name, "award_name": self._award_name(decision.award),
                                "decision_id": decision.id,
                                "cannot_be_named": not all(p["user_id"] for p in summary.people)}))
        return await outbox.enqueue(session=session, promises=promises, now=now)

    async def winner_consent(self, *, session: AsyncSession, user_id: str, decision_id: int, give: bool) -> None:
        decision = await session.get(CandidateDecision, decision_id)
        if decision is None or not decision.winner or user_id not in decision.candidate.split("+"):
            raise NotFound("That question was not for you.")
        round_ = await session.get(AwardRound, decision.round_id)
        if round_ is not None and round_.status in (RoundStatus.ANNOUNCED, RoundStatus.ARCHIVED):
            raise InvalidInput("The winners have already been announced.")
        decision.winner_consents = {**decision.winner_consents,
                                    user_id: Consent.GIVEN if give else Consent.DECLINED}

    async def announce(self, *, session: AsyncSession, round_: AwardRound) -> WinnerNaming:
        """Post the winners who agreed to be named, and tell every nominator their nomination's outcome.

        A winner is named only with a yes from everyone in it; a winner (or team) with anyone who said no, has not
        answered, or is not on Slack (and so can never be asked) is counted, not named, and not explained."""
        now = self._clock.now()
        named, unnamed = [], 0
        naming = WinnerNaming()
        for decision, summary in await self.winners(session, round_):
            answers = {p["user_id"]: decision.winner_consents.get(p["user_id"]) for p in summary.people
                       if p["user_id"]}
            off_slack = [p["name"] for p in summary.people if not p["user_id"]]
            naming.not_answered += [u for u, a in answers.items() if a not in (Consent.GIVEN, Consent.DECLINED)]
            naming.said_no += [u for u, a in answers.items() if a == Consent.DECLINED]
            naming.not_on_slack += [n for n in off_slack if n]
            if answers and not off_slack and all(a == Consent.GIVEN for a in answers.values()):
                named.append({"award_name": self._award_name(decision.award), "people": summary.people})
                naming.named += 1
            else:
                unnamed += 1
        promises = [outbox.Promise(
            dedupe_key=f"announcement:{round_.id}", source=ANNOUNCEMENT, source_id=round_.id,
            channel=self._organisation.channels.recognition,
            content={"template": Template.AWARDS_ANNOUNCEMENT, "params": {"round": round_.name, "winners": named,
                                                                    "unnamed": unnamed}},
            due_at=now, expires_at=now + timedelta(days=1))]
        decisions = {(d.award, d.candidate): d for d in (await session.scalars(select(CandidateDecision).where(
            col(CandidateDecision.round_id) == round_.id))).all()}
        nominators: dict[int, set[str]] = defaultdict(set)
        for candidate_id, nominator in (await session.execute(
                select(col(ReviewNomination.candidate_id), col(Nomination.nominator_id))
                .join(Nomination, col(Nomination.id) == col(ReviewNomination.nomination_id))
                .join(ReviewCandidate, col(ReviewCandidate.id) == col(ReviewNomination.candidate_id))
                .where(col(ReviewCandidate.round_id) == round_.id, col(Nomination.nominator_id).is_not(None)))).all():
            nominators[candidate_id].add(nominator or "")
        for candidate in (await session.execute(self._candidate_rows().where(
                col(ReviewCandidate.round_id) == round_.id).order_by(col(ReviewCandidate.id)))).all():
            award, key, people = candidate.award, candidate.candidate, list(candidate.people)
            decided = decisions.get((award, key))
            outcome = "won" if decided and decided.winner else (
                "shortlisted" if decided and decided.shortlisted else "not_selected")
            for nominator in sorted(nominators[candidate.id]):
                promises.append(outbox.notice(
                    key=f"outcome:{round_.id}:{award}:{key}:{nominator}"[:190], user_id=nominator,
                    template=Template.NOMINATION_OUTCOME, now=now, source_id=round_.id,
                    params={"round": round_.name, "award_name": self._award_name(award), "outcome": outcome,
                            "nominees": people}))
        await outbox.enqueue(session=session, promises=promises, now=now)
        naming.not_named = unnamed
        return naming

    def _award_name(self, key: str) -> str:
        award = self._content.award(key)
        return award.name if award else key

    # -- export and insight -------------------------------------------------------------------------------------
    async def export_csv(self, *, session: AsyncSession, user_id: str,
                         out: IO[bytes]) -> tuple[AwardRound, str, int]:
        """The round as CSV, one row per nomination, written to `out` a chunk at a time (so memory stays flat and
        the event loop serves other clicks between chunks); the export itself is recorded. The filename and the
        number of rows are returned."""
        await self._auth.require(user_id, Role.PANEL, action="Exporting a round")
        round_ = await self._round(session)
        panel = await self._auth.members(Role.PANEL)
        declared: dict[tuple[str, str], list[str]] = defaultdict(list)
        for conflict in (await session.scalars(select(ConflictDeclaration).where(
                col(ConflictDeclaration.round_id) == round_.id).order_by(col(ConflictDeclaration.id)))).all():
            declared[(conflict.award, conflict.candidate)].append(conflict.panel_member)
        decisions = {(d.award, d.candidate): (d.shortlisted, d.winner) for d in (await session.scalars(
            select(CandidateDecision).where(col(CandidateDecision.round_id) == round_.id))).all()}
        csv = CsvStream(out, ["nomination", "award", "submitted", "nominator", "entered_by", "nominees", "values",
                              "behaviours", "story", "share_publicly", "consent", "endorsements", "scores",
                              "mean_score", "notes", "shortlisted", "winner", "conflicts"])
        written = 0
        low, high = (await session.execute(select(func.min(col(Nomination.id)), func.max(col(Nomination.id))).where(
            col(Nomination.round_id) == round_.id))).one()
        # Windows of ids, read by the primary key: a LIMIT after the last id let PostgreSQL sort the whole round
        # again for every chunk (100,000 nominations took 50 s).
        for first in range(low or 0, (high or -1) + 1, EXPORT_CHUNK):
            chunk = (await session.execute(
                select(col(Nomination.id), col(Nomination.award), col(Nomination.created_at),
                       col(Nomination.nominator_id), col(Nomination.nominator_name), col(Nomination.entered_by),
                       col(Nomination.values), col(Nomination.behaviours), col(Nomination.story),
                       col(Nomination.share_publicly), col(ReviewCandidate.id).label("candidate_id"),
                       col(ReviewCandidate.candidate), col(ReviewCandidate.people),
                       col(ReviewCandidate.endorsements))
                .join(ReviewNomination, col(ReviewNomination.nomination_id) == col(Nomination.id))
                .join(ReviewCandidate, col(ReviewCandidate.id) == col(ReviewNomination.candidate_id))
                .where(col(Nomination.id).between(first, first + EXPORT_CHUNK - 1),
                       col(ReviewCandidate.round_id) == round_.id)
                .order_by(col(Nomination.id)))).all()
            if chunk:
                csv.rows(await self._export_rows(session, user_id, panel, chunk, declared, decisions))
                written += len(chunk)
            await asyncio.sleep(0)  # let other clicks through between chunks
        session.add(RoundExport(round_id=round_.id or 0, user_id=user_id, rows=written,
                                exported_at=self._clock.now()))
        await self._audit.record(session=session, actor=user_id, action="round.exported", subject=f"round:{round_.id}",
                                 details={"rows": written})
        filename = f"beacon-{round_.name.lower().replace(' ', '-')}-{self._clock.now():%Y%m%d-%H%M}.csv"
        return round_, filename, written

    async def _export_rows(self, session: AsyncSession, user_id: str, panel: frozenset[str], chunk: Sequence[Any],
                           declared: dict[tuple[str, str], list[str]],
                           decisions: dict[tuple[str, str], tuple[bool, bool]]) -> list[list[Any]]:
        """One chunk of the export: its nominations' people, scores and candidates' conflicts, read for it alone."""
        ids = [n.id for n in chunk]
        scores: dict[int, list[Any]] = defaultdict(list)
        for s in (await session.execute(select(col(Score.nomination_id), col(Score.panel_member), col(Score.score),
                                               col(Score.level), col(Score.note))
                                        .where(col(Score.nomination_id).in_(ids)).order_by(col(Score.id)))).all():
            scores[s.nomination_id].append(s)
        nominees: dict[int, list[Any]] = defaultdict(list)
        for p in (await session.execute(select(col(Nominee.nomination_id), col(Nominee.user_id), col(Nominee.name),
                                               col(Nominee.role), col(Nominee.site), col(Nominee.consent))
                                        .where(col(Nominee.nomination_id).in_(ids)).order_by(col(Nominee.id)))).all():
            nominees[p.nomination_id].append(p)
        nominated: dict[int, set[str]] = defaultdict(set)
        for candidate_id, member in (await session.execute(select(
                col(ReviewPerson.candidate_id), col(ReviewPerson.user_id)).where(
                col(ReviewPerson.candidate_id).in_({n.candidate_id for n in chunk}),
                col(ReviewPerson.user_id).in_(panel),
                col(ReviewPerson.nominated) > 0))).all():
            nominated[candidate_id].add(member)
        rows: list[list[Any]] = []
        for n in chunk:
            award_key = (n.award, n.candidate)
            conflicts = {member: "nominee" for member in panel & {p["user_id"] for p in n.people if p["user_id"]}}
            for member in sorted(nominated[n.candidate_id]):
                conflicts.setdefault(member, "nominator")
            for member in declared[award_key]:
                conflicts.setdefault(member, "declared")
            withheld = user_id in conflicts
            sheet = scores.get(n.id, [])
            people = nominees[n.id]
            shortlisted, winner = decisions.get(award_key, (False, False))
            rows.append([
                n.id, self._award_name(n.award), n.created_at.astimezone(self._organisation.tz).isoformat(),
                n.nominator_id or n.nominator_name or "", n.entered_by or "",
                "; ".join(p.user_id or ", ".join(x for x in (p.name, p.role, p.site) if x) for p in people),
                "; ".join(n.values), "; ".join(n.behaviours), n.story, n.share_publicly,
                "; ".join(f"{p.user_id or p.name}: {_consent_words(p)}" for p in people),
                n.endorsements,
                "withheld (conflict of interest)" if withheld else "; ".join(
                    f"{s.panel_member}: {s.score}" + (f" ({s.level})" if s.level else "") for s in sheet),
                "" if withheld or not sheet else round(sum(s.score for s in sheet) / len(sheet), 2),
                "withheld (conflict of interest)" if withheld else
                " | ".join(f"{s.panel_member}: {s.note}" for s in sheet if s.note),
                shortlisted, winner,
                "; ".join(f"{member} ({why})" for member, why in sorted(conflicts.items()))])
        return rows

    async def insight(self, *, session: AsyncSession, user_id: str) -> Insight:
        """Who gets noticed, in counts where no cell describes fewer than five people."""
        await self._auth.require_any(user_id, (Role.PANEL, Role.COMMS), action="Seeing award insight")
        round_ = await self._round(session)
        rows = (await session.execute(select(col(Nomination.id), col(Nomination.values),
                                             col(Nomination.behaviours)).where(
            col(Nomination.round_id) == round_.id, col(Nomination.status) == NominationStatus.ACTIVE))).all()
        people: dict[int, list[str]] = defaultdict(list)
        sites: dict[str, str] = {}
        matched: dict[str | None, str | None] = {}
        for nomination_id, nominee_id, name, site_text in (await session.execute(
                select(col(Nominee.nomination_id), col(Nominee.user_id), col(Nominee.name), col(Nominee.site))
                .join(Nomination, col(Nomination.id) == col(Nominee.nomination_id))
                .where(col(Nomination.round_id) == round_.id,
                       col(Nomination.status) == NominationStatus.ACTIVE))).all():
            key = person_key(nominee_id, name)
            people[nomination_id].append(key)
            if site_text not in matched:
                matched[site_text] = self._match_site(site_text)
            if site := matched[site_text]:
                sites[key] = site
        per_person: Counter[str] = Counter(k for keys in people.values() for k in keys)
        by_value: dict[str, Cell] = defaultdict(Cell)
        by_behaviour: dict[str, Cell] = defaultdict(Cell)
        by_site: dict[str, Cell] = defaultdict(Cell)
        by_area: dict[str, Cell] = defaultdict(Cell)
        areas = {s.name: s.area for s in self._organisation.sites}
        for row in rows:
            keys = people.get(row.id, [])
            for table, labels in ((by_value, row.values or []), (by_behaviour, row.behaviours or []),
                                  (by_site, {sites[k] for k in keys if k in sites}),
                                  (by_area, {areas[sites[k]] for k in keys if k in sites})):
                for label in labels:
                    table[label].add(keys)
        tenth = max(1, math.ceil(len(per_person) / 10))
        top = sum(c for _, c in per_person.most_common(tenth))
        total_mentions = sum(per_person.values())
        share = (top / total_mentions) if total_mentions and tenth >= SUPPRESS_BELOW else None
        # Sites sit within areas and both are shown: hide enough of each that no subtraction (an area minus its
        # shown sites, all colleagues minus the shown areas) gives away a small group.
        hidden_sites, hidden_areas = hidden_groups(
            {s: len(c.people) for s, c in by_site.items()}, minimum=SUPPRESS_BELOW,
            parent_of={s: areas[s] for s in by_site}, parent_counts={a: len(c.people) for a, c in by_area.items()})
        return Insight(
            round=round_, nominations=len(rows), colleagues=len(per_person), top_tenth_share=share,
            by_value=self._cells(by_value, lambda k: getattr(self._content.value(k), "name", k)),
            by_behaviour=self._cells(by_behaviour, lambda k: next(
                (b.name for f in self._content.frameworks.values() for b in f.behaviours if b.key == k), k)),
            by_site=self._cells(by_site, str, hidden_sites), by_area=self._cells(by_area, str, hidden_areas),
            unknown_site=len([k for k in per_person if k not in sites]))

    @staticmethod
    def _cells(table: dict[str, Cell], name: Any, hidden: set[str] | None = None) -> list[InsightCell]:
        """Cells under five people hidden, and beside them whatever `hidden_groups` says would give one away."""
        if hidden is None:
            hidden, _ = hidden_groups({label: len(cell.people) for label, cell in table.items()},
                                      minimum=SUPPRESS_BELOW)
        cells = []
        for label, cell in sorted(table.items(), key=lambda item: -item[1].nominations):
            shown = label not in hidden and len(cell.people) >= SUPPRESS_BELOW
            cells.append(InsightCell(label=name(label), nominations=cell.nominations if shown else None,
                                     people=len(cell.people) if shown else None))
        return cells

    def _match_site(self, text: str | None) -> str | None:
        if not text:
            return None
        wanted = text.strip().lower()
        for site in self._organisation.sites:
            names = [site.name.lower(), *(a.lower() for a in site.aliases)]
            if any(wanted == n or wanted in n or n in wanted for n in names):
                return site.name
        return None

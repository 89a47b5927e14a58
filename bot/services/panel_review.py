"""The awards panel's review of a round: candidates, scores, conflicts, decisions, announcement, export
and insight. Everything here is for the panel alone (insight also for the communications team).

A candidate is one person, or one team, for one award in one round; nominations for the same people are
merged into it. A panel member who is a nominee or the nominator of any of a candidate's nominations, or who
declared a conflict, can neither see its score sheet nor score or decide it, and the panel sees the conflict.
Scores of others are shown to a panel member only once they have scored that nomination themselves.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot.clock import Clock
from beacon.bot.content import Content
from beacon.bot.csv_export import write_csv
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
    RoundExport,
    RoundStatus,
    Score,
)
from beacon.bot.organisation import Organisation, Role
from beacon.bot.services import outbox
from beacon.bot.services.audit import Audit
from beacon.bot.services.authorisation import Authorisation
from beacon.bot.services.suppression import hidden_groups

SUPPRESS_BELOW = 5
# The export's consent column in words: a nominee who has not answered has not said no.
CONSENT_WORDS: dict[str, str] = {Consent.GIVEN: "agreed to be shared", Consent.DECLINED: "asked to keep it private",
                 Consent.PENDING: "not yet answered", Consent.NOT_ASKED: "not asked (private)"}
NOT_ON_SLACK = "not on Slack: never shared publicly"


def _consent_words(nominee: Nominee) -> str:
    return CONSENT_WORDS.get(nominee.consent, nominee.consent) if nominee.user_id else NOT_ON_SLACK
ANNOUNCEMENT = "awards_announcement"


def person_key(user_id: str | None, name: str | None) -> str:
    return user_id or f"name:{(name or '').strip().lower()}"


LONGEST_KEY = 200


def candidate_key(keys: Iterable[str]) -> str:
    """A candidate's key: its people's keys, sorted and joined. A large team's would outgrow a button's value and
    the 400-character column, so past 200 characters it is a digest of them instead (the same team, the same key)."""
    joined = "+".join(sorted(keys))
    if len(joined) <= LONGEST_KEY:
        return joined
    return "team:" + hashlib.sha256(joined.encode()).hexdigest()


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

    @property
    def nominations(self) -> int:
        return len(self.nomination_ids)


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

    async def _candidates(self, session: AsyncSession, round_: AwardRound, viewer: str | None,
                          award: str | None = None) -> dict[tuple[str, str], CandidateSummary]:
        """Every candidate of the round (one award, or all), built from a handful of queries."""
        where = [col(Nomination.round_id) == round_.id, col(Nomination.status) == NominationStatus.ACTIVE]
        if award:
            where.append(col(Nomination.award) == award)
        rows = (await session.execute(select(
            col(Nomination.id), col(Nomination.award), col(Nomination.nominator_id), col(Nomination.entered_by),
            col(Nomination.values),
            col(Nomination.behaviours)).where(*where))).all()
        ids = [r.id for r in rows]
        people: dict[int, list[Any]] = defaultdict(list)
        endorsed: dict[int, int] = {}
        mine: set[int] = set()
        if ids:
            for n in (await session.execute(
                    select(col(Nominee.nomination_id), col(Nominee.user_id), col(Nominee.name), col(Nominee.role),
                           col(Nominee.site))
                    .join(Nomination, col(Nomination.id) == col(Nominee.nomination_id)).where(*where))).all():
                people[n.nomination_id].append(n)
            endorsed = dict((await session.execute(
                select(col(Endorsement.nomination_id), func.count())
                .join(Nomination, col(Nomination.id) == col(Endorsement.nomination_id))
                .where(*where).group_by(col(Endorsement.nomination_id)))).all())
            if viewer:
                mine = set((await session.scalars(
                    select(col(Score.nomination_id)).join(Nomination, col(Nomination.id) == col(Score.nomination_id))
                    .where(*where, col(Score.panel_member) == viewer))).all())
        panel = await self._auth.members(Role.PANEL)
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
        decisions = (await session.scalars(select(CandidateDecision).where(
            col(CandidateDecision.round_id) == round_.id))).all()
        for decision in decisions:
            if (decision.award, decision.candidate) in candidates:
                candidates[(decision.award, decision.candidate)].shortlisted = decision.shortlisted
                candidates[(decision.award, decision.candidate)].winner = decision.winner
        for conflict in (await session.scalars(select(ConflictDeclaration).where(
                col(ConflictDeclaration.round_id) == round_.id))).all():
            if (conflict.award, conflict.candidate) in candidates:
                candidates[(conflict.award, conflict.candidate)].conflicts.setdefault(conflict.panel_member,
                                                                                     "declared")
        return candidates

    # -- reviewing ------------------------------------------------------------------------------------------
    async def review(self, *, session: AsyncSession, user_id: str, award: str, page: int = 0,
                     per_page: int = 8) -> ReviewPage:
        await self._auth.require(user_id, Role.PANEL, action="Reviewing nominations")
        round_ = await self._round(session)
        candidates = sorted((await self._candidates(session, round_, user_id, award)).values(),
                            key=lambda c: (-c.nominations, -c.endorsements, c.key))
        values: Counter[str] = Counter()
        behaviours: Counter[str] = Counter()
        for c in candidates:
            values.update(c.values)
            behaviours.update(c.behaviours)
        pages = max(1, math.ceil(len(candidates) / per_page))
        page = min(max(page, 0), pages - 1)
        return ReviewPage(round=round_, award=award, candidates=candidates[page * per_page:(page + 1) * per_page],
                          total_candidates=len(candidates), page=page, pages=pages,
                          nominations=sum(c.nominations for c in candidates), values=values, behaviours=behaviours)

    async def candidate(self, *, session: AsyncSession, user_id: str, award: str, key: str,
                        limit: int = 25) -> CandidateDetail:
        await self._auth.require(user_id, Role.PANEL, action="Reviewing nominations")
        round_ = await self._round(session)
        summary = (await self._candidates(session, round_, user_id, award)).get((award, key))
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
        nominees = (await session.scalars(select(Nominee).where(col(Nominee.nomination_id) == nomination.id))).all()
        key = candidate_key(person_key(n.user_id, n.name) for n in nominees)
        summary = (await self._candidates(session, round_, user_id, nomination.award)).get((nomination.award, key))
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
        await self._audit.record(session=session, actor=user_id, action="nomination.scored",
                                 subject=f"nomination:{nomination_id}", details={"score": score, "level": level})
        return row

    async def decide_candidate(self, *, session: AsyncSession, user_id: str, award: str, key: str,
                               shortlisted: bool | None = None, winner: bool | None = None) -> CandidateDecision:
        await self._auth.require(user_id, Role.PANEL, action="Shortlisting and choosing winners")
        round_ = await self._round(session)
        summary = (await self._candidates(session, round_, user_id, award)).get((award, key))
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
        candidates = await self._candidates(session, round_, None)
        decisions = (await session.scalars(select(CandidateDecision).where(
            col(CandidateDecision.round_id) == round_.id, col(CandidateDecision.winner).is_(True)))).all()
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
                        template="winner_consent_request", now=now, source_id=decision.id,
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
            content={"template": "awards_announcement", "params": {"round": round_.name, "winners": named,
                                                                    "unnamed": unnamed}},
            due_at=now, expires_at=now + timedelta(days=1))]
        decisions = {(d.award, d.candidate): d for d in (await session.scalars(select(CandidateDecision).where(
            col(CandidateDecision.round_id) == round_.id))).all()}
        for (award, key), summary in (await self._candidates(session, round_, None)).items():
            decided = decisions.get((award, key))
            outcome = "won" if decided and decided.winner else (
                "shortlisted" if decided and decided.shortlisted else "not_selected")
            nominators = (await session.scalars(select(col(Nomination.nominator_id)).where(
                col(Nomination.id).in_(summary.nomination_ids), col(Nomination.nominator_id).is_not(None)))).all()
            for nominator in {n for n in nominators if n}:
                promises.append(outbox.notice(
                    key=f"outcome:{round_.id}:{award}:{key}:{nominator}"[:190], user_id=nominator,
                    template="nomination_outcome", now=now, source_id=round_.id,
                    params={"round": round_.name, "award_name": self._award_name(award), "outcome": outcome,
                            "nominees": summary.people}))
        await outbox.enqueue(session=session, promises=promises, now=now)
        naming.not_named = unnamed
        return naming

    def _award_name(self, key: str) -> str:
        award = self._content.award(key)
        return award.name if award else key

    # -- export and insight -------------------------------------------------------------------------------------
    async def export_csv(self, *, session: AsyncSession, user_id: str) -> tuple[AwardRound, str, bytes, int]:
        """The round as CSV, one row per nomination; the export itself is recorded."""
        await self._auth.require(user_id, Role.PANEL, action="Exporting a round")
        round_ = await self._round(session)
        candidates = await self._candidates(session, round_, user_id)
        by_nomination = {nid: c for c in candidates.values() for nid in c.nomination_ids}
        nominations = (await session.scalars(select(Nomination).where(col(Nomination.id).in_(list(by_nomination)))
                                             .order_by(col(Nomination.id)))).all()
        scores: dict[int, list[Score]] = defaultdict(list)
        for s in (await session.scalars(select(Score).where(col(Score.nomination_id).in_(list(by_nomination))))).all():
            scores[s.nomination_id].append(s)
        nominees: dict[int, list[Nominee]] = defaultdict(list)
        for p in (await session.scalars(select(Nominee).where(col(Nominee.nomination_id)
                                                              .in_(list(by_nomination))))).all():
            nominees[p.nomination_id].append(p)
        header = ["nomination", "award", "submitted", "nominator", "entered_by", "nominees", "values",
                  "behaviours", "story", "share_publicly", "consent", "endorsements", "scores", "mean_score",
                  "notes", "shortlisted", "winner", "conflicts"]
        rows: list[list[Any]] = []
        for n in nominations:
            candidate = by_nomination[n.id or 0]
            withheld = user_id in candidate.conflicts
            sheet = scores.get(n.id or 0, [])
            rows.append([
                n.id, self._award_name(n.award), n.created_at.astimezone(self._organisation.tz).isoformat(),
                n.nominator_id or n.nominator_name or "", n.entered_by or "",
                "; ".join(p.user_id or ", ".join(x for x in (p.name, p.role, p.site) if x)
                          for p in nominees[n.id or 0]),
                "; ".join(n.values), "; ".join(n.behaviours), n.story, n.share_publicly,
                "; ".join(f"{p.user_id or p.name}: {_consent_words(p)}" for p in nominees[n.id or 0]),
                candidate.endorsements,
                "withheld (conflict of interest)" if withheld else "; ".join(
                    f"{s.panel_member}: {s.score}" + (f" ({s.level})" if s.level else "") for s in sheet),
                "" if withheld or not sheet else round(sum(s.score for s in sheet) / len(sheet), 2),
                "withheld (conflict of interest)" if withheld else
                " | ".join(f"{s.panel_member}: {s.note}" for s in sheet if s.note),
                candidate.shortlisted, candidate.winner,
                "; ".join(f"{member} ({why})" for member, why in sorted(candidate.conflicts.items()))])
        session.add(RoundExport(round_id=round_.id or 0, user_id=user_id, rows=len(nominations),
                                exported_at=self._clock.now()))
        await self._audit.record(session=session, actor=user_id, action="round.exported", subject=f"round:{round_.id}",
                                 details={"rows": len(nominations)})
        filename = f"beacon-{round_.name.lower().replace(' ', '-')}-{self._clock.now():%Y%m%d-%H%M}.csv"
        return round_, filename, write_csv(header, rows), len(nominations)

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

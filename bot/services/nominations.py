"""Peer nominations: recognising colleagues against the Trust values and leadership behaviours.

Who sees what: the nominator sees what they wrote; each nominee sees what was written about them (without
the nominator's name when it is hidden); a nomination is celebrated in the recognition channel only when the
nominator wished it and every nominee on Slack has said yes. Nothing here reaches anyone else.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.content import Content
from bot.db import insert_ignoring_duplicates
from bot.errors import InvalidInput, NotFound
from bot.models import (
    Award,
    AwardRound,
    Consent,
    Endorsement,
    Nomination,
    NominationStatus,
    Nominee,
    OutboxMessage,
    OutboxStatus,
    RoundStatus,
)
from bot.organisation import Organisation, Role
from bot.services import outbox
from bot.services.audit import Audit
from bot.services.authorisation import Authorisation
from bot.services.patient_details import find_patient_details
from bot.services.people import PeopleDirectory

RECOGNITION_POST = "recognition_post"
STORY_MIN, STORY_MAX = 50, 3000
MAX_NOMINEES = 20


class NominationProblems(InvalidInput):
    """What is wrong with a nomination, keyed by field, each saying what to do."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = problems


@dataclass(frozen=True)
class NomineeInput:
    user_id: str | None = None
    name: str | None = None
    role: str | None = None
    site: str | None = None


@dataclass(frozen=True)
class NominationDraft:
    nominees: tuple[NomineeInput, ...]
    award: str | None
    values: tuple[str, ...]
    behaviours: tuple[str, ...]
    story: str
    share_publicly: bool
    hide_nominator: bool
    no_patient_details: bool
    nominator_name: str | None = None  # a paper or email nomination entered by the comms team


@dataclass(frozen=True)
class Submitted:
    nomination: Nomination
    nominees: list[Nominee]
    replaced_earlier: bool


@dataclass(frozen=True)
class Recognition:
    """One nomination as a particular person may see it. `nominator` is None when it is hidden from them."""

    nomination: Nomination
    nominees: list[Nominee]
    nominator: str | None
    endorsements: int


class Nominations:
    def __init__(self, *, content: Content, organisation: Organisation, clock: Clock, people: PeopleDirectory,
                 authorisation: Authorisation, audit: Audit):
        self._audit = audit
        self._content = content
        self._organisation = organisation
        self._clock = clock
        self._people = people
        self._auth = authorisation

    @property
    def framework(self) -> str:
        return self._organisation.recognition.leadership_framework

    # -- checking ------------------------------------------------------------------------------------------
    async def check(self, draft: NominationDraft, *, nominator: str) -> dict[str, str]:
        """Every fault in a draft, keyed by field; empty when it can be submitted."""
        problems: dict[str, str] = {}
        slack_ids = [n.user_id for n in draft.nominees if n.user_id]
        if not draft.nominees:
            problems["nominees"] = ("Choose the colleague you are recognising, or name someone who is not on "
                                    "Slack below.")
        elif len(draft.nominees) > MAX_NOMINEES:
            problems["nominees"] = f"Recognise at most {MAX_NOMINEES} people at once."
        elif nominator in slack_ids and draft.nominator_name is None:
            problems["nominees"] = "You cannot nominate yourself, though we are sure you deserve it."
        else:
            found = await self._people.colleagues(slack_ids)
            for user_id in slack_ids:
                person = found.get(user_id)
                if person is None:
                    problems["nominees"] = "Beacon cannot find one of the people chosen; choose them again."
                elif person.is_bot:
                    problems["nominees"] = f"{person.name} is an app, not a colleague."
                elif person.deactivated:
                    problems["nominees"] = (f"{person.name} is no longer active on Slack: name them under "
                                            "“not on Slack” instead.")
        award = self._content.award(draft.award or "")
        if award is None:
            problems["award"] = "Choose an award, or just say thank you."
            return problems | self._check_story(draft)
        known_values = {v.key for v in self._content.active_values()}
        if len([v for v in draft.values if v in known_values]) < max(award.requires.values, 1):
            problems["values"] = "Choose at least one Trust value they showed."
        framework = self._content.frameworks[self.framework]
        known_behaviours = {b.key for b in framework.behaviours}
        if len([b for b in draft.behaviours if b in known_behaviours]) < award.requires.behaviours:
            problems["behaviours"] = f"The {award.name} award needs at least one leadership behaviour they showed."
        return problems | self._check_story(draft)

    def _check_story(self, draft: NominationDraft) -> dict[str, str]:
        problems: dict[str, str] = {}
        story = draft.story.strip()
        if len(story) < STORY_MIN:
            problems["story"] = (f"Tell the panel a little more: at least {STORY_MIN} characters "
                                 f"(this has {len(story)}).")
        elif len(story) > STORY_MAX:
            problems["story"] = f"Keep the story under {STORY_MAX:,} characters (this has {len(story):,})."
        else:
            findings = find_patient_details(story, today=self._clock.now().date())
            if findings:
                kinds = sorted({f.kind for f in findings}, key=[f.kind for f in findings].index)
                problems["story"] = (f"This looks like {' and '.join(kinds)} (“{findings[0].excerpt}”). Stories are "
                                     "read by the panel and may be shared: remove anything that could identify a "
                                     "patient, then submit again.")
        if not draft.no_patient_details:
            problems["no_patient_details"] = "Please confirm the story holds no patient-identifiable details."
        return problems

    # -- submitting -----------------------------------------------------------------------------------------
    async def submit(self, *, session: AsyncSession, nominator: str, draft: NominationDraft,
                     editing: int | None = None) -> Submitted:
        """Store a nomination (or update the earlier one it repeats) and queue the messages it brings."""
        if draft.nominator_name:
            await self._auth.require(nominator, Role.COMMS, action="Entering a nomination for someone else")
        problems = await self.check(draft, nominator=nominator)
        if problems:
            raise NominationProblems(problems)
        now = self._clock.now()
        open_round = None
        if draft.award not in (None, Award.THANKS):
            open_round = (await session.scalars(select(AwardRound).where(
                AwardRound.status == RoundStatus.OPEN))).first()
        key = self._duplicate_key(draft, nominator, open_round.id if open_round else None)
        earlier = None
        if editing is not None:
            earlier = await self._own_editable(session, nominator, editing)
        elif key is not None:
            earlier = (await session.scalars(select(Nomination).where(
                Nomination.duplicate_key == key, Nomination.status == NominationStatus.ACTIVE))).first()
        nomination = earlier or Nomination(created_at=now, values=[], behaviours=[], story="", award=Award.THANKS)
        nomination.nominator_id = None if draft.nominator_name else nominator
        nomination.nominator_name = draft.nominator_name
        nomination.entered_by = nominator if draft.nominator_name else None
        nomination.award = draft.award or Award.THANKS
        if earlier is None or editing is None:
            nomination.round_id = open_round.id if open_round else None
        nomination.story = draft.story.strip()
        nomination.values = [v for v in draft.values if self._content.value(v)]
        nomination.framework = self.framework if draft.behaviours else None
        nomination.behaviours = list(draft.behaviours) if draft.award == Award.LEADERSHIP else []
        nomination.share_publicly, nomination.hide_nominator = draft.share_publicly, draft.hide_nominator
        nomination.duplicate_key, nomination.updated_at = key, now
        session.add(nomination)
        await session.flush()
        if earlier is not None:
            await session.execute(delete(Nominee).where(Nominee.nomination_id == nomination.id))
        nominees = [Nominee(nomination_id=nomination.id or 0, user_id=n.user_id, name=n.name, role=n.role,
                            site=n.site,
                            consent=Consent.PENDING if n.user_id and draft.share_publicly else Consent.NOT_ASKED)
                    for n in draft.nominees]
        session.add_all(nominees)
        await session.flush()
        await self._notify_submitted(session, nomination, nominees, replaced=earlier is not None,
                                     first_time=earlier is None)
        if draft.nominator_name:
            await self._audit.record(session=session, actor=nominator, action="nomination.entered_for_someone",
                                     subject=f"nomination:{nomination.id}", details={"award": nomination.award})
        return Submitted(nomination=nomination, nominees=nominees, replaced_earlier=earlier is not None)

    def _duplicate_key(self, draft: NominationDraft, nominator: str, round_id: int | None) -> str | None:
        if draft.award in (None, Award.THANKS):
            return None
        who = f"name:{draft.nominator_name.strip().lower()}" if draft.nominator_name else nominator
        people = sorted(n.user_id or f"name:{(n.name or '').strip().lower()}" for n in draft.nominees)
        return f"{draft.award}:round{round_id or '-'}:{who}:{'+'.join(people)}"[:400]

    async def _notify_submitted(self, session: AsyncSession, nomination: Nomination, nominees: list[Nominee], *,
                                replaced: bool, first_time: bool) -> None:
        now = self._clock.now()
        stamp = f"{nomination.id}:{secrets.token_hex(6)}"  # each submission earns its own receipt
        promises = []
        if nomination.nominator_id:
            promises.append(outbox.notice(key=f"nomination-receipt:{stamp}", user_id=nomination.nominator_id,
                                          template="nomination_receipt", now=now, source_id=nomination.id,
                                          params=self.describe(nomination, nominees, to_nominator=True)
                                          | {"replaced": replaced,
                                             "no_round": nomination.award != Award.THANKS
                                             and nomination.round_id is None}))
        if first_time:
            for nominee in nominees:
                if nominee.user_id:
                    params = self.describe(nomination, nominees, to_nominator=False) | {
                        "ask_consent": nominee.consent == Consent.PENDING}
                    promises.append(outbox.notice(key=f"nominee:{nomination.id}:{nominee.user_id}",
                                                  user_id=nominee.user_id, template="nominee_recognised",
                                                  now=now, source_id=nomination.id, params=params))
        await outbox.enqueue(session=session, promises=promises, now=now)

    # -- consent and celebration -------------------------------------------------------------------------
    async def consent(self, *, session: AsyncSession, user_id: str, nomination_id: int,
                      give: bool) -> tuple[Nomination, OutboxMessage | None]:
        """A nominee says yes or no to a public celebration. Returns the public post to remove, if any."""
        nominee = (await session.scalars(select(Nominee).where(
            Nominee.nomination_id == nomination_id, Nominee.user_id == user_id))).first()
        nomination = await session.get(Nomination, nomination_id)
        if nominee is None or nomination is None:
            raise NotFound("That recognition is not addressed to you.")
        if nomination.status != NominationStatus.ACTIVE:
            raise InvalidInput("The nominator has withdrawn this nomination.")
        if not nomination.share_publicly:
            raise InvalidInput("The nominator asked for this to stay private, so there is nothing to agree to.")
        nominee.consent, nominee.consent_at = (Consent.GIVEN if give else Consent.DECLINED), self._clock.now()
        await session.flush()
        nominees = list((await session.scalars(select(Nominee).where(Nominee.nomination_id == nomination_id))).all())
        if not give:
            return nomination, await self._public_post(session, nomination)
        everyone_agreed = all(n.consent == Consent.GIVEN for n in nominees if n.user_id) and all(
            n.user_id for n in nominees)
        if everyone_agreed:
            await self._celebrate(session, nomination, nominees)
        return nomination, None

    async def _celebrate(self, session: AsyncSession, nomination: Nomination, nominees: list[Nominee]) -> None:
        now = self._clock.now()
        await outbox.enqueue(session=session, now=now, promises=[outbox.Promise(
            dedupe_key=f"recognition:{nomination.id}", source=RECOGNITION_POST, source_id=nomination.id,
            channel=self._organisation.channels.recognition,
            content={"template": "recognition_post", "params": await self.public_params(session, nomination.id or 0,
                                                                                         nominees=nominees)},
            due_at=now, expires_at=now + timedelta(days=1))])

    async def _public_post(self, session: AsyncSession, nomination: Nomination) -> OutboxMessage | None:
        """The celebration, if it has been posted or is about to be; a pending one is simply cancelled."""
        await outbox.cancel_unsent(session=session, source=RECOGNITION_POST, source_id=nomination.id or 0)
        posted = (await session.scalars(select(OutboxMessage).where(
            OutboxMessage.source == RECOGNITION_POST, OutboxMessage.source_id == nomination.id,
            OutboxMessage.status == OutboxStatus.SENT))).first()
        nomination.public_channel = nomination.public_ts = nomination.celebrated_at = None
        return posted

    async def record_posted(self, session: AsyncSession, message: OutboxMessage, status: OutboxStatus,
                            error: str | None) -> None:
        """Outbox hook: remember where the celebration went, so endorsements can update it."""
        nomination = await session.get(Nomination, message.source_id)
        if nomination is not None and status == OutboxStatus.SENT:
            sent = await session.get(OutboxMessage, message.id)
            if sent is not None:
                nomination.public_channel, nomination.public_ts = sent.sent_channel, sent.sent_ts
                nomination.celebrated_at = sent.sent_at or self._clock.now()

    async def public_params(self, session: AsyncSession, nomination_id: int, *,
                            nominees: Sequence[Nominee] | None = None) -> dict[str, Any]:
        """What the recognition post says: no more than the nominator agreed to share."""
        nomination = await session.get(Nomination, nomination_id)
        if nomination is None:
            raise NotFound("That recognition no longer exists.")
        if nominees is None:
            nominees = list((await session.scalars(select(Nominee).where(
                Nominee.nomination_id == nomination_id))).all())
        endorsements = await session.scalar(select(func.count()).select_from(Endorsement).where(
            Endorsement.nomination_id == nomination_id))
        return self.describe(nomination, list(nominees), to_nominator=False) | {
            "endorsements": int(endorsements or 0)}

    async def endorse(self, *, session: AsyncSession, user_id: str, nomination_id: int) -> Nomination:
        nomination = await session.get(Nomination, nomination_id)
        if nomination is None or nomination.public_ts is None or nomination.status != NominationStatus.ACTIVE:
            raise NotFound("That recognition is no longer shared publicly.")
        nominees = {n.user_id for n in (await session.scalars(select(Nominee).where(
            Nominee.nomination_id == nomination_id))).all()}
        if user_id in nominees:
            raise InvalidInput("This recognition is about you, so it is not yours to endorse. Enjoy it!")
        if user_id == nomination.nominator_id:
            raise InvalidInput("You wrote this recognition; your colleagues can endorse it.")
        if not await insert_ignoring_duplicates(session, Endorsement, {
                "nomination_id": nomination_id, "user_id": user_id, "created_at": self._clock.now()}):
            raise InvalidInput("You have already endorsed this recognition. Thank you!")
        return nomination

    # -- the nominator's own nominations -----------------------------------------------------------------
    async def _own_editable(self, session: AsyncSession, user_id: str, nomination_id: int) -> Nomination:
        nomination = await session.get(Nomination, nomination_id)
        if nomination is None or user_id not in (nomination.nominator_id, nomination.entered_by):
            raise NotFound("You can only change nominations you made.")
        if nomination.status != NominationStatus.ACTIVE:
            raise InvalidInput("That nomination has been withdrawn.")
        if nomination.public_ts:
            raise InvalidInput("That recognition has already been celebrated publicly, so it can no longer be "
                               "changed.")
        if nomination.round_id is not None:
            round_ = await session.get(AwardRound, nomination.round_id)
            if round_ is not None and round_.status != RoundStatus.OPEN:
                raise InvalidInput("The award round has closed, so its nominations can no longer be changed.")
        return nomination

    async def for_edit(self, *, session: AsyncSession, user_id: str,
                       nomination_id: int) -> tuple[Nomination, list[Nominee]]:
        nomination = await self._own_editable(session, user_id, nomination_id)
        nominees = list((await session.scalars(select(Nominee).where(Nominee.nomination_id == nomination_id))).all())
        return nomination, nominees

    async def withdraw(self, *, session: AsyncSession, user_id: str, nomination_id: int) -> Nomination:
        nomination = await self._own_editable(session, user_id, nomination_id)
        nomination.status, nomination.updated_at = NominationStatus.WITHDRAWN, self._clock.now()
        nomination.duplicate_key = None
        await outbox.cancel_unsent(session=session, source=RECOGNITION_POST, source_id=nomination_id)
        return nomination

    # -- what each person sees -----------------------------------------------------------------------------
    async def made_by(self, *, session: AsyncSession, user_id: str, limit: int = 20) -> list[Recognition]:
        rows = list((await session.scalars(
            select(Nomination).where((Nomination.nominator_id == user_id) | (Nomination.entered_by == user_id),
                                     Nomination.status == NominationStatus.ACTIVE)
            .order_by(Nomination.created_at.desc(), Nomination.id.desc()).limit(limit))).all())
        return await self._recognitions(session, rows, viewer=user_id)

    async def received_by(self, *, session: AsyncSession, user_id: str, limit: int = 20) -> list[Recognition]:
        rows = list((await session.scalars(
            select(Nomination).join(Nominee, Nominee.nomination_id == Nomination.id)
            .where(Nominee.user_id == user_id, Nomination.status == NominationStatus.ACTIVE)
            .order_by(Nomination.created_at.desc(), Nomination.id.desc()).limit(limit))).all())
        return await self._recognitions(session, rows, viewer=user_id)

    async def _recognitions(self, session: AsyncSession, rows: list[Nomination], *,
                            viewer: str) -> list[Recognition]:
        ids = [r.id for r in rows]
        nominees: dict[int, list[Nominee]] = {i or 0: [] for i in ids}
        counts: dict[int, int] = {}
        if ids:
            for nominee in (await session.scalars(select(Nominee).where(Nominee.nomination_id.in_(ids)))).all():
                nominees[nominee.nomination_id].append(nominee)
            counts = dict((await session.execute(select(Endorsement.nomination_id, func.count()).where(
                Endorsement.nomination_id.in_(ids)).group_by(Endorsement.nomination_id))).all())
        return [Recognition(nomination=r, nominees=nominees[r.id or 0], nominator=self._visible_nominator(r, viewer),
                            endorsements=counts.get(r.id or 0, 0)) for r in rows]

    @staticmethod
    def _visible_nominator(nomination: Nomination, viewer: str | None) -> str | None:
        """The nominator's user ID, unless the viewer is a nominee and it was hidden from them."""
        if viewer in (nomination.nominator_id, nomination.entered_by):
            return nomination.nominator_id
        return None if nomination.hide_nominator else nomination.nominator_id

    def describe(self, nomination: Nomination, nominees: list[Nominee], *, to_nominator: bool) -> dict[str, Any]:
        """A nomination as template parameters. Unless it is for the nominator's own eyes, the nominator's
        name is left out when they asked to stay hidden from the nominee (a public post would tell them)."""
        award = self._content.award(nomination.award)
        values = [self._content.value(v) for v in nomination.values]
        behaviours = [self._content.behaviour(nomination.framework or self.framework, b) for b in nomination.behaviours]
        hidden = nomination.hide_nominator and not to_nominator
        return {
            "nomination_id": nomination.id, "award": award.key if award else nomination.award,
            "award_name": award.name if award else nomination.award,
            "nominees": [{"user_id": n.user_id, "name": n.name, "role": n.role, "site": n.site} for n in nominees],
            "values": [{"name": v.name, "emoji": v.emoji} for v in values if v],
            "behaviours": [b.name for b in behaviours if b], "story": nomination.story,
            "nominator": None if hidden else nomination.nominator_id,
            "nominator_name": None if hidden else nomination.nominator_name,
            "share_publicly": nomination.share_publicly,
            "recognition_channel": self._organisation.channels.recognition,
        }

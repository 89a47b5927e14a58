"""Peer nominations: recognising colleagues against the Trust values and leadership behaviours.

Who sees what: the nominator sees what they wrote; each nominee sees what was written about them (without
the nominator's name when it is hidden); a nomination is celebrated in the recognition channel only when the
nominator wished it and every nominee (all on Slack) has said yes. Nothing here reaches anyone else.

Consent is to exact words. What a public post would show is a versioned snapshot (`content_snapshot`); each
nominee says yes to one version (the version is in the button they click), and every public post, and every
later rebuild of it, is made only from `col(Nomination.consented_snapshot)`: the version every person it names said
yes to. An edit makes a new version and asks again; until everyone says yes to it, a post already made keeps
the words they agreed to, and a post not yet made does not go. Silence is never a yes, nor a no.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot.clock import Clock
from beacon.bot.content import Content
from beacon.bot.db import insert_ignoring_duplicates
from beacon.bot.errors import InvalidInput, NotFound
from beacon.bot.models import (
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
from beacon.bot.organisation import Organisation, Role
from beacon.bot.services import outbox, review_totals
from beacon.bot.services.audit import Audit
from beacon.bot.services.authorisation import Authorisation
from beacon.bot.services.patient_details import find_patient_details
from beacon.bot.services.people import PeopleDirectory
from beacon.bot.templates import Template, templated

RECOGNITION_POST = "recognition_post"
RECOGNITION_UPDATE = "recognition_update"  # chat.update of a celebration already posted, to newly agreed words
RECOGNITION_REMOVAL = "recognition_removal"  # chat.update blanking a celebration that went out after a no
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
class PublicMessage:
    """A celebration in the recognition channel, to be taken down."""

    channel: str
    ts: str


@dataclass(frozen=True)
class Submitted:
    nomination: Nomination
    nominees: list[Nominee]
    replaced_earlier: bool
    take_down: PublicMessage | None = None


@dataclass(frozen=True)
class ConsentAnswer:
    nomination: Nomination
    take_down: PublicMessage | None = None
    out_of_date: bool = False  # a yes to words that have since changed: not counted; the new words were sent


def content_snapshot(nomination: Nomination, nominees: Sequence[Nominee]) -> dict[str, Any]:
    """Everything a public post could show about a nomination, and nothing else: what consent is given to."""
    return {"version": nomination.content_version, "award": nomination.award, "values": list(nomination.values),
            "framework": nomination.framework, "behaviours": list(nomination.behaviours), "story": nomination.story,
            "nominees": [{"user_id": n.user_id, "name": n.name, "role": n.role, "site": n.site} for n in nominees],
            "nominator_id": nomination.nominator_id, "nominator_name": nomination.nominator_name,
            "hide_nominator": nomination.hide_nominator}


def content_hash(snapshot: dict[str, Any]) -> str:
    """The snapshot's words and people, hashed (the version number left out, so an edit that changes nothing
    public is recognised as such). Migration 0012 keeps a frozen copy of this."""
    body = {k: v for k, v in snapshot.items() if k != "version"}
    body["nominees"] = sorted(body.get("nominees") or [], key=lambda n: json.dumps(n, sort_keys=True))
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                          .encode()).hexdigest()


def consent_value(nomination_id: int | None, version: int) -> str:
    """The consent buttons' value: the nomination and the version of its words the message showed."""
    return f"{nomination_id}:{version}"


def can_be_public(nomination: Nomination, nominees: Sequence[Nominee]) -> bool:
    """Only when the nominator wished it and everyone named can be asked: a colleague who is not on Slack can
    never say yes in Slack, so a nomination naming one is never celebrated by Beacon."""
    return nomination.share_publicly and bool(nominees) and all(n.user_id for n in nominees)


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

    async def refuse_invalid(self, draft: NominationDraft, *, nominator: str) -> None:
        """Raise what `submit` would refuse the draft for, before any of it is stored: RoleRequired for an entry
        on someone's behalf by someone not allowed, NominationProblems for every fault in the form."""
        if draft.nominator_name:
            await self._auth.require(nominator, Role.COMMS, action="Entering a nomination for someone else")
        problems = await self.check(draft, nominator=nominator)
        if problems:
            raise NominationProblems(problems)

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
        await self.refuse_invalid(draft, nominator=nominator)
        now = self._clock.now()
        open_round = None
        if draft.award not in (None, Award.THANKS):
            open_round = (await session.scalars(select(AwardRound).where(
                col(AwardRound.status) == RoundStatus.OPEN))).first()
        key = self._duplicate_key(draft, nominator, open_round.id if open_round else None)
        earlier = None
        if editing is not None:
            earlier = await self._own_editable(session, nominator, editing, celebrated_ok=True)
        elif key is not None:
            earlier = (await session.scalars(select(Nomination).where(
                col(Nomination.duplicate_key) == key, col(Nomination.status) == NominationStatus.ACTIVE)
                .with_for_update())).first()
        before: dict[str, Nominee] = {}
        if earlier is not None:
            before = {self._person(n): n for n in (await session.scalars(select(Nominee).where(
                col(Nominee.nomination_id) == earlier.id))).all()}
        nomination = earlier or Nomination(created_at=now, updated_at=now, values=[], behaviours=[], story="",
                                           award=Award.THANKS)
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
        nominees = [Nominee(nomination_id=0, user_id=n.user_id, name=n.name, role=n.role, site=n.site)
                    for n in draft.nominees]
        # Versioned before the first write, so a new nomination is inserted with its version (not updated after).
        changed = self._new_version(nomination, nominees, first_time=earlier is None)
        session.add(nomination)
        await session.flush()
        if earlier is not None:
            await session.execute(delete(Nominee).where(col(Nominee.nomination_id) == nomination.id))
        for nominee in nominees:
            nominee.nomination_id = nomination.id or 0
        public = can_be_public(nomination, nominees)
        asked: list[Nominee] = []
        for nominee in nominees:
            old = before.get(self._person(nominee))
            if old is not None:  # what they said to these same words stays true, and a "no" stays a no
                nominee.consent, nominee.consent_at = old.consent, old.consent_at
                nominee.consented_version = old.consented_version
            if not public:
                nominee.consent = Consent.NOT_ASKED
            elif old is None or nominee.consent == Consent.NOT_ASKED or (
                    changed and nominee.consent != Consent.DECLINED):
                nominee.consent, nominee.consent_at = Consent.PENDING, None
                asked.append(nominee)
        session.add_all(nominees)
        await session.flush()
        take_down = None
        if earlier is not None and (changed or not public):
            # Whatever was about to be posted or updated was agreed to other words, or may no longer be public.
            await self._cancel_pending_posts(session, nomination.id or 0)
            if not public:
                take_down = self._forget_public(nomination)
            elif nomination.hide_nominator and nomination.public_ts and nomination.consented_snapshot and not \
                    nomination.consented_snapshot.get("hide_nominator"):
                await self._refresh_post(session, nomination)  # the nominator's wish to be hidden applies at once
        if earlier is not None or nomination.round_id is not None:  # a new one outside a round counts nowhere
            await review_totals.refresh(session, [nomination.id])
        await self._notify_submitted(session, nomination, nominees, asked=asked, replaced=earlier is not None,
                                     changed=changed and earlier is not None,
                                     new_people={self._person(n) for n in nominees} - set(before))
        if draft.nominator_name:
            await self._audit.record(session=session, actor=nominator, action="nomination.entered_for_someone",
                                     subject=f"nomination:{nomination.id}", details={"award": nomination.award})
        return Submitted(nomination=nomination, nominees=nominees, replaced_earlier=earlier is not None,
                         take_down=take_down)

    @staticmethod
    def _person(nominee: Nominee) -> str:
        return nominee.user_id or f"name:{(nominee.name or '').strip().lower()}"

    @staticmethod
    def _new_version(nomination: Nomination, nominees: Sequence[Nominee], *, first_time: bool) -> bool:
        """Give the nomination's public content a new version if it changed. True when it did."""
        digest = content_hash(content_snapshot(nomination, nominees))
        if first_time:
            nomination.content_version, nomination.content_hash = 1, digest
            return True
        if digest == nomination.content_hash:
            return False
        nomination.content_version, nomination.content_hash = (nomination.content_version or 1) + 1, digest
        return True

    async def _cancel_pending_posts(self, session: AsyncSession, nomination_id: int) -> None:
        for source in (RECOGNITION_POST, RECOGNITION_UPDATE):
            await outbox.cancel_unsent(session=session, source=source, source_id=nomination_id)

    @staticmethod
    def _forget_public(nomination: Nomination) -> PublicMessage | None:
        """Nothing about this nomination is public any more: the agreed snapshot goes, and the post (if one was
        made) is returned for the caller to delete."""
        posted = (PublicMessage(channel=nomination.public_channel, ts=nomination.public_ts)
                  if nomination.public_channel and nomination.public_ts else None)
        nomination.public_channel = nomination.public_ts = nomination.celebrated_at = None
        nomination.consented_snapshot = nomination.consented_version = nomination.consented_hash = None
        return posted

    def _duplicate_key(self, draft: NominationDraft, nominator: str, round_id: int | None) -> str | None:
        if draft.award in (None, Award.THANKS):
            return None
        who = f"name:{draft.nominator_name.strip().lower()}" if draft.nominator_name else nominator
        people = sorted(n.user_id or f"name:{(n.name or '').strip().lower()}" for n in draft.nominees)
        return f"{draft.award}:round{round_id or '-'}:{who}:{'+'.join(people)}"[:400]

    async def _notify_submitted(self, session: AsyncSession, nomination: Nomination, nominees: list[Nominee], *,
                                asked: list[Nominee], replaced: bool, changed: bool, new_people: set[str]) -> None:
        now = self._clock.now()
        stamp = f"{nomination.id}:{secrets.token_hex(6)}"  # each submission earns its own receipt and requests
        promises = []
        if nomination.nominator_id:
            promises.append(outbox.notice(key=f"nomination-receipt:{stamp}", user_id=nomination.nominator_id,
                                          template=Template.NOMINATION_RECEIPT, now=now, source_id=nomination.id,
                                          params=self.describe(nomination, nominees, to_nominator=True)
                                          | {"replaced": replaced, "asked_again": changed and bool(asked),
                                             "cannot_share": nomination.share_publicly
                                             and not can_be_public(nomination, nominees),
                                             "no_round": nomination.award != Award.THANKS
                                             and nomination.round_id is None}))
        # Everyone asked sees the words they are asked about (an edit asks again, showing the new words);
        # a colleague added to a private nomination is told, as they would have been at first.
        told = [n for n in nominees if n.user_id and (n in asked or self._person(n) in new_people)]
        for nominee in told:
            params = self.describe(nomination, nominees, to_nominator=False) | {
                "ask_consent": nominee in asked, "changed": changed and self._person(nominee) not in new_people,
                "consent_value": consent_value(nomination.id, nomination.content_version)}
            promises.append(outbox.notice(key=f"nominee:{stamp}:{nominee.user_id}", user_id=nominee.user_id or "",
                                          template=Template.NOMINEE_RECOGNISED, now=now, source_id=nomination.id,
                                          params=params))
        await outbox.enqueue(session=session, promises=promises, now=now)

    # -- consent and celebration -------------------------------------------------------------------------
    async def consent(self, *, session: AsyncSession, user_id: str, nomination_id: int, give: bool,
                      version: int | None = None) -> ConsentAnswer:
        """A nominee says yes or no to a public celebration of the words they were shown (`version`; None for a
        request sent before versions existed, which showed version 1). A no is always honoured and takes down
        anything public; a yes to words that have since changed counts for nothing, and the new words are sent."""
        nomination = await session.get(Nomination, nomination_id, with_for_update=True)
        nominee = (await session.scalars(select(Nominee).where(
            col(Nominee.nomination_id) == nomination_id, col(Nominee.user_id) == user_id))).first()
        named = nomination is not None and user_id in self._named_publicly(nomination)
        if nomination is None or (nominee is None and not named):
            raise NotFound("That recognition is not addressed to you.")
        if nominee is None:  # taken off the nomination by an edit, but still named in what is public
            if give:
                raise InvalidInput("The nominator has changed this recognition, and it no longer names you.")
            return ConsentAnswer(nomination=nomination, take_down=await self._take_down(session, nomination))
        if nomination.status != NominationStatus.ACTIVE:
            raise InvalidInput("The nominator has withdrawn this nomination.")
        if not nomination.share_publicly:
            raise InvalidInput("The nominator asked for this to stay private, so there is nothing to agree to.")
        now = self._clock.now()
        if not give:
            nominee.consent, nominee.consent_at, nominee.consented_version = Consent.DECLINED, now, None
            await session.flush()
            return ConsentAnswer(nomination=nomination, take_down=await self._take_down(session, nomination))
        nominees = list((await session.scalars(select(Nominee).where(
            col(Nominee.nomination_id) == nomination_id).order_by(col(Nominee.id)))).all())
        if not can_be_public(nomination, nominees):
            raise InvalidInput("A colleague named in this recognition is not on Slack and cannot be asked, so "
                               "Beacon does not share it publicly. It stays in your Home tab.")
        if (version or 1) != nomination.content_version:
            await self._ask_again(session, nomination, nominees, nominee)
            return ConsentAnswer(nomination=nomination, out_of_date=True)
        nominee.consent, nominee.consent_at, nominee.consented_version = Consent.GIVEN, now, version or 1
        await session.flush()
        if all(n.consent == Consent.GIVEN and n.consented_version == nomination.content_version for n in nominees):
            await self._celebrate(session, nomination, nominees)
        return ConsentAnswer(nomination=nomination)

    async def _ask_again(self, session: AsyncSession, nomination: Nomination, nominees: list[Nominee],
                         nominee: Nominee) -> None:
        """Someone said yes to words that have since changed: send them the current words to answer."""
        now = self._clock.now()
        if nominee.consent != Consent.DECLINED:
            nominee.consent, nominee.consent_at = Consent.PENDING, None
        params = self.describe(nomination, nominees, to_nominator=False) | {
            "ask_consent": True, "changed": True,
            "consent_value": consent_value(nomination.id, nomination.content_version)}
        await outbox.enqueue(session=session, now=now, promises=[outbox.notice(
            key=f"nominee:{nomination.id}:{nominee.user_id}:v{nomination.content_version}:again",
            user_id=nominee.user_id or "", template=Template.NOMINEE_RECOGNISED, now=now, source_id=nomination.id,
            params=params)])

    async def _celebrate(self, session: AsyncSession, nomination: Nomination, nominees: list[Nominee]) -> None:
        """Everyone named has said yes to the current words: they become the agreed snapshot, and the post is made
        from it (or the post already made is updated to it)."""
        if nomination.consented_snapshot and nomination.consented_version == nomination.content_version:
            return  # already agreed and posted (or on its way): a second yes posts nothing more
        now = self._clock.now()
        snapshot = content_snapshot(nomination, nominees)
        nomination.consented_snapshot, nomination.consented_version = snapshot, nomination.content_version
        nomination.consented_hash = content_hash(snapshot)
        await self._cancel_pending_posts(session, nomination.id or 0)
        params = await self.public_params(session, nomination.id or 0)
        stamp = f"{nomination.id}:v{nomination.content_version}:{secrets.token_hex(4)}"
        if nomination.public_channel and nomination.public_ts:
            promise = outbox.Promise(
                dedupe_key=f"recognition-update:{stamp}", source=RECOGNITION_UPDATE, source_id=nomination.id,
                channel=nomination.public_channel, update_ts=nomination.public_ts,
                content={"template": Template.RECOGNITION_POST, "params": params}, due_at=now,
                expires_at=now + timedelta(days=1))
        else:
            promise = outbox.Promise(
                dedupe_key=f"recognition:{stamp}", source=RECOGNITION_POST, source_id=nomination.id,
                channel=self._organisation.channels.recognition,
                content={"template": Template.RECOGNITION_POST, "params": params}, due_at=now,
                expires_at=now + timedelta(days=1))
        await outbox.enqueue(session=session, now=now, promises=[promise])

    async def _refresh_post(self, session: AsyncSession, nomination: Nomination) -> None:
        """Rebuild the post already made from the agreed snapshot (as it is now to be shown)."""
        now = self._clock.now()
        await outbox.enqueue(session=session, now=now, promises=[outbox.Promise(
            dedupe_key=f"recognition-update:{nomination.id}:refresh:{secrets.token_hex(4)}", source=RECOGNITION_UPDATE,
            source_id=nomination.id, channel=nomination.public_channel or "", update_ts=nomination.public_ts,
            content=templated(Template.RECOGNITION_POST, await self.public_params(session, nomination.id or 0)),
            due_at=now, expires_at=now + timedelta(days=1))])

    @staticmethod
    def _named_publicly(nomination: Nomination) -> set[str]:
        snapshot = nomination.consented_snapshot or {}
        return {p["user_id"] for p in snapshot.get("nominees") or [] if p.get("user_id")}

    async def _take_down(self, session: AsyncSession, nomination: Nomination) -> PublicMessage | None:
        """Someone named said no: nothing pending goes, and the post already made is returned to be deleted."""
        await self._cancel_pending_posts(session, nomination.id or 0)
        return self._forget_public(nomination)

    async def record_posted(self, session: AsyncSession, message: OutboxMessage, status: OutboxStatus,
                            error: str | None) -> None:
        """Outbox hook: remember where the celebration went, so endorsements and agreed edits can update it."""
        nomination = await session.get(Nomination, message.source_id, with_for_update=True)
        sent = await session.get(OutboxMessage, message.id) if status == OutboxStatus.SENT else None
        if nomination is None or sent is None or not sent.sent_channel or not sent.sent_ts:
            return
        if (nomination.status != NominationStatus.ACTIVE or not nomination.share_publicly
                or not nomination.consented_snapshot):
            # It was already being sent when someone named said no (or it stopped being shared): a send under
            # way cannot be stopped, so its words and names are replaced as soon as it is known to be out.
            now = self._clock.now()
            await outbox.enqueue(session=session, now=now, promises=[outbox.Promise(
                dedupe_key=f"recognition-removed:{sent.id}", source=RECOGNITION_REMOVAL, source_id=nomination.id,
                channel=sent.sent_channel, update_ts=sent.sent_ts,
                content={"template": Template.RECOGNITION_REMOVED, "params": {}}, due_at=now,
                expires_at=now + timedelta(days=7))])
            return
        nomination.public_channel, nomination.public_ts = sent.sent_channel, sent.sent_ts
        nomination.celebrated_at = sent.sent_at or self._clock.now()

    async def public_params(self, session: AsyncSession, nomination_id: int) -> dict[str, Any]:
        """What the recognition post says: only the snapshot everyone it names agreed to, never the current
        words, and never the nominator's name if they have since asked to be hidden."""
        nomination = await session.get(Nomination, nomination_id)
        if nomination is None or nomination.status != NominationStatus.ACTIVE or not nomination.consented_snapshot:
            raise NotFound("That recognition is no longer shared publicly.")
        snapshot = dict(nomination.consented_snapshot)
        snapshot["hide_nominator"] = bool(snapshot.get("hide_nominator")) or nomination.hide_nominator
        endorsements = await session.scalar(select(func.count()).select_from(Endorsement).where(
            col(Endorsement.nomination_id) == nomination_id))
        return self.describe_content(snapshot, nomination_id=nomination_id, to_nominator=False) | {
            "endorsements": int(endorsements or 0)}

    async def endorse(self, *, session: AsyncSession, user_id: str, nomination_id: int) -> Nomination:
        nomination = await session.get(Nomination, nomination_id)
        if (nomination is None or nomination.public_ts is None or nomination.status != NominationStatus.ACTIVE
                or not nomination.consented_snapshot):
            raise NotFound("That recognition is no longer shared publicly.")
        nominees = {n.user_id for n in (await session.scalars(select(Nominee).where(
            col(Nominee.nomination_id) == nomination_id))).all()} | self._named_publicly(nomination)
        if user_id in nominees:
            raise InvalidInput("This recognition is about you, so it is not yours to endorse. Enjoy it!")
        if user_id == nomination.nominator_id:
            raise InvalidInput("You wrote this recognition; your colleagues can endorse it.")
        if not await insert_ignoring_duplicates(session, Endorsement, {
                "nomination_id": nomination_id, "user_id": user_id, "created_at": self._clock.now()}):
            raise InvalidInput("You have already endorsed this recognition. Thank you!")
        await review_totals.refresh(session, [nomination_id])
        return nomination

    # -- the nominator's own nominations -----------------------------------------------------------------
    async def _own_editable(self, session: AsyncSession, user_id: str, nomination_id: int, *,
                            celebrated_ok: bool = False) -> Nomination:
        """A nomination its nominator may change. One already celebrated may be edited (the post keeps the words
        everyone agreed to until they agree to the new ones) but not withdrawn."""
        nomination = await session.get(Nomination, nomination_id, with_for_update=True)
        if nomination is None or user_id not in (nomination.nominator_id, nomination.entered_by):
            raise NotFound("You can only change nominations you made.")
        if nomination.status != NominationStatus.ACTIVE:
            raise InvalidInput("That nomination has been withdrawn.")
        if nomination.public_ts and not celebrated_ok:
            raise InvalidInput("That recognition has already been celebrated publicly, so it can no longer be "
                               "withdrawn.")
        if nomination.round_id is not None:
            round_ = await session.get(AwardRound, nomination.round_id)
            if round_ is not None and round_.status != RoundStatus.OPEN:
                raise InvalidInput("The award round has closed, so its nominations can no longer be changed.")
        return nomination

    async def for_edit(self, *, session: AsyncSession, user_id: str,
                       nomination_id: int) -> tuple[Nomination, list[Nominee]]:
        nomination = await self._own_editable(session, user_id, nomination_id, celebrated_ok=True)
        nominees = list((await session.scalars(select(Nominee).where(col(Nominee.nomination_id) == nomination_id)
                                                .order_by(col(Nominee.id)))).all())
        return nomination, nominees

    async def withdraw(self, *, session: AsyncSession, user_id: str, nomination_id: int) -> Nomination:
        nomination = await self._own_editable(session, user_id, nomination_id)
        nomination.status, nomination.updated_at = NominationStatus.WITHDRAWN, self._clock.now()
        nomination.duplicate_key = None
        await self._cancel_pending_posts(session, nomination_id)
        nomination.consented_snapshot = nomination.consented_version = nomination.consented_hash = None
        await review_totals.refresh(session, [nomination_id])
        return nomination

    # -- what each person sees -----------------------------------------------------------------------------
    async def made_by(self, *, session: AsyncSession, user_id: str, limit: int = 20) -> list[Recognition]:
        rows = list((await session.scalars(
            select(Nomination).where(
                (col(Nomination.nominator_id) == user_id) | (col(Nomination.entered_by) == user_id),
                col(Nomination.status) == NominationStatus.ACTIVE)
            .order_by(col(Nomination.created_at).desc(), col(Nomination.id).desc()).limit(limit))).all())
        return await self._recognitions(session, rows, viewer=user_id)

    async def received_by(self, *, session: AsyncSession, user_id: str, limit: int = 20) -> list[Recognition]:
        rows = list((await session.scalars(
            select(Nomination).join(Nominee, col(Nominee.nomination_id) == col(Nomination.id))
            .where(col(Nominee.user_id) == user_id, col(Nomination.status) == NominationStatus.ACTIVE)
            .order_by(col(Nomination.created_at).desc(), col(Nomination.id).desc()).limit(limit))).all())
        return await self._recognitions(session, rows, viewer=user_id)

    async def _recognitions(self, session: AsyncSession, rows: list[Nomination], *,
                            viewer: str) -> list[Recognition]:
        ids = [r.id for r in rows]
        nominees: dict[int, list[Nominee]] = {i or 0: [] for i in ids}
        counts: dict[int, int] = {}
        if ids:
            for nominee in (await session.scalars(select(Nominee).where(col(Nominee.nomination_id).in_(ids)))).all():
                nominees[nominee.nomination_id].append(nominee)
            counts = dict((await session.execute(select(col(Endorsement.nomination_id), func.count()).where(
                col(Endorsement.nomination_id).in_(ids)).group_by(col(Endorsement.nomination_id)))).all())
        return [Recognition(nomination=r, nominees=nominees[r.id or 0], nominator=self._visible_nominator(r, viewer),
                            endorsements=counts.get(r.id or 0, 0)) for r in rows]

    @staticmethod
    def _visible_nominator(nomination: Nomination, viewer: str | None) -> str | None:
        """The nominator's user ID, unless the viewer is a nominee and it was hidden from them."""
        if viewer in (nomination.nominator_id, nomination.entered_by):
            return nomination.nominator_id
        return None if nomination.hide_nominator else nomination.nominator_id

    def describe(self, nomination: Nomination, nominees: list[Nominee], *, to_nominator: bool) -> dict[str, Any]:
        """A nomination's current content as template parameters, for the nominator and the nominees' private
        messages (public posts use `public_params`, from the agreed snapshot)."""
        return self.describe_content(content_snapshot(nomination, nominees), nomination_id=nomination.id,
                                     to_nominator=to_nominator) | {"share_publicly": nomination.share_publicly}

    def describe_content(self, snapshot: dict[str, Any], *, nomination_id: int | None,
                         to_nominator: bool) -> dict[str, Any]:
        """A content snapshot as template parameters. Unless it is for the nominator's own eyes, the nominator's
        name is left out when they asked to stay hidden from the nominee (a public post would tell them)."""
        award = self._content.award(snapshot["award"])
        values = [self._content.value(v) for v in snapshot.get("values") or []]
        behaviours = [self._content.behaviour(snapshot.get("framework") or self.framework, b)
                      for b in snapshot.get("behaviours") or []]
        hidden = bool(snapshot.get("hide_nominator")) and not to_nominator
        return {
            "nomination_id": nomination_id, "award": award.key if award else snapshot["award"],
            "award_name": award.name if award else snapshot["award"],
            "nominees": [dict(n) for n in snapshot.get("nominees") or []],
            "values": [{"name": v.name, "emoji": v.emoji} for v in values if v],
            "behaviours": [b.name for b in behaviours if b], "story": snapshot.get("story") or "",
            "nominator": None if hidden else snapshot.get("nominator_id"),
            "nominator_name": None if hidden else snapshot.get("nominator_name"),
            "share_publicly": True, "version": snapshot.get("version"),
            "recognition_channel": self._organisation.channels.recognition,
        }

"""Pulse polls for the staff forum: creating, opening, answering (one answer each), reminding, closing, results.

Anonymity that can be shown: for an anonymous pulse, who took part (`pulse_participation`) and what was
answered (`pulse_answer`) are stored apart. An answer row has no user, no hash of one, only the day, and a
random id; to change it a person needs the change token they alone were given (only its hash is stored, and
nothing links it to them).

Nor does *when* link them. An anonymous answer is first only held (in the answering process's memory; the
database records just that the person is waiting, in `pulse_held`), and is stored later with at least
`pulse.answer_batch` others in one transaction, participation and answers each inserted in their own shuffled
order, the response count moved by the whole group (`store`). Whoever reads the database files, their
write-ahead log, `xmin`, dead tuples or row order sees groups of at least that many, never one person's answer
arriving. `bot/services/pulse_batches.py` decides when a group is stored and tells each person afterwards.
When the pulse closes, both tables' rows for it are rewritten in key order.
"""

from __future__ import annotations

import hashlib
import logging
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot import when
from beacon.bot.clock import Clock
from beacon.bot.content import Content
from beacon.bot.csv_export import write_csv
from beacon.bot.db import Database, insert_ignoring_duplicates, insert_many_ignoring_duplicates
from beacon.bot.errors import InvalidInput, NotFound
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.models import (
    OutboxMessage,
    OutboxStatus,
    Pulse,
    PulseAnswer,
    PulseHeld,
    PulseNamedAnswer,
    PulseParticipation,
    PulseSeries,
    PulseStatus,
    UserPreference,
)
from beacon.bot.organisation import Organisation, Role
from beacon.bot.services import outbox
from beacon.bot.services.audit import Audit
from beacon.bot.services.authorisation import Authorisation
from beacon.bot.services.job_runs import claim_period, claimed
from beacon.bot.services.pulse_results import PulseResults, breakdown, question_result, theme_scores
from beacon.bot.services.recurrence import to_utc
from beacon.bot.templates import Template, templated

PULSE_MESSAGE = "pulse_message"
PULSE_POST = "pulse_post"
REMINDER_JOB = "pulse.reminder"
TYPES = ("single", "multiple", "agreement", "frequency", "scale", "text")
RUNS_PULSES = (Role.FORUM_MODERATORS, Role.COMMS)
OPTION_LIMIT = 75  # Block Kit: a button's and an option's text hold 75 characters (the option's value is its text)
log = logging.getLogger(__name__)
REPEATS = {"none": "Once", "weekly_monday": "Every Monday", "first_monday_monthly": "The first Monday of each month"}


class ChannelMembers(Protocol):
    async def members(self, channel: str) -> list[str]: ...


class PulseProblems(InvalidInput):
    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = problems


@dataclass(frozen=True)
class QuestionDraft:
    type: str
    text: str
    options: tuple[str, ...] = ()
    bank_key: str | None = None


@dataclass(frozen=True)
class PulseDraft:
    title: str
    questions: tuple[QuestionDraft, ...]
    channel: str
    anonymous: bool = True
    opens_at: datetime | None = None  # None: now
    closes_at: datetime | None = None
    live_results: bool = False
    remind_hours_before: int | None = None
    repeat: str = "none"


@dataclass(frozen=True)
class ReplyTo:
    """Where to tell a person what became of their answer: the response URL of their click (Slack allows it for
    30 minutes), else a direct message. Kept in memory only, never stored."""

    user_id: str
    response_url: str | None
    since: datetime


@dataclass(frozen=True)
class HeldAnswer:
    """An anonymous answer (or a change to one, by its token) waiting in memory to be stored with others."""

    pulse_id: int
    user_id: str
    answers: dict[str, Any]
    token: str | None  # set: a change to the stored answer this token opens
    reply: ReplyTo


@dataclass(frozen=True)
class Receipt:
    pulse: Pulse
    answers: dict[str, Any]
    token: str | None  # an anonymous answer's change token (None for a named pulse)
    changed: bool
    held: HeldAnswer | None = None  # set: not stored yet; the person is told when it is


@dataclass(frozen=True)
class Outcome:
    """What became of a held answer, for the person who gave it: stored (a receipt) or not (why)."""

    reply: ReplyTo
    pulse_title: str
    receipt: Receipt | None = None
    refusal: str | None = None


@dataclass(frozen=True)
class Closing:
    pulse: Pulse
    outcomes: list[Outcome]
    finished: bool  # False: other processes still hold answers for it; it stops taking answers and closes later


HOLD_LEASE = timedelta(minutes=5)  # a held answer whose process stops renewing this is lost; its person is told
_shuffle = random.SystemRandom().shuffle


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Pulses:
    def __init__(self, *, content: Content, organisation: Organisation, clock: Clock, authorisation: Authorisation,
                 members: ChannelMembers, audit: Audit):
        self._audit = audit
        self._content = content
        self._org = organisation
        self._clock = clock
        self._auth = authorisation
        self._members = members

    @property
    def minimum(self) -> int:
        return self._org.pulse.reporting_minimum

    # -- making a pulse --------------------------------------------------------------------------------
    def questions_for(self, drafts: Sequence[QuestionDraft]) -> list[dict[str, Any]]:
        """Question drafts as stored: bank questions take their published wording and scale."""
        questions = []
        for number, q in enumerate(drafts, start=1):
            bank = self._content.pulse.question(q.bank_key) if q.bank_key else None
            if bank:
                questions.append({"key": f"q{number}", "type": bank.scale, "text": bank.text,
                                  "options": list(self._content.pulse.scales[bank.scale]), "theme": bank.theme,
                                  "bank": bank.key})
                continue
            options = list(q.options)
            if q.type in ("agreement", "frequency"):
                options = list(self._content.pulse.scales[q.type])
            elif q.type in ("scale", "text"):
                options = []
            questions.append({"key": f"q{number}", "type": q.type, "text": q.text.strip(), "options": options})
        return questions

    def check(self, draft: PulseDraft) -> dict[str, str]:
        problems: dict[str, str] = {}
        now = self._clock.now()
        if not draft.title.strip():
            problems["title"] = "Give the pulse a title."
        elif len(draft.title.strip()) > 150:
            problems["title"] = f"Keep the title to 150 characters; it has {len(draft.title.strip())}."
        if not 1 <= len(draft.questions) <= 5:
            problems["questions"] = "A pulse has 1 to 5 questions."
        for number, q in enumerate(draft.questions, start=1):
            if q.bank_key:
                continue
            if q.type not in TYPES:
                problems[f"q{number}_type"] = "Choose the kind of question."
            if len(q.text.strip()) < 5:
                problems[f"q{number}_text"] = "Write the question."
            elif len(q.text.strip()) > 150:
                problems[f"q{number}_text"] = f"Keep the question to 150 characters; it has {len(q.text.strip())}."
            if q.type in ("single", "multiple"):
                options = [o for o in q.options if o.strip()]
                longest = max(options, key=len, default="")
                if not 2 <= len(options) <= 10:
                    problems[f"q{number}_options"] = "Give 2 to 10 options, one a line."
                elif len(longest.strip()) > OPTION_LIMIT:
                    problems[f"q{number}_options"] = (
                        f"Keep each option to {OPTION_LIMIT} characters (Slack shows no more on a button); "
                        f"“{longest.strip()[:30]}…” has {len(longest.strip())}.")
                elif len({o.strip().lower() for o in options}) != len(options):
                    problems[f"q{number}_options"] = "Each option must be different."
        opens = draft.opens_at or now
        closes = draft.closes_at or opens + timedelta(days=7)
        if draft.opens_at and draft.opens_at < now - timedelta(minutes=1):
            problems["opens"] = "That time has passed: leave it empty to open now, or choose a later time."
        if closes <= opens + timedelta(minutes=10):
            problems["closes"] = "Close it at least ten minutes after it opens."
        if draft.remind_hours_before and closes - timedelta(hours=draft.remind_hours_before) <= opens:
            problems["reminder"] = "The reminder would come before the pulse opens; choose fewer hours."
        if draft.repeat not in REPEATS:
            problems["repeat"] = "Choose how often it repeats."
        return problems

    async def create(self, *, session: AsyncSession, user_id: str, draft: PulseDraft) -> Pulse:
        await self._auth.require_any(user_id, RUNS_PULSES, action="Creating a pulse")
        problems = self.check(draft)
        if problems:
            raise PulseProblems(problems)
        series_id = None
        if draft.repeat != "none":
            series = PulseSeries(title=draft.title.strip()[:150], rule=draft.repeat, created_by=user_id,
                                 at=(draft.opens_at or self._clock.now()).astimezone(self._org.tz).strftime("%H:%M"),
                                 template=self._template(draft), created_at=self._clock.now())
            session.add(series)
            await session.flush()
            series_id = series.id
        pulse = await self._make(session, draft, user_id=user_id, series_id=series_id)
        await self._audit.record(session=session, actor=user_id, action="pulse.created", subject=f"pulse:{pulse.id}",
                                 details={"title": pulse.title, "anonymous": pulse.anonymous, "repeat": draft.repeat})
        return pulse

    def _template(self, draft: PulseDraft) -> dict[str, Any]:
        opens = draft.opens_at or self._clock.now()
        return {"title": draft.title.strip(), "questions": self.questions_for(draft.questions),
                "channel": draft.channel, "anonymous": draft.anonymous, "live_results": draft.live_results,
                "remind_hours_before": draft.remind_hours_before,
                "open_for_hours": ((draft.closes_at or opens + timedelta(days=7)) - opens).total_seconds() / 3600}

    async def _make(self, session: AsyncSession, draft: PulseDraft, *, user_id: str, series_id: int | None) -> Pulse:
        now = self._clock.now()
        opens = draft.opens_at or now
        pulse = Pulse(title=draft.title.strip()[:150], questions=self.questions_for(draft.questions),
                      channel=draft.channel, created_by=user_id, anonymous=draft.anonymous,
                      live_results=draft.live_results, remind_hours_before=draft.remind_hours_before,
                      status=PulseStatus.SCHEDULED, opens_at=opens,
                      closes_at=draft.closes_at or opens + timedelta(days=7), series_id=series_id, created_at=now)
        session.add(pulse)
        await session.flush()
        if opens <= now + timedelta(minutes=1):
            await self._open(session, pulse)
        return pulse

    async def _open(self, session: AsyncSession, pulse: Pulse) -> None:
        now = self._clock.now()
        pulse.status = PulseStatus.OPEN
        await outbox.enqueue(session=session, now=now, promises=[outbox.Promise(
            dedupe_key=f"pulse:{pulse.id}:message", source=PULSE_MESSAGE, source_id=pulse.id, channel=pulse.channel,
            content={"template": Template.PULSE_MESSAGE, "params": self.message_params(pulse)}, due_at=now,
            expires_at=pulse.closes_at)])

    def message_params(self, pulse: Pulse) -> dict[str, Any]:
        return {"pulse_id": pulse.id, "title": pulse.title, "questions": pulse.questions, "anonymous": pulse.anonymous,
                "live_results": pulse.live_results, "responses": pulse.responses, "status": pulse.status,
                "closes": self.when(pulse.closes_at), "minimum": self.minimum}

    def when(self, moment: datetime) -> str:
        return when.moment(moment, self._org.tz)

    async def record_posted(self, session: AsyncSession, message: OutboxMessage, status: OutboxStatus,
                            error: str | None) -> None:
        """Outbox hook: where the pulse's message is, so counts and results can follow it."""
        pulse = await session.get(Pulse, message.source_id)
        sent = await session.get(OutboxMessage, message.id)
        if pulse is not None and sent is not None and status == OutboxStatus.SENT:
            pulse.message_channel, pulse.message_ts = sent.sent_channel, sent.sent_ts

    # -- answering -------------------------------------------------------------------------------------
    def _validate(self, pulse: Pulse, answers: dict[str, Any], *, whole: bool) -> dict[str, Any]:
        clean: dict[str, Any] = {}
        for q in pulse.questions:
            value = answers.get(q["key"])
            if value in (None, "", []):
                continue
            if q["type"] == "multiple":
                values = [v for v in (value if isinstance(value, list) else [value]) if v in q["options"]]
                if values:
                    clean[q["key"]] = values
            elif q["type"] == "scale":
                if str(value).isdigit() and 0 <= int(value) <= 10:
                    clean[q["key"]] = int(value)
            elif q["type"] == "text":
                clean[q["key"]] = str(value).strip()[:2000]
            elif value in q["options"]:
                clean[q["key"]] = value
        if not clean:
            raise InvalidInput("Choose an answer first.")
        if whole and len(pulse.questions) > 1:
            missing = [q for q in pulse.questions if q["key"] not in clean and q["type"] != "text"]
            if missing:
                raise InvalidInput(f"Answer every question (“{missing[0]['text']}” is unanswered).")
        return clean

    async def answer(self, *, session: AsyncSession, user_id: str, pulse_id: int, answers: dict[str, Any],
                     token: str | None = None, holder: str = "", reply: ReplyTo | None = None) -> Receipt:
        """Take an answer. A named pulse's is stored at once; an anonymous pulse's is only held (see `store`):
        the receipt's `held` is what the caller keeps until it is stored."""
        pulse = await session.get(Pulse, pulse_id)
        if pulse is None:
            raise NotFound("That pulse no longer exists.")
        if pulse.status != PulseStatus.OPEN or pulse.closes_at <= self._clock.now():
            raise InvalidInput(f"“{pulse.title}” closed {self.when(pulse.closes_at)}, so answers are no longer "
                               "taken. Results are posted in its thread.")
        clean = self._validate(pulse, answers, whole=token is None)
        if not pulse.anonymous:
            return await self._answer_named(session, pulse, user_id, clean)
        reply = reply or ReplyTo(user_id=user_id, response_url=None, since=self._clock.now())
        if token is not None:
            row = (await session.scalars(select(col(PulseAnswer.id)).where(col(PulseAnswer.change_hash) == _hash(token),
                                                                      col(PulseAnswer.pulse_id) == pulse_id))).first()
            if row is None:
                raise NotFound("That change button has expired; your answer stands as it was.")
            held = HeldAnswer(pulse_id=pulse_id, user_id=user_id, answers=clean, token=token, reply=reply)
            return Receipt(pulse=pulse, answers=clean, token=token, changed=True, held=held)
        if await session.get(PulseParticipation, (pulse_id, user_id)) is not None:
            raise InvalidInput("You have already answered this pulse. To change your answer, use “Change my "
                               "answer” in your confirmation: only you can see it, and nothing else links you to "
                               "your answer.")
        if not await insert_ignoring_duplicates(session, PulseHeld, {
                "pulse_id": pulse_id, "user_id": user_id, "holder": holder,
                "held_until": self._clock.now() + HOLD_LEASE}):
            raise InvalidInput("Your answer to this pulse is waiting to be stored with other people's; you will "
                               "be told when it is in.")
        held = HeldAnswer(pulse_id=pulse_id, user_id=user_id, answers=clean, token=None, reply=reply)
        return Receipt(pulse=pulse, answers=clean, token=None, changed=False, held=held)

    async def store(self, *, session: AsyncSession, pulse_id: int, held: Sequence[HeldAnswer], holder: str,
                    closing: bool = False) -> list[Outcome]:
        """Store held anonymous answers as one group, in one transaction that reveals no pairing.

        Participation rows are inserted one by one in a shuffled order (the unique key decides whether each
        person's answer counts: a second answer given on another replica does not); the accepted answers are
        then inserted in a second, independent shuffled order with fresh random ids and change tokens, all
        dated the day of storing; changes are applied in a third shuffled order; the count moves by the group.
        A new answer counts only while this process (`holder`) still holds its `pulse_held` row: one whose lease
        lapsed was given up, and its person told (`release_lost`); one erased with its person is gone.
        """
        pulse = await session.get(Pulse, pulse_id, with_for_update=True)
        title = pulse.title if pulse else "the pulse"
        people = [h.user_id for h in held if h.token is None]
        still_held: set[str] = set()
        if people:
            still_held = set((await session.scalars(delete(PulseHeld).where(
                col(PulseHeld.pulse_id) == pulse_id, col(PulseHeld.user_id).in_(people),
                col(PulseHeld.holder) == holder)
                .returning(col(PulseHeld.user_id)))).all())
        held = [h for h in held if h.token is not None or h.user_id in still_held]
        if pulse is None or (pulse.status != PulseStatus.OPEN and not closing):
            return [Outcome(reply=h.reply, pulse_title=title, refusal=(
                f"“{title}” closed before your answer could be stored with others', so it was not counted."
                if h.token is None else f"“{title}” closed before your change could be stored; your earlier "
                "answer stands.")) for h in held]
        outcomes: list[Outcome] = []
        new = [h for h in held if h.token is None]
        _shuffle(new)
        accepted = []
        for h in new:
            if await insert_ignoring_duplicates(session, PulseParticipation, {"pulse_id": pulse_id,
                                                                              "user_id": h.user_id}):
                accepted.append(h)
            else:
                outcomes.append(Outcome(reply=h.reply, pulse_title=title, refusal=(
                    "You had already answered this pulse, so this second answer was not counted. Your first "
                    "answer stands.")))
        _shuffle(accepted)
        day = self._clock.now().astimezone(self._org.tz).date()
        rows = []
        for h in accepted:
            token = secrets.token_urlsafe(24)
            rows.append({"id": secrets.token_hex(16), "pulse_id": pulse_id, "answers": h.answers,
                         "answered_on": day, "change_hash": _hash(token)})
            outcomes.append(Outcome(reply=h.reply, pulse_title=title, receipt=Receipt(
                pulse=pulse, answers=h.answers, token=token, changed=False)))
        if rows:
            connection = await session.connection()
            await connection.execute(insert(PulseAnswer), rows)
        changes = [h for h in held if h.token is not None]
        _shuffle(changes)
        for h in changes:
            row = (await session.scalars(select(PulseAnswer).where(col(PulseAnswer.change_hash) == _hash(h.token or ""),
                                                                   col(PulseAnswer.pulse_id) == pulse_id))).first()
            if row is None:
                outcomes.append(Outcome(reply=h.reply, pulse_title=title,
                                        refusal="That change button has expired; your answer stands as it was."))
                continue
            row.answers = {**row.answers, **h.answers}
            outcomes.append(Outcome(reply=h.reply, pulse_title=title, receipt=Receipt(
                pulse=pulse, answers=dict(row.answers), token=h.token, changed=True)))
        if accepted:
            await session.execute(update(Pulse).where(col(Pulse.id) == pulse_id)
                                  .values(responses=col(Pulse.responses) + len(accepted))
                                  .execution_options(synchronize_session=False))
            await session.refresh(pulse, ["responses"])
        return outcomes

    async def release(self, *, session: AsyncSession, held: Sequence[HeldAnswer], why: str,
                      holder: str) -> list[Outcome]:
        """Let held answers go unstored (too few to store safely at shutdown): the people may answer again."""
        outcomes = []
        for h in held:
            if h.token is None:
                gone = await session.scalars(delete(PulseHeld).where(
                    col(PulseHeld.pulse_id) == h.pulse_id, col(PulseHeld.user_id) == h.user_id,
                    col(PulseHeld.holder) == holder)
                    .returning(col(PulseHeld.user_id)))
                if not gone.all():
                    continue  # already given up (and its person told) or erased
            pulse = await session.get(Pulse, h.pulse_id)
            outcomes.append(Outcome(reply=h.reply, pulse_title=pulse.title if pulse else "the pulse", refusal=(
                why if h.token is None else "Beacon was restarting before your change could be stored safely "
                "among others, so your earlier answer stands. Change it again if you wish.")))
        return outcomes

    async def state(self, *, session: AsyncSession, pulse_id: int) -> str:
        """`open`, `closing` (its time has come: no new answers; held ones are stored, then it closes) or `closed`."""
        pulse = await session.get(Pulse, pulse_id)
        if pulse is None or pulse.status != PulseStatus.OPEN:
            return "closed"
        return "closing" if pulse.closes_at <= self._clock.now() else "open"

    async def renew_holds(self, *, session: AsyncSession, holder: str) -> None:
        await session.execute(update(PulseHeld).where(col(PulseHeld.holder) == holder)
                              .values(held_until=self._clock.now() + HOLD_LEASE))

    async def release_lost(self, *, session: AsyncSession) -> int:
        """Held answers whose process stopped without storing them (a crash): tell each person to answer again."""
        now = self._clock.now()
        # One statement takes them, so two replicas never both tell the same person.
        taken = (await session.execute(delete(PulseHeld).where(col(PulseHeld.held_until) < now).returning(
            col(PulseHeld.pulse_id), col(PulseHeld.user_id), col(PulseHeld.held_until)))).all()
        if not taken:
            return 0
        pulses = {p.id: p for p in (await session.scalars(select(Pulse).where(
            col(Pulse.id).in_({t.pulse_id for t in taken})))).all()}
        lost = [(t.pulse_id, t.user_id, t.held_until, pulses[t.pulse_id].title, pulses[t.pulse_id].closes_at)
                for t in taken]
        await outbox.enqueue(session=session, now=now, promises=[outbox.Promise(
            dedupe_key=f"pulse:{pulse_id}:lost:{user_id}:{lapsed.timestamp():.0f}", source=PULSE_POST,
            source_id=pulse_id, channel=user_id, due_at=now, expires_at=now + timedelta(days=2),
            content={"text": f":warning: Beacon restarted before your answer to “{escape_mrkdwn(title)}” could be "
                             "stored, so it was not counted and nothing of it was kept. "
                             + (f"Please answer again before it closes ({self.when(closes)})."
                                if closes > now else "The pulse has closed since.")})
            for pulse_id, user_id, lapsed, title, closes in lost])
        return len(lost)

    async def _answer_named(self, session: AsyncSession, pulse: Pulse, user_id: str,
                            clean: dict[str, Any]) -> Receipt:
        now = self._clock.now()
        preference = await session.get(UserPreference, user_id)
        site = self._org.site_named(preference.site if preference else None)
        first = await insert_ignoring_duplicates(session, PulseParticipation, {"pulse_id": pulse.id,
                                                                               "user_id": user_id})
        if first:
            session.add(PulseNamedAnswer(pulse_id=pulse.id or 0, user_id=user_id, answers=clean,
                                         site=site.name if site else None, area=site.area if site else None,
                                         answered_at=now))
            await session.execute(update(Pulse).where(col(Pulse.id) == pulse.id)
                                  .values(responses=col(Pulse.responses) + 1)
                                  .execution_options(synchronize_session=False))
            return Receipt(pulse=pulse, answers=clean, token=None, changed=False)
        row = (await session.scalars(select(PulseNamedAnswer).where(
            col(PulseNamedAnswer.pulse_id) == pulse.id, col(PulseNamedAnswer.user_id) == user_id))).one()
        row.answers, row.answered_at = {**row.answers, **clean}, now
        return Receipt(pulse=pulse, answers=row.answers, token=None, changed=True)

    async def own_answer(self, *, session: AsyncSession, pulse_id: int, user_id: str,
                         token: str | None) -> dict[str, Any]:
        """What this person answered: by name for a named pulse, by their change token for an anonymous one."""
        if token is not None:
            row = (await session.scalars(select(PulseAnswer).where(col(PulseAnswer.change_hash) == _hash(token),
                                                                   col(PulseAnswer.pulse_id) == pulse_id))).first()
            return dict(row.answers) if row else {}
        named = (await session.scalars(select(PulseNamedAnswer).where(
            col(PulseNamedAnswer.pulse_id) == pulse_id, col(PulseNamedAnswer.user_id) == user_id))).first()
        return dict(named.answers) if named else {}

    async def get(self, *, session: AsyncSession, pulse_id: int) -> Pulse:
        pulse = await session.get(Pulse, pulse_id)
        if pulse is None:
            raise NotFound("That pulse no longer exists.")
        return pulse

    # -- the timetable -------------------------------------------------------------------------------------
    async def open_due(self, *, session: AsyncSession) -> int:
        due = (await session.scalars(select(Pulse).where(col(Pulse.status) == PulseStatus.SCHEDULED,
                                                         col(Pulse.opens_at) <= self._clock.now()))).all()
        for pulse in due:
            await self._open(session, pulse)
        return len(due)

    async def close(self, *, session: AsyncSession, user_id: str | None, pulse_id: int,
                    held: Sequence[HeldAnswer] = (), holder: str = "") -> Closing:
        """Close a pulse (a moderator, or its closing time), in two steps when it must. It stops taking answers at
        once (its closing time becomes now) and the answers this process holds are stored. If other processes
        (replicas) still hold answers for it, it stays `closing` until they have stored them at their next tick
        (`PulseAnswering.tick`) and a later call finishes it; then results are posted and rows put in key order."""
        if user_id is not None:
            await self._auth.require_any(user_id, RUNS_PULSES, action="Closing a pulse")
        pulse = await session.get(Pulse, pulse_id, with_for_update=True)
        if pulse is None:
            raise NotFound(f"There is no pulse {pulse_id}.")
        if pulse.status == PulseStatus.CLOSED:
            raise InvalidInput(f"“{pulse.title}” is already closed.")
        now = self._clock.now()
        pulse.closes_at = min(pulse.closes_at, now)
        outcomes = await self.store(session=session, pulse_id=pulse_id, held=held, holder=holder,
                                    closing=True) if held else []
        elsewhere = await session.scalar(select(func.count()).select_from(PulseHeld).where(
            col(PulseHeld.pulse_id) == pulse_id, col(PulseHeld.held_until) >= now))
        if elsewhere:
            return Closing(pulse=pulse, outcomes=outcomes, finished=False)
        pulse.status, pulse.closed_at = PulseStatus.CLOSED, now
        await outbox.cancel_unsent(session=session, source=PULSE_MESSAGE, source_id=pulse_id)
        await self._reorder(session, pulse_id)
        results = await self.results(session=session, pulse=pulse, for_moderators=False)
        params = self.message_params(pulse) | {"results": results_params(results)}
        promises = [outbox.Promise(
            dedupe_key=f"pulse:{pulse_id}:results", source=PULSE_POST, source_id=pulse_id, channel=pulse.channel,
            thread_ts=pulse.message_ts, content=templated(Template.PULSE_RESULTS, params, broadcast=True),
            due_at=now, expires_at=now + timedelta(days=1)),
            outbox.Promise(
            dedupe_key=f"pulse:{pulse_id}:chart", source=PULSE_POST, source_id=pulse_id, channel=pulse.channel,
            thread_ts=pulse.message_ts, due_at=now, expires_at=now + timedelta(days=1),
            content={"template": Template.PULSE_CHART, "params": params["results"] | {"title": pulse.title}})]
        if pulse.message_ts:
            promises.append(outbox.Promise(
                dedupe_key=f"pulse:{pulse_id}:closed-message", source=PULSE_POST, source_id=pulse_id,
                channel=pulse.message_channel or pulse.channel, update_ts=pulse.message_ts, due_at=now,
                expires_at=now + timedelta(days=1), content={"template": Template.PULSE_MESSAGE, "params": params}))
        await outbox.enqueue(session=session, promises=promises, now=now)
        await self._audit.record(session=session, actor=user_id or "system", action="pulse.closed",
                                 subject=f"pulse:{pulse_id}", details={"responses": pulse.responses})
        return Closing(pulse=pulse, outcomes=outcomes, finished=True)

    async def _reorder(self, session: AsyncSession, pulse_id: int) -> None:
        """Rewrite the pulse's participation and answers in key order (random for answers), so that where a
        row sits on disk does not tell when it was written."""
        answers = (await session.execute(
            select(col(PulseAnswer.id), col(PulseAnswer.answers), col(PulseAnswer.answered_on),
                   col(PulseAnswer.change_hash))
            .where(col(PulseAnswer.pulse_id) == pulse_id).order_by(col(PulseAnswer.id)))).all()
        people = sorted((await session.scalars(select(col(PulseParticipation.user_id)).where(
            col(PulseParticipation.pulse_id) == pulse_id))).all())
        await session.execute(delete(PulseAnswer).where(col(PulseAnswer.pulse_id) == pulse_id))
        await session.execute(delete(PulseParticipation).where(col(PulseParticipation.pulse_id) == pulse_id))
        await insert_many_ignoring_duplicates(session, PulseAnswer, [
            {"id": a.id, "pulse_id": pulse_id, "answers": a.answers, "answered_on": a.answered_on,
             "change_hash": a.change_hash} for a in answers])
        await insert_many_ignoring_duplicates(session, PulseParticipation, [
            {"pulse_id": pulse_id, "user_id": u} for u in people])

    async def due_to_close(self, *, session: AsyncSession) -> list[int]:
        """Open pulses whose closing time has come (or was brought forward by a moderator)."""
        due = await session.scalars(select(col(Pulse.id)).where(col(Pulse.status) == PulseStatus.OPEN,
                                                                col(Pulse.closes_at) <= self._clock.now()))
        return [pulse_id for pulse_id in due if pulse_id is not None]

    async def remind_due(self, *, db: Database, worker: str) -> int:
        """Before closing: a nudge in the thread, and a direct message to each channel member yet to answer.

        Slack is asked who is in each channel with no transaction open; the reminder is then claimed and written
        in one transaction, so a pulse whose members could not be read is left unclaimed and tried again on the
        next run (until it closes), and one pulse's failure never stops another's reminders."""
        now = self._clock.now()
        async with db.transaction() as session:
            pulses = [p for p in (await session.scalars(select(Pulse).where(
                col(Pulse.status) == PulseStatus.OPEN, col(Pulse.remind_hours_before).is_not(None)))).all()
                if now >= p.closes_at - timedelta(hours=p.remind_hours_before or 0)
                and not await claimed(session=session, job=REMINDER_JOB, period=str(p.id))]
        sent = 0
        for pulse in pulses:
            try:
                sent += await self._remind(db, pulse, worker=worker, now=now)
            except Exception:
                log.exception("could not remind for a pulse; the next run tries again", extra={"pulse": pulse.id})
        return sent

    async def _remind(self, db: Database, pulse: Pulse, *, worker: str, now: datetime) -> int:
        members = await self._members.members(pulse.channel)
        async with db.transaction() as session:
            if not await claim_period(session=session, job=REMINDER_JOB, period=str(pulse.id), worker=worker,
                                      now=now):
                return 0
            answered = set((await session.scalars(select(col(PulseParticipation.user_id)).where(
                col(PulseParticipation.pulse_id) == pulse.id))).all()) | set((await session.scalars(select(
                    col(PulseHeld.user_id)).where(col(PulseHeld.pulse_id) == pulse.id))).all())
            waiting = [u for u in members if u not in answered]
            params = self.message_params(pulse)
            await outbox.enqueue(session=session, now=now, promises=[
                outbox.notice(key=f"pulse-reminder:{pulse.id}:{user}", user_id=user, template=Template.PULSE_REMINDER,
                              params=params, now=now, source=PULSE_POST, source_id=pulse.id)
                for user in waiting])
        return len(waiting)

    async def counts_due(self, *, session: AsyncSession) -> int:
        """The response count on each open pulse's message, brought up to date (a batched chat.update)."""
        now = self._clock.now()
        pulses = (await session.scalars(select(Pulse).where(
            col(Pulse.status) == PulseStatus.OPEN, col(Pulse.message_ts).is_not(None),
            col(Pulse.responses) != col(Pulse.responses_shown)))).all()
        promises = []
        for pulse in pulses:
            params = self.message_params(pulse)
            if pulse.live_results:
                params["results"] = results_params(await self.results(session=session, pulse=pulse,
                                                                      for_moderators=False))
            promises.append(outbox.Promise(
                dedupe_key=f"pulse:{pulse.id}:count:{pulse.responses}", source=PULSE_POST, source_id=pulse.id,
                channel=pulse.message_channel or pulse.channel, update_ts=pulse.message_ts, due_at=now,
                expires_at=pulse.closes_at, content={"template": Template.PULSE_MESSAGE, "params": params}))
            pulse.responses_shown = pulse.responses
        await outbox.enqueue(session=session, now=now, promises=promises)
        return len(promises)

    async def run_series_due(self, *, session: AsyncSession, worker: str) -> int:
        """Each repeating pulse's next run, once per period."""
        now = self._clock.now()
        today = now.astimezone(self._org.tz).date()
        made = 0
        for series in (await session.scalars(select(PulseSeries).where(col(PulseSeries.active).is_(True)))).all():
            if not _runs_on(series.rule, today):
                continue
            opens = to_utc(datetime.combine(today, time.fromisoformat(series.at)), self._org.tz)
            if now < opens or not await claim_period(session=session, job=f"pulse.series.{series.id}",
                                                     period=today.isoformat(), worker=worker, now=now):
                continue
            template = series.template
            draft = PulseDraft(title=template["title"], questions=(), channel=template["channel"],
                               anonymous=template["anonymous"], live_results=template["live_results"],
                               remind_hours_before=template["remind_hours_before"], opens_at=now,
                               closes_at=now + timedelta(hours=template["open_for_hours"]))
            pulse = Pulse(title=draft.title, questions=template["questions"], channel=draft.channel,
                          created_by=series.created_by, anonymous=draft.anonymous, live_results=draft.live_results,
                          remind_hours_before=draft.remind_hours_before, status=PulseStatus.SCHEDULED, opens_at=now,
                          closes_at=draft.closes_at or now, series_id=series.id, created_at=now)
            session.add(pulse)
            await session.flush()
            await self._open(session, pulse)
            made += 1
        return made

    # -- results ---------------------------------------------------------------------------------------------
    async def _answers(self, session: AsyncSession, pulse: Pulse) -> list[tuple[str | None, dict[str, Any]]]:
        if pulse.anonymous:
            rows = (await session.scalars(select(col(PulseAnswer.answers))
                                          .where(col(PulseAnswer.pulse_id) == pulse.id))).all()
            return [(None, dict(a)) for a in rows]
        return [(r.area, dict(r.answers)) for r in (await session.execute(select(
            col(PulseNamedAnswer.area),
            col(PulseNamedAnswer.answers)).where(col(PulseNamedAnswer.pulse_id) == pulse.id))).all()]

    async def results(self, *, session: AsyncSession, pulse: Pulse, for_moderators: bool) -> PulseResults:
        answered = await self._answers(session, pulse)
        answers = [a for _, a in answered]
        questions = [question_result(q, [a.get(q["key"]) for a in answers], minimum=self.minimum,
                                     with_comments=for_moderators) for q in pulse.questions]
        result = PulseResults(total=len(answers), minimum=self.minimum, questions=questions,
                              themes=theme_scores(pulse.questions, answers, labels=self._content.pulse.themes,
                                                  minimum=self.minimum))
        if not pulse.anonymous and any(area for area, _ in answered):
            result.breakdown = {q["key"]: breakdown(q, [(area, a.get(q["key"])) for area, a in answered],
                                                    minimum=self.minimum)
                                for q in pulse.questions if q["type"] != "text"}
        if pulse.series_id:
            await self._compare_with_previous(session, pulse, result)
        return result

    async def results_for(self, *, session: AsyncSession, pulses: Sequence[Pulse]) -> dict[int, PulseResults]:
        """Results of several closed pulses at once (two queries, however many pulses), as a channel may see
        them: suppressed below the minimum, no comments, no breakdown."""
        ids = [p.id for p in pulses if p.id is not None]
        if not ids:
            return {}
        answers: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        for pulse_id, given in (await session.execute(select(col(PulseAnswer.pulse_id), col(PulseAnswer.answers)).where(
                col(PulseAnswer.pulse_id).in_(ids)))).all():
            answers[pulse_id].append(dict(given))
        for pulse_id, given in (await session.execute(select(col(PulseNamedAnswer.pulse_id),
                                                             col(PulseNamedAnswer.answers))
                                                      .where(col(PulseNamedAnswer.pulse_id).in_(ids)))).all():
            answers[pulse_id].append(dict(given))
        found = {}
        for pulse in pulses:
            given = answers.get(pulse.id or 0, [])
            found[pulse.id or 0] = PulseResults(
                total=len(given), minimum=self.minimum,
                questions=[question_result(q, [a.get(q["key"]) for a in given], minimum=self.minimum,
                                           with_comments=False) for q in pulse.questions],
                themes=theme_scores(pulse.questions, given, labels=self._content.pulse.themes, minimum=self.minimum))
        return found

    async def _compare_with_previous(self, session: AsyncSession, pulse: Pulse, result: PulseResults) -> None:
        previous = (await session.scalars(select(Pulse).where(
            col(Pulse.series_id) == pulse.series_id, col(Pulse.id) < (pulse.id or 0),
            col(Pulse.status) == PulseStatus.CLOSED)
            .order_by(col(Pulse.id).desc()))).first()
        if previous is None:
            return
        before = await self.results(session=session, pulse=previous, for_moderators=False)
        earlier = {q.key: q for q in before.questions}
        for question in result.questions:
            old = earlier.get(question.key)
            if old is None or old.suppressed or question.suppressed:
                continue
            if question.mean is not None and old.mean is not None:
                question.change = round(question.mean - old.mean, 2)
            elif question.options and old.options:
                question.change = round(question.options[0].percent - old.options[0].percent, 1)

    # -- moderators --------------------------------------------------------------------------------------------
    async def listing(self, *, session: AsyncSession, user_id: str, limit: int = 15) -> list[Pulse]:
        await self._auth.require_any(user_id, RUNS_PULSES, action="Seeing all pulses")
        return list((await session.scalars(select(Pulse).order_by(col(Pulse.id).desc()).limit(limit))).all())

    async def moderator_results(self, *, session: AsyncSession, user_id: str, pulse_id: int) -> tuple[Pulse,
                                                                                                   PulseResults]:
        await self._auth.require_any(user_id, RUNS_PULSES, action="Seeing a pulse's comments")
        pulse = await self.get(session=session, pulse_id=pulse_id)
        if pulse.anonymous and pulse.status != PulseStatus.CLOSED and not pulse.live_results:
            raise InvalidInput("An anonymous pulse's results are shown once it closes, so that a count moving "
                               "by one does not give an answer away.")
        return pulse, await self.results(session=session, pulse=pulse, for_moderators=True)

    async def export_csv(self, *, session: AsyncSession, user_id: str, pulse_id: int) -> tuple[Pulse, str, bytes]:
        """A pulse's answers as CSV: for an anonymous pulse, the answers alone, in no particular order."""
        await self._auth.require_any(user_id, RUNS_PULSES, action="Exporting a pulse")
        pulse = await self.get(session=session, pulse_id=pulse_id)
        if pulse.anonymous and pulse.status != PulseStatus.CLOSED:
            raise InvalidInput("An anonymous pulse can be exported once it has closed.")
        if pulse.anonymous and pulse.responses < self.minimum:
            raise InvalidInput(f"“{pulse.title}” had {pulse.responses} responses: an anonymous pulse's answers are "
                               f"exported only when at least {self.minimum} people answered "
                               "(`pulse.reporting_minimum`), as with its results.")
        answered = await self._answers(session, pulse)
        named = [] if pulse.anonymous else (await session.execute(select(
            col(PulseNamedAnswer.user_id), col(PulseNamedAnswer.area), col(PulseNamedAnswer.answers)).where(
            col(PulseNamedAnswer.pulse_id) == pulse.id).order_by(col(PulseNamedAnswer.user_id)))).all()
        heading = [q["text"] for q in pulse.questions]
        if pulse.anonymous:
            rows = [a for _, a in answered]
            random.shuffle(rows)
            data = write_csv(heading, ([answers.get(q["key"]) for q in pulse.questions] for answers in rows))
        else:
            data = write_csv(["person", "area", *heading], ([user, area or "", *[
                answers.get(q["key"]) for q in pulse.questions]] for user, area, answers in named))
        await self._audit.record(session=session, actor=user_id, action="pulse.exported", subject=f"pulse:{pulse.id}",
                                 details={"rows": len(answered), "named": not pulse.anonymous})
        return pulse, f"beacon-pulse-{pulse.id}.csv", data


def _runs_on(rule: str, day: date) -> bool:
    if rule == "weekly_monday":
        return day.weekday() == 0
    if rule == "first_monday_monthly":
        return day.weekday() == 0 and day.day <= 7
    return False


def results_params(results: PulseResults) -> dict[str, Any]:
    """Results as template parameters: suppressed figures are simply not there, and no comments ever are."""
    return {
        "total": results.total, "minimum": results.minimum,
        "questions": [{"key": q.key, "text": q.text, "type": q.type, "responses": q.responses,
                       "suppressed": q.suppressed, "mean": q.mean, "net_score": q.net_score, "change": q.change,
                       "options": [] if q.suppressed else [[o.label, o.count, o.percent] for o in q.options]}
                      for q in results.questions],
        "themes": [{"label": t.label, "score": t.score} for t in results.themes],
        "breakdown": {k: [[c.group, c.responses, c.mean] for c in cells] for k, cells in results.breakdown.items()},
    }


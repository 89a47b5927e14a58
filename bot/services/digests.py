"""Weekly digests: what happened and what is coming, for the digest channels and, by choice, for each person.

A digest belongs to the moment its cron expression fires (`digest.cron`, trust time). The job that sends it
claims (digest, that moment) first, so it goes once across replicas and restarts, and late only within the
grace period. Everything is read with a fixed number of set-based queries, whatever the size of the data.

No Slack call is made inside a transaction: the digest is read in one, the names and links it needs are asked of
Slack with none open, and the claim and the outbox rows are written together in another. A Slack call that
fails leaves nothing claimed, so the next run (within the grace period) tries again.

What reaches a channel is only what is already public: shout-outs people agreed to, counts, pulses and
results posted in the trust's own channels (with small numbers suppressed), and posts scheduled for them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Protocol

from sqlalchemy import distinct, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot import when
from beacon.bot.clock import Clock
from beacon.bot.content import Content
from beacon.bot.cron import latest_fire, next_fire, parse_cron
from beacon.bot.db import Database
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.models import (
    AwardRound,
    Engagement,
    EngagementStatus,
    Nomination,
    NominationStatus,
    Nominee,
    PostStatus,
    Pulse,
    PulseHeld,
    PulseParticipation,
    PulseStatus,
    RoundStatus,
    ScheduledPost,
    UserPreference,
)
from beacon.bot.organisation import Organisation, Role
from beacon.bot.rich_text import plain_text
from beacon.bot.services import forum_questions, outbox
from beacon.bot.services.authorisation import Authorisation
from beacon.bot.services.engagements import Engagements
from beacon.bot.services.job_runs import claim_period, claimed
from beacon.bot.services.people import PeopleDirectory
from beacon.bot.services.pulses import Pulses
from beacon.bot.services.recurrence import Repeat, next_run, to_utc
from beacon.bot.templates import Template

DIGEST_POST = "digest"
PERSONAL_DIGEST = "digest_personal"
JOB = "digest"
LISTED = 60  # items of one kind carried into a digest; the renderer shows what fits and counts the rest


class WorkspaceLinks(Protocol):
    async def app_home(self) -> str | None: ...
    async def workspace_url(self) -> str | None: ...


@dataclass(frozen=True)
class DigestWeek:
    """The digest's week: the seven days from the day it goes out, and the seven days before."""

    fired_at: datetime   # when the digest is due (UTC)
    starts: datetime     # midnight at the start of the digest's day, trust time (as UTC)
    ends: datetime       # seven days later
    last_starts: datetime
    period: str          # the claim's key: the local moment it fired, to the minute
    label: str           # "30 November 2026"


@dataclass
class Sent:
    channels: int
    personal: int
    quiet: bool


class Digests:
    def __init__(self, *, organisation: Organisation, content: Content, clock: Clock, authorisation: Authorisation,
                 engagements: Engagements, pulses: Pulses, people: PeopleDirectory, links: WorkspaceLinks,
                 grace: timedelta):
        self._org, self._content, self._clock, self._auth = organisation, content, clock, authorisation
        self._engagements, self._pulses, self._people, self._links = engagements, pulses, people, links
        self._grace = grace
        self.trigger = parse_cron(organisation.digest.cron, organisation.tz)

    # -- when --------------------------------------------------------------------------------------------------
    def week_of(self, fired_at: datetime) -> DigestWeek:
        tz = self._org.tz
        local = fired_at.astimezone(tz)
        starts = to_utc(datetime.combine(local.date(), time(0, 0)), tz)
        ends = to_utc(datetime.combine(local.date() + timedelta(days=7), time(0, 0)), tz)
        last = to_utc(datetime.combine(local.date() - timedelta(days=7), time(0, 0)), tz)
        return DigestWeek(fired_at=fired_at.astimezone(starts.tzinfo), starts=starts, ends=ends, last_starts=last,
                          period=f"{local:%Y-%m-%dT%H:%M}", label=f"{local:%-d %B %Y}")

    def due_week(self) -> DigestWeek | None:
        """The week whose digest is due now (it fired within the grace period), if any."""
        fired = latest_fire(self.trigger, now=self._clock.now(), within=self._grace)
        return self.week_of(fired) if fired else None

    def next_week(self) -> DigestWeek:
        """The week of the next digest to go out (for previews)."""
        fired = next_fire(self.trigger, after=self._clock.now())
        return self.week_of(fired or self._clock.now())

    def when(self, moment: datetime) -> str:
        return "on " + when.moment(moment, self._org.tz, joined=" at ")

    def public_channels(self) -> set[str]:
        """The trust's own channels: only what was posted in them may be retold in a digest."""
        channels = self._org.channels
        return {channels.recognition, channels.engagement, channels.forum, *channels.digest,
                *(s.channel for s in self._org.sites if s.channel)}

    # -- sending -------------------------------------------------------------------------------------------------
    async def run_due(self, *, db: Database, worker: str) -> Sent | None:
        """Send the digest that is due, once per firing across replicas; None when nothing is due or it went."""
        week = self.due_week()
        if week is None:
            return None
        async with db.transaction() as session:
            if await claimed(session=session, job=JOB, period=week.period):
                return None
        return await self._send(db, week, key=week.period, worker=worker)

    async def send_now(self, *, db: Database) -> Sent:
        """The current week's digest, now (`beacon digest --send`); the scheduled one still goes as usual."""
        week = self.week_of(self._clock.now())
        sent = await self._send(db, week, key=f"now-{self._clock.now():%Y%m%dT%H%M%S}", worker=None)
        assert sent is not None  # nothing to claim, so nothing to lose to another replica
        return sent

    async def _send(self, db: Database, week: DigestWeek, *, key: str, worker: str | None) -> Sent | None:
        links = await self._link_params()
        async with db.transaction() as session:
            draft = await self.read(session=session, week=week)
            personal = await self.gather_personal(session=session, week=week, digest=links)
        digest = await self._named(draft) | links
        now = self._clock.now()
        promises = []
        if not (digest["quiet"] and self._org.digest.skip_quiet_weeks):
            promises += [outbox.Promise(
                dedupe_key=f"digest:{key}:{channel}", source=DIGEST_POST, channel=channel,
                content={"template": Template.WEEKLY_DIGEST, "params": digest}, due_at=now,
                expires_at=now + self._grace) for channel in self._org.channels.digest]
        promises += [outbox.Promise(
            dedupe_key=f"digest-personal:{key}:{user}", source=PERSONAL_DIGEST, channel=user,
            content={"template": Template.PERSONAL_DIGEST, "params": params}, due_at=now,
            expires_at=now + self._grace) for user, params in personal.items()]
        async with db.transaction() as session:  # the claim and what it promises, together or not at all
            if worker is not None and not await claim_period(session=session, job=JOB, period=week.period,
                                                             worker=worker, now=now):
                return None
            await outbox.enqueue(session=session, now=now, promises=promises)
        channels = len(promises) - len(personal)
        return Sent(channels=channels, personal=len(personal), quiet=bool(digest["quiet"]))

    async def preview(self, *, db: Database, user_id: str) -> tuple[DigestWeek, dict[str, Any]]:
        await self._auth.require_any(user_id, (Role.COMMS, Role.ADMINS), action="Previewing the digest")
        week = self.next_week()
        return week, await self.gather(db=db, week=week)

    # -- what a digest says ------------------------------------------------------------------------------------
    async def gather(self, *, db: Database, week: DigestWeek) -> dict[str, Any]:
        """The digest's parameters: read in one transaction, then named and linked from Slack with none open."""
        async with db.transaction() as session:
            draft = await self.read(session=session, week=week)
        return await self._named(draft) | await self._link_params()

    async def _link_params(self) -> dict[str, str | None]:
        return {"home_url": await self._links.app_home(), "workspace_url": await self._links.workspace_url()}

    async def _named(self, draft: dict[str, Any]) -> dict[str, Any]:
        """The draft with each shout-out's people named (Slack is asked; someone it does not know is "a
        colleague")."""
        shout_outs = draft["recognition"]["shout_outs"]
        names = await self._people.colleagues({u for s in shout_outs for u in s["nominees"]})
        named = [s | {"nominees": [names[u].name if u in names else "a colleague" for u in s["nominees"]]}
                 for s in shout_outs]
        return draft | {"recognition": draft["recognition"] | {"shout_outs": named}}

    async def read(self, *, session: AsyncSession, week: DigestWeek) -> dict[str, Any]:
        """Everything the digest says that the database knows, with a fixed number of queries; shout-outs carry
        Slack IDs, named by `gather`, and there are no links yet."""
        leaders, leaders_total = await self._leaders(session, week)
        recognition = await self._recognition(session, week)
        forum = await self._forum(session, week)
        scheduled, scheduled_total = await self._scheduled(session, week)
        answered, answered_total = await self._engagements.answered_between(
            session=session, starts=week.last_starts, ends=week.starts, limit=LISTED)
        you_said = [a | {"question": _first_line(a["question"]), "answer": _first_line(a["answer"], 300)}
                    for a in answered]
        quiet = not (leaders or recognition["shout_outs"] or recognition["nominations"] or recognition["round"]
                     or forum["open"] or forum["results"] or forum["ask_overdue"] or scheduled or you_said)
        return {"organisation": self._org.name, "week_of": week.label, "quiet": quiet,
                "leaders": leaders, "leaders_total": leaders_total, "recognition": recognition, "forum": forum,
                "scheduled": scheduled, "scheduled_total": scheduled_total, "you_said": you_said,
                "you_said_total": answered_total}

    async def _engagements_in(self, session: AsyncSession, week: DigestWeek) -> list[Engagement]:
        return list((await session.scalars(select(Engagement).where(
            col(Engagement.status) == EngagementStatus.SCHEDULED, col(Engagement.starts_at) >= week.starts,
            col(Engagement.starts_at) < week.ends).order_by(col(Engagement.starts_at), col(Engagement.id)))).all())

    async def _leaders(self, session: AsyncSession, week: DigestWeek) -> tuple[list[dict[str, Any]], int]:
        rows = await self._engagements_in(session, week)
        return [self._engagements.describe(e) for e in rows[:LISTED]], len(rows)

    async def _recognition(self, session: AsyncSession, week: DigestWeek) -> dict[str, Any]:
        last_week = (col(Nomination.created_at) >= week.last_starts, col(Nomination.created_at) < week.starts,
                     col(Nomination.status) == NominationStatus.ACTIVE)
        values = (await session.scalars(select(col(Nomination.values)).where(*last_week))).all()
        by_value: Counter[str] = Counter(v for tags in values for v in tags)
        colleagues = await session.scalar(select(func.count(distinct(func.coalesce(col(Nominee.user_id),
                                                                                   col(Nominee.name)))))
                                          .join(Nomination, col(Nomination.id) == col(Nominee.nomination_id))
                                          .where(*last_week))
        # A shout-out repeats a public post, so it says only what everyone named agreed to: the agreed snapshot,
        # never the nomination's current people or tags (an edit may have added a colleague not yet asked).
        celebrated = [row for row in (await session.execute(select(
            col(Nomination.id), col(Nomination.consented_snapshot), col(Nomination.public_channel),
            col(Nomination.public_ts))
            .where(col(Nomination.celebrated_at) >= week.last_starts, col(Nomination.celebrated_at) < week.starts,
                   col(Nomination.public_ts).is_not(None), col(Nomination.status) == NominationStatus.ACTIVE)
            .order_by(col(Nomination.celebrated_at), col(Nomination.id)))).all() if row.consented_snapshot]
        shout_outs = []
        for row in celebrated[:LISTED]:
            agreed = row.consented_snapshot
            award = self._content.award(agreed["award"]) or self._content.thank_you
            shout_outs.append({
                "nominees": [p["user_id"] for p in agreed.get("nominees") or [] if p.get("user_id")],
                "award": award.name if agreed["award"] != "thanks" else None,
                "values": [v.name for key in agreed.get("values") or [] if (v := self._content.value(key))],
                "channel": row.public_channel, "ts": row.public_ts})
        round_ = (await session.scalars(select(AwardRound).where(col(AwardRound.status).in_(
            (RoundStatus.OPEN, RoundStatus.CLOSED, RoundStatus.DECIDED))).order_by(col(AwardRound.id).desc()))).first()
        return {
            "nominations": len(values), "colleagues": int(colleagues or 0),
            "by_value": [[v.name, v.emoji, by_value[v.key]] for v in self._content.values if by_value[v.key]],
            "shout_outs": shout_outs, "shout_outs_total": len(celebrated),
            "round": None if round_ is None else {
                "name": round_.name, "status": round_.status,
                "closes": when.last_minute(round_.closes_at, self._org.tz, year=False)},
        }

    async def _forum(self, session: AsyncSession, week: DigestWeek) -> dict[str, Any]:
        public = self.public_channels()
        open_now = list((await session.scalars(select(Pulse).where(
            col(Pulse.status) == PulseStatus.OPEN,
            col(Pulse.channel).in_(public)).order_by(col(Pulse.closes_at)))).all())
        closed = list((await session.scalars(select(Pulse).where(
            col(Pulse.status) == PulseStatus.CLOSED, col(Pulse.closed_at) >= week.last_starts,
            col(Pulse.closed_at) < week.starts,
            col(Pulse.channel).in_(public)).order_by(col(Pulse.closed_at), col(Pulse.id)).limit(LISTED))).all())
        results = await self._pulses.results_for(session=session, pulses=closed)
        soon = week.fired_at + timedelta(days=2)
        days = self._org.ask.unanswered_days
        overdue = await forum_questions.overdue_count(
            session=session, today=week.fired_at.astimezone(self._org.tz).date(), unanswered_days=days)
        return {
            # Ask the leaders: published questions still unanswered after `ask.unanswered_days` (a count, in the
            # forum channel for everyone to see; never who asked or who supported).
            "ask_overdue": overdue, "ask_days": days, "ask_channel": self._org.channels.forum,
            "open": [{"title": p.title, "closes": self._pulses.when(p.closes_at), "closing_soon": p.closes_at <= soon,
                      "channel": p.message_channel or p.channel, "ts": p.message_ts} for p in open_now[:LISTED]],
            "open_total": len(open_now),
            "results": [{"title": p.title, "responses": results[p.id].total, "minimum": results[p.id].minimum,
                         "channel": p.message_channel or p.channel, "ts": p.message_ts,
                         "questions": [_headline(q) for q in results[p.id].questions if q.type != "text"]}
                        for p in closed if p.id in results],
        }

    async def _scheduled(self, session: AsyncSession, week: DigestWeek) -> tuple[list[dict[str, Any]], int]:
        public = self.public_channels()
        posts = (await session.scalars(select(ScheduledPost).where(
            col(ScheduledPost.status) == PostStatus.SCHEDULED, col(ScheduledPost.next_run_at).is_not(None),
            col(ScheduledPost.next_run_at) < week.ends).order_by(col(ScheduledPost.next_run_at)))).all()
        runs: list[tuple[datetime, ScheduledPost]] = []
        for post in posts:
            if not set(post.channels) <= public:
                continue  # a post for a channel that is not the trust's own is nobody else's business
            at = post.next_run_at
            while at is not None and at < week.ends and len(runs) < 500:
                if at >= week.fired_at:
                    runs.append((at, post))
                at = next_run(post.starts_local, Repeat(post.repeat), self._org.tz, after=at, until=post.until_local)
        runs.sort(key=lambda r: (r[0], r[1].id or 0))
        listed = [{"when": when.moment(at, self._org.tz, zone=False), "channels": post.channels,
                   "summary": escape_mrkdwn(_first_line(plain_text(post.message)))} for at, post in runs[:LISTED]]
        return listed, len(runs)

    # -- personal digests -----------------------------------------------------------------------------------------
    async def set_personal(self, *, session: AsyncSession, user_id: str, wanted: bool) -> None:
        preference = await session.get(UserPreference, user_id) or UserPreference(user_id=user_id,
                                                                                  updated_at=self._clock.now())
        preference.personal_digest, preference.updated_at = wanted, self._clock.now()
        session.add(preference)

    async def wants_personal(self, *, session: AsyncSession, user_id: str) -> bool:
        preference = await session.get(UserPreference, user_id)
        return bool(preference and preference.personal_digest)

    async def gather_personal(self, *, session: AsyncSession, week: DigestWeek,
                              digest: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """For each person who asked for one: visits at their site this week, the recognition they received last
        week, and the pulses they have not answered. Nobody gets an empty one."""
        people = {p.user_id: p.site for p in (await session.scalars(select(UserPreference).where(
            col(UserPreference.personal_digest).is_(True)))).all()}
        if not people:
            return {}
        visits: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for engagement in await self._engagements_in(session, week):
            if engagement.site:
                visits[engagement.site].append(self._engagements.describe(engagement))
        received: dict[str, list[list[str]]] = defaultdict(list)
        for nominee_id, given in (await session.execute(select(col(Nominee.user_id), col(Nomination.values))
                                                    .join(Nomination, col(Nomination.id) == col(Nominee.nomination_id))
                                                    .where(col(Nominee.user_id).in_(people),
                                                           col(Nomination.created_at) >= week.last_starts,
                                                           col(Nomination.created_at) < week.starts,
                                                           col(Nomination.status) == NominationStatus.ACTIVE))).all():
            if nominee_id:  # always, by the where clause
                received[nominee_id].append(list(given))
        open_pulses = (await session.scalars(select(Pulse).where(
            col(Pulse.status) == PulseStatus.OPEN, col(Pulse.channel).in_(self.public_channels())))).all()
        answered: set[tuple[int, str]] = set()
        if open_pulses:
            ids = [p.id for p in open_pulses]
            answered = {(r.pulse_id, r.user_id) for r in (await session.execute(union_all(  # stored, or held
                select(col(PulseParticipation.pulse_id), col(PulseParticipation.user_id)).where(
                    col(PulseParticipation.pulse_id).in_(ids), col(PulseParticipation.user_id).in_(people)),
                select(col(PulseHeld.pulse_id), col(PulseHeld.user_id)).where(
                    col(PulseHeld.pulse_id).in_(ids), col(PulseHeld.user_id).in_(people))))).all()}
        found: dict[str, dict[str, Any]] = {}
        for user_id, site in people.items():
            tags = Counter(v for values in received[user_id] for v in values)
            params = {
                "week_of": week.label, "site": site, "visits": visits.get(site or "", [])[:20],
                "recognised": len(received[user_id]),
                "values": [v.name for v in self._content.values if tags[v.key]],
                "unanswered": [{"title": p.title, "closes": self._pulses.when(p.closes_at),
                                "channel": p.message_channel or p.channel, "ts": p.message_ts}
                               for p in open_pulses if (p.id, user_id) not in answered][:10],
                "home_url": digest.get("home_url"), "workspace_url": digest.get("workspace_url"),
            }
            if params["visits"] or params["recognised"] or params["unanswered"]:
                found[user_id] = params
        return found


def _first_line(text: str, limit: int = 120) -> str:
    line = text.strip().split("\n", 1)[0].strip()
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _headline(question: Any) -> dict[str, Any]:
    """One question's result in a line's worth: suppressed, or its top answers and mean or net score."""
    if question.suppressed:
        return {"text": question.text, "suppressed": True, "responses": question.responses}
    top = sorted(question.options, key=lambda o: -o.count)[:3]
    return {"text": question.text, "suppressed": False, "responses": question.responses,
            "top": [[o.label, o.percent] for o in top if o.count], "mean": question.mean,
            "net_score": question.net_score, "type": question.type}


"""The leader engagement calendar: what leaders are doing where, from every source, kept in step.

Sources report what they hold; `record_sync` folds it in: new engagements are stored (and, once every source is
in, `announce_due` announces those that are close, in date order), moved or cancelled ones that were announced
get a note in the announcement's thread and an edited announcement. A source that fails keeps its last good
data, and an empty answer has to repeat before it empties the calendar. Only who, what, where, when and who it
is open to are ever kept.
"""

from __future__ import annotations

import difflib
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot import when
from beacon.bot.clock import Clock
from beacon.bot.db import insert_ignoring_duplicates, insert_many_ignoring_duplicates
from beacon.bot.errors import InvalidInput, NotFound
from beacon.bot.models import (
    CalendarSource,
    Engagement,
    EngagementAttendee,
    EngagementMode,
    EngagementQuestion,
    EngagementStatus,
    OutboxMessage,
    OutboxStatus,
    QuestionDelivery,
    UnmatchedLocation,
    UserPreference,
)
from beacon.bot.organisation import Organisation, Role, Site
from beacon.bot.services import outbox
from beacon.bot.services.audit import Audit
from beacon.bot.services.authorisation import Authorisation
from beacon.bot.services.job_runs import claim_period
from beacon.bot.services.leaders import Leaders
from beacon.bot.services.recurrence import to_utc
from beacon.bot.templates import Template, templated

ANNOUNCEMENT = "engagement_announcement"
# The one post announcing many engagements at once: its content lists their ids under "engagements", and once it
# is sent each becomes announced by it (record_folded), so changes go in its thread and follow-ups are asked.
FOLDED_ANNOUNCEMENT = "engagements_folded"
CALENDAR_POST = "calendar_post"
# An edit bringing an engagement's posts (announcement, site and staff group copies, reminder) up to date, each
# in its own template: every message about it shows the same count, and a click on any of them changes them all.
REFRESH = "engagement_refresh"
REFRESHED_TEMPLATES = (Template.ENGAGEMENT_ANNOUNCEMENT, Template.VISIT_REMINDER)
SLACK_VISITS = "slack:visits"
FAILURES_BEFORE_ALERT = 3
MAX_LISTED = 40
# More engagements than this coming within announcement reach in one sync (a calendar imported) are announced in
# one post, with the first few, rather than one post each (thousands of posts into one channel take hours at
# Slack's pace of one a second).
FOLD_ABOVE = 10  # the sandbox's demo trust brings six at its start: each shown with its buttons
FOLD_SHOWN = 5
# What starts sooner than this is never folded: the summary may wait behind a backlog, and an engagement about to
# start is announced on its own (its post expiring when it starts) or not at all.
FOLD_NOT_WITHIN = timedelta(hours=1)
QUESTION_LIMIT = 1000  # characters of a question for a leader (the form's own limit)
# Questions asked once the leader's briefing has gone are sent on a timer of this period, all of one engagement's
# in one DM: the leader is not pinged per question, and the DM's time says only which few minutes they came in.
QUESTION_BATCH = timedelta(minutes=5)
ANSWER_LIMIT = 2000  # characters of a leader's answer (the form's own limit)
ANSWERS_LISTED = 20
BY_INVITATION = "By invitation"
# The longest visit the /visit form takes: a night shift crosses midnight, and the service works around the clock.
MAX_VISIT = timedelta(hours=24)

# The columns a calendar source decides (Engagements._fields gives their values for a fact).
SOURCE_COLUMNS = ("title", "leader", "leader_user_id", "starts_at", "ends_at", "all_day", "location", "site")


@dataclass(frozen=True, slots=True)  # slots: a large feed holds tens of thousands in memory between syncs
class EngagementFact:
    """One occurrence of an event as a source reports it (already filtered to what may be published)."""

    external_id: str
    occurrence: str
    title: str
    leader: str
    starts_at: datetime
    ends_at: datetime
    all_day: bool = False
    location: str | None = None
    leader_user_id: str | None = None


@dataclass(frozen=True)
class SourceAnswer:
    """What one sync of a source brought: every occurrence in the window, or an error."""

    facts: list[EngagementFact] | None = None
    error: str | None = None
    skipped: int = 0  # events the source holds that could not be read (each skipped, the rest kept)
    # The ids (UIDs) of those skipped events, where known: what is stored of them is kept as it was (neither
    # cancelled nor changed), as a whole feed that could not be read keeps its last good data.
    unreadable: frozenset[str] = frozenset()
    digest: bytes | None = None  # the same for the same facts (a feed's version and the days it was expanded over)


@dataclass
class SyncReport:
    added: int = 0
    changed: int = 0
    cancelled: int = 0
    kept: bool = False  # the source failed or answered empty: last good data kept
    skipped: int = 0  # events the source holds that could not be read


@dataclass(frozen=True)
class VisitDraft:
    leader_user_id: str
    leader_name: str
    site: str | None
    other_place: str | None
    starts_at: datetime
    ends_at: datetime
    purpose: str
    open_to: str
    mode: str = EngagementMode.IN_PERSON
    join_link: str | None = None
    staff_group: str | None = None


@dataclass(frozen=True)
class Asked:
    """A question taken: for which engagement, how it reaches the leader, and (asked without a name) the token the
    asker alone holds to read the answer."""

    engagement: Engagement
    briefing_at: datetime | None  # None: the briefing has gone (or never comes); the question goes within minutes
    token: str | None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Engagements:
    def __init__(self, *, organisation: Organisation, clock: Clock, authorisation: Authorisation, audit: Audit,
                 leaders: Leaders | None = None):
        self._audit = audit
        self._org = organisation
        self._clock = clock
        self._auth = authorisation
        self._leaders = leaders  # who may announce where; without it, executives only

    # -- places ------------------------------------------------------------------------------------------
    def match_site(self, location: str | None) -> Site | None:
        """The configured site a location names (by name or alias), if any."""
        if not location:
            return None
        text = location.lower()
        best: tuple[int, Site] | None = None
        for site in self._org.sites:
            for name in (site.name, *site.aliases):
                if name.lower() in text and (best is None or len(name) > best[0]):
                    best = (len(name), site)
        return best[1] if best else None

    # -- syncing ----------------------------------------------------------------------------------------
    async def record_sync(self, *, session: AsyncSession, source_key: str, source_name: str,
                          answer: SourceAnswer) -> SyncReport:
        now = self._clock.now()
        state = await session.get(CalendarSource, source_key)
        if state is None:
            state = CalendarSource(key=source_key)
            session.add(state)
        report = SyncReport(skipped=answer.skipped)
        if answer.error:
            state.consecutive_failures += 1
            state.last_error = answer.error[:300]
            if state.consecutive_failures >= FAILURES_BEFORE_ALERT and not state.failure_reported:
                state.failure_reported = True
                await self._tell_admins(session, f"source-failing:{source_key}:{now:%Y%m%d%H%M}",
                                        Template.CALENDAR_SOURCE_FAILING, {"source": source_name, "error": answer.error,
                                                                    "failures": state.consecutive_failures})
            report.kept = True
            return report
        if state.failure_reported:
            await self._tell_admins(session, f"source-recovered:{source_key}:{now:%Y%m%d%H%M}",
                                    Template.CALENDAR_SOURCE_RECOVERED, {"source": source_name})
        horizon = now + timedelta(days=self._org.calendar.window_days)
        # The same answer as at the last sync (the same version of the feed, expanded over the same days, matched
        # to the same sites): what was within that sync's horizon is stored as it says, so only what has come
        # within the horizon since is read (an unchanged 50,000-event feed costs a few rows, not 50,000).
        fingerprint = self._fingerprint(answer)
        since = (state.last_success_at + timedelta(days=self._org.calendar.window_days)
                 if fingerprint and fingerprint == state.facts_digest and state.last_success_at else None)
        state.consecutive_failures, state.failure_reported, state.last_error = 0, False, None
        state.last_success_at, state.skipped_events = now, answer.skipped
        facts = {(f.external_id, f.occurrence): f for f in answer.facts or []
                 if f.ends_at > now and f.starts_at < horizon and (since is None or f.starts_at >= since)}
        # What is stored is compared as plain rows; only engagements that changed become ORM objects (loading
        # every engagement of a large calendar as objects cost more than the rest of an unchanged sync).
        # Each stored engagement of the source as (id, scheduled and not over, before the horizon, a hash of the
        # columns the source decides), read as a stream: a large calendar's rows are never all held at once, and
        # an unchanged engagement costs a hash, not a comparison column by column.
        known: dict[tuple[str, str], tuple[int, bool, bool, int]] = {}
        stream = await session.stream(select(
            col(Engagement.id), col(Engagement.external_id), col(Engagement.occurrence), col(Engagement.status),
            *(col(getattr(Engagement, name)) for name in SOURCE_COLUMNS)).where(
            col(Engagement.source_key) == source_key, col(Engagement.ends_at) > now - timedelta(days=1),
            col(Engagement.starts_at) >= (since or datetime.min.replace(tzinfo=now.tzinfo))))
        async for part in stream.partitions(2000):
            for r in part:
                known[(r.external_id, r.occurrence)] = (
                    r.id, r.status == EngagementStatus.SCHEDULED and r.ends_at > now, r.starts_at < horizon,
                    hash(tuple(r[4:])))
        if not facts and any(k[1] for k in known.values()):
            state.empty_answers += 1
            state.facts_digest = None
            if state.empty_answers < 2:
                report.kept = True
                return report
        else:
            state.empty_answers = 0
        unmatched: set[str] = set()
        new_rows: list[dict[str, Any]] = []
        back: list[tuple[int, EngagementFact, Site | None]] = []
        changed: list[tuple[int, EngagementFact, Site | None]] = []
        sites: dict[str | None, Site | None] = {}  # thousands of events name a few dozen places
        for key, fact in facts.items():
            if fact.location not in sites:
                sites[fact.location] = self.match_site(fact.location)
            site = sites[fact.location]
            if fact.location and site is None:
                unmatched.add(fact.location[:300])
            current = known.get(key)
            if current is not None and not current[1]:  # back after being cancelled
                back.append((current[0], fact, site))
                report.added += 1
            elif current is None:  # new: written in bulk, a few thousand at a time, which a large first sync needs
                new_rows.append({
                    "source_key": source_key, "external_id": fact.external_id[:400], "occurrence": fact.occurrence,
                    **self._fields(fact, site), "open_to": None, "status": EngagementStatus.SCHEDULED,
                    "announcement_queued": False, "first_seen_at": now, "updated_at": now})
                report.added += 1
                if len(new_rows) >= 2000:
                    await insert_many_ignoring_duplicates(session, Engagement, new_rows)
                    new_rows = []
            elif hash(tuple(self._fields(fact, site).values())) != current[3]:
                changed.append((current[0], fact, site))
        kept = {uid[:400].strip() for uid in answer.unreadable}
        gone = [row[0] for key, row in known.items() if row[1] and row[2] and key not in facts
                and key[0].strip() not in kept]
        loaded = await self._load(session, [i for i, _, _ in back] + [i for i, _, _ in changed] + gone)
        for engagement_id, fact, site in back:
            loaded[engagement_id].status = EngagementStatus.SCHEDULED
            self._copy(loaded[engagement_id], fact, site, now)
        moved: list[tuple[Engagement, tuple[Any, ...]]] = []
        for engagement_id, fact, site in changed:
            current_row = loaded[engagement_id]
            before = self._apply(current_row, fact, site, now)
            if before is not None:
                report.changed += 1
                if current_row.announced_ts:
                    moved.append((current_row, before))
        for engagement_id in gone:
            await self._cancel(session, loaded[engagement_id], now)
            report.cancelled += 1
        await self._withdraw_from_folds(session, [i for i in gone if not loaded[i].announced_ts])
        await session.flush()
        await insert_many_ignoring_duplicates(session, Engagement, new_rows)
        if unmatched:
            await insert_many_ignoring_duplicates(session, UnmatchedLocation, [
                {"location": place, "first_seen_at": now, "reported": False} for place in sorted(unmatched)])
        for engagement, before in moved:
            await self._note_change(session, engagement, "moved", before)
        # Not announced here: CalendarSync announces once every source is in, so that announcements from several
        # sources go out in one date order rather than source by source.
        await self._report_unmatched(session)
        state.facts_digest = fingerprint
        return report

    def _fingerprint(self, answer: SourceAnswer) -> str | None:
        """What makes two answers store the same rows: the source's own digest of its answer, and the settings
        that decide what is stored of it (the window, the sites places are matched to)."""
        if answer.digest is None:
            return None
        hashed = hashlib.sha256(answer.digest)
        hashed.update(repr((self._org.calendar.window_days, [(s.name, tuple(s.aliases)) for s in self._org.sites]))
                      .encode())
        return hashed.hexdigest()

    @staticmethod
    async def _load(session: AsyncSession, ids: list[int]) -> dict[int, Engagement]:
        loaded: dict[int, Engagement] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            loaded |= {e.id or 0: e for e in (await session.scalars(
                select(Engagement).where(col(Engagement.id).in_(chunk)))).all()}
        return loaded

    @staticmethod
    def _fields(fact: EngagementFact, site: Site | None) -> dict[str, Any]:
        """The columns a source decides, as stored."""
        return {"title": fact.title[:300], "leader": fact.leader[:200], "leader_user_id": fact.leader_user_id,
                "starts_at": fact.starts_at, "ends_at": fact.ends_at, "all_day": fact.all_day,
                "location": (fact.location or None) and fact.location[:300], "site": site.name if site else None}

    def _copy(self, engagement: Engagement, fact: EngagementFact, site: Site | None, now: datetime) -> None:
        for name, value in self._fields(fact, site).items():
            setattr(engagement, name, value)
        engagement.updated_at = now

    def _apply(self, engagement: Engagement, fact: EngagementFact, site: Site | None,
               now: datetime) -> tuple[Any, ...] | None:
        """Bring an engagement up to date; what it was, when something staff can see changed. An engagement the
        source still describes the same way is not touched, so an unchanged feed writes nothing."""
        fields = self._fields(fact, site)
        if all(getattr(engagement, name) == value for name, value in fields.items()):
            return None
        before = (engagement.title, engagement.starts_at, engagement.ends_at, engagement.site, engagement.location)
        self._copy(engagement, fact, site, now)
        after = (engagement.title, engagement.starts_at, engagement.ends_at, engagement.site, engagement.location)
        return None if before == after else before

    async def _cancel(self, session: AsyncSession, engagement: Engagement, now: datetime) -> None:
        engagement.status, engagement.updated_at = EngagementStatus.CANCELLED, now
        await outbox.cancel_unsent(session=session, source=ANNOUNCEMENT, source_id=engagement.id or 0)
        if engagement.announced_ts:
            await self._note_change(session, engagement, "cancelled", None)

    async def _note_change(self, session: AsyncSession, engagement: Engagement, change: str,
                           before: tuple[Any, ...] | None) -> None:
        """A note in the announcement's thread, and the announcement itself edited to match."""
        now = self._clock.now()
        stamp = f"{engagement.id}:{int(now.timestamp())}:{change}"
        params = self.describe(engagement) | {"change": change}
        if before is not None:
            params["was"] = when.span(before[1], before[2], self._org.tz, all_day=engagement.all_day)
        channel, ts = engagement.announced_channel or "", engagement.announced_ts or ""
        folded = await self._announced_in_fold(session, engagement)
        if folded:  # the thread holds many engagements' notes: say which
            params["folded"] = True
        note = outbox.Promise(dedupe_key=f"engagement-note:{stamp}", source=CALENDAR_POST, source_id=engagement.id,
                              channel=channel, thread_ts=ts, due_at=now, expires_at=now + timedelta(hours=12),
                              content={"template": Template.ENGAGEMENT_CHANGED, "params": params})
        await outbox.enqueue(session=session, now=now, promises=[note])
        if not folded:  # every post about it edited to match: the announcement, its copies, the reminder
            await session.flush()
            await self.refresh_posts(session=session, engagement_id=engagement.id or 0)

    async def announce_due(self, *, session: AsyncSession, only: list[Engagement] | None = None) -> int:
        """Announce every scheduled engagement that is close enough and not yet announced (once each), or
        just `only` (a visit announced in Slack is announced at once, however far off)."""
        now = self._clock.now()
        columns = (col(Engagement.id), col(Engagement.title), col(Engagement.leader), col(Engagement.leader_user_id),
                   col(Engagement.site),
                   col(Engagement.location), col(Engagement.starts_at), col(Engagement.ends_at),
                   col(Engagement.all_day),
                   col(Engagement.open_to), col(Engagement.status), col(Engagement.source_key))
        if only is not None:
            due: list[Any] = list(only)
        else:
            due = list((await session.execute(select(*columns).where(
                col(Engagement.status) == EngagementStatus.SCHEDULED, col(Engagement.announcement_queued).is_(False),
                col(Engagement.starts_at) > now,
                col(Engagement.starts_at) < now + timedelta(days=self._org.calendar.announce_within_days))
                # Announced in date order: the outbox sends a channel's rows in the order they were written.
                .order_by(col(Engagement.starts_at), col(Engagement.id)))).all())
        going = await self._attending(session, [e.id for e in due if e.id])
        promises = []
        # A visit announced in Slack is never folded, nor what starts within the hour.
        foldable = [e for e in due if e.source_key != SLACK_VISITS and e.starts_at > now + FOLD_NOT_WITHIN]
        if only is None and len(foldable) > FOLD_ABOVE:
            promises.append(self._fold(foldable, now))
            folded = {e.id for e in foldable}
            due_one_by_one = [e for e in due if e.id not in folded]
        else:
            due_one_by_one = due
        for engagement in due_one_by_one:
            params = self.describe(engagement) | {"attending": going.get(engagement.id or 0, 0)}
            channels = [self._org.channels.engagement]
            if engagement.source_key == SLACK_VISITS:
                channels += [c for c in self._local_channels(engagement) if c not in channels]
            for channel in channels:
                main = channel == self._org.channels.engagement
                promises.append(outbox.Promise(
                    dedupe_key=f"engagement:{engagement.id}:announce:{channel}",
                    source=ANNOUNCEMENT if main else CALENDAR_POST, source_id=engagement.id, channel=channel,
                    content={"template": Template.ENGAGEMENT_ANNOUNCEMENT, "params": params}, due_at=now,
                    expires_at=min(engagement.starts_at, now + timedelta(days=1))))
        ids = [e.id for e in due]
        for start in range(0, len(ids), 500):
            await session.execute(update(Engagement).where(col(Engagement.id).in_(ids[start:start + 500]))
                                  .values(announcement_queued=True).execution_options(synchronize_session=False))
        for engagement in only or []:
            engagement.announcement_queued = True
        return await outbox.enqueue(session=session, promises=promises, now=now)

    def _fold(self, engagements: list[Any], now: datetime) -> outbox.Promise:
        """One post for many engagements (already in date order): how many, the first few, where to see all."""
        ids = [e.id for e in engagements]
        digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:32]
        # It expires a day on (or when the last of them starts): never with the first, which would lose every
        # other one behind a backlog (none starts within FOLD_NOT_WITHIN).
        return outbox.Promise(
            dedupe_key=f"engagements-added:{digest}", source=FOLDED_ANNOUNCEMENT, channel=self._org.channels.engagement,
            content=self._fold_content(ids, engagements[:FOLD_SHOWN]), due_at=now,
            expires_at=min(engagements[-1].starts_at, now + timedelta(days=1)))

    def _fold_content(self, ids: list[int], first: list[Any]) -> dict[str, Any]:
        """The folded post: how many, the first few, and the ids of what it announces (for its outbox hook)."""
        return templated(Template.ENGAGEMENTS_ADDED, {
            "count": len(ids), "days": self._org.calendar.announce_within_days,
            "first": [self.describe(e) for e in first]}, engagements=ids)

    async def _attending(self, session: AsyncSession, ids: list[int]) -> dict[int, int]:
        if not ids:
            return {}
        return dict((await session.execute(select(col(EngagementAttendee.engagement_id), func.count()).where(
            col(EngagementAttendee.engagement_id).in_(ids)).group_by(col(EngagementAttendee.engagement_id)))).all())

    async def record_announced(self, session: AsyncSession, message: OutboxMessage, status: OutboxStatus,
                               error: str | None) -> None:
        """Outbox hook: remember the announcement, so changes go in its thread and edit it."""
        if status != OutboxStatus.SENT:
            return
        engagement = await session.get(Engagement, message.source_id)
        sent = await session.get(OutboxMessage, message.id)
        if engagement is not None and sent is not None:
            engagement.announced_channel, engagement.announced_ts = sent.sent_channel, sent.sent_ts

    async def record_folded(self, session: AsyncSession, message: OutboxMessage, status: OutboxStatus,
                            error: str | None) -> None:
        """Outbox hook for the folded post: each engagement in it is announced by it, so a change or cancellation
        is noted in its thread and the leader is asked for a follow-up there (the post itself is not edited)."""
        if status != OutboxStatus.SENT:
            return
        sent = await session.get(OutboxMessage, message.id)
        ids = [int(i) for i in (message.content or {}).get("engagements") or []]
        if sent is None or not sent.sent_ts:
            return
        for start in range(0, len(ids), 500):
            await session.execute(update(Engagement).where(
                col(Engagement.id).in_(ids[start:start + 500]), col(Engagement.announced_ts).is_(None))
                .values(announced_channel=sent.sent_channel, announced_ts=sent.sent_ts)
                .execution_options(synchronize_session=False))

    async def _withdraw_from_folds(self, session: AsyncSession, cancelled: list[int]) -> None:
        """Cancelled engagements taken out of a folded post not yet sent (as _cancel withdraws an individual
        announcement): the post is rebuilt from those still scheduled, or cancelled when none is. A post already
        being sent goes out; its thread then takes no note for them (they were never announced)."""
        if not cancelled:
            return
        gone = set(cancelled)
        waiting = (await session.scalars(select(OutboxMessage).where(
            col(OutboxMessage.source) == FOLDED_ANNOUNCEMENT,
            col(OutboxMessage.status).in_([OutboxStatus.HELD, OutboxStatus.PENDING])))).all()
        for row in waiting:
            ids = [int(i) for i in (row.content or {}).get("engagements") or []]
            if gone.isdisjoint(ids):
                continue
            # The rest are still scheduled (every cancellation passes here, and is taken out), in date order as
            # folded: a summary may hold tens of thousands, so only the first few are read again.
            left = [i for i in ids if i not in gone]
            if not left:
                row.status = OutboxStatus.CANCELLED
                continue
            first = await self._load(session, left[:FOLD_SHOWN])
            row.content = self._fold_content(left, [first[i] for i in left[:FOLD_SHOWN] if i in first])

    async def _announced_in_fold(self, session: AsyncSession, engagement: Engagement) -> bool:
        """Whether the engagement's announcement is a folded post (whose thread takes notes, but which is never
        edited into one engagement's announcement)."""
        return (await session.scalars(select(col(OutboxMessage.id)).where(
            col(OutboxMessage.source) == FOLDED_ANNOUNCEMENT, col(OutboxMessage.sent_ts) == engagement.announced_ts,
            col(OutboxMessage.sent_channel) == engagement.announced_channel).limit(1))).first() is not None

    async def _report_unmatched(self, session: AsyncSession) -> None:
        fresh = (await session.scalars(select(UnmatchedLocation).where(col(UnmatchedLocation.reported).is_(False))
                                       .order_by(col(UnmatchedLocation.location)).limit(50))).all()
        if not fresh:
            return
        for row in fresh:
            row.reported = True
        await self._tell_admins(session, f"unmatched:{fresh[0].location}:{len(fresh)}", Template.CALENDAR_UNMATCHED,
                                {"locations": [r.location for r in fresh]})

    async def _tell_admins(self, session: AsyncSession, key: str, template: Template, params: dict[str, Any]) -> None:
        now = self._clock.now()
        await outbox.enqueue(session=session, now=now, promises=[outbox.Promise(
            dedupe_key=f"admin:{key}"[:200], source=CALENDAR_POST, channel=self._org.channels.admin,
            content={"template": template, "params": params}, due_at=now, expires_at=now + timedelta(days=1))])

    def _local_channels(self, engagement: Any) -> list[str]:
        """The channels of the site and the staff group an engagement is for (the engagement channel aside)."""
        site = self._org.site_named(engagement.site)
        group = self._org.staff_group_named(getattr(engagement, "staff_group", None))
        return list(dict.fromkeys(c for c in (site.channel if site else None, group.channel if group else None) if c))

    def local_channels(self, engagement: Engagement) -> list[str]:
        return self._local_channels(engagement)

    @staticmethod
    def join_link_for(engagement: Engagement, *, guest: bool) -> str | None:
        """The join link a person who says they'll be there is given: staff only (never a guest), and never for an
        event by invitation (the leader sends it to those invited)."""
        if guest or not engagement.join_link or (engagement.open_to or "").lower() == BY_INVITATION.lower():
            return None
        return engagement.join_link

    # -- describing ---------------------------------------------------------------------------------------
    def describe(self, engagement: Any) -> dict[str, Any]:
        """Template parameters for an engagement (a model or a row with the same columns)."""
        site = self._org.site_named(engagement.site)
        return {"engagement_id": engagement.id, "title": engagement.title, "leader": engagement.leader,
                "leader_user_id": engagement.leader_user_id, "site": engagement.site,
                "area": site.area if site else None, "place": engagement.site or engagement.location,
                "when": when.span(engagement.starts_at, engagement.ends_at, self._org.tz,
                                  all_day=engagement.all_day),
                "day": engagement.starts_at.astimezone(self._org.tz).date().isoformat(),
                "open_to": engagement.open_to, "cancelled": engagement.status == EngagementStatus.CANCELLED,
                # Never the join link: these go into channels' posts.
                "mode": getattr(engagement, "mode", None) or EngagementMode.IN_PERSON,
                "staff_group": getattr(engagement, "staff_group", None)}

    async def announcement_params(self, session: AsyncSession, engagement: Engagement) -> dict[str, Any]:
        going = await self._attending(session, [engagement.id] if engagement.id else [])
        return self.describe(engagement) | {"attending": going.get(engagement.id or 0, 0)}

    # -- visits announced in Slack --------------------------------------------------------------------------
    def check_visit(self, draft: VisitDraft) -> dict[str, str]:
        problems: dict[str, str] = {}
        now = self._clock.now()
        online = draft.mode in (EngagementMode.ONLINE, EngagementMode.HYBRID)
        if draft.staff_group and self._org.staff_group_named(draft.staff_group) is None:
            problems["staff_group"] = "That staff group is no longer in Beacon's settings: choose another."
        if not (draft.site or (draft.other_place or "").strip() or draft.staff_group
                or draft.mode == EngagementMode.ONLINE):
            problems["site"] = ("Choose the site or the staff group, or type the place under “somewhere else” "
                                "(an online visit needs none).")
        link = (draft.join_link or "").strip()
        if link:
            problem = join_link_problem(link)
            if problem:
                problems["join_link"] = problem
            elif not online:
                problems["join_link"] = ("A join link is for an online or hybrid visit: choose Online or Hybrid "
                                         "under “How”, or clear the link.")
        elif online:
            problems["join_link"] = ("An online or hybrid visit needs its join link: paste the https:// link staff "
                                     "use to join (from Teams, for example).")
        if draft.ends_at <= draft.starts_at:
            problems["ends"] = ("The visit has to end after it starts: choose another end time (one earlier than "
                                "the start is the next day).")
        elif draft.ends_at - draft.starts_at > MAX_VISIT:
            hours = (draft.ends_at - draft.starts_at) / timedelta(hours=1)
            tz = self._org.tz
            clocks = (" (the clocks go back that night)" if draft.starts_at.astimezone(tz).utcoffset()
                      != draft.ends_at.astimezone(tz).utcoffset() else "")
            problems["ends"] = (f"A visit can last {MAX_VISIT // timedelta(hours=1)} hours at most; this one is "
                                f"{hours:g} hours{clocks}. Choose an earlier end.")
        if draft.starts_at <= now:
            problems["starts"] = "That time has passed: choose when the visit will start."
        if len(draft.purpose.strip()) < 5:
            problems["purpose"] = "Say in a few words what the visit is for, as staff should read it."
        return problems

    async def create_visit(self, *, session: AsyncSession, user_id: str, draft: VisitDraft) -> Engagement:
        if self._leaders is None:
            await self._auth.require(user_id, Role.EXECUTIVES, action="Announcing a visit")
            problems = self.check_visit(draft)
        else:  # executives anywhere, leaders at their own sites
            problems = self.check_visit(draft) | await self._leaders.place_problems(
                user_id=user_id, site=draft.site, other_place=draft.other_place, leader=draft.leader_user_id,
                staff_group=draft.staff_group)
        if problems:
            raise VisitProblems(problems)
        now = self._clock.now()
        place = (draft.site or (draft.other_place or "").strip() or draft.staff_group
                 or ("Online" if draft.mode == EngagementMode.ONLINE else ""))
        engagement = Engagement(
            source_key=SLACK_VISITS, external_id=f"visit:{user_id}:{int(now.timestamp() * 1000)}",
            occurrence="single", title=draft.purpose.strip()[:300], leader=draft.leader_name[:200],
            leader_user_id=draft.leader_user_id, site=draft.site, location=place[:300], starts_at=draft.starts_at,
            ends_at=draft.ends_at, open_to=draft.open_to.strip()[:200] or None, created_by=user_id,
            first_seen_at=now, updated_at=now, mode=draft.mode, join_link=(draft.join_link or "").strip() or None,
            staff_group=draft.staff_group)
        session.add(engagement)
        await session.flush()
        await self.announce_due(session=session, only=[engagement])
        await self._audit.record(session=session, actor=user_id, action="visit.announced",
                                 subject=f"engagement:{engagement.id}", details={"place": place,
                                                                                "starts_at": draft.starts_at})
        return engagement

    async def refresh_posts(self, *, session: AsyncSession, engagement_id: int) -> int:
        """Edit every post about an engagement to what is true now (the count of who is going), each post keeping
        its own template (a reminder stays a reminder), through the outbox. Call it in a transaction after the
        change has committed: the last call sees every click before it. An edit still waiting is rewritten rather
        than joined by another, so a busy post gets one edit per send, not one per click."""
        engagement = await session.get(Engagement, engagement_id)
        if engagement is None:
            return 0
        now = self._clock.now()
        posts = (await session.scalars(select(OutboxMessage).where(
            col(OutboxMessage.source_id) == engagement_id,
            col(OutboxMessage.source).in_([ANNOUNCEMENT, CALENDAR_POST]),
            col(OutboxMessage.status) == OutboxStatus.SENT, col(OutboxMessage.sent_ts).is_not(None),
            col(OutboxMessage.update_ts).is_(None), col(OutboxMessage.thread_ts).is_(None)))).all()
        waiting = {(m.channel, m.update_ts): m for m in (await session.scalars(select(OutboxMessage).where(
            col(OutboxMessage.source) == REFRESH, col(OutboxMessage.source_id) == engagement_id,
            col(OutboxMessage.status) == OutboxStatus.PENDING))).all()}
        params = await self.announcement_params(session, engagement)
        promises = []
        for post in posts:
            template = (post.content or {}).get("template")
            if template not in REFRESHED_TEMPLATES:
                continue
            content = templated(Template(template), params)
            channel = post.sent_channel or post.channel
            pending = waiting.get((channel, post.sent_ts))
            if pending is not None:
                pending.content = content
                continue
            promises.append(outbox.Promise(
                dedupe_key=f"engagement-refresh:{engagement_id}:{uuid.uuid4().hex}", source=REFRESH,
                source_id=engagement_id, channel=channel, update_ts=post.sent_ts, content=content, due_at=now,
                expires_at=now + timedelta(days=1)))
        return await outbox.enqueue(session=session, now=now, promises=promises)

    # -- staff interaction --------------------------------------------------------------------------------
    async def _scheduled(self, session: AsyncSession, engagement_id: int) -> Engagement:
        engagement = await session.get(Engagement, engagement_id)
        if engagement is None or engagement.status != EngagementStatus.SCHEDULED:
            raise NotFound("That engagement has been cancelled.")
        return engagement

    async def coming(self, *, session: AsyncSession, engagement_id: int) -> Engagement:
        """An engagement that is still to happen."""
        engagement = await self._scheduled(session, engagement_id)
        if engagement.ends_at <= self._clock.now():
            raise InvalidInput("That engagement has already happened.")
        return engagement

    async def toggle_attendance(self, *, session: AsyncSession, user_id: str,
                                engagement_id: int) -> tuple[Engagement, bool]:
        engagement = await self.coming(session=session, engagement_id=engagement_id)
        existing = (await session.scalars(select(EngagementAttendee).where(
            col(EngagementAttendee.engagement_id) == engagement_id,
            col(EngagementAttendee.user_id) == user_id))).first()
        if existing is not None:
            await session.delete(existing)
            return engagement, False
        await insert_ignoring_duplicates(session, EngagementAttendee, {
            "engagement_id": engagement_id, "user_id": user_id, "created_at": self._clock.now()})
        return engagement, True

    async def askable(self, *, session: AsyncSession, engagement_id: int) -> Engagement:
        """An engagement still to come whose leader Beacon can reach in Slack (else a question would go nowhere)."""
        engagement = await self.coming(session=session, engagement_id=engagement_id)
        if not engagement.leader_user_id:
            raise InvalidInput(f"Beacon cannot reach {engagement.leader} in Slack, so it cannot pass questions on "
                               "for this engagement. Ask them in person on the day.")
        return engagement

    def briefing_time(self, engagement: Engagement) -> datetime:
        """When the leader's day-before briefing for an engagement is due."""
        day = engagement.starts_at.astimezone(self._org.tz).date() - timedelta(days=1)
        return self._local(day, self._org.calendar.reminder_time)

    async def ask(self, *, session: AsyncSession, user_id: str, engagement_id: int, question: str,
                  hide_name: bool) -> Asked:
        """Take a question for the leader. Without a name, nothing stored points to the asker: no ID, only the day
        (a time would join it to the request logs, which name nobody for questions either), and a token the asker
        alone is given. It reaches the leader in the briefing if that is still to come, else within minutes."""
        engagement = await self.askable(session=session, engagement_id=engagement_id)
        text = question.strip()
        if len(text) < 5:
            raise InvalidInput("Write your question in a few words.")
        if len(text) > QUESTION_LIMIT:
            raise InvalidInput(f"Your question is {len(text):,} characters; the limit is {QUESTION_LIMIT:,}. "
                               f"Shorten it by {len(text) - QUESTION_LIMIT:,}.")
        now = self._clock.now()
        token = secrets.token_urlsafe(24) if hide_name else None
        day = self._local(now.astimezone(self._org.tz).date(), "00:00")
        session.add(EngagementQuestion(engagement_id=engagement_id, asker_id=None if hide_name else user_id,
                                       hide_name=hide_name, question=text, created_at=day,
                                       token_hash=_hash(token) if token else None))
        briefing_at = self.briefing_time(engagement)
        gone = briefing_at <= now or await self._briefed(session, [engagement_id])
        return Asked(engagement=engagement, briefing_at=None if gone else briefing_at, token=token)

    async def question_for_token(self, *, session: AsyncSession, token: str) -> tuple[EngagementQuestion, Engagement]:
        """An anonymous question, found by the token only its asker holds."""
        row = (await session.scalars(select(EngagementQuestion).where(
            col(EngagementQuestion.token_hash) == _hash(token)))).first()
        engagement = await session.get(Engagement, row.engagement_id) if row else None
        if row is None or engagement is None:
            raise NotFound("That question is no longer kept.")
        return row, engagement

    @staticmethod
    async def _briefed(session: AsyncSession, engagement_ids: list[int]) -> set[int]:
        """Which of these engagements' leaders have had their briefing (its outbox row is written)."""
        if not engagement_ids:
            return set()
        keys = [f"notice:leader-briefing:{i}" for i in engagement_ids]
        found = (await session.scalars(select(col(OutboxMessage.source_id)).where(
            col(OutboxMessage.dedupe_key).in_(keys)))).all()
        return {i for i in found if i is not None}

    @staticmethod
    async def _claim_questions(session: AsyncSession, engagement_id: int, how: QuestionDelivery,
                               unanswered: bool = False) -> list[EngagementQuestion]:
        """This engagement's questions not yet given to the leader, marked as given `how`, in the order asked
        (only one caller gets each: the update is conditional). With `unanswered`, every question not yet answered
        is returned, given before or not."""
        claimed = list((await session.scalars(update(EngagementQuestion).where(
            col(EngagementQuestion.engagement_id) == engagement_id, col(EngagementQuestion.delivered).is_(None))
            .values(delivered=how).returning(col(EngagementQuestion.id))
            .execution_options(synchronize_session=False))).all())
        statement = select(EngagementQuestion).where(col(EngagementQuestion.engagement_id) == engagement_id)
        statement = (statement.where(col(EngagementQuestion.answered_at).is_(None)) if unanswered
                     else statement.where(col(EngagementQuestion.id).in_(claimed)))
        return list((await session.scalars(statement.order_by(col(EngagementQuestion.id))
                                           .execution_options(populate_existing=True))).all())

    @staticmethod
    def _listed(questions: list[EngagementQuestion]) -> list[dict[str, Any]]:
        return [{"id": q.id, "question": q.question, "asker": None if q.hide_name else q.asker_id}
                for q in questions]

    async def deliver_late_questions(self, *, session: AsyncSession) -> int:
        """Questions asked after the leader's briefing went (or for an engagement announced too late to have one):
        one DM per engagement with all that came in since the last run, through the outbox."""
        now = self._clock.now()
        pending = (await session.execute(select(col(Engagement.id), col(Engagement.starts_at)).join(
            EngagementQuestion, col(EngagementQuestion.engagement_id) == col(Engagement.id)).where(
            col(EngagementQuestion.delivered).is_(None), col(Engagement.status) == EngagementStatus.SCHEDULED,
            col(Engagement.ends_at) > now, col(Engagement.leader_user_id).is_not(None)).distinct())).all()
        briefed = await self._briefed(session, [r.id for r in pending])
        # The briefing's own run may be a moment late: its questions are its own until a batch period after.
        due = [r.id for r in pending if r.id in briefed
               or self._local(r.starts_at.astimezone(self._org.tz).date() - timedelta(days=1),
                              self._org.calendar.reminder_time) + QUESTION_BATCH <= now]
        promises = []
        for engagement in (await self._load(session, due)).values():
            questions = await self._claim_questions(session, engagement.id or 0, QuestionDelivery.LATE)
            if questions:
                promises.append(outbox.notice(
                    key=f"leader-questions:{engagement.id}:{questions[0].id}", user_id=engagement.leader_user_id or "",
                    now=now, template=Template.LEADER_QUESTIONS, source_id=engagement.id,
                    params=self.describe(engagement) | {"questions": self._listed(questions)}))
        return await outbox.enqueue(session=session, promises=promises, now=now)

    async def answerable(self, *, session: AsyncSession, user_id: str,
                         question_id: int) -> tuple[EngagementQuestion, Engagement]:
        """A question the person may answer: theirs as the engagement's leader (or whoever announced it)."""
        question = await session.get(EngagementQuestion, question_id)
        engagement = await session.get(Engagement, question.engagement_id) if question else None
        if question is None or engagement is None or user_id not in (engagement.leader_user_id,
                                                                      engagement.created_by):
            raise NotFound("Only the leader the question was asked of can answer it.")
        if question.answered_at is not None:
            answered_on = when.day(question.answered_at.astimezone(self._org.tz))
            raise InvalidInput(f"That question was answered on {answered_on}; the answer is in the engagement's "
                               "thread.")
        return question, engagement

    async def answer(self, *, session: AsyncSession, user_id: str, question_id: int, answer: str) -> Engagement:
        """"You said, we did": the answer is kept (with when and by whom), posted in the engagement's thread and in
        its site's channel, and a named asker is told; an anonymous one finds it with their token."""
        question, engagement = await self.answerable(session=session, user_id=user_id, question_id=question_id)
        text = answer.strip()
        if len(text) < 5:
            raise InvalidInput("Write the answer in a few words, as staff should read it.")
        if len(text) > ANSWER_LIMIT:
            raise InvalidInput(f"The answer is {len(text):,} characters; the limit is {ANSWER_LIMIT:,}. "
                               f"Shorten it by {len(text) - ANSWER_LIMIT:,}.")
        now = self._clock.now()
        claimed = await session.scalars(update(EngagementQuestion).where(
            col(EngagementQuestion.id) == question_id, col(EngagementQuestion.answered_at).is_(None))
            .values(answer=text, answered_by=user_id, answered_at=now).returning(col(EngagementQuestion.id))
            .execution_options(synchronize_session=False))
        if claimed.first() is None:  # answered a moment ago, in another tab
            raise InvalidInput("That question has just been answered; the answer is in the engagement's thread.")
        params = self.describe(engagement) | {"question": question.question, "answer": text,
                                              "answered_by": user_id, "answered_on": when.day(now.astimezone(
                                                  self._org.tz), year=True)}
        post = {"template": Template.YOU_SAID_WE_DID, "params": params}
        promises = []
        if engagement.announced_channel and engagement.announced_ts:
            promises.append(outbox.Promise(
                dedupe_key=f"answer-thread:{question_id}", source=CALENDAR_POST, source_id=engagement.id,
                channel=engagement.announced_channel, thread_ts=engagement.announced_ts, content=post, due_at=now,
                expires_at=now + timedelta(days=2)))
        for channel in self._local_channels(engagement):  # its site's and its staff group's, as announced
            if channel != engagement.announced_channel:
                promises.append(outbox.Promise(
                    dedupe_key=f"answer-site:{question_id}:{channel}", source=CALENDAR_POST, source_id=engagement.id,
                    channel=channel, content=post, due_at=now, expires_at=now + timedelta(days=2)))
        if question.asker_id and not question.hide_name:
            promises.append(outbox.notice(key=f"question-answered:{question_id}", user_id=question.asker_id, now=now,
                                          template=Template.QUESTION_ANSWERED, source_id=engagement.id, params=params))
        await outbox.enqueue(session=session, promises=promises, now=now)
        await self._audit.record(session=session, actor=user_id, action="question.answered",
                                 subject=f"engagement:{engagement.id}", details={"question": question_id})
        return engagement

    async def answers(self, *, session: AsyncSession, search: str | None = None,
                      limit: int = ANSWERS_LISTED) -> list[dict[str, Any]]:
        """The log of "you said, we did": the latest answers first, with when and who answered; `search` narrows it
        to answers, questions, engagements or places that contain the words."""
        statement = select(EngagementQuestion, Engagement).join(
            Engagement, col(Engagement.id) == col(EngagementQuestion.engagement_id)).where(
            col(EngagementQuestion.answered_at).is_not(None))
        if search and search.strip():
            wanted = f"%{search.strip().lower()[:100]}%"
            statement = statement.where(or_(*(func.lower(c).like(wanted) for c in (
                col(EngagementQuestion.question), col(EngagementQuestion.answer), col(Engagement.title),
                col(Engagement.location)))))
        rows = (await session.execute(statement.order_by(col(EngagementQuestion.answered_at).desc(),
                                                         col(EngagementQuestion.id).desc()).limit(limit))).all()
        return [self.describe(e) | {"question": q.question, "answer": q.answer, "answered_by": q.answered_by,
                                    "answered_on": when.day((q.answered_at or self._clock.now()).astimezone(
                                        self._org.tz), year=True)} for q, e in rows]

    async def answered_between(self, *, session: AsyncSession, starts: datetime, ends: datetime,
                               limit: int) -> tuple[list[dict[str, Any]], int]:
        """Answers given in a period, oldest first, for the weekly digest: two statements, whatever the numbers."""
        within = (col(EngagementQuestion.answered_at) >= starts, col(EngagementQuestion.answered_at) < ends)
        total = await session.scalar(select(func.count()).select_from(EngagementQuestion).where(*within)) or 0
        rows = (await session.execute(select(
            col(EngagementQuestion.question), col(EngagementQuestion.answer), col(Engagement.leader),
            col(Engagement.title), col(Engagement.site), col(Engagement.location)).join(
            Engagement, col(Engagement.id) == col(EngagementQuestion.engagement_id)).where(*within).order_by(
            col(EngagementQuestion.answered_at), col(EngagementQuestion.id)).limit(limit))).all()
        return [{"leader": r.leader, "title": r.title, "place": r.site or r.location, "question": r.question,
                 "answer": r.answer or ""} for r in rows], int(total)

    async def for_follow_up(self, *, session: AsyncSession, user_id: str, engagement_id: int) -> Engagement:
        engagement = await session.get(Engagement, engagement_id)
        if engagement is None or user_id not in (engagement.leader_user_id, engagement.created_by):
            raise NotFound("Only the leader who made the visit can post its follow-up.")
        if not engagement.announced_ts:
            raise InvalidInput("That visit was never announced, so there is no thread to follow up in.")
        return engagement

    # -- what people see ------------------------------------------------------------------------------------
    async def upcoming(self, *, session: AsyncSession, days: int = 14, where: str | None = None,
                       first_site: str | None = None, limit: int = MAX_LISTED) -> tuple[list[Engagement], int]:
        """The next `days` of engagements (optionally for a site or area), a person's own site first."""
        now = self._clock.now()
        statement = select(Engagement).where(col(Engagement.status) == EngagementStatus.SCHEDULED,
                                             col(Engagement.ends_at) > now,
                                             col(Engagement.starts_at) < now + timedelta(days=days))
        if where:
            wanted = where.strip().lower()
            sites = [s.name for s in self._org.sites if wanted in s.name.lower() or wanted == s.area.lower()
                     or any(wanted in a.lower() for a in s.aliases)]
            groups = [g.name for g in self._org.staff_groups
                      if wanted in g.name.lower() or any(wanted in a.lower() for a in g.aliases)]
            statement = statement.where(or_(col(Engagement.site).in_(sites), col(Engagement.staff_group).in_(groups),
                                            func.lower(col(Engagement.location)).contains(wanted)))
        rows = list((await session.scalars(statement.order_by(col(Engagement.starts_at), col(Engagement.id)))).all())
        if first_site:
            rows.sort(key=lambda e: e.site != first_site)
        return rows[:limit], max(0, len(rows) - limit)

    def place_names(self) -> list[str]:
        """Every name `/calendar <place>` knows: sites, their aliases and areas, staff groups and theirs."""
        names = [n for s in self._org.sites for n in (s.name, s.area, *s.aliases)]
        names += [n for g in self._org.staff_groups for n in (g.name, *g.aliases)]
        return list(dict.fromkeys(names))

    async def unknown_place(self, *, session: AsyncSession, where: str) -> list[str] | None:
        """None when `where` names a place Beacon knows (a site, area, staff group or an alias of one, or a place
        an engagement is at); otherwise the nearest names it does know, best first (perhaps none)."""
        wanted = where.strip().lower()
        if any(wanted in name.lower() for name in self.place_names()):
            return None
        if (await session.scalars(select(col(Engagement.id)).where(
                func.lower(col(Engagement.location)).contains(wanted)).limit(1))).first() is not None:
            return None
        names = {name.lower(): name for name in self.place_names()}
        close = difflib.get_close_matches(wanted, list(names), n=3, cutoff=0.6)
        # A word of a longer name ("Bedfrod" for "Bedford Ambulance Station"): matched word by word too.
        for name in names:
            if name not in close and any(difflib.SequenceMatcher(None, wanted, word).ratio() >= 0.75
                                         for word in name.split()):
                close.append(name)
        return [names[n] for n in close[:3]]

    async def site_of(self, *, session: AsyncSession, user_id: str) -> str | None:
        preference = await session.get(UserPreference, user_id)
        return preference.site if preference else None

    async def set_site(self, *, session: AsyncSession, user_id: str, site: str | None) -> None:
        if site and self._org.site_named(site) is None:
            raise InvalidInput("That site is not one Beacon knows.")
        preference = await session.get(UserPreference, user_id) or UserPreference(user_id=user_id,
                                                                                  updated_at=self._clock.now())
        preference.site, preference.updated_at = site, self._clock.now()
        session.add(preference)

    # -- posts on a timetable ------------------------------------------------------------------------------------
    def _local(self, day: date, at: str) -> datetime:
        hour, minute = (int(p) for p in at.split(":"))
        return to_utc(datetime.combine(day, time(hour, minute)), self._org.tz)

    async def weekly_post(self, *, session: AsyncSession, worker: str) -> bool:
        """This week's "leaders out and about" post, once per week across replicas."""
        now = self._clock.now()
        today = now.astimezone(self._org.tz).date()
        week = f"{today.isocalendar().year}-W{today.isocalendar().week:02d}"
        if not await claim_period(session=session, job="calendar.weekly", period=week, worker=worker, now=now):
            return False
        monday = today - timedelta(days=today.weekday())
        start, end = self._local(monday, "00:00"), self._local(monday + timedelta(days=7), "00:00")
        rows = (await session.scalars(select(Engagement).where(
            col(Engagement.status) == EngagementStatus.SCHEDULED, col(Engagement.starts_at) >= start,
            col(Engagement.starts_at) < end).order_by(col(Engagement.starts_at)))).all()
        await outbox.enqueue(session=session, now=now, promises=[outbox.Promise(
            dedupe_key=f"calendar-weekly:{week}", source=CALENDAR_POST, channel=self._org.channels.engagement,
            content={"template": Template.LEADERS_THIS_WEEK, "params": {"week_of": f"{monday:%-d %B %Y}",
                                                                  "engagements": [self.describe(e) for e in rows]}},
            due_at=now, expires_at=now + timedelta(hours=6))])
        return True

    async def day_before(self, *, session: AsyncSession, worker: str) -> int:
        """Tomorrow's visits: a reminder in each site's channel, and each leader's briefing by DM."""
        now = self._clock.now()
        tomorrow = now.astimezone(self._org.tz).date() + timedelta(days=1)
        if not await claim_period(session=session, job="calendar.day_before", period=tomorrow.isoformat(),
                                  worker=worker, now=now):
            return 0
        rows = (await session.scalars(select(Engagement).where(
            col(Engagement.status) == EngagementStatus.SCHEDULED,
            col(Engagement.starts_at) >= self._local(tomorrow, "00:00"),
            col(Engagement.starts_at) < self._local(tomorrow + timedelta(days=1), "00:00")))).all()
        promises = []
        for engagement in rows:
            for n, channel in enumerate(self._local_channels(engagement)):
                promises.append(outbox.Promise(
                    dedupe_key=f"visit-reminder:{engagement.id}" + (f":{channel}" if n else ""),
                    source=CALENDAR_POST, source_id=engagement.id,
                    channel=channel, due_at=now, expires_at=engagement.starts_at,
                    content={"template": Template.VISIT_REMINDER,
                             "params": await self.announcement_params(session, engagement)}))
            if engagement.leader_user_id:
                attendees = (await session.scalars(select(col(EngagementAttendee.user_id)).where(
                    col(EngagementAttendee.engagement_id) == engagement.id))).all()
                questions = await self._claim_questions(session, engagement.id or 0, QuestionDelivery.BRIEFING)
                promises.append(outbox.notice(
                    key=f"leader-briefing:{engagement.id}", user_id=engagement.leader_user_id, now=now,
                    template=Template.LEADER_BRIEFING, source_id=engagement.id,
                    params=self.describe(engagement) | {"attendees": list(attendees),
                                                        "questions": self._listed(questions)}))
        return await outbox.enqueue(session=session, promises=promises, now=now)

    async def day_after(self, *, session: AsyncSession, worker: str) -> int:
        """Yesterday's visits: each leader is asked for a short "you said, we did" follow-up."""
        now = self._clock.now()
        today = now.astimezone(self._org.tz).date()
        yesterday = today - timedelta(days=1)
        if not await claim_period(session=session, job="calendar.day_after", period=yesterday.isoformat(),
                                  worker=worker, now=now):
            return 0
        # Whatever started before today and has ended since the day before yesterday: a night shift (22:00 to
        # 02:00) is followed up the morning after, a 24-hour engagement once it is over (the next run, if it ends
        # after this one); each is asked once (the outbox's key), and a run missed by hours loses nothing.
        rows = (await session.scalars(select(Engagement).where(
            col(Engagement.status) == EngagementStatus.SCHEDULED, col(Engagement.leader_user_id).is_not(None),
            col(Engagement.announced_ts).is_not(None), col(Engagement.starts_at) < self._local(today, "00:00"),
            col(Engagement.ends_at) > self._local(yesterday - timedelta(days=1), "00:00"),
            col(Engagement.ends_at) <= now))).all()
        promises = []
        for e in rows:  # every question not yet answered, including any asked too late for a DM of its own
            questions = await self._claim_questions(session, e.id or 0, QuestionDelivery.FOLLOW_UP, unanswered=True)
            promises.append(outbox.notice(
                key=f"follow-up:{e.id}", user_id=e.leader_user_id or "", template=Template.LEADER_FOLLOW_UP, now=now,
                source_id=e.id, params=self.describe(e) | {"questions": self._listed(questions)}))
        return await outbox.enqueue(session=session, now=now, promises=promises)


def join_link_problem(link: str) -> str | None:
    """What is wrong with a join link, as the person who typed it should read it; None when it will do."""
    parts = urlsplit(link)
    if parts.scheme.lower() == "http":
        return "The join link has to be secure: change “http://” at its start to “https://”."
    if parts.scheme.lower() != "https" or not parts.netloc or not link.startswith("https://"):
        return "The join link has to start with “https://”: copy the whole link from the meeting invitation."
    if any(c.isspace() or c in "<>|" for c in link):
        return "The join link holds spaces or “<”, “>” or “|”: copy the link again, on its own."
    if len(link) > 500:
        return "The join link can be 500 characters at most: use the meeting's short link."
    return None


class VisitProblems(InvalidInput):
    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = problems


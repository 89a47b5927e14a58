"""Published calendars (RFC 5545 ICS feeds): fetched politely, expanded, and cut down to what may be shown."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import icalendar
import recurring_ical_events
import x_wr_timezone

from beacon.bot.integrations.http import AddressPolicy, FeedTooLarge, RefusedAddress, SharedHttp
from beacon.bot.integrations.ics_lines import FeedLayout, NotACalendar, NotPlain, PlainEvent, read_plain, split_feed
from beacon.bot.organisation import IcsSource
from beacon.bot.services.engagements import EngagementFact, SourceAnswer

log = logging.getLogger(__name__)
# RFC 5545 3.8.1.3: a CLASS value an application does not recognise MUST be treated as PRIVATE, so only these
# (or no CLASS) are published; compared stripped and in upper case.
PUBLISHED = ("", "PUBLIC")


def _published(klass: str) -> bool:
    return klass.strip().upper() in PUBLISHED


def _utc(value: date | datetime, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(UTC)
    return datetime.combine(value, time(0, 0), tzinfo=tz).astimezone(UTC)


def parse_feed(text: str, *, source: IcsSource, tz: ZoneInfo, start: datetime, end: datetime) -> list[EngagementFact]:
    """Every occurrence between `start` and `end` that may be published (never private or confidential ones)."""
    calendar = x_wr_timezone.to_standard(icalendar.Calendar.from_ical(text))
    # Occurrences of a series are told apart by their original start; a one-off keeps its identity when moved.
    series = {str(c.get("UID")) for c in calendar.walk("VEVENT")
              if c.get("RRULE") or c.get("RDATE") or c.get("RECURRENCE-ID")}
    facts = []
    for event in recurring_ical_events.of(calendar).between(start, end):
        if not _published(str(event.get("CLASS", ""))):
            continue
        if str(event.get("STATUS", "")).strip().upper() == "CANCELLED":
            continue
        begins = event.decoded("DTSTART")
        all_day = not isinstance(begins, datetime)
        if "DTEND" in event:
            ends = event.decoded("DTEND")
        elif "DURATION" in event:
            ends = begins + event.decoded("DURATION")
        else:
            ends = begins + (timedelta(days=1) if all_day else timedelta(hours=1))
        original = event.get("RECURRENCE-ID")
        in_series = str(event.get("UID")) in series and original is not None
        occurrence = _utc(original.dt, tz).strftime("%Y%m%dT%H%M%SZ") if in_series else "single"
        location = str(event.get("LOCATION", "")).strip() or None
        facts.append(EngagementFact(
            external_id=str(event.get("UID")), occurrence=occurrence, title=str(event.get("SUMMARY", "")).strip()
            or "Leader engagement", leader=source.name, starts_at=_utc(begins, tz), ends_at=_utc(ends, tz),
            all_day=all_day, location=location, leader_user_id=source.leader_slack_id))
    return facts


# What icalendar may raise on a text it cannot read.
UNREADABLE = (ValueError, KeyError, TypeError, AttributeError, IndexError)


def plain_facts(event: PlainEvent, *, source: IcsSource, tz: ZoneInfo,
                words: dict[str, str] | None = None) -> list[EngagementFact]:
    """What `parse_feed` makes of a one-off event, from the strict reader's reading of it. `words` shares one copy
    of each place named (thousands of events name a few dozen places)."""
    if not _published(event.klass) or event.status.strip().upper() == "CANCELLED":
        return []
    location = event.location.strip() or None
    if location is not None and words is not None:
        location = words.setdefault(location, location)
    return [EngagementFact(
        external_id=event.uid, occurrence="single", title=event.summary.strip() or "Leader engagement",
        leader=source.name, starts_at=_utc(event.starts, tz), ends_at=_utc(event.ends, tz),
        all_day=not isinstance(event.starts, datetime), location=location, leader_user_id=source.leader_slack_id)]


@dataclass(frozen=True, slots=True)  # slots: one per event of a large feed, held between syncs
class _Group:
    """The facts of one group of events (one UID), for one version of its text. A one-off's facts do not depend
    on the window (`window` None; the window is applied when they are read); a series' were expanded over
    `window`."""

    facts: tuple[EngagementFact, ...]
    window: tuple[datetime, datetime] | None

    def serves(self, start: datetime, end: datetime) -> bool:
        return self.window is None or (self.window[0] <= start and end <= self.window[1])


# What is kept of one group between readings: a one-off is kept as its one fact (or None when it is not published:
# private, confidential or cancelled), which costs a large feed far less memory than a _Group each.
Cached = EngagementFact | _Group | None


def _facts(cached: Cached) -> tuple[EngagementFact, ...]:
    if cached is None:
        return ()
    return (cached,) if isinstance(cached, EngagementFact) else cached.facts


@dataclass
class FeedReading:
    """A feed read group by group: its facts, how many groups could not be read (skipped), and each group's
    facts by its SHA-256, for the next reading of a changed version of the feed."""

    facts: list[EngagementFact]
    skipped: int
    groups: dict[bytes, Cached]
    parsed: int = 0  # groups read this time (the rest came from the last reading)
    unreadable: frozenset[str] = frozenset()  # the UIDs of the groups skipped: their stored state is kept


def read_feed(text: str, *, source: IcsSource, tz: ZoneInfo, start: datetime, end: datetime,
              known: dict[bytes, Cached] | None = None) -> FeedReading:
    """The feed's facts: groups unchanged since `known` are taken from it, plain one-offs are read by the strict
    reader, everything else by icalendar (all such groups at once; one at a time if that fails, so that one bad
    event is skipped and counted rather than failing the feed). One-offs are not cut to the window here."""
    try:
        layout = split_feed(text)
    except NotACalendar:  # whatever it is, icalendar decides (and raises for what is not a calendar)
        return FeedReading(parse_feed(text, source=source, tz=tz, start=start, end=end), 0, {})
    known = known or {}
    floating = layout.x_wr_timezone() is None
    groups: dict[bytes, Cached] = {}
    left: dict[str, bytes] = {}
    words: dict[str, str] = {}
    parsed = 0
    for uid, spans in layout.groups.items():
        digest = layout.digest(uid)
        if digest in known:
            group = known[digest]
            if not isinstance(group, _Group) or group.serves(start, end):
                groups[digest] = group
                continue
        parsed += 1
        if len(spans) == 1 and uid:
            try:
                event = read_plain(layout.bodies(uid)[0], floating_allowed=floating)
            except NotPlain:
                pass  # not a plain one-off: icalendar reads it below, with the rest
            else:
                facts = plain_facts(event, source=source, tz=tz, words=words)
                groups[digest] = facts[0] if facts else None
                continue
        left[uid] = digest
    unreadable = _read_by_icalendar(layout, left, groups, source=source, tz=tz, start=start, end=end)
    return FeedReading([f for g in groups.values() for f in _facts(g)], len(unreadable), groups, parsed,
                       frozenset(uid for uid in unreadable if uid))


def _read_by_icalendar(layout: FeedLayout, left: dict[str, bytes], groups: dict[bytes, Cached], *,
                       source: IcsSource, tz: ZoneInfo, start: datetime, end: datetime) -> list[str]:
    """Read the groups the strict reader left, into `groups`; the UIDs of those that could not be read."""
    if not left:
        return []
    window = (start, end)
    try:
        facts = parse_feed(layout.calendar_text(list(left)), source=source, tz=tz, start=start, end=end)
    except UNREADABLE:
        facts = None
    if facts is not None:
        by_uid: dict[str, list[EngagementFact]] = {uid: [] for uid in left}
        # Groups are keyed by the UID's value stripped (ics_lines._uid); icalendar's UID keeps its spaces.
        if all(f.external_id.strip() in by_uid for f in facts):
            for fact in facts:
                by_uid[fact.external_id.strip()].append(fact)
            for uid, digest in left.items():
                groups[digest] = _Group(tuple(by_uid[uid]), window)
            return []
    skipped: list[str] = []
    for uid, digest in left.items():  # one at a time: find the group that cannot be read
        try:
            groups[digest] = _Group(tuple(parse_feed(layout.calendar_text([uid]), source=source, tz=tz,
                                                     start=start, end=end)), window)
        except UNREADABLE:
            skipped.append(uid)
            log.warning("calendar event could not be read; skipped", extra={"source": source.name})
    return skipped


def _day_window(start: datetime, end: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The window widened to whole local days (and a day more at the end), so that syncs later the same day find
    their window inside one already expanded."""
    first = datetime.combine(start.astimezone(tz).date(), time(0, 0), tzinfo=tz)
    last = datetime.combine(end.astimezone(tz).date() + timedelta(days=2), time(0, 0), tzinfo=tz)
    return first.astimezone(UTC), last.astimezone(UTC)


@dataclass(frozen=True)
class _Expanded:
    """A feed's occurrences over a window, for one version of its text (told apart by a SHA-256 of it)."""

    digest: bytes
    start: datetime
    end: datetime
    facts: list[EngagementFact]
    skipped: int = 0
    unreadable: frozenset[str] = frozenset()

    def answers(self, digest: bytes, start: datetime, end: datetime) -> bool:
        return digest == self.digest and self.start <= start and end <= self.end

    def answer_digest(self) -> bytes:
        """The same for the same version of the feed expanded over the same days (record_sync compares it)."""
        return hashlib.sha256(self.digest + f"{self.start.isoformat()}/{self.end.isoformat()}".encode()).digest()

    def between(self, start: datetime, end: datetime) -> list[EngagementFact]:
        """What `recurring_ical_events.between(start, end)` gives: occurrences overlapping the window (one of no
        length counts when it starts inside it)."""
        return [f for f in self.facts if f.starts_at < end and (f.ends_at > start or f.starts_at >= start)]


def _compress(text: str) -> bytes:
    """The text compressed a megabyte at a time (never a second whole copy of a large feed in memory)."""
    packer = zlib.compressobj(1)
    parts = [packer.compress(text[i:i + (1 << 20)].encode()) for i in range(0, len(text), 1 << 20)]
    return b"".join([*parts, packer.flush()])


class IcsFeed:
    """One feed. The last good copy is kept in memory, so an unchanged feed (304) is not downloaded again, and
    its occurrences are expanded once per day and version (a SHA-256 of the text, so a server that ignores ETags
    costs a download but not a parse): parsing is what a large feed costs (seconds for thousands of events)."""

    def __init__(self, source: IcsSource, *, tz: ZoneInfo, http: SharedHttp, allow_hosts: Iterable[str] = ()):
        self.source = source
        self.key, self.name = source.key, source.name
        self._tz = tz
        self._http = http
        self._policy = AddressPolicy(allow_hosts)
        # The text compressed (a tenth of its size; needed again only for a 304 on a new day), ETag, Last-Modified,
        # SHA-256.
        self._copy: tuple[bytes, str | None, str | None, bytes] | None = None
        self._expanded: _Expanded | None = None
        self._groups: dict[bytes, Cached] = {}  # each group's facts by its SHA-256, from the last reading
        self.parses = 0  # how many times the text was parsed and expanded (tests and benchmarks read it)
        self.groups_parsed = 0  # how many groups of events the last parse read again (the rest were unchanged)

    async def read(self, *, start: datetime, end: datetime) -> SourceAnswer:
        # What a failure says is a fixed phrase (and a status code): never the feed's own words, which whoever
        # serves the feed chooses, and which reach admins in Slack.
        headers = {"Accept": "text/calendar"}
        if self._copy:
            _, etag, modified, _ = self._copy
            if etag:
                headers["If-None-Match"] = etag
            if modified:
                headers["If-Modified-Since"] = modified
        try:
            response = await self._http.feeds(self._policy).get(self.source.url, headers=headers)
        except RefusedAddress:
            return self._failed("the feed's address is not allowed: it is not a public internet address (an "
                                "organisation file can allow a host under calendar.allow_hosts)")
        except FeedTooLarge:
            return self._failed("the feed is too large")
        except (aiohttp.ClientError, TimeoutError, UnicodeError) as error:
            return self._failed(f"could not fetch the feed ({type(error).__name__})")
        if response.status == 304 and self._copy:
            text, digest = "", self._copy[3]
        elif response.status == 200 and response.text is not None:
            text = response.text
            digest = response.sha256 or hashlib.sha256(text.encode()).digest()  # hashed as it arrived
        else:
            return self._failed(f"HTTP {response.status} from the feed")
        if self._expanded is None or not self._expanded.answers(digest, start, end):
            first, last = _day_window(start, end, self._tz)
            if self._copy and not text:
                text = zlib.decompress(self._copy[0]).decode()
            try:
                reading = await asyncio.to_thread(read_feed, text, source=self.source, tz=self._tz, start=first,
                                                  end=last, known=self._groups)
            except UNREADABLE:
                return self._failed("the feed is not a valid calendar")
            self.parses += 1
            self.groups_parsed = reading.parsed
            self._groups = reading.groups
            self._expanded = _Expanded(digest, first, last, reading.facts, reading.skipped, reading.unreadable)
        if response.status == 200:
            if self._copy is None or self._copy[3] != digest:
                self._copy = (_compress(text), response.etag, response.last_modified, digest)
            else:
                self._copy = (self._copy[0], response.etag, response.last_modified, digest)
        return SourceAnswer(facts=self._expanded.between(start, end), skipped=self._expanded.skipped,
                            unreadable=self._expanded.unreadable, digest=self._expanded.answer_digest())

    def _failed(self, reason: str) -> SourceAnswer:
        log.warning("calendar feed could not be read; keeping its last good data",
                    extra={"source": self.source.name, "reason": reason})
        return SourceAnswer(error=reason)

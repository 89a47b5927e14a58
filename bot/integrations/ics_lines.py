"""Reading an ICS feed by its lines, without parsing it whole: the feed is cut into its events, grouped by UID, so
that a changed feed re-reads only the events that changed, and a plain one-off event is read by a small strict
reader. Anything the strict reader is not sure of (a series, an override, a time zone only the feed defines, an
odd line) it refuses, and the caller hands that group to icalendar (bot/integrations/ics_calendar.py).

RFC 5545 facts this relies on: a content line is folded by a line break followed by one space or tab (3.1),
unfolded here exactly as icalendar does; component boundaries are `BEGIN:<name>` and `END:<name>` lines; TEXT
values escape backslash, semicolon, comma and newline (3.3.11); DATE values are 8 digits and DATE-TIME values
`YYYYMMDDTHHMMSS`, followed by `Z` for UTC or qualified by a TZID parameter (3.3.4, 3.3.5).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The same unfolding icalendar applies (icalendar/parser/content_line.py: UFOLD), so both readers see one text.
UNFOLD = re.compile(r"(?:(?<!\n)\r\n|(?<![\r\n])\n)(?:\r?\n)*[ \t]")
NEWLINE = re.compile(r"\r?\n")
BOUNDARY = re.compile(r"^(BEGIN|END):([A-Za-z0-9-]+)\r?$", re.M | re.I)
UID_LINE = re.compile(r"^UID[;:][^\r\n]*", re.M | re.I)
NAME = re.compile(r"[A-Za-z0-9-]+")
# The escapes the strict reader undoes (RFC 5545 3.3.11); any other backslash is icalendar's to read.
OTHER_ESCAPE = re.compile(r"\\(?![nN,;])")
DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
DATE_TIME = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)")
# A one-off event has none of these; an event with any of them is read by icalendar and recurring_ical_events.
SERIES = frozenset({"RRULE", "RDATE", "EXDATE", "EXRULE", "RECURRENCE-ID", "DURATION"})
READ = frozenset({"UID", "SUMMARY", "LOCATION", "DTSTART", "DTEND", "STATUS", "CLASS"})


class NotACalendar(ValueError):
    """The text is not an iCalendar stream the scanner can cut up (the caller parses it whole, or fails it)."""


class NotPlain(ValueError):
    """The strict reader will not read this event: icalendar has to."""


@dataclass
class FeedLayout:
    """A feed cut into pieces: the calendar's own lines, its time zones, and its events grouped by UID (in the
    order they first appear). `context` is a SHA-256 of what every event's meaning depends on (the calendar's
    lines and time zones): when it changes, every group is read again."""

    text: str = ""  # the unfolded feed; events are held as (start, end) in it, not copied out
    header: list[str] = field(default_factory=list)
    timezones: list[str] = field(default_factory=list)
    groups: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    context: bytes = b""

    def bodies(self, uid: str) -> list[str]:
        return [self.text[start:end] for start, end in self.groups[uid]]

    def digest(self, uid: str) -> bytes:
        """A SHA-256 of one group's events together with the context (its first 16 bytes: enough to tell versions
        apart, and a large feed keeps one per event)."""
        hashed = hashlib.sha256(self.context)
        for start, end in self.groups[uid]:
            hashed.update(self.text[start:end].encode())
            hashed.update(b"\0")
        return hashed.digest()[:16]

    def x_wr_timezone(self) -> str | None:
        for part in self.header:
            for line in NEWLINE.split(part):
                if line[:14].upper() in ("X-WR-TIMEZONE:", "X-WR-TIMEZONE;"):
                    return line.partition(":")[2].strip()
        return None

    def calendar_text(self, uids: list[str]) -> str:
        """A calendar of just these groups (with the feed's own lines and time zones), for icalendar to parse."""
        parts = ["BEGIN:VCALENDAR", *(p.strip("\r\n") for p in self.header if p.strip()),
                 *(t.strip("\r\n") for t in self.timezones)]
        for uid in uids:
            parts += [body.strip("\r\n") for body in self.bodies(uid)]
        parts.append("END:VCALENDAR")
        return "\r\n".join(parts) + "\r\n"


def split_feed(text: str) -> FeedLayout:
    """Cut a feed into its components with one pass of a regular expression over its unfolded text: events are
    never parsed here. Raises NotACalendar if the BEGIN/END lines do not nest."""
    unfolded = UNFOLD.sub("", text)
    layout = FeedLayout(text=unfolded)
    stack: list[tuple[str, int]] = []
    nested: list[tuple[int, int]] = []  # spans of components inside the current event (VALARM)
    top = -1  # where the calendar's own lines resume, between its components
    calendars = 0
    for match in BOUNDARY.finditer(unfolded):
        begin, name = match.group(1).upper() == "BEGIN", match.group(2).upper()
        if begin and name == "VEVENT" and any(n == "VEVENT" for n, _ in stack):
            # icalendar reads an event inside an event as one more; the scanner would drop it.
            raise NotACalendar("an event inside an event")
        if begin:
            if not stack:
                if name != "VCALENDAR":
                    raise NotACalendar(f"a {name} outside a calendar")
                calendars += 1
                top = match.end()
            elif len(stack) == 1 and top >= 0:
                _keep(layout.header, unfolded[top:match.start()])
                top = -1
            stack.append((name, match.start()))
            continue
        if not stack or stack[-1][0] != name:
            raise NotACalendar("BEGIN and END lines do not match")
        _, begun = stack.pop()
        if len(stack) == 2:
            nested.append((begun, match.end()))
        elif len(stack) == 1:
            if name == "VEVENT":
                uid = _uid(unfolded, begun, match.end(), nested)
                layout.groups.setdefault(uid, []).append((begun, match.end()))
            elif name == "VTIMEZONE":
                layout.timezones.append(unfolded[begun:match.end()])
            # Other components (VTODO, VJOURNAL, VFREEBUSY) are never engagements.
            nested = []
            top = match.end()
        elif not stack and top >= 0:
            _keep(layout.header, unfolded[top:match.start()])
            top = -1
    if stack or not calendars:
        raise NotACalendar("not a complete calendar")
    context = hashlib.sha256()
    for part in (*layout.header, "\0", *layout.timezones):
        context.update(part.encode())
    layout.context = context.digest()
    return layout


def _keep(header: list[str], lines: str) -> None:
    """The calendar's own lines between two components; nothing between most of them."""
    if lines.strip():
        header.append(lines)


def _uid(text: str, start: int, end: int, nested: list[tuple[int, int]]) -> str:
    """The event's own UID (not one of an alarm inside it) as a grouping key: its value, after the first colon
    outside quotes, stripped, so that "UID:a", "uid:a" and "UID;X-A=1: a" are one group as they are one UID to
    icalendar; "" when it has none."""
    for match in UID_LINE.finditer(text, start, end):
        if not any(a <= match.start() < b for a, b in nested):
            return _value(match.group(0).rstrip("\r")).strip()
    return ""


def _value(line: str) -> str:
    """What follows a content line's first colon outside a quoted parameter value."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            return line[i + 1:]
    return ""


@dataclass(frozen=True)
class PlainEvent:
    """A one-off event as the strict reader read it; times as written (aware, naive meaning the trust's time
    zone, or dates)."""

    uid: str
    summary: str
    location: str
    starts: date | datetime
    ends: date | datetime
    status: str
    klass: str


def read_plain(body: str, *, floating_allowed: bool) -> PlainEvent:
    """Read one VEVENT that is a plain one-off, or raise NotPlain. `floating_allowed` is False when the calendar
    names an X-WR-TIMEZONE (icalendar then gives floating times that zone: left to it)."""
    values: dict[str, tuple[str, str]] = {}  # name -> (parameters, value)
    depth = 0
    lines = NEWLINE.split(body)
    last = len(lines) - 1
    while last > 0 and not lines[last].strip("\r"):
        last -= 1
    for number, line in enumerate(lines[1:], 1):
        if not line:
            continue
        head = line[:6].upper()
        if head[:5] == "BEGIN" or head[:3] == "END":
            named = NAME.match(line)
            if named is not None and named.group(0).upper() in ("BEGIN", "END"):
                # Counted only as split_feed counts boundaries (a plain name, no parameters): otherwise the two
                # would disagree on where a nested component ends, and a CLASS or STATUS after it be missed.
                boundary = BOUNDARY.fullmatch(line)
                if boundary is None:
                    raise NotPlain("a BEGIN or END line split_feed does not count")
                depth += 1 if boundary.group(1).upper() == "BEGIN" else -1
                if depth < 0 and number != last:
                    raise NotPlain("an END before the event's end")
                continue
        if depth:  # an alarm or other component inside the event: nothing an engagement needs
            continue
        name, params, value = _parts(line)
        if name in SERIES:
            raise NotPlain(name)
        if name in READ:
            if name in values:
                raise NotPlain(f"two {name}")
            values[name] = (params, value)
    if depth != -1:
        raise NotPlain("nested components that do not close")
    if "UID" not in values or "DTSTART" not in values:
        raise NotPlain("no UID or DTSTART")
    starts = _when(*values["DTSTART"], floating_allowed=floating_allowed)
    if "DTEND" in values:
        ends = _when(*values["DTEND"], floating_allowed=floating_allowed)
        if isinstance(ends, datetime) != isinstance(starts, datetime):
            raise NotPlain("a date and a time")
        if isinstance(ends, datetime) and isinstance(starts, datetime) and (
                (ends.tzinfo is None) != (starts.tzinfo is None)):
            raise NotPlain("one time floating, the other not")
        if ends < starts:
            raise NotPlain("DTEND before DTSTART")
    else:
        ends = starts if isinstance(starts, datetime) else starts + timedelta(days=1)
    uid = values["UID"][1]
    if "\\" in uid:
        raise NotPlain("an escaped UID")
    return PlainEvent(uid=uid, summary=_text(values, "SUMMARY"), location=_text(values, "LOCATION"),
                      starts=starts, ends=ends, status=_text(values, "STATUS"), klass=_text(values, "CLASS"))


def _parts(line: str) -> tuple[str, str, str]:
    """(name in upper case, raw parameters, raw value) of one content line."""
    split = NAME.match(line)
    if split is None or split.end() >= len(line) or line[split.end()] not in ":;":
        raise NotPlain("not a plain content line")
    name = line[:split.end()].upper()
    if line[split.end()] == ":":
        return name, "", line[split.end() + 1:]
    rest = line[split.end() + 1:]
    colon = rest.find(":")
    quote = rest.find('"')
    if quote != -1 and quote < colon:  # a quoted parameter value may hold a colon
        in_quotes = False
        colon = -1
        for i, ch in enumerate(rest):
            if ch == '"':
                in_quotes = not in_quotes
            elif ch == ":" and not in_quotes:
                colon = i
                break
    if colon < 1 or "\\" in rest[:colon]:
        raise NotPlain("parameters the strict reader does not read")
    return name, rest[:colon], rest[colon + 1:]


def _text(values: dict[str, tuple[str, str]], name: str) -> str:
    """A TEXT value unescaped (RFC 5545 3.3.11). Any other backslash (an escaped backslash, Outlook's "\\:") is
    left to icalendar, whose unescaping of those differs from a single pass."""
    if name not in values:
        return ""
    value = values[name][1]
    if "\\" not in value:
        return value
    if OTHER_ESCAPE.search(value):
        raise NotPlain("an escape other than \\n, \\N, \\, or \\; (icalendar's to read)")
    return value.replace("\\N", "\n").replace("\\n", "\n").replace("\\,", ",").replace("\\;", ";")


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise NotPlain(f"time zone {name!r}") from error


def _when(params: str, value: str, *, floating_allowed: bool) -> date | datetime:
    tzid, kind = None, None
    if params:
        if '"' in params:
            raise NotPlain("a quoted parameter on a time")
        for param in params.split(";"):
            key, _, val = param.partition("=")
            key = key.upper()
            if key == "TZID":
                tzid = val
            elif key == "VALUE":
                kind = val.upper()
            else:
                raise NotPlain(f"parameter {key} on a time")
    if kind == "DATE" or (kind is None and len(value) == 8):
        found = DATE.fullmatch(value)
        if found is None or tzid is not None:
            raise NotPlain("not a DATE")
        try:
            return date(int(found[1]), int(found[2]), int(found[3]))
        except ValueError as error:
            raise NotPlain("not a date") from error
    if kind not in (None, "DATE-TIME"):
        raise NotPlain(f"VALUE={kind}")
    found = DATE_TIME.fullmatch(value)
    if found is None:
        raise NotPlain("not a DATE-TIME")
    try:
        moment = datetime(int(found[1]), int(found[2]), int(found[3]), int(found[4]), int(found[5]), int(found[6]))
    except ValueError as error:
        raise NotPlain("not a date and time") from error
    if found[7]:
        if tzid is not None:
            raise NotPlain("UTC and a TZID")
        return moment.replace(tzinfo=_zone("UTC"))
    if tzid is not None:
        if not tzid or tzid.startswith("/"):
            raise NotPlain("a TZID the strict reader does not resolve")
        return moment.replace(tzinfo=_zone(tzid))
    if not floating_allowed:
        raise NotPlain("a floating time in a calendar with X-WR-TIMEZONE")
    return moment

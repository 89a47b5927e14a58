"""The fast reading of a feed (cut into groups by UID, plain one-offs read by the strict reader, the rest by
icalendar, unchanged groups reused) gives exactly the engagements icalendar's whole parse gives, for random feeds
written the many ways RFC 5545 allows: folded lines, escaped text, time zones, all-day events, cancelled and
private events, alarms, series with overrides, repeated UIDs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beacon.bot.integrations.ics_calendar import FeedReading, parse_feed, read_feed
from beacon.bot.integrations.ics_lines import NotPlain, read_plain, split_feed
from beacon.bot.organisation import IcsSource

TZ = ZoneInfo("Europe/London")
SOURCE = IcsSource(type="ics", name="Chief Executive", url="http://127.0.0.1/feed.ics", leader_slack_id="U0CEO")
START, END = datetime(2026, 11, 22, tzinfo=UTC), datetime(2027, 1, 10, tzinfo=UTC)
FIRST = datetime(2026, 11, 25, 0, 0)
ZONES = ["Europe/London", "America/New_York", "UTC", "Asia/Kolkata", "Australia/Sydney"]
# Text staff may type into a title or a place: the characters RFC 5545 escapes, quotes, colons, any Unicode.
TEXT = st.text(alphabet=st.one_of(st.sampled_from(list(",;:\\\n\"'<>&  ")), st.characters(
    blacklist_categories=("Cs", "Cc"))), max_size=40)


def escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str, width: int, tab: bool) -> list[str]:
    """A content line folded every `width` characters (RFC 5545 3.1 counts octets; any place is allowed here)."""
    if len(line) <= width:
        return [line]
    return [line[:width]] + [("\t" if tab else " ") + line[i:i + width] for i in range(width, len(line), width)]


@st.composite
def moments(draw: st.DrawFn) -> tuple[str, str, datetime | None, bool]:
    """(DTSTART line's parameters, its value, the start as a naive local time, all day)."""
    begins = FIRST + timedelta(minutes=draw(st.integers(0, 30 * 24 * 60)))
    kind = draw(st.sampled_from(["utc", "tzid", "floating", "date", "value-date"]))
    if kind == "utc":
        return "", f"{begins:%Y%m%dT%H%M%S}Z", begins, False
    if kind == "tzid":
        return f";TZID={draw(st.sampled_from(ZONES))}", f"{begins:%Y%m%dT%H%M%S}", begins, False
    if kind == "floating":
        return "", f"{begins:%Y%m%dT%H%M%S}", begins, False
    return (";VALUE=DATE" if kind == "value-date" else ""), f"{begins:%Y%m%d}", begins, True


@st.composite
def events(draw: st.DrawFn, uid: str) -> list[str]:
    params, value, begins, all_day = draw(moments())
    assert begins is not None
    lines = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20261101T000000Z", f"DTSTART{params}:{value}"]
    if draw(st.booleans()):
        if all_day:
            ends = begins + timedelta(days=draw(st.integers(1, 3)))
            lines.append(f"DTEND{params}:{ends:%Y%m%d}")
        else:
            ends = begins + timedelta(minutes=draw(st.integers(0, 600)))
            lines.append(f"DTEND{params}:{ends:%Y%m%dT%H%M%S}{'Z' if value.endswith('Z') else ''}")
    summary = draw(st.one_of(st.none(), TEXT))
    if summary is not None:
        extra = draw(st.sampled_from(["", ";LANGUAGE=en-GB", ';ALTREP="http://example.org:80/a;b"']))
        lines.append(f"SUMMARY{extra}:{escape(summary)}")
    location = draw(st.one_of(st.none(), TEXT))
    if location is not None:
        lines.append(f"LOCATION:{escape(location)}")
    status = draw(st.sampled_from([None, "CONFIRMED", "CANCELLED", "TENTATIVE", "cancelled"]))
    if status:
        lines.append(f"STATUS:{status}")
    klass = draw(st.sampled_from([None, "PUBLIC", "PRIVATE", "CONFIDENTIAL", "private", "X-SECRET", "PRIVATE ",
                                  " CONFIDENTIAL", "public"]))
    if klass:
        lines.append(f"CLASS:{klass}")
    lines.append(f"SEQUENCE:{draw(st.integers(0, 5))}")
    if draw(st.integers(0, 4)) == 0:
        lines.append(f"RRULE:FREQ={draw(st.sampled_from(['DAILY', 'WEEKLY']))};COUNT={draw(st.integers(1, 4))}")
    if draw(st.integers(0, 5)) == 0:
        lines += ["BEGIN:VALARM", "ACTION:DISPLAY", "UID:alarm-uid", "DESCRIPTION:Reminder", "TRIGGER:-PT15M",
                  "END:VALARM"]
    lines.append("END:VEVENT")
    if draw(st.booleans()):  # some writers put property names in lower case
        lines = [line if line.startswith(("BEGIN", "END", "UID")) else line[:3].lower() + line[3:]
                 for line in lines]
    return lines


@st.composite
def feeds(draw: st.DrawFn) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Beacon tests//EN"]
    # The calendar's own zone, which icalendar (x_wr_timezone) gives its floating times: the trust's, another
    # (a calendar kept in UTC, or in New York), or none.
    zone = draw(st.sampled_from([None, "Europe/London", "UTC", "America/New_York"]))
    if zone:
        lines.append(f"X-WR-TIMEZONE:{zone}")
    uids = draw(st.lists(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9.@_-]{0,20}", fullmatch=True), min_size=1,
                         max_size=12))
    for uid in uids:  # repeated UIDs included: a second VEVENT of one UID is icalendar's to read
        lines += draw(events(uid))
    lines.append("END:VCALENDAR")
    width, tab = draw(st.integers(20, 75)), draw(st.booleans())
    folded = [part for line in lines for part in fold(line, width, tab)]
    return ("\n" if draw(st.booleans()) else "\r\n").join(folded) + "\r\n"


def key(facts: list) -> list[tuple]:
    return sorted((f.external_id, f.occurrence, f.title, f.starts_at, f.ends_at, f.all_day, f.location,
                   f.leader, f.leader_user_id) for f in facts)


def windowed(reading: FeedReading) -> list:
    return [f for f in reading.facts if f.starts_at < END and (f.ends_at > START or f.starts_at >= START)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feeds())
def test_the_fast_reading_equals_icalendars(text: str) -> None:
    expected = parse_feed(text, source=SOURCE, tz=TZ, start=START, end=END)
    reading = read_feed(text, source=SOURCE, tz=TZ, start=START, end=END)
    assert reading.skipped == 0
    assert key(windowed(reading)) == key(expected)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feeds(), feeds())
def test_a_changed_feed_read_from_the_last_reading_equals_icalendars(before: str, after: str) -> None:
    # The second version shares the first's events (the unchanged groups come from the last reading).
    end = after.rindex("END:VCALENDAR")
    merged = after[:end] + before[before.find("BEGIN:VEVENT"):]
    first = read_feed(before, source=SOURCE, tz=TZ, start=START, end=END)
    second = read_feed(merged, source=SOURCE, tz=TZ, start=START, end=END, known=first.groups)
    assert key(windowed(second)) == key(parse_feed(merged, source=SOURCE, tz=TZ, start=START, end=END))


def test_the_strict_reader_reads_plain_events_and_refuses_the_rest() -> None:
    body = ("BEGIN:VEVENT\r\nUID:a@x\r\nDTSTART;TZID=Europe/London:20261201T093000\r\nDTEND;TZID=Europe/London:"
            "20261201T103000\r\nSUMMARY:Visit\\, with \\;care\\nand more\r\nLOCATION:Chelmsford\r\nEND:VEVENT")
    event = read_plain(body, floating_allowed=True)
    assert (event.summary, event.location) == ("Visit, with ;care\nand more", "Chelmsford")
    assert event.starts == datetime(2026, 12, 1, 9, 30, tzinfo=TZ)
    for refused in ("RRULE:FREQ=DAILY", "RECURRENCE-ID:20261201T093000Z", "EXDATE:20261201T093000Z",
                    "RDATE:20261202T093000Z", "DURATION:PT1H", "SUMMARY:two\\\\slashes", "SUMMARY:again"):
        try:
            read_plain(body.replace("END:VEVENT", f"{refused}\r\nEND:VEVENT"), floating_allowed=True)
        except NotPlain:
            continue
        raise AssertionError(f"read {refused}")
    try:
        read_plain(body.replace(";TZID=Europe/London", ";TZID=GMT Standard Time", 1), floating_allowed=True)
    except NotPlain:
        pass
    else:
        raise AssertionError("read a Windows time zone name")


def test_one_unreadable_event_is_skipped_and_counted_and_the_rest_are_read() -> None:
    good = "".join(f"BEGIN:VEVENT\r\nUID:ok-{i}\r\nDTSTART:2026120{i}T090000Z\r\nSUMMARY:Visit {i}\r\nEND:VEVENT\r\n"
                   for i in range(1, 4))
    bad = "BEGIN:VEVENT\r\nUID:bad\r\nDTSTART:not a time\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\n"
    text = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{good}{bad}END:VCALENDAR\r\n"
    reading = read_feed(text, source=SOURCE, tz=TZ, start=START, end=END)
    assert reading.skipped == 1
    assert sorted(f.title for f in reading.facts) == ["Visit 1", "Visit 2", "Visit 3"]


def test_a_changed_feed_reads_again_only_the_groups_that_changed() -> None:
    text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + "".join(
        f"BEGIN:VEVENT\r\nUID:e{i}\r\nDTSTART:20261201T{i:02d}0000Z\r\nSUMMARY:Visit {i}\r\nEND:VEVENT\r\n"
        for i in range(10)) + "END:VCALENDAR\r\n"
    first = read_feed(text, source=SOURCE, tz=TZ, start=START, end=END)
    changed = text.replace("SUMMARY:Visit 3\r\n", "SUMMARY:Visit 3 (moved)\r\n")
    second = read_feed(changed, source=SOURCE, tz=TZ, start=START, end=END, known=first.groups)
    assert (first.parsed, second.parsed) == (10, 1)
    assert "Visit 3 (moved)" in {f.title for f in second.facts}
    # A change to the calendar's own lines (its time zone) reads every group again.
    third = read_feed(changed.replace("VERSION:2.0", "VERSION:2.0\r\nX-WR-TIMEZONE:Europe/London"),
                      source=SOURCE, tz=TZ, start=START, end=END, known=second.groups)
    assert third.parsed == 10


def test_a_text_that_is_not_a_calendar_is_still_refused() -> None:
    for text in ("<html>Sign in</html>", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VCALENDAR\r\n"):
        try:
            read_feed(text, source=SOURCE, tz=TZ, start=START, end=END)
        except ValueError:
            continue
        raise AssertionError(text)
    assert split_feed("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n").groups == {}


# -- inputs where the fast reading once differed from icalendar's (a review of the merge) ----------------------

YEAR_END = datetime(2027, 7, 1, tzinfo=UTC)


def calendar(*events: list[str], head: tuple[str, ...] = ()) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//review//EN", *head]
    for event in events:
        lines += ["BEGIN:VEVENT", *event, "END:VEVENT"]
    return "\r\n".join([*lines, "END:VCALENDAR", ""])


def both(text: str) -> tuple[list, list]:
    """(the fast reading, icalendar's), over a window reaching the summer."""
    expected = key(parse_feed(text, source=SOURCE, tz=TZ, start=START, end=YEAR_END))
    reading = read_feed(text, source=SOURCE, tz=TZ, start=START, end=YEAR_END)
    return key([f for f in reading.facts if f.starts_at < YEAR_END and (f.ends_at > START or f.starts_at >= START)]
               ), expected


def test_the_calendars_own_time_zone_is_found() -> None:
    layout = split_feed(calendar(["UID:a", "DTSTART:20270601T090000"], head=("X-WR-TIMEZONE:UTC",)))
    assert layout.x_wr_timezone() == "UTC"
    assert split_feed(calendar(["UID:a"], head=("x-wr-timezone;VALUE=TEXT:UTC",))).x_wr_timezone() == "UTC"


def test_floating_times_of_a_calendar_kept_in_another_zone_are_read_in_that_zone() -> None:
    # A summer meeting at 09:00 in a calendar kept in UTC is 09:00 UTC (not 09:00 BST); in New York, 14:00 UTC.
    for zone, day in (("UTC", "20270601"), ("America/New_York", "20261201")):
        got, expected = both(calendar(["UID:a@x", f"DTSTART:{day}T090000", f"DTEND:{day}T100000", "SUMMARY:Visit"],
                                      head=(f"X-WR-TIMEZONE:{zone}",)))
        assert got == expected, zone


def test_a_private_event_is_never_published_whatever_its_nesting() -> None:
    # BEGIN/END lines the scanner and the strict reader could count differently (a parameter on END, a name that
    # is no boundary): the strict reader must not stay "inside" and miss the CLASS or STATUS after them.
    for nesting in (["BEGIN:X-NOTE 1", "END;X-A=1:X-NOTE 1"], ["BEGIN;X=1:VALARM", "END:VALARM"],
                    ["END;X=1:X-THING"]):
        for hidden in ("CLASS:PRIVATE", "CLASS:CONFIDENTIAL", "STATUS:CANCELLED"):
            text = calendar(["UID:a@x", "DTSTART:20261201T090000Z", "SUMMARY:Disciplinary panel", *nesting, hidden])
            try:
                expected = key(parse_feed(text, source=SOURCE, tz=TZ, start=START, end=YEAR_END))
            except ValueError:
                expected = []
            reading = read_feed(text, source=SOURCE, tz=TZ, start=START, end=YEAR_END)
            assert expected == [] and reading.facts == [], (nesting, hidden)


def test_a_class_other_than_public_is_never_published() -> None:
    # RFC 5545 3.8.1.3: a CLASS value an application does not recognise MUST be treated as PRIVATE; a stray
    # space (a hand-edited feed) does not make a private meeting public.
    for klass in ("CLASS:X-SECRET", "CLASS:PRIVATE ", "CLASS: CONFIDENTIAL"):
        text = calendar(["UID:a@x", "DTSTART:20261201T090000Z", "SUMMARY:Disciplinary panel", klass])
        assert parse_feed(text, source=SOURCE, tz=TZ, start=START, end=END) == [], klass
        assert read_feed(text, source=SOURCE, tz=TZ, start=START, end=END).facts == [], klass
    for klass in ("CLASS:PUBLIC", "CLASS:public ", "CLASS:"):
        text = calendar(["UID:a@x", "DTSTART:20261201T090000Z", "SUMMARY:Open day", klass])
        assert len(read_feed(text, source=SOURCE, tz=TZ, start=START, end=END).facts) == 1, klass


def test_an_escaped_colon_is_unescaped_as_icalendar_does() -> None:
    # Outlook and others write "\:" in text; icalendar shows "Room: 4".
    got, expected = both(calendar(["UID:a@x", "DTSTART:20261201T090000Z", "SUMMARY:Board\\: budget",
                                   "LOCATION:Room\\: 4", "DESCRIPTION:x\\y"]))
    assert got == expected
    assert [f.location for f in read_feed(calendar(["UID:a@x", "DTSTART:20261201T090000Z", "LOCATION:Room\\: 4"]),
                                          source=SOURCE, tz=TZ, start=START, end=END).facts] == ["Room: 4"]


def test_an_event_nested_in_another_is_read_as_icalendar_reads_it() -> None:
    text = calendar(["UID:outer@x", "DTSTART:20261201T090000Z", "SUMMARY:Outer", "BEGIN:VEVENT", "UID:inner@x",
                     "DTSTART:20261203T090000Z", "SUMMARY:Inner", "END:VEVENT"])
    got, expected = both(text)
    assert got == expected


def test_one_uid_written_two_ways_is_one_group() -> None:
    # "UID:", "uid:" and "UID;X-A=1:" name one UID to icalendar: one group, read by icalendar as one.
    for other in ("uid:a@x", "UID;X-A=1:a@x", "UID: a@x"):
        got, expected = both(calendar(["UID:a@x", "DTSTART:20261201T090000Z", "SUMMARY:one"],
                                      [other, "DTSTART:20261202T090000Z", "SUMMARY:two"]))
        assert got == expected, other

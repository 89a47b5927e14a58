"""Review of the `calendar` merge (issue #17 items 3-4): inputs where the fast reading differs from icalendar's, and
ways the folded announcement breaks promises individual announcements keep. Each test fails on 091aaa5."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from beacon.bot.integrations.ics_calendar import parse_feed, read_feed
from beacon.bot.integrations.ics_lines import split_feed
from beacon.bot.local_slack import LocalSlack
from beacon.bot.models import Engagement, EngagementStatus
from beacon.bot.organisation import IcsSource, Organisation
from tests.fakes.feeds import FeedServer
from tests.harness import CAROL, ENGAGEMENT, Beacon, organisation_for, settle

TZ = ZoneInfo("Europe/London")
SOURCE = IcsSource(type="ics", name="Chief Executive", url="http://127.0.0.1/feed.ics", leader_slack_id="U0CEO")
START, END = datetime(2026, 11, 22, tzinfo=UTC), datetime(2027, 7, 1, tzinfo=UTC)


def _cal(*events: list[str], head: tuple[str, ...] = ()) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//review//EN", *head]
    for event in events:
        lines += ["BEGIN:VEVENT", *event, "END:VEVENT"]
    return "\r\n".join([*lines, "END:VCALENDAR", ""])


def _key(facts: list) -> list[tuple]:
    return sorted((f.external_id, f.occurrence, f.title, f.starts_at, f.ends_at, f.all_day, f.location)
                  for f in facts)


def _both(text: str) -> tuple[list, list]:
    expected = _key(parse_feed(text, source=SOURCE, tz=TZ, start=START, end=END))
    reading = read_feed(text, source=SOURCE, tz=TZ, start=START, end=END)
    got = _key([f for f in reading.facts if f.starts_at < END and (f.ends_at > START or f.starts_at >= START)])
    return got, expected


# -- the fast reader against icalendar ----------------------------------------------------------------------

def test_x_wr_timezone_is_found() -> None:
    # FeedLayout.x_wr_timezone compares line[:15] with the 14-character "X-WR-TIMEZONE:": it never matches, so
    # floating times of a calendar that names its zone are read by the strict reader in the trust's zone.
    layout = split_feed(_cal(["UID:a", "DTSTART:20270601T090000"], head=("X-WR-TIMEZONE:UTC",)))
    assert layout.x_wr_timezone() == "UTC"


def test_floating_times_of_a_calendar_in_another_zone_are_read_as_icalendar_reads_them() -> None:
    # A summer meeting at 09:00 in a calendar kept in UTC: icalendar says 09:00 UTC, the fast path 08:00 UTC
    # (09:00 BST), an hour early; a calendar in New York is five hours out.
    for zone, day in (("UTC", "20270601"), ("America/New_York", "20261201")):
        got, expected = _both(_cal(["UID:a@x", f"DTSTART:{day}T090000", f"DTEND:{day}T100000", "SUMMARY:Visit"],
                                   head=(f"X-WR-TIMEZONE:{zone}",)))
        assert got == expected, zone


def test_a_private_event_is_never_published_whatever_its_nesting() -> None:
    # A line the strict reader counts as a BEGIN ("BEGIN:" and a name the scanner does not treat as a boundary),
    # closed by an END line with a parameter that only icalendar counts: the strict reader stays "inside" it and
    # never sees CLASS:PRIVATE, which icalendar gives the event. icalendar publishes nothing; the fast path
    # publishes the private meeting.
    for hidden in ("CLASS:PRIVATE", "CLASS:CONFIDENTIAL", "STATUS:CANCELLED"):
        text = _cal(["UID:a@x", "DTSTART:20261201T090000Z", "SUMMARY:Disciplinary panel", "BEGIN:X-NOTE 1",
                     "END;X-A=1:X-NOTE 1", hidden])
        got, expected = _both(text)
        assert expected == [], "icalendar reads it as private / cancelled"
        assert got == expected, hidden


def test_a_class_other_than_public_is_never_published() -> None:
    # Not the merge's doing (parse_feed did the same before), but both readers publish these: RFC 5545 3.8.1.3
    # says a CLASS value an application does not recognise MUST be treated as PRIVATE, and a stray space (a
    # hand-edited feed) does not make a private meeting public.
    for klass in ("CLASS:X-SECRET", "CLASS:PRIVATE ", "CLASS: CONFIDENTIAL"):
        text = _cal(["UID:a@x", "DTSTART:20261201T090000Z", "SUMMARY:Disciplinary panel", klass])
        assert parse_feed(text, source=SOURCE, tz=TZ, start=START, end=END) == [], klass
        assert read_feed(text, source=SOURCE, tz=TZ, start=START, end=END).facts == [], klass


def test_an_escaped_colon_is_unescaped_as_icalendar_does() -> None:
    # Outlook and others write "\:" in text; icalendar shows "Room: 4", the strict reader "Room\: 4".
    got, expected = _both(_cal(["UID:a@x", "DTSTART:20261201T090000Z", "SUMMARY:Board\\: budget",
                                "LOCATION:Room\\: 4"]))
    assert got == expected


def test_an_event_nested_in_another_is_read_or_counted() -> None:
    # icalendar reads both events; the scanner drops the inner one without counting it as skipped.
    text = _cal(["UID:outer@x", "DTSTART:20261201T090000Z", "SUMMARY:Outer", "BEGIN:VEVENT", "UID:inner@x",
                 "DTSTART:20261203T090000Z", "SUMMARY:Inner", "END:VEVENT"])
    got, expected = _both(text)
    reading = read_feed(text, source=SOURCE, tz=TZ, start=START, end=END)
    assert got == expected or reading.skipped == 1


def test_one_uid_written_two_ways_is_one_engagement() -> None:
    # "UID:" and "uid:" (or "UID;X-A=1:") are one UID to icalendar, two groups to the scanner: the strict reader
    # then reads both, giving two facts with one key (external_id, "single"); which is stored depends on order.
    got, expected = _both(_cal(["UID:a@x", "DTSTART:20261201T090000Z", "SUMMARY:one"],
                               ["uid:a@x", "DTSTART:20261202T090000Z", "SUMMARY:two"]))
    assert got == expected


# -- syncing and announcing ---------------------------------------------------------------------------------

DAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _event(uid: str, start: datetime, title: str, *, dtstart: str | None = None) -> list[str]:
    return [f"UID:{uid}@tests", dtstart or f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
            f"DTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}", f"SUMMARY:{title}",
            "LOCATION:Chelmsford Ambulance Station"]


def _visits(count: int, *, first: timedelta = timedelta(days=1, hours=1), skip: set[int] = frozenset()) -> str:
    return _cal(*(_event(f"v{i}", DAY + first + timedelta(days=i), f"Visit {i}") for i in range(count)
                  if i not in skip))


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    server = await FeedServer(feeds={"ceo": _cal()}).start()
    yield server
    await server.stop()


@pytest.fixture
def organisation(slack: LocalSlack, feeds: FeedServer) -> Organisation:
    return organisation_for(slack.workspace, delivery={"posts_per_minute": 60000, "per_channel_seconds": 0},
                            calendar={"allow_hosts": ["127.0.0.1"], "sources": [
                                {"type": "ics", "name": "Chief Executive", "url": feeds.url("ceo"),
                                 "leader_slack_id": CAROL}]})


async def _sync(beacon: Beacon, *, send: bool = True) -> None:
    await beacon.deps.calendar_sync.run()
    if send:
        for _ in range(3):
            await beacon.deps.dispatcher.run_once()
            await settle()


async def _engagement(beacon: Beacon, uid: str) -> Engagement:
    async with beacon.deps.db.transaction() as session:
        found = (await session.scalars(select(Engagement).where(Engagement.external_id == f"{uid}@tests"))).one()
        session.expunge(found)
        return found


async def test_an_event_that_becomes_unreadable_is_not_announced_as_cancelled(beacon: Beacon,
                                                                               feeds: FeedServer) -> None:
    # Before the merge a feed icalendar could not read was failed whole and its last good data kept. Now the one
    # bad event is "skipped" — and then missing from the answer, so record_sync cancels it and posts "This has
    # been cancelled" in the announcement's thread, for a visit that is still going ahead (its writer mistyped a
    # time, or the strict reader and icalendar both refuse a form they do not know).
    visit = DAY + timedelta(days=2, hours=1)
    feeds.feeds["ceo"] = _cal(_event("a", visit, "Station visit"), _event("b", visit + timedelta(days=1), "Other"))
    await _sync(beacon)
    assert (await _engagement(beacon, "a")).announced_ts
    feeds.feeds["ceo"] = _cal(_event("a", visit, "Station visit", dtstart=f"DTSTART:{visit:%Y%m%dT%H%M}Z"),
                              _event("b", visit + timedelta(days=1), "Other"))
    reports = await beacon.deps.calendar_sync.run()
    for _ in range(3):
        await beacon.deps.dispatcher.run_once()
        await settle()
    assert reports["Chief Executive"].skipped == 1
    assert (await _engagement(beacon, "a")).status == EngagementStatus.SCHEDULED
    assert not any("cancelled" in m.text for m in beacon.ws.messages(ENGAGEMENT))


async def test_a_folded_engagement_cancelled_later_is_not_left_showing(beacon: Beacon, feeds: FeedServer) -> None:
    # Folded engagements never get announced_ts, so _cancel and _note_change tell nobody: the summary still lists
    # "Visit 0" as coming up, and no note says it is off (an individual announcement is edited and gets a note).
    feeds.feeds["ceo"] = _visits(13)
    await _sync(beacon)
    posted = beacon.ws.messages(ENGAGEMENT)
    assert len(posted) == 1 and "Visit 0" in json.dumps(posted[0].blocks)
    feeds.feeds["ceo"] = _visits(13, skip={0})
    await _sync(beacon)
    assert (await _engagement(beacon, "v0")).status == EngagementStatus.CANCELLED
    messages = beacon.ws.messages(ENGAGEMENT)
    told = [m for m in messages if "cancelled" in m.text.lower()]
    assert told or messages[0].edited, "the summary still shows a cancelled visit and nobody is told"


async def test_a_fold_is_not_posted_for_engagements_cancelled_before_it_was_sent(beacon: Beacon,
                                                                                   feeds: FeedServer) -> None:
    # A calendar imported by mistake (13 visits) and withdrawn before the outbox sends the summary: each
    # individual announcement would be withdrawn by _cancel (outbox.cancel_unsent, source ANNOUNCEMENT); the
    # folded post has no source_id and is sent anyway, announcing 13 visits that are all cancelled.
    feeds.feeds["ceo"] = _visits(13)
    await _sync(beacon, send=False)
    # One other visit stays (an empty answer is only acted on the second time).
    feeds.feeds["ceo"] = _cal(_event("other", DAY + timedelta(days=3, hours=5), "Other"))
    await _sync(beacon)
    async with beacon.deps.db.transaction() as session:
        statuses = (await session.scalars(select(Engagement.status).where(
            Engagement.external_id != "other@tests"))).all()
    assert set(statuses) == {EngagementStatus.CANCELLED}
    assert not any("newly in the calendar" in m.text for m in beacon.ws.messages(ENGAGEMENT))


async def test_a_fold_does_not_expire_with_its_first_engagement(beacon: Beacon, feeds: FeedServer) -> None:
    # The folded post expires when its FIRST engagement starts. If that one is 30 minutes away and the channel is
    # an hour behind (the very case folding is for), the post expires and the other twelve, days away, are never
    # announced at all (they are already marked announcement_queued). One by one, only the first would be lost.
    feeds.feeds["ceo"] = _visits(13, first=timedelta(minutes=30))
    await _sync(beacon, send=False)
    beacon.clock.advance(timedelta(hours=1))
    for _ in range(3):
        await beacon.deps.dispatcher.run_once()
        await settle()
    await _sync(beacon)
    body = " ".join(json.dumps(m.blocks) + m.text for m in beacon.ws.messages(ENGAGEMENT))
    assert "Visit 1" in body or "12 leader engagements" in body, "twelve visits days away never announced"


async def test_a_folded_engagement_still_gets_its_leaders_follow_up(beacon: Beacon, feeds: FeedServer) -> None:
    # day_after asks the leader for a "you said, we did" follow-up only for engagements with announced_ts, and
    # for_follow_up refuses one "never announced": folded engagements silently lose the follow-up.
    feeds.feeds["ceo"] = _visits(13)
    await _sync(beacon)
    assert len(beacon.ws.messages(ENGAGEMENT)) == 1
    carol = beacon.slack.person(CAROL)
    before = len(carol.dms())
    beacon.clock.set(DAY + timedelta(days=2, hours=1))  # the day after Visit 0
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.engagements.day_after(session=session, worker="test")
    await beacon.deps.dispatcher.run_once()
    await settle()
    assert len(carol.dms()) > before and "Visit 0" in carol.dms()[-1].text

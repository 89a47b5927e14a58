"""A calendar imported in bulk: many engagements coming within announcement reach in one sync are announced in one
post (how many, the first few in date order, where to see them all), not one post each; a few are still announced
one by one; an event that cannot be read is skipped and counted, never failing the feed; an unchanged feed read
again later the same day stores what the moving window reaches and nothing else."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from beacon.bot.local_slack import LocalSlack
from beacon.bot.models import CalendarSource, Engagement, EngagementStatus, OutboxMessage
from beacon.bot.organisation import Organisation
from tests.fakes.feeds import FeedServer
from tests.harness import CAROL, ENGAGEMENT, Beacon, organisation_for, settle

DAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # the tests' start of time, a Monday
HOSTILE = "<!channel> *Board* & _staff_ <https://evil.example|click>"


def _event(uid: str, start: datetime, title: str) -> list[str]:
    escaped = title.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return ["BEGIN:VEVENT", f"UID:{uid}@tests", f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
            f"DTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}", f"SUMMARY:{escaped}",
            "LOCATION:Chelmsford Ambulance Station", "END:VEVENT"]


def _feed(*events: list[str]) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Beacon tests//EN"]
    for event in events:
        lines += event
    return "\r\n".join([*lines, "END:VCALENDAR", ""])


def _visits(count: int, *, first_title: str = "Visit", first: timedelta = timedelta(days=1, hours=1),
            skip: frozenset[int] = frozenset()) -> str:
    # Listed latest first (feeds are in no particular order); one a day at 10:00, the first tomorrow.
    return _feed(*(_event(f"v{i}", DAY + first + timedelta(days=i), first_title if i == 0 else f"Visit {i}")
                   for i in reversed(range(count)) if i not in skip))


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    server = await FeedServer(feeds={"ceo": _visits(0)}).start()
    yield server
    await server.stop()


@pytest.fixture
def organisation(slack: LocalSlack, feeds: FeedServer) -> Organisation:
    return organisation_for(slack.workspace, delivery={"posts_per_minute": 60000, "per_channel_seconds": 0},
                            calendar={"allow_hosts": ["127.0.0.1"], "sources": [
                                {"type": "ics", "name": "Chief Executive", "url": feeds.url("ceo"),
                                 "leader_slack_id": CAROL}]})


async def _sync(beacon: Beacon) -> None:
    await beacon.deps.calendar_sync.run()
    for _ in range(3):
        await beacon.deps.dispatcher.run_once()
        await settle()


async def _queued(beacon: Beacon) -> list[OutboxMessage]:
    async with beacon.deps.db.transaction() as session:
        return list((await session.scalars(select(OutboxMessage).where(OutboxMessage.channel == ENGAGEMENT)
                                           .order_by(OutboxMessage.id))).all())


async def test_a_calendar_imported_at_once_is_announced_in_one_post(beacon: Beacon, feeds: FeedServer) -> None:
    # 30 visits a day apart: the first 13 (more than ten) are within the fortnight announcements reach.
    feeds.feeds["ceo"] = _visits(30, first_title=HOSTILE)
    await _sync(beacon)
    posted = beacon.ws.messages(ENGAGEMENT)
    assert len(posted) == 1 and len(await _queued(beacon)) == 1, [m.text for m in posted]
    text = posted[0].text
    assert "13 leader engagements are newly in the calendar for the next 14 days" in text
    # The first five, in date order; the hostile title shown as words, never as a mention, bold or link.
    body = json.dumps(posted[0].blocks, ensure_ascii=False)
    assert "`/calendar`" in body and "App Home" in body
    assert body.index("Visit 1") < body.index("Visit 2") < body.index("Visit 4") and "Visit 5" not in body
    assert "<!channel>" not in body and "&lt;!channel&gt;" in body and "&amp;" in body
    assert "…and 8 more" in body
    # Each is known as announced: a later sync does not announce them again, one by one or folded.
    await _sync(beacon)
    assert len(beacon.ws.messages(ENGAGEMENT)) == 1
    async with beacon.deps.db.transaction() as session:
        queued = (await session.scalars(select(Engagement.announcement_queued))).all()
    assert queued.count(True) == 13 and queued.count(False) > 10  # the rest are beyond the fortnight


async def test_a_few_new_engagements_are_still_announced_one_by_one(beacon: Beacon, feeds: FeedServer) -> None:
    feeds.feeds["ceo"] = _visits(10)
    await _sync(beacon)
    posted = beacon.ws.messages(ENGAGEMENT)
    assert len(posted) == 10 and all("will be at" in m.text for m in posted), [m.text for m in posted]
    # An eleventh the next time is one more post: only what one sync brings is folded.
    feeds.feeds["ceo"] = _visits(11)
    await _sync(beacon)
    assert len(beacon.ws.messages(ENGAGEMENT)) == 11 and "will be at" in beacon.ws.messages(ENGAGEMENT)[-1].text


async def test_eleven_at_once_are_folded(beacon: Beacon, feeds: FeedServer) -> None:
    feeds.feeds["ceo"] = _visits(11)
    await _sync(beacon)
    posted = beacon.ws.messages(ENGAGEMENT)
    assert [m.text.split(" are ")[0] for m in posted] == [":calendar: 11 leader engagements"]


async def test_an_event_that_cannot_be_read_is_skipped_and_counted(beacon: Beacon, feeds: FeedServer) -> None:
    bad = ["BEGIN:VEVENT", "UID:broken@tests", "DTSTART:next tuesday", "RRULE:FREQ=DAILY", "END:VEVENT"]
    feeds.feeds["ceo"] = _feed(_event("a", DAY + timedelta(days=1), "Station visit"), bad,
                               _event("b", DAY + timedelta(days=2), "Listening session"))
    reports = await beacon.deps.calendar_sync.run()
    assert reports["Chief Executive"].skipped == 1 and reports["Chief Executive"].added == 2
    async with beacon.deps.db.transaction() as session:
        state = await session.get(CalendarSource, f"ics:{feeds.url('ceo')}")
        titles = sorted((await session.scalars(select(Engagement.title))).all())
    assert state is not None and state.skipped_events == 1 and state.consecutive_failures == 0
    assert titles == ["Listening session", "Station visit"]
    # Mended: the count goes back to nothing.
    feeds.feeds["ceo"] = _feed(_event("a", DAY + timedelta(days=1), "Station visit"))
    await beacon.deps.calendar_sync.run()
    async with beacon.deps.db.transaction() as session:
        state = await session.get(CalendarSource, f"ics:{feeds.url('ceo')}")
    assert state is not None and state.skipped_events == 0


async def test_an_event_that_becomes_unreadable_keeps_its_last_good_data(beacon: Beacon, feeds: FeedServer) -> None:
    # An announced visit whose writer then mistypes its time (a DTSTART neither reader reads) is skipped, and
    # kept as it was: never cancelled, and nobody told "This has been cancelled" for a visit still going ahead.
    visit = DAY + timedelta(days=2, hours=1)
    other = _event("b", visit + timedelta(days=1), "Other")
    feeds.feeds["ceo"] = _feed(_event("a", visit, "Station visit"), other)
    await _sync(beacon)
    broken = [line if not line.startswith("DTSTART") else f"DTSTART:{visit:%Y%m%dT%H%M}Z"
              for line in _event("a", visit, "Station visit")]
    feeds.feeds["ceo"] = _feed(broken, other)
    reports = await beacon.deps.calendar_sync.run()
    for _ in range(3):
        await beacon.deps.dispatcher.run_once()
        await settle()
    assert (reports["Chief Executive"].skipped, reports["Chief Executive"].cancelled) == (1, 0)
    async with beacon.deps.db.transaction() as session:
        kept = (await session.scalars(select(Engagement).where(Engagement.external_id == "a@tests"))).one()
        state = await session.get(CalendarSource, f"ics:{feeds.url('ceo')}")
    assert kept.status == EngagementStatus.SCHEDULED and kept.announced_ts and kept.starts_at == visit
    assert state is not None and state.skipped_events == 1
    assert not any("cancelled" in m.text.lower() for m in beacon.ws.messages(ENGAGEMENT))
    # Gone from the feed for real, it is cancelled.
    feeds.feeds["ceo"] = _feed(other)
    assert (await beacon.deps.calendar_sync.run())["Chief Executive"].cancelled == 1


async def test_an_unchanged_feed_later_the_same_day_stores_what_the_window_reaches(beacon: Beacon,
                                                                                   feeds: FeedServer) -> None:
    window = beacon.deps.organisation.calendar.window_days
    beyond = DAY + timedelta(days=window, hours=1)  # just outside the window now; inside it two hours on
    feeds.feeds["ceo"] = _feed(_event("soon", DAY + timedelta(days=1), "Soon"), _event("far", beyond, "Far"))
    first = await beacon.deps.calendar_sync.run()
    assert first["Chief Executive"].added == 1
    beacon.clock.advance(timedelta(hours=2))
    again = await beacon.deps.calendar_sync.run()
    assert (again["Chief Executive"].added, again["Chief Executive"].cancelled) == (1, 0)
    async with beacon.deps.db.transaction() as session:
        titles = sorted((await session.scalars(select(Engagement.title))).all())
    assert titles == ["Far", "Soon"]
    # The feed changes the same day: compared in full again (the visit moved, the other one gone).
    feeds.feeds["ceo"] = _feed(_event("far", beyond - timedelta(days=1), "Far"))
    changed = await beacon.deps.calendar_sync.run()
    assert (changed["Chief Executive"].changed, changed["Chief Executive"].cancelled) == (1, 1)


async def test_a_fold_waiting_behind_a_backlog_outlives_its_first_engagement(beacon: Beacon,
                                                                              feeds: FeedServer) -> None:
    # The first of 13 starts in 30 minutes and the channel is an hour behind: that one (announced on its own,
    # never folded) is lost with its start, but the summary of the other twelve, days away, is still posted.
    feeds.feeds["ceo"] = _visits(13, first=timedelta(minutes=30))
    await beacon.deps.calendar_sync.run()
    beacon.clock.advance(timedelta(hours=1))
    await _sync(beacon)
    await _sync(beacon)
    posted = beacon.ws.messages(ENGAGEMENT)
    assert [m.text.split(" are ")[0] for m in posted] == [":calendar: 12 leader engagements"], [m.text for m in posted]
    assert "Visit 1" in json.dumps(posted[0].blocks) and "Visit\"" not in json.dumps(posted[0].blocks)


async def test_a_folded_engagement_cancelled_or_moved_later_is_noted_in_the_summarys_thread(
        beacon: Beacon, feeds: FeedServer) -> None:
    feeds.feeds["ceo"] = _visits(13)
    await _sync(beacon)
    summary, = beacon.ws.messages(ENGAGEMENT)
    async with beacon.deps.db.transaction() as session:
        rows = (await session.scalars(select(Engagement))).all()
    assert {(e.announced_channel, e.announced_ts) for e in rows} == {(ENGAGEMENT, summary.ts)}
    # Visit 0 withdrawn, Visit 3 renamed: each said in the summary's thread, naming which; the summary untouched.
    feeds.feeds["ceo"] = _visits(13, skip=frozenset({0})).replace("SUMMARY:Visit 3", "SUMMARY:Visit 3 (moved)")
    await _sync(beacon)
    async with beacon.deps.db.transaction() as session:
        gone = (await session.scalars(select(Engagement).where(Engagement.external_id == "v0@tests"))).one()
    assert gone.status == EngagementStatus.CANCELLED
    replies = [m for m in beacon.ws.messages(ENGAGEMENT) if m.thread_ts == summary.ts and m.ts != summary.ts]
    cancelled, changed = sorted(replies, key=lambda m: "cancelled" not in m.text)
    assert "cancelled" in cancelled.text and "Visit, Tue" in json.dumps(cancelled.blocks), cancelled.blocks
    assert "Change" in changed.text and "Visit 3 (moved)" in json.dumps(changed.blocks)
    assert not beacon.ws.messages(ENGAGEMENT)[0].edited, "the summary is never rewritten as one announcement"


async def test_a_folded_engagement_still_gets_its_leaders_follow_up(beacon: Beacon, feeds: FeedServer) -> None:
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
    assert len(carol.dms()) > before and "Visit" in carol.dms()[-1].text


async def test_a_summary_not_yet_sent_drops_what_is_cancelled_before_it_goes(beacon: Beacon,
                                                                              feeds: FeedServer) -> None:
    # A calendar imported by mistake and withdrawn before the outbox sends the summary: it is never posted (as
    # each individual announcement would be withdrawn); with some withdrawn, it lists only the rest.
    feeds.feeds["ceo"] = _visits(13)
    await beacon.deps.calendar_sync.run()
    feeds.feeds["ceo"] = _visits(13, skip=frozenset({0, 1}))
    await _sync(beacon)
    posted, = beacon.ws.messages(ENGAGEMENT)
    assert "11 leader engagements" in posted.text and "Visit 2" in json.dumps(posted.blocks)
    assert '"Visit, ' not in json.dumps(posted.blocks) and "Visit 1:" not in json.dumps(posted.blocks)
    async with beacon.deps.db.transaction() as session:
        rows = {e.external_id: e for e in (await session.scalars(select(Engagement))).all()}
    assert rows["v0@tests"].announced_ts is None and rows["v2@tests"].announced_ts == posted.ts
    # All of a second import withdrawn (one other visit stays: an empty answer is only acted on the second time).
    other = _event("other", DAY + timedelta(days=3, hours=5), "Other")
    batch = _feed(*(_event(f"w{i}", DAY + timedelta(days=1 + i, hours=3), f"Walk {i}") for i in range(12)), other)
    feeds.feeds["ceo"] = batch
    await beacon.deps.calendar_sync.run()
    feeds.feeds["ceo"] = _feed(other)
    await _sync(beacon)
    assert not any("Walk" in json.dumps(m.blocks) for m in beacon.ws.messages(ENGAGEMENT))
    assert "1 leader engagement is newly in the calendar" in beacon.ws.messages(ENGAGEMENT)[-1].text

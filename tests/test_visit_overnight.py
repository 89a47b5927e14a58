"""Fit for a 24/7 service: engagements that cross midnight (a night shift, 22:00 to 02:00), up to 24 hours, in
Europe/London, across the nights the clocks change; announced, reminded, followed up and listed by day."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from beacon.bot.ids import BlockId
from beacon.bot.local_slack import LocalSlack
from beacon.bot.models import Engagement
from beacon.bot.organisation import Organisation
from tests.fakes.feeds import FeedServer
from tests.harness import CAROL, CHELMSFORD, ENGAGEMENT, Beacon, organisation_for, settle


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def _visit(day: str, starts: str, ends: str) -> dict[str, object]:
    return {BlockId.VISIT_SITE: "Chelmsford Ambulance Station", BlockId.VISIT_DAY: day, BlockId.VISIT_STARTS: starts,
            BlockId.VISIT_ENDS: ends, BlockId.VISIT_PURPOSE: "Meet the night shift", BlockId.VISIT_OPEN_TO: "All staff"}


async def _announce(beacon: Beacon, values: dict[str, object]) -> dict:
    carol = beacon.slack.person(CAROL)
    await carol.command("/visit")
    await settle()
    reply = await carol.submit(values)
    await settle()
    await beacon.deps.dispatcher.run_once()
    return reply.json or {}


async def _visits(beacon: Beacon) -> list[Engagement]:
    async with beacon.deps.db.transaction() as session:
        return list((await session.scalars(select(Engagement).order_by(Engagement.starts_at))).all())


async def _day_before(beacon: Beacon, at: datetime) -> None:
    beacon.clock.set(at)
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.engagements.day_before(session=session, worker="test")
    await beacon.deps.dispatcher.run_once()


async def _day_after(beacon: Beacon, at: datetime) -> None:
    beacon.clock.set(at)
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.engagements.day_after(session=session, worker="test")
    await beacon.deps.dispatcher.run_once()


def _follow_ups(beacon: Beacon) -> int:
    return sum("How did Meet the night shift" in m.text for m in beacon.slack.person(CAROL).dms())


async def test_a_night_shift_visit_ends_the_next_day_everywhere_it_is_shown(beacon: Beacon) -> None:
    carol = beacon.slack.person(CAROL)
    reply = await _announce(beacon, _visit("2026-11-27", "22:00", "22:00"))
    assert "has to end after it starts" in reply["errors"][BlockId.VISIT_ENDS]
    await carol.submit({BlockId.VISIT_ENDS: "02:00"})
    await settle()
    await beacon.deps.dispatcher.run_once()
    [visit] = await _visits(beacon)
    assert (visit.starts_at, visit.ends_at) == (_utc(2026, 11, 27, 22), _utc(2026, 11, 28, 2))
    shown = "Fri 27 Nov, 22:00 to 02:00 GMT (next day)"
    assert shown in carol.dms()[-1].text and "is announced" in carol.dms()[-1].text
    posted = [m.text for m in beacon.ws.messages(ENGAGEMENT) + beacon.ws.messages(CHELMSFORD)]
    assert sum(shown in t for t in posted) == 2, "in the engagement channel and the site's channel"

    # Listed under the day it starts, as "22:00 to 02:00 (next day)".
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.engagements.weekly_post(session=session, worker="test")
    await beacon.deps.dispatcher.run_once()
    week = json.dumps(beacon.ws.messages(ENGAGEMENT)[-1].blocks)
    assert week.index("*Friday 27 November*") < week.index("22:00 to 02:00 GMT (next day)")
    await carol.command("/calendar")
    await settle()
    assert shown in json.dumps(carol.last_ephemeral().blocks)

    # The reminder goes the day before it starts; the follow-up the morning after the night, once.
    await _day_before(beacon, _utc(2026, 11, 26, 16))
    assert shown in beacon.ws.messages(CHELMSFORD)[-1].text
    await _day_after(beacon, _utc(2026, 11, 28, 10))
    await _day_after(beacon, _utc(2026, 11, 29, 10))
    assert _follow_ups(beacon) == 1


async def test_a_shift_of_nearly_a_day_is_followed_up_once_it_is_over(beacon: Beacon) -> None:
    reply = await _announce(beacon, _visit("2026-11-27", "11:00", "10:00"))
    assert not reply.get("errors")
    await _day_after(beacon, _utc(2026, 11, 28, 9))
    assert _follow_ups(beacon) == 0, "not asked while still on the shift"
    await _day_after(beacon, _utc(2026, 11, 29, 9))
    assert _follow_ups(beacon) == 1


async def test_the_night_the_clocks_go_back(beacon: Beacon) -> None:
    """The last Sunday of October 2026 (25 October): 02:00 BST becomes 01:00 GMT."""
    beacon.clock.set(_utc(2026, 10, 20, 9))
    reply = await _announce(beacon, _visit("2026-10-24", "03:00", "02:30"))
    assert reply["errors"][BlockId.VISIT_ENDS] == ("A visit can last 24 hours at most; this one is 24.5 hours (the "
                                                   "clocks go back that night). Choose an earlier end.")
    carol = beacon.slack.person(CAROL)
    await carol.submit({BlockId.VISIT_STARTS: "22:00", BlockId.VISIT_ENDS: "02:00"})
    await settle()
    await beacon.deps.dispatcher.run_once()
    [visit] = await _visits(beacon)
    assert (visit.starts_at, visit.ends_at) == (_utc(2026, 10, 24, 21), _utc(2026, 10, 25, 2)), "five hours"
    assert "Sat 24 Oct, 22:00 BST to 02:00 GMT (next day)" in beacon.ws.messages(CHELMSFORD)[-1].text
    await _day_before(beacon, _utc(2026, 10, 23, 15))
    assert beacon.ws.messages(CHELMSFORD)[-1].text.startswith(":wave: Tomorrow:")
    await _day_after(beacon, _utc(2026, 10, 25, 10))
    assert _follow_ups(beacon) == 1


async def test_the_night_the_clocks_go_forward(beacon: Beacon) -> None:
    """The last Sunday of March 2027 (28 March): 01:00 GMT becomes 02:00 BST, so 01:30 never happens."""
    beacon.clock.set(_utc(2027, 3, 22, 9))
    reply = await _announce(beacon, _visit("2027-03-27", "22:00", "01:30"))
    assert "does not exist that day" in reply["errors"][BlockId.VISIT_ENDS]
    carol = beacon.slack.person(CAROL)
    await carol.submit({BlockId.VISIT_ENDS: "03:00"})
    await settle()
    await beacon.deps.dispatcher.run_once()
    [visit] = await _visits(beacon)
    assert (visit.starts_at, visit.ends_at) == (_utc(2027, 3, 27, 22), _utc(2027, 3, 28, 2)), "four hours"
    assert "Sat 27 Mar, 22:00 GMT to 03:00 BST (next day)" in carol.dms()[-1].text
    await _day_after(beacon, _utc(2027, 3, 28, 9))
    assert _follow_ups(beacon) == 1


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    night = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT",
                         "UID:night@trust.example", "SUMMARY:Ride-along with the night shift",
                         "DTSTART;TZID=Europe/London:20261124T230000", "DTEND;TZID=Europe/London:20261125T070000",
                         "LOCATION:Chelmsford", "END:VEVENT", "END:VCALENDAR", ""])
    server = await FeedServer(feeds={"ceo": night}).start()
    yield server
    await server.stop()


@pytest.fixture
def organisation(slack: LocalSlack, feeds: FeedServer) -> Organisation:
    return organisation_for(slack.workspace, calendar={"allow_hosts": ["127.0.0.1"], "sources": [
        {"type": "ics", "name": "Carol Chen, Chief Executive", "url": feeds.url("ceo"), "leader_slack_id": CAROL}]})


async def test_a_synced_event_over_midnight(beacon: Beacon) -> None:
    await beacon.deps.calendar_sync.run()
    await beacon.deps.dispatcher.run_once()
    await settle()
    [announcement] = [m for m in beacon.ws.messages(ENGAGEMENT) if "Ride-along" in json.dumps(m.blocks)]
    assert "Tue 24 Nov, 23:00 to 07:00 GMT (next day)" in announcement.text
    await _day_after(beacon, _utc(2026, 11, 25, 10))
    assert sum("How did Ride-along" in m.text for m in beacon.slack.person(CAROL).dms()) == 1

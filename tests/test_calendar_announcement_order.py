"""Visit announcements reach the engagement channel in date order, whatever order the sources gave them in (a few
at a time: more than ten at once are folded into one post, tests/test_calendar_bulk.py)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from beacon.bot.local_slack import LocalSlack
from beacon.bot.models import Engagement
from beacon.bot.organisation import Organisation
from tests.fakes.feeds import FeedServer
from tests.harness import ENGAGEMENT, Beacon, organisation_for, settle


def _feed(name: str, events: list[tuple[str, datetime]]) -> str:
    """A published calendar whose events are listed in the order given (feeds are in no particular order)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Beacon tests//EN", f"X-WR-CALNAME:{name}"]
    for uid, start in events:
        lines += ["BEGIN:VEVENT", f"UID:{uid}@tests", f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
                  f"DTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}", f"SUMMARY:Visit {uid}",
                  "LOCATION:Chelmsford Ambulance Station", "END:VEVENT"]
    return "\r\n".join([*lines, "END:VCALENDAR", ""])


DAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # the tests' start of time, a Monday


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    # Two leaders' feeds whose events interleave in time, each listed latest first.
    ceo = [(f"ceo-{d}", DAY + timedelta(days=d, hours=1)) for d in (9, 5, 3, 1)]
    ops = [(f"ops-{d}", DAY + timedelta(days=d, hours=2)) for d in (12, 6, 4, 2)]
    server = await FeedServer(feeds={"ceo": _feed("Chief Executive", ceo), "ops": _feed("Operations", ops)}).start()
    yield server
    await server.stop()


@pytest.fixture
def organisation(slack: LocalSlack, feeds: FeedServer) -> Organisation:
    # The delivery engine's full concurrency, as a trust runs it: several sends in flight at once.
    return organisation_for(slack.workspace, delivery={"posts_per_minute": 60000, "per_channel_seconds": 0,
                                                        "concurrency": 8},
                            calendar={"allow_hosts": ["127.0.0.1"], "sources": [
                                {"type": "ics", "name": "Director of Operations", "url": feeds.url("ops")},
                                {"type": "ics", "name": "Chief Executive", "url": feeds.url("ceo")}]})


async def test_announcements_are_posted_in_date_order(beacon: Beacon) -> None:
    await beacon.deps.calendar_sync.run()
    for _ in range(5):
        await beacon.deps.dispatcher.run_once()
        await settle()
    async with beacon.deps.db.transaction() as session:
        by_ts = {e.announced_ts: e.starts_at for e in (await session.scalars(select(Engagement))).all()
                 if e.announced_ts}
    posted = beacon.ws.messages(ENGAGEMENT)
    starts = [by_ts[m.ts] for m in posted if m.ts in by_ts]
    assert len(starts) == 8, [m.text for m in posted]
    assert starts == sorted(starts), [re.sub(r"\s+", " ", m.text)[:90] for m in posted]

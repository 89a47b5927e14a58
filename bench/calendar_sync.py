"""Benchmark: syncing 5 calendars of 2,000 events each (ICS feeds on 127.0.0.1), first and second time.
Goals: under 5 s wall for the first sync, peak memory under 200 MB.

    .venv/bin/python -m bench.calendar_sync [--calendars 5] [--events 2000] [--record]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from beacon.bot.clock import ManualClock
from beacon.bot.db import Database, upgrade
from beacon.bot.deps import build_deps
from beacon.bot.local_slack import Workspace
from beacon.bot.models import Engagement, OutboxMessage
from beacon.bot.organisation import parse_organisation
from beacon.bot.settings import Settings
from bench.reporting import finish
from tests.fakes.feeds import FeedServer

RESULTS = Path(__file__).parent / "results" / "calendar_sync.json"
START = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def feed(name: str, events: int, rng: random.Random) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:-//Beacon bench//{name}//EN", "X-WR-TIMEZONE:Europe/London"]
    for i in range(events):
        begins = START + timedelta(minutes=rng.randrange(27 * 24 * 60))
        lines += ["BEGIN:VEVENT", f"UID:{name}-{i}@bench", f"SUMMARY:Visit {i} by {name}",
                  f"DTSTART:{begins:%Y%m%dT%H%M%SZ}", f"DTEND:{begins + timedelta(hours=1):%Y%m%dT%H%M%SZ}",
                  f"LOCATION:Station {rng.randrange(100)}", "DESCRIPTION:Not for publication", "END:VEVENT"]
    return "\r\n".join([*lines, "END:VCALENDAR", ""])


async def run(calendars: int, events: int, database_url: str) -> dict[str, object]:
    rng = random.Random(5)
    server = await FeedServer(feeds={f"leader{i}": feed(f"leader{i}", events, rng) for i in range(calendars)}).start()
    await upgrade(database_url)
    db = Database(database_url)
    workspace = Workspace()
    settings = Settings(_env_file=None, slack_bot_token=workspace.bot_token, database_url=database_url,  # type: ignore[call-arg]
                        beacon_secret_key="b" * 40)
    organisation = parse_organisation({
        "channels": {"recognition": "C01", "engagement": "C02", "forum": "C03", "admin": "C04"},
        "sites": [{"name": f"Station {i}", "area": f"Area {i % 6}"} for i in range(100)],
        "calendar": {"allow_hosts": ["127.0.0.1"],
                     "sources": [{"type": "ics", "name": f"Leader {i}", "url": server.url(f"leader{i}")}
                                 for i in range(calendars)]}}, source="bench")
    deps = build_deps(settings, organisation, clock=ManualClock(START), db=db)
    await deps.http.open()
    before_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    first = await deps.calendar_sync.run()
    first_seconds = time.perf_counter() - started
    started = time.perf_counter()
    await deps.calendar_sync.run()
    second_seconds = time.perf_counter() - started
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    async with db.transaction() as session:
        stored = await session.scalar(select(func.count()).select_from(Engagement))
        announcements = await session.scalar(select(func.count()).select_from(OutboxMessage))
    await deps.http.close()
    await db.dispose()
    await server.stop()
    result: dict[str, object] = {
        "calendars": calendars, "events_per_calendar": events, "database": database_url.split(":")[0],
        "first_sync_seconds": round(first_seconds, 2), "second_sync_seconds": round(second_seconds, 2),
        "engagements_stored": stored, "announcements_queued": announcements,
        "added": sum(r.added for r in first.values()), "peak_rss_mb": round(peak_rss, 1),
        "rss_before_sync_mb": round(before_rss, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    result["pass"] = first_seconds < 5 and peak_rss < 200
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calendars", type=int, default=5)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    database_url = os.environ.get("BEACON_BENCH_DATABASE_URL") or (
        f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='beacon-bench-')}/bench.db")
    result = asyncio.run(run(args.calendars, args.events, database_url))
    finish(result, passed=result["pass"], goal=None, results=RESULTS, record=args.record)


if __name__ == "__main__":
    main()

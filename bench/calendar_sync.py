"""Benchmark: calendar sync from ICS feeds on 127.0.0.1.

1. A bulk import: 5 calendars of 2,000 events each, first sync and second (unchanged) sync, and how many posts the
   import queues into the engagement channel (one a second at Slack's pace: before folding, one per engagement
   within announcement reach; now one summary).
2. One large calendar (`--large`, 50,000 events): the first sync, an unchanged sync (the feed served again
   without an ETag, so it is downloaded and hashed), and a changed feed (1% of events moved, 0.5% gone, 0.5% new),
   each timed, with the peak memory of the changed sync (the process's peak RSS, reset before it).

Goals (issue 17): an unchanged 50,000-event feed under 1 s; a changed one under 10 s with peak memory under 200 MB.

    .venv/bin/python -m bench.calendar_sync [--calendars 5] [--events 2000] [--large 50000] [--record]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import random
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import func, select
from sqlmodel import col

from beacon.bot.clock import ManualClock
from beacon.bot.db import Database, upgrade
from beacon.bot.deps import build_deps
from beacon.bot.local_slack import Workspace
from beacon.bot.models import Engagement, OutboxMessage
from beacon.bot.organisation import parse_organisation
from beacon.bot.services.engagements import FOLD_NOT_WITHIN
from beacon.bot.settings import Settings
from bench.reporting import finish, fresh_database
from tests.fakes.feeds import FeedServer

RESULTS = Path(__file__).parent / "results" / "calendar_sync.json"
START = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
ENGAGEMENT = "C02"


def events(name: str, count: int, rng: random.Random) -> list[tuple[str, datetime, int]]:
    """(UID, start, station) of each event."""
    return [(f"{name}-{i}@bench", START + timedelta(minutes=rng.randrange(27 * 24 * 60)), rng.randrange(100))
            for i in range(count)]


def feed(name: str, listed: list[tuple[str, datetime, int]]) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:-//Beacon bench//{name}//EN", "X-WR-TIMEZONE:Europe/London"]
    for uid, begins, station in listed:
        lines += ["BEGIN:VEVENT", f"UID:{uid}", f"SUMMARY:Visit {uid.split('@')[0]} by {name}",
                  f"DTSTART:{begins:%Y%m%dT%H%M%SZ}", f"DTEND:{begins + timedelta(hours=1):%Y%m%dT%H%M%SZ}",
                  f"LOCATION:Station {station}", "DESCRIPTION:Not for publication", "END:VEVENT"]
    return "\r\n".join([*lines, "END:VCALENDAR", ""])


def changed(listed: list[tuple[str, datetime, int]], rng: random.Random) -> list[tuple[str, datetime, int]]:
    """The same calendar a day later: 1% of its events moved, 0.5% gone, 0.5% new."""
    out = list(listed)
    for i in rng.sample(range(len(out)), len(out) // 100):
        uid, begins, station = out[i]
        out[i] = (uid, begins + timedelta(hours=2), station)
    for i in sorted(rng.sample(range(len(out)), len(out) // 200), reverse=True):
        del out[i]
    out += [(f"new-{i}@bench", START + timedelta(minutes=rng.randrange(27 * 24 * 60)), rng.randrange(100))
            for i in range(len(listed) // 200)]
    return out


def _reset_peak() -> bool:
    """Reset the process's peak RSS (Linux: /proc/self/clear_refs), so a phase's own peak can be read."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _serve_large(count: int, conn: Connection) -> None:
    """The large calendar, served from a process of its own (so its text is not counted in Beacon's memory), as a
    server that ignores caching would: every sync downloads it. POST /switch serves the changed version."""
    rng = random.Random(7)
    listed = events("large", count, rng)
    versions = [feed("large", listed), feed("large", changed(listed, rng))]
    del listed
    serving = [0]

    async def get(request: web.Request) -> web.Response:
        return web.Response(text=versions[serving[0]], content_type="text/calendar")

    async def switch(request: web.Request) -> web.Response:
        serving[0] = 1
        return web.Response(text="switched")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feeds/large.ics", get)
        app.router.add_post("/switch", switch)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        conn.send(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


class _Served:
    def __init__(self, port: int):
        self.port = port

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/feeds/{name}.ics"


class Run:
    """One Beacon (database, settings, organisation) syncing the feeds `server` serves."""

    def __init__(self, server: FeedServer | _Served, names: list[str], database_url: str):
        workspace = Workspace()
        settings = Settings(_env_file=None, slack_bot_token=workspace.bot_token,  # type: ignore[call-arg]
                            database_url=database_url, beacon_secret_key="b" * 40)
        organisation = parse_organisation({
            "channels": {"recognition": "C01", "engagement": ENGAGEMENT, "forum": "C03", "admin": "C04"},
            "sites": [{"name": f"Station {i}", "area": f"Area {i % 6}"} for i in range(100)],
            "calendar": {"allow_hosts": ["127.0.0.1"], "sources": [
                {"type": "ics", "name": f"Leader {n}", "url": server.url(n)} for n in names]}}, source="bench")
        self.db = Database(database_url)
        self.deps = build_deps(settings, organisation, clock=ManualClock(START), db=self.db)

    async def timed(self) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        reports = await self.deps.calendar_sync.run()
        return time.perf_counter() - started, reports

    async def count(self) -> tuple[int, int, int, int]:
        """(engagements stored, of them within announcement reach, of them starting within the hour (never
        folded: each announced on its own), posts queued into the engagement channel)."""
        reach = START + timedelta(days=self.deps.organisation.calendar.announce_within_days)
        async with self.db.transaction() as session:
            stored = await session.scalar(select(func.count()).select_from(Engagement))
            in_reach = await session.scalar(select(func.count()).select_from(Engagement).where(
                col(Engagement.starts_at) > START, col(Engagement.starts_at) < reach))
            soon = await session.scalar(select(func.count()).select_from(Engagement).where(
                col(Engagement.starts_at) > START, col(Engagement.starts_at) <= START + FOLD_NOT_WITHIN))
            posts = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
                col(OutboxMessage.channel) == ENGAGEMENT))
        return stored or 0, in_reach or 0, soon or 0, posts or 0


async def bulk_import(calendars: int, count: int, database_url: str) -> dict[str, Any]:
    rng = random.Random(5)
    names = [f"leader{i}" for i in range(calendars)]
    server = await FeedServer(feeds={n: feed(n, events(n, count, rng)) for n in names}).start()
    run = Run(server, names, database_url)
    await run.deps.http.open()
    try:
        first, reports = await run.timed()
        second, _ = await run.timed()
        stored, in_reach, soon, posts = await run.count()
    finally:
        await run.deps.http.close()
        await run.db.dispose()
        await server.stop()
    return {"calendars": calendars, "events_per_calendar": count, "first_sync_seconds": round(first, 2),
            "second_sync_seconds": round(second, 2), "engagements_stored": stored,
            "added": sum(r.added for r in reports.values()),
            # One post each before folding; what the import queues now (summaries).
            "posts_one_each": in_reach, "starting_within_the_hour": soon, "posts_queued": posts,
            # What starts within the hour is announced on its own (never folded): the rest is the summary.
            "posts_beyond_the_hour": posts - soon}


async def large_feed(count: int, database_url: str) -> dict[str, Any]:
    parent, child = multiprocessing.get_context("spawn").Pipe()
    server = multiprocessing.get_context("spawn").Process(target=_serve_large, args=(count, child), daemon=True)
    server.start()
    port = await asyncio.to_thread(parent.recv)
    run = Run(_Served(port), ["large"], database_url)
    await run.deps.http.open()
    try:
        idle = _peak_mb()
        _reset_peak()
        first, _ = await run.timed()
        first_peak = _peak_mb()
        unchanged, _ = await run.timed()
        async with aiohttp.ClientSession() as session, session.post(f"http://127.0.0.1:{port}/switch") as answer:
            assert answer.status == 200
        reset = _reset_peak()
        changed_seconds, reports = await run.timed()
        changed_peak = _peak_mb()
        report = reports["Leader large"]
        reader = run.deps.calendar_sync.readers[0]
        stored, *_ = await run.count()
    finally:
        await run.deps.http.close()
        await run.db.dispose()
        server.kill()
    return {"events": count, "rss_before_mb": round(idle, 1), "first_sync_seconds": round(first, 2),
            "first_sync_peak_rss_mb": round(first_peak, 1), "unchanged_sync_seconds": round(unchanged, 3),
            "changed_sync_seconds": round(changed_seconds, 2), "changed_sync_peak_rss_mb": round(changed_peak, 1),
            "peak_is_of_the_phase": reset,
            "changed": {"added": report.added, "changed": report.changed, "cancelled": report.cancelled,
                        "groups_read_again": getattr(reader, "groups_parsed", None)},
            "engagements_stored": stored}


async def run(calendars: int, count: int, large: int, database_url: str) -> dict[str, Any]:
    database_url = await fresh_database(database_url, "bulk")
    await upgrade(database_url)
    result: dict[str, Any] = {"database": database_url.split(":")[0]}
    result["bulk"] = await bulk_import(calendars, count, database_url)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if large:
        fresh = await fresh_database(database_url, "large")
        await upgrade(fresh)
        result["large"] = await large_feed(large, fresh)
    result["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    bulk, big = result["bulk"], result.get("large")
    result["pass"] = (bulk["first_sync_seconds"] < 5 and result["peak_rss_mb"] < 200
                      and bulk["posts_beyond_the_hour"] <= 5 and (big is None or (
                          big["unchanged_sync_seconds"] < 1 and big["changed_sync_seconds"] < 10
                          and big["changed_sync_peak_rss_mb"] < 200)))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calendars", type=int, default=5)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--large", type=int, default=50000, help="events in the large calendar (0: none)")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    database_url = os.environ.get("BEACON_BENCH_DATABASE_URL") or (
        f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='beacon-bench-')}/bench.db")
    result = asyncio.run(run(args.calendars, args.events, args.large, database_url))
    bulk, big = result["bulk"], result.get("large")
    checks = {"every event of the import stored": bulk["added"] > 0 and bulk["engagements_stored"] == bulk["added"]}
    if big:
        moved = big["changed"]
        checks["the changed feed's moves, removals and additions all seen"] = (
            moved["added"] > 0 and moved["changed"] > 0 and moved["cancelled"] > 0)
    finish(result, passed=result["pass"], checks=checks, goal="unchanged 50k < 1 s, changed 50k < 10 s and < 200 MB, "
           "first sync of 5 x 2,000 < 5 s, a bulk import queues at most 5 posts besides one for each engagement "
           "starting within the hour", results=RESULTS, record=args.record)


if __name__ == "__main__":
    main()

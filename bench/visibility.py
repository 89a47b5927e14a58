"""Benchmark: the leader visibility report (`/calendar report year`) over a year of a 4,000-person trust.

10,000 engagements by 40 leaders across 100 sites in 10 areas (some at no listed site, some cancelled), 4,000 staff
saying "I'll be there" 20,000 times and asking 5,000 questions. Measured: building the report for the financial year
and for one month, and rendering its blocks, CSV and chart, in milliseconds, with the SQL statements each report
runs, which must not grow with the data (measured at 1,000 and at 10,000). Goal (issue 18): under 300 ms for the year.

    .venv/bin/python -m bench.visibility [--runs 10] [--record]
    BEACON_BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/beacon_bench .venv/bin/python -m ...
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, text

from beacon.bot.blocks.visibility import build_report_blocks, report_chart, report_csv
from beacon.bot.db import Database, upgrade
from beacon.bot.models import Engagement, EngagementAttendee, EngagementQuestion
from beacon.bot.organisation import parse_organisation
from beacon.bot.services.visibility import build_report, period_named
from bench.reporting import finish, fresh_database

RESULTS = Path(__file__).parent / "results" / "visibility.json"
GOAL = "goal: the year's report under 300 ms at 10,000 engagements; the same SQL statements at every size"
NOW = datetime(2027, 3, 31, 18, 0, tzinfo=UTC)  # the last day of the financial year 2026/27
TODAY = date(2027, 3, 31)
STAFF, SITES, AREAS, LEADERS = 4000, 100, 10, 40
CHANNELS = {"recognition": "C0RECOG", "engagement": "C0ENGAGE", "forum": "C0FORUM", "admin": "C0ADMIN",
            "digest": ["C0DIGEST"]}
SITE_LIST = [{"name": f"Station {i}", "area": f"Area {i % AREAS}"} for i in range(SITES)]


async def _bulk(db: Database, table: Any, rows: list[dict[str, Any]]) -> None:
    async with db.transaction() as session:
        for chunk in range(0, len(rows), 5000):
            await session.execute(insert(table), rows[chunk:chunk + 5000])


async def _seed(db: Database, engagements: int) -> list[dict[str, Any]]:
    rng = random.Random(engagements)
    year_start = datetime(2026, 4, 1, 7, tzinfo=UTC)
    span = (NOW - year_start).total_seconds() + 30 * 86400  # a year back, a month ahead
    rows = []
    for i in range(engagements):
        starts = year_start + timedelta(seconds=span * i / engagements)
        # Some sites are never visited (the list the board cares about), some engagements are elsewhere.
        site = None if i % 11 == 0 else f"Station {rng.randrange(SITES - 7)}"
        rows.append({"id": i + 1, "source_key": "slack:visits" if i % 3 == 0 else "ics:bench", "external_id": f"e{i}",
                     "occurrence": "", "title": f"Visit {i}", "leader": f"Leader {i % LEADERS}", "site": site,
                     "location": site, "starts_at": starts, "ends_at": starts + timedelta(hours=2), "all_day": False,
                     "status": "cancelled" if i % 17 == 0 else "scheduled", "announcement_queued": True,
                     "first_seen_at": year_start, "updated_at": year_start})
    await _bulk(db, Engagement, rows)
    await _bulk(db, EngagementAttendee, [
        {"engagement_id": rng.randrange(engagements) + 1, "user_id": f"U{n:08d}", "created_at": year_start}
        for n in range(2 * engagements)])
    await _bulk(db, EngagementQuestion, [
        {"engagement_id": rng.randrange(engagements) + 1, "asker_id": f"U{n % STAFF:08d}", "hide_name": True,
         "question": "When will the new rota be published?", "created_at": year_start}
        for n in range(engagements // 2)])
    if not db.is_sqlite:
        async with db.transaction() as session:
            await session.execute(text("ANALYZE"))
    return rows


async def _one_size(database_url: str, engagements: int, runs: int) -> dict[str, Any]:
    url = await fresh_database(database_url, f"visibility-{engagements}")
    await upgrade(url)
    db = Database(url)
    started = time.perf_counter()
    seeded_rows = await _seed(db, engagements)
    seeded = time.perf_counter() - started
    organisation = parse_organisation({"channels": CHANNELS, "sites": SITE_LIST}, source="bench")
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    measured: dict[str, Any] = {"engagements": engagements, "seed_seconds": round(seeded, 1)}
    first, end = period_named("year", today=TODAY).bounds(organisation.tz)
    # Counted here from what was written, not by the code under test: the year's engagements not cancelled.
    measured["expected_year"] = sum(1 for r in seeded_rows
                                    if r["status"] == "scheduled" and first <= r["starts_at"] < end)
    for name in ("year", "last month"):
        period = period_named(name, today=TODAY)
        samples, per_run, rendering = [], [], []
        report = None
        for attempt in range(runs + 1):  # the first warms the connection
            before = statements
            began = time.perf_counter()
            async with db.transaction() as session:
                report = await build_report(session=session, organisation=organisation, period=period, now=NOW)
            took = (time.perf_counter() - began) * 1000
            began = time.perf_counter()
            build_report_blocks(report)
            report_csv(report)
            if attempt == 0:
                report_chart(report)
            rendered = (time.perf_counter() - began) * 1000
            if attempt:
                samples.append(took)
                rendering.append(rendered)
                per_run.append(statements - before)
        assert report is not None
        measured[name.replace(" ", "_")] = {
            "median_ms": round(statistics.median(samples), 1), "max_ms": round(max(samples), 1),
            "render_median_ms": round(statistics.median(rendering), 1), "sql_statements": max(per_run),
            "held": report.held, "planned": report.planned, "sites_visited": report.sites_visited,
            "unvisited": len(report.unvisited), "runs": runs}
    await db.dispose()
    return measured


async def run(runs: int, database_url: str) -> dict[str, Any]:
    sizes = [await _one_size(database_url, n, runs) for n in (1000, 10_000)]
    largest = sizes[-1]
    statements = {s[p]["sql_statements"] for s in sizes for p in ("year", "last_month")}
    # Seven sites are never visited; every engagement of the year not cancelled is counted, held or planned.
    right = all(s["year"]["unvisited"] == 7 and s["year"]["held"] + s["year"]["planned"] == s["expected_year"]
                for s in sizes)
    return {
        "database": database_url.split(":")[0], "sizes": sizes, "constant_statements": len(statements) == 1,
        "right_answers": right,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "pass": largest["year"]["max_ms"] < 300 and len(statements) == 1 and right,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--record", action="store_true", help=f"append the figures to {RESULTS}")
    args = parser.parse_args()
    database_url = os.environ.get("BEACON_BENCH_DATABASE_URL") or "sqlite+aiosqlite:///unused"
    result = asyncio.run(run(args.runs, database_url))
    checks = {"the same SQL statements at every size": result["constant_statements"],
              "the report counts the seeded year right": result["right_answers"]}
    finish(result, passed=result["pass"], checks=checks, goal=GOAL, results=RESULTS, record=args.record)


if __name__ == "__main__":
    main()

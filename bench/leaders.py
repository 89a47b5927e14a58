"""Benchmark: the leader directory (`/leaders`), read and built, at 20 and 200 leaders over 10,000 engagements.

Each scale gets a fresh database: 100 sites in 10 areas, ten executives and N leaders (each covering an area, each
with a stored profile and a commitment), and 10,000 engagements spread over a year around "now". Measured: the
directory for everyone, for an area and for a site, as the handler does it (read in one transaction, then built),
in milliseconds, and the SQL statements each runs, which must not grow with the number of leaders (two: the
profiles, then every listed leader's next engagements in one windowed query). No Slack call is made.
Goal: under 50 ms median at 200 leaders.

    .venv/bin/python -m bench.leaders [--leaders 20,200] [--engagements 10000] [--record]
    BEACON_BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/beacon_bench .venv/bin/python -m ...
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert

from beacon.bot.blocks.leaders import build_directory_blocks
from beacon.bot.clock import ManualClock
from beacon.bot.db import Database, upgrade
from beacon.bot.deps import build_deps
from beacon.bot.models import Engagement, LeaderProfile
from beacon.bot.organisation import parse_organisation
from beacon.bot.settings import Settings
from bench.reporting import finish, fresh_database

RESULTS = Path(__file__).parent / "results" / "leaders.json"
GOAL = "the directory under 50 ms median at the largest scale, the same statements at every scale"
NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
AREAS = [f"Area {a}" for a in range(10)]
SITES = [{"name": f"Station {a}-{s}", "area": AREAS[a]} for a in range(10) for s in range(10)]
CHANNELS = {"recognition": "C0RECOG", "engagement": "C0ENGAGE", "forum": "C0FORUM", "admin": "C0ADMIN"}
EXECUTIVES = [f"U0EXEC{n:04d}" for n in range(10)]


class NoGroups:
    """Roles here are people, not user groups: nothing to ask Slack."""

    async def members_by_handle(self) -> dict[str, frozenset[str]]:
        return {}


async def _one_scale(database_url: str, leaders: int, engagements: int, runs: int) -> dict[str, Any]:
    url = await fresh_database(database_url, f"leaders-{leaders}")
    await upgrade(url)
    db = Database(url)
    ids = [f"U0LEAD{n:04d}" for n in range(leaders)]
    organisation = parse_organisation({"channels": CHANNELS, "sites": SITES,
                                       "roles": {"executives": EXECUTIVES, "leaders": ids},
                                       "leaders": {u: {"areas": [AREAS[i % 10]]} for i, u in enumerate(ids)}},
                                      source="bench")
    settings = Settings(_env_file=None, slack_bot_token="xoxb-1-2-benchleaders", database_url=url,  # type: ignore[call-arg]
                        beacon_secret_key="b" * 40)
    deps = build_deps(settings, organisation, clock=ManualClock(NOW), db=db, directory=NoGroups())
    everyone = EXECUTIVES + ids
    async with db.transaction() as session:
        await session.execute(insert(LeaderProfile), [
            {"user_id": u, "name": f"Leader {u}", "title": "Locality Manager",
             "image_url": f"https://avatars.slack-edge.com/2026-01-01/{u}_72.jpg",
             "statement": "I will be out at stations every month & answer every question. " * 7} for u in everyone])
        start, step = NOW - timedelta(days=182), timedelta(days=365) / engagements
        await session.execute(insert(Engagement), [
            {"source_key": "slack:visits", "external_id": f"visit:{n}", "occurrence": "single", "title": "Visit",
             "leader": everyone[n % len(everyone)], "leader_user_id": everyone[n % len(everyone)],
             "site": SITES[n % len(SITES)]["name"], "location": SITES[n % len(SITES)]["name"],
             "starts_at": start + n * step, "ends_at": start + n * step + timedelta(hours=2), "all_day": False,
             "status": "scheduled", "announcement_queued": False, "first_seen_at": NOW, "updated_at": NOW}
            for n in range(engagements)])
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    measured: dict[str, Any] = {}
    for name, query in (("everyone", None), ("an_area", "Area 3"), ("a_site", "Station 7-2")):
        samples, per_run, listed = [], [], 0
        for _ in range(runs + 1):  # the first warms the connection and caches
            before = statements
            started = time.perf_counter()
            async with db.transaction() as session:
                directory = await deps.leaders.directory(session=session, query=query)
            build_directory_blocks(directory, may_write=False)
            samples.append((time.perf_counter() - started) * 1000)
            per_run.append(statements - before)
            listed = len(directory.leaders) + directory.more
        measured[name] = {"median_ms": round(statistics.median(samples[1:]), 1), "max_ms": round(max(samples[1:]), 1),
                          "sql_statements": max(per_run[1:]), "leaders_matched": listed}
    await db.dispose()
    return {"leaders": leaders, "engagements": engagements, **measured}


async def run(scales: list[int], engagements: int, runs: int, database_url: str) -> dict[str, Any]:
    results = [await _one_scale(database_url, n, engagements, runs) for n in scales]
    largest = results[-1]
    statements = {r[k]["sql_statements"] for r in results for k in ("everyone", "an_area", "a_site")}
    return {
        "database": database_url.split(":")[0], "scales": results, "largest": largest["everyone"],
        "constant_statements": len(statements) == 1,
        "all_listed": all(r["everyone"]["leaders_matched"] == r["leaders"] + len(EXECUTIVES) for r in results),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "pass": largest["everyone"]["median_ms"] < 50 and len(statements) == 1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leaders", default="20,200")
    parser.add_argument("--engagements", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--record", action="store_true", help=f"append the figures to {RESULTS}")
    args = parser.parse_args()
    database_url = os.environ.get("BEACON_BENCH_DATABASE_URL") or "sqlite+aiosqlite:///unused"
    result = asyncio.run(run([int(s) for s in args.leaders.split(",")], args.engagements, args.runs, database_url))
    checks = {"the same SQL statements at every scale": result["constant_statements"],
              "every leader listed": result["all_listed"]}
    finish(result, passed=result["pass"], checks=checks, goal=GOAL, results=RESULTS, record=args.record)


if __name__ == "__main__":
    main()

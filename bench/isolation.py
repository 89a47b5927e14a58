"""Benchmark: heavy work never slows anyone's click. `beacon serve` runs as a process (with its one `beacon worker`
child, as deployed) over a closed round of 10,000 nominations; staff press a cheap command at a steady rate, first
with nothing else happening (idle), then while one panel member opens the review every second, another exports the
round again and again, and a 10,000-event ICS feed (served on 127.0.0.1) is synced. Goal: other staff's ack p99
under load within 1.5x of its idle value (issue 17). Each run reports its ratio; the suite takes min/median/max.

    .venv/bin/python -m bench.isolation [--seconds 15] [--rate 20] [--record]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from beacon.bot.db import Database, upgrade
from beacon.bot.local_slack import LocalSlack, Workspace
from beacon.bot.models import WorkItem, WorkStatus
from beacon.bot.services import work_queue
from beacon.bot.services.work_queue import WorkKind
from bench.awards import PANEL, SITES
from bench.awards import _seed as seed_round
from bench.calendar_sync import events as calendar_events
from bench.calendar_sync import feed
from bench.reporting import finish, fresh_database
from tests.fakes.feeds import FeedServer
from tests.processes import BEACON, free_port, slack_env, wait_healthy

RESULTS = Path(__file__).parent / "results" / "isolation.json"
GOAL = 1.5
STAFF = [f"U0STAFF{i:02d}" for i in range(20)]


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


async def _clicks(slack: LocalSlack, seconds: float, rate: float) -> list[float]:
    """Staff each type `/beacon` (an ack and a short answer) at a steady rate; the ack latencies, in ms."""
    latencies: list[float] = []
    pending: set[asyncio.Task[Any]] = set()
    gap, started = 1 / rate, time.perf_counter()

    async def one(user: str) -> None:
        reply = await slack.person(user).command("/beacon")
        latencies.append(reply.latency_ms)

    for i in range(int(seconds * rate)):
        await asyncio.sleep(max(0.0, started + i * gap - time.perf_counter()))
        task = asyncio.create_task(one(STAFF[i % len(STAFF)]))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    return latencies


async def _panel_load(slack: LocalSlack, stop: asyncio.Event) -> dict[str, int]:
    """One panel member opens the review every second; another exports the round, again as soon as each arrives."""
    done = {"reviews": 0, "exports": 0}

    async def reviewing() -> None:
        while not stop.is_set():
            await slack.person(PANEL[0]).command("/awards", "review")
            done["reviews"] += 1
            await asyncio.sleep(1)

    async def exporting() -> None:
        exporter = slack.person(PANEL[1])
        while not stop.is_set():
            before = sum(len(m.files or []) for m in exporter.dms())
            await exporter.command("/awards", "export")
            while not stop.is_set() and sum(len(m.files or []) for m in exporter.dms()) == before:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
            done["exports"] += 1

    await asyncio.gather(reviewing(), exporting())
    return done


async def _work_left(url: str, kind: WorkKind) -> int:
    db = Database(url)
    async with db.transaction() as session:
        rows = (await session.scalars(select(WorkItem).where(WorkItem.kind == kind,
                                                             WorkItem.status != WorkStatus.DONE))).all()
    await db.dispose()
    return len(rows)


async def run(database_url: str, seconds: float, rate: float, events: int) -> dict[str, Any]:
    url = await fresh_database(database_url, "isolation")
    await upgrade(url, "0012")
    db = Database(url)
    await seed_round(db, 10_000)
    await db.dispose()
    await upgrade(url)
    workspace = Workspace()
    for user in [*PANEL, *STAFF]:
        workspace.add_user(user, user.lower(), f"Person {user}")
    for channel in ("C01", "C02", "C03", "C04"):
        workspace.add_channel(channel, channel.lower(), members=set(PANEL))
    slack = LocalSlack(workspace)
    await slack.start()
    feeds = await FeedServer(feeds={"leader": feed("leader", calendar_events("leader", 10, random.Random(5)))}).start()
    folder = Path(tempfile.mkdtemp(prefix="beacon-isolation-"))
    config = folder / "beacon.yaml"
    config.write_text(yaml.safe_dump({
        "channels": {"recognition": "C01", "engagement": "C02", "forum": "C03", "admin": "C04"},
        "roles": {"panel": PANEL}, "sites": SITES,
        "calendar": {"allow_hosts": ["127.0.0.1"], "sync_every_minutes": 600,
                     "sources": [{"type": "ics", "name": "Leader", "url": feeds.url("leader")}]}}))
    env = slack_env(slack, config, url) | {"LOG_LEVEL": "WARNING"}
    port = free_port()
    serve = await asyncio.create_subprocess_exec(BEACON, "serve", "--port", str(port), env=env, cwd=folder)
    try:
        await wait_healthy(port)
        slack.app_url = f"http://127.0.0.1:{port}/slack/events"
        while await _work_left(url, WorkKind.CALENDAR_SYNC):  # noqa: ASYNC110 (the first sync, of a small feed)
            await asyncio.sleep(0.2)
        await _clicks(slack, 3, rate)  # warm up
        idle = await _clicks(slack, seconds, rate)
        # Under load: the feed now has 10,000 events and its sync is queued, as the timer would.
        feeds.feeds["leader"] = feed("leader", calendar_events("leader", events, random.Random(6)))
        db = Database(url)
        async with db.transaction() as session:
            await work_queue.enqueue(session=session, kind=WorkKind.CALENDAR_SYNC, params={},
                                     now=datetime.now(UTC), dedupe_key="bench")
        await db.dispose()
        stop = asyncio.Event()
        panel = asyncio.create_task(_panel_load(slack, stop))
        await asyncio.sleep(1)  # the first review and export are under way
        loaded = await _clicks(slack, seconds, rate)
        stop.set()
        done = await panel
        synced = await _work_left(url, WorkKind.CALENDAR_SYNC) == 0
    finally:
        serve.terminate()  # the outbox may still be draining the calendar's announcements: not waited for
        try:
            await asyncio.wait_for(serve.wait(), 5)
        except TimeoutError:
            serve.kill()
            await serve.wait()
        await feeds.stop()
        await slack.stop()
    idle_p99, loaded_p99 = _p(idle, 0.99), _p(loaded, 0.99)
    return {
        "database": database_url.split(":")[0], "nominations": 10_000, "calendar_events": events,
        "clicks_per_second": rate, "seconds": seconds,
        "idle_ms": {"p50": _p(idle, 0.5), "p99": idle_p99, "mean": round(statistics.mean(idle), 1)},
        "loaded_ms": {"p50": _p(loaded, 0.5), "p99": loaded_p99, "mean": round(statistics.mean(loaded), 1)},
        "p99_ratio": round(loaded_p99 / idle_p99, 2), "p50_ratio": round(_p(loaded, 0.5) / _p(idle, 0.5), 2),
        "reviews_opened": done["reviews"], "exports_delivered": done["exports"], "calendar_synced": synced,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    database_url = os.environ.get("BEACON_BENCH_DATABASE_URL") or "sqlite+aiosqlite:///bench.db"
    result = asyncio.run(run(database_url, args.seconds, args.rate, args.events))
    checks = {"the calendar synced meanwhile": bool(result["calendar_synced"]),
              "an export was delivered meanwhile": result["exports_delivered"] >= 1,
              "the review was opened every other second or more": result["reviews_opened"] >= args.seconds / 2}
    finish(result, passed=result["p99_ratio"] <= GOAL, checks=checks, goal=f"loaded ack p99 within {GOAL}x of idle",
           results=RESULTS, record=args.record)


if __name__ == "__main__":
    main()

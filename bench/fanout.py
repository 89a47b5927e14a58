"""Benchmark: a fan-out of direct messages through the outbox against a local Slack enforcing rate limits.

The local Slack limits chat.postMessage to `--limit` a minute across the workspace (with a burst of
`--burst`) and to one a second in each channel, and answers 429 with Retry-After beyond that; the other
methods get Slack's published tiers. Every call is answered after `--latency-ms` give or take `--jitter-ms`, as
over the internet (Slack's own answers take 100 to 300 ms). The minimum time the limits allow is
(messages - burst) / rate. Beacon passes when every one of `--repeats` runs takes no more than 10% over that
minimum and loses and repeats nothing; min/median/max are reported.

    .venv/bin/python -m bench.fanout                                   # 4,000 messages at 3,000 a minute
    .venv/bin/python -m bench.fanout --limit 300 --messages 600 --latency-ms 300   # Beacon's default pace
    BEACON_BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/bench .venv/bin/python -m bench.fanout
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import func, select
from sqlmodel import col

from beacon.bot.db import upgrade
from beacon.bot.deps import Deps, build_deps
from beacon.bot.local_slack import LocalSlack, Workspace
from beacon.bot.local_slack.limits import Latency, RateLimits
from beacon.bot.models import OutboxMessage, OutboxStatus
from beacon.bot.organisation import parse_organisation
from beacon.bot.services import outbox
from beacon.bot.settings import Settings
from bench.reporting import finish, fresh_database

RESULTS = Path(__file__).parent / "results" / "fanout.json"
GOAL = "goal: within 10% of the minimum the limits allow, nothing lost or repeated"


async def run(messages: int, limit_per_minute: float, burst: int, latency: float, jitter: float,
              database_url: str) -> dict[str, object]:
    workspace = Workspace()
    for i in range(messages):
        workspace.add_user(f"U{i:08d}", f"person{i}", f"Person {i}")
    slack = LocalSlack(workspace)
    await slack.start()
    slack.limits = RateLimits.slack_tiers(workspace_posts_per_minute=limit_per_minute)
    slack.limits.burst = burst
    slack.latency = Latency(latency, jitter)
    await upgrade(database_url)
    settings = Settings(_env_file=None, slack_bot_token=workspace.bot_token, slack_api_url=slack.api_url,  # type: ignore[call-arg]
                        database_url=database_url, beacon_secret_key="b" * 40)
    organisation = parse_organisation({
        "channels": {"recognition": "C01", "engagement": "C02", "forum": "C03", "admin": "C04"},
        "delivery": {"posts_per_minute": limit_per_minute, "per_channel_seconds": 1.0}}, source="bench")
    deps = build_deps(settings, organisation)
    http = aiohttp.ClientSession()
    deps.slack_delivery.session = http

    minimum_seconds = (messages - burst) / (limit_per_minute / 60)
    now = datetime.now(UTC)
    async with deps.db.transaction() as session:
        await outbox.enqueue(session=session, now=now, promises=[outbox.Promise(
            dedupe_key=f"bench:{now.timestamp()}:{i}", source="bench", channel=f"U{i:08d}",
            content={"text": f"Your rota for next week is ready ({i})"}, due_at=now,
            expires_at=now + timedelta(hours=2)) for i in range(messages)])

    gc.freeze()  # as `beacon run` and `serve` do once started: what was built so far is never scanned again
    started = time.perf_counter()
    report = await deps.dispatcher.run_once()
    while await _unfinished(deps) and time.perf_counter() - started < minimum_seconds * 3 + 60:
        await asyncio.sleep(0.5)  # as the scheduler runs the dispatcher again: rows a 429 put back are due later
        report.add(await deps.dispatcher.run_once())
    elapsed = time.perf_counter() - started

    async with deps.db.transaction() as session:
        statuses = dict((await session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))).all())
    posted = [m.metadata["event_payload"]["outbox_id"] for c in workspace.channels.values() for m in c.messages
              if m.metadata]
    await http.close()
    await deps.db.dispose()
    await slack.stop()
    return {
        "messages": messages, "limit_per_minute": limit_per_minute, "burst": burst,
        "latency_ms": round(latency * 1000), "jitter_ms": round(jitter * 1000),
        "database": database_url.split(":")[0], "seconds": round(elapsed, 2),
        "minimum_seconds": round(minimum_seconds, 2),
        "over_minimum_percent": round((elapsed / minimum_seconds - 1) * 100, 2),
        "sent": statuses.get(OutboxStatus.SENT, 0), "posted": len(posted), "distinct_posted": len(set(posted)),
        "lost": messages - len(set(posted)), "duplicated": len(posted) - len(set(posted)),
        "rate_limited_429": slack.limits.rejected, "dispatch_report": vars(report),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


async def _unfinished(deps: Deps) -> int:
    async with deps.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            col(OutboxMessage.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))) or 0)


async def _repeated(args: argparse.Namespace) -> dict[str, object]:
    runs = []
    for _ in range(args.repeats):
        database_url = await fresh_database(os.environ.get("BEACON_BENCH_DATABASE_URL") or "sqlite", "fanout")
        runs.append(await run(args.messages, args.limit, args.burst, args.latency_ms / 1000, args.jitter_ms / 1000,
                              database_url))
    over = [float(r["over_minimum_percent"]) for r in runs]  # type: ignore[arg-type]
    return {**{k: v for k, v in runs[-1].items() if k not in ("seconds", "over_minimum_percent", "dispatch_report",
                                                              "rate_limited_429")},
            "repeats": len(runs), "seconds": [r["seconds"] for r in runs],
            "over_minimum_percent": {"min": min(over), "median": statistics.median(over), "max": max(over)},
            "over_minimum_percent_runs": over,
            "lost": sum(int(r["lost"]) for r in runs), "duplicated": sum(int(r["duplicated"]) for r in runs),  # type: ignore[call-overload]
            "rate_limited_429": [r["rate_limited_429"] for r in runs]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--limit", type=float, default=3000, help="chat.postMessage a minute, workspace-wide")
    parser.add_argument("--burst", type=int, default=5)
    parser.add_argument("--latency-ms", type=float, default=0, help="every Web API answer takes this long")
    parser.add_argument("--jitter-ms", type=float, default=0, help="give or take this much (uniformly)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--record", action="store_true", help=f"write the figures to {RESULTS}")
    args = parser.parse_args()
    result = asyncio.run(_repeated(args))
    worst = result["over_minimum_percent"]["max"]  # type: ignore[index]
    checks = {"nothing lost": result["lost"] == 0, "nothing sent twice": result["duplicated"] == 0}
    finish(result, passed=worst <= 10, checks=checks, goal=GOAL, results=RESULTS, record=args.record)


if __name__ == "__main__":
    main()

"""Benchmark: a fan-out of direct messages through the outbox against a local Slack enforcing rate limits.

The local Slack limits chat.postMessage to `--limit` a minute across the workspace (with a burst of
`--burst`) and to one a second in each channel, and answers 429 with Retry-After beyond that; the other
methods get Slack's published tiers. The minimum time the limits allow is (messages - burst) / rate.
Beacon passes when it takes no more than 10% over that minimum and loses and repeats nothing.

    .venv/bin/python -m bench.fanout                      # 4,000 messages, SQLite
    .venv/bin/python -m bench.fanout --messages 400       # a quick run
    BEACON_BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/bench .venv/bin/python -m bench.fanout
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from beacon.bot.db import upgrade
from beacon.bot.deps import build_deps
from beacon.bot.local_slack import LocalSlack, Workspace
from beacon.bot.local_slack.limits import RateLimits
from beacon.bot.models import OutboxMessage, OutboxStatus
from beacon.bot.organisation import parse_organisation
from beacon.bot.services import outbox
from beacon.bot.settings import Settings
from bench.reporting import finish

RESULTS = Path(__file__).parent / "results" / "fanout.json"
GOAL = "goal: within 10% of the minimum the limits allow, nothing lost or repeated"


async def run(messages: int, limit_per_minute: float, burst: int, database_url: str) -> dict[str, object]:
    workspace = Workspace()
    for i in range(messages):
        workspace.add_user(f"U{i:08d}", f"person{i}", f"Person {i}")
    slack = LocalSlack(workspace)
    await slack.start()
    slack.limits = RateLimits.slack_tiers(workspace_posts_per_minute=limit_per_minute)
    slack.limits.burst = burst
    await upgrade(database_url)
    settings = Settings(_env_file=None, slack_bot_token=workspace.bot_token, slack_api_url=slack.api_url,  # type: ignore[call-arg]
                        database_url=database_url, beacon_secret_key="b" * 40)
    organisation = parse_organisation({
        "channels": {"recognition": "C01", "engagement": "C02", "forum": "C03", "admin": "C04"},
        "delivery": {"posts_per_minute": limit_per_minute, "per_channel_seconds": 1.0}}, source="bench")
    deps = build_deps(settings, organisation)
    http = aiohttp.ClientSession()
    deps.slack_delivery.session = http

    now = datetime.now(UTC)
    async with deps.db.transaction() as session:
        await outbox.enqueue(session=session, now=now, promises=[outbox.Promise(
            dedupe_key=f"bench:{now.timestamp()}:{i}", source="bench", channel=f"U{i:08d}",
            content={"text": f"Your rota for next week is ready ({i})"}, due_at=now,
            expires_at=now + timedelta(hours=2)) for i in range(messages)])

    started = time.perf_counter()
    report = await deps.dispatcher.run_once()
    elapsed = time.perf_counter() - started

    async with deps.db.transaction() as session:
        statuses = dict((await session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))).all())
    posted = [m.metadata["event_payload"]["outbox_id"] for c in workspace.channels.values() for m in c.messages
              if m.metadata]
    minimum = (messages - burst) / (limit_per_minute / 60)
    await http.close()
    await deps.db.dispose()
    await slack.stop()
    return {
        "messages": messages, "limit_per_minute": limit_per_minute, "burst": burst,
        "database": database_url.split(":")[0], "seconds": round(elapsed, 2), "minimum_seconds": round(minimum, 2),
        "over_minimum_percent": round((elapsed / minimum - 1) * 100, 2),
        "sent": statuses.get(OutboxStatus.SENT, 0), "posted": len(posted), "distinct_posted": len(set(posted)),
        "lost": messages - len(set(posted)), "duplicated": len(posted) - len(set(posted)),
        "rate_limited_429": slack.limits.rejected, "dispatch_report": vars(report),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--limit", type=float, default=3000, help="chat.postMessage a minute, workspace-wide")
    parser.add_argument("--burst", type=int, default=5)
    parser.add_argument("--record", action="store_true", help=f"write the figures to {RESULTS}")
    args = parser.parse_args()
    database_url = os.environ.get("BEACON_BENCH_DATABASE_URL") or (
        f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='beacon-bench-')}/bench.db")
    result = asyncio.run(run(args.messages, args.limit, args.burst, database_url))
    ok = result["over_minimum_percent"] <= 10 and result["lost"] == 0 and result["duplicated"] == 0  # type: ignore[operator]
    finish(result, passed=ok, goal=GOAL, results=RESULTS, record=args.record)


if __name__ == "__main__":
    main()

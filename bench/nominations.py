"""Benchmark: nominations at scale, through the real app over signed HTTP against the local Slack.

A workspace holding 50,000 nominations (500 of them received by one person, 500 made by another). Measured:
`/nominate` from the request to its ack and to the views.open call, a submission to its ack, and the App
Home for the person with 500 nominations from app_home_opened to views.publish.
Goals: p99 under 100 ms for the first three, under 200 ms for the App Home.

    .venv/bin/python -m bench.nominations [--nominations 50000] [--samples 300] [--record]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from beacon.bot.blocks.nominations import NO_PATIENT_DETAILS
from beacon.bot.clock import SystemClock
from beacon.bot.db import Database, upgrade
from beacon.bot.ids import ActionId, BlockId
from beacon.bot.local_slack import LocalSlack
from beacon.bot.models import Nomination, Nominee
from bench.reporting import finish, percentiles
from tests.harness import BeaconServer, organisation_for, seed_workspace, settings_for, settle

RESULTS = Path(__file__).parent / "results" / "nominations.json"
STORY = ("Jo noticed a colleague struggling after a difficult job and made time to listen, then made sure they "
         "got proper support. Kind, calm and honest.")
STAFF = 4000



async def _seed(database_url: str, count: int, heavy_receiver: str, heavy_nominator: str) -> None:
    db = Database(database_url)
    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    values = ["care", "teamwork", "quality", "respect", "honesty"]
    async with db.transaction() as session:
        for chunk in range(0, count, 5000):
            rows, people = [], []
            for i in range(chunk, min(chunk + 5000, count)):
                nominator = heavy_nominator if i % 100 == 1 else f"U{rng.randrange(STAFF):08d}"
                receiver = heavy_receiver if i % 100 == 0 else f"U{rng.randrange(STAFF):08d}"
                when = start + timedelta(minutes=i * 7)
                rows.append({"id": i + 1, "nominator_id": nominator, "award": rng.choice(["values", "leadership",
                                                                                          "thanks"]),
                             "story": STORY, "values": rng.sample(values, 2), "behaviours": [], "status": "active",
                             "share_publicly": False, "hide_nominator": i % 3 == 0, "created_at": when,
                             "updated_at": when})
                people.append({"nomination_id": i + 1, "user_id": receiver, "consent": "not_asked"})
            await session.execute(insert(Nomination), rows)
            await session.execute(insert(Nominee), people)
    if not db.is_sqlite:  # the explicit ids above leave PostgreSQL's sequences behind
        async with db.transaction() as session:
            from sqlalchemy import text
            await session.execute(text("SELECT setval('nomination_id_seq', (SELECT max(id) FROM nomination))"))
            await session.execute(text("SELECT setval('nominee_id_seq', (SELECT max(id) FROM nominee))"))
    await db.dispose()


async def run(nominations: int, samples: int, database_url: str) -> dict[str, object]:
    workspace = seed_workspace()
    for i in range(STAFF):
        workspace.add_user(f"U{i:08d}", f"staff{i}", f"Staff Member {i}")
    slack = LocalSlack(workspace)
    await slack.start()
    await upgrade(database_url)
    heavy_receiver, heavy_nominator = "U00000001", "U00000002"
    seeded = time.perf_counter()
    await _seed(database_url, nominations, heavy_receiver, heavy_nominator)
    seeded = time.perf_counter() - seeded
    server = BeaconServer(slack, settings_for(slack, database_url), organisation_for(workspace), SystemClock())  # type: ignore[arg-type]
    beacon = await server.start()
    await beacon.deps.people.refresh_all()

    command_ack, to_views_open, submit_ack, home = [], [], [], []
    for n in range(samples):
        person = slack.person(f"U{(n * 13) % STAFF:08d}")
        before = len(workspace.calls)
        started = time.perf_counter()
        reply = await person.command("/nominate", f"<@U{(n * 13 + 1) % STAFF:08d}>")
        command_ack.append(reply.latency_ms)
        await settle()
        opened = next(c for c in workspace.calls[before:] if c.method == "views.open")
        to_views_open.append((opened.at - started) * 1000)
        await person.click(ActionId.NOMINATE_AWARD, value="values")
        await settle()
        reply = await person.submit({BlockId.NOMINATE_VALUES: ["care"], BlockId.NOMINATE_STORY: STORY,
                                     BlockId.NOMINATE_NO_PATIENT_DETAILS: [NO_PATIENT_DETAILS]})
        assert reply.json == {}, reply.json
        submit_ack.append(reply.latency_ms)
        await settle()
    for _ in range(max(20, samples // 10)):
        for user in (heavy_receiver, heavy_nominator):
            before = len(workspace.calls)
            started = time.perf_counter()
            await slack.person(user).open_home()
            await settle()
            published = next(c for c in workspace.calls[before:] if c.method == "views.publish")
            home.append((published.at - started) * 1000)
    await server.stop()
    await slack.stop()
    result = {
        "nominations": nominations, "database": database_url.split(":")[0], "seed_seconds": round(seeded, 1),
        "command_to_ack": percentiles(command_ack), "command_to_views_open": percentiles(to_views_open),
        "submission_to_ack": percentiles(submit_ack), "app_home_500_nominations": percentiles(home),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    result["pass"] = (result["command_to_ack"]["p99_ms"] < 100 and result["command_to_views_open"]["p99_ms"] < 100
                      and result["submission_to_ack"]["p99_ms"] < 100
                      and result["app_home_500_nominations"]["p99_ms"] < 200)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nominations", type=int, default=50_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    database_url = os.environ.get("BEACON_BENCH_DATABASE_URL") or (
        f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='beacon-bench-')}/bench.db")
    result = asyncio.run(run(args.nominations, args.samples, database_url))
    finish(result, passed=result["pass"], checks={}, goal=None, results=RESULTS, record=args.record)


if __name__ == "__main__":
    main()

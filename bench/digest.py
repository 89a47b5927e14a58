"""Benchmark: building the weekly digest from a year of data, at 1x, 10x and 100x of a small base.

100x is a year of a 4,000-person trust: 50,000 nominations (a fifth of them celebrated in public), 1,000
pulses with 500,000 anonymous answers, 10,000 leader engagements, 100 scheduled posts and 400 people who asked
for a personal digest. Each scale gets a fresh database. Measured: the channel digest (gather and render) and
the personal digests, in milliseconds, and the number of SQL statements each runs, which must not grow with
the data. Goal: the channel digest under 300 ms at 100x.

    .venv/bin/python -m bench.digest [--scales 1,10,100] [--record]
    BEACON_BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/beacon_bench .venv/bin/python -m ...
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import secrets
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, text

from beacon.bot.blocks.notices import render
from beacon.bot.clock import ManualClock
from beacon.bot.db import Database, upgrade
from beacon.bot.deps import build_deps
from beacon.bot.local_slack import LocalSlack, Workspace
from beacon.bot.models import (
    Engagement,
    Nomination,
    Nominee,
    Pulse,
    PulseAnswer,
    PulseParticipation,
    ScheduledPost,
    UserPreference,
)
from beacon.bot.organisation import parse_organisation
from beacon.bot.settings import Settings
from bench.reporting import finish, fresh_database

RESULTS = Path(__file__).parent / "results" / "digest.json"
GOAL = "goal: the channel digest under 300 ms at the largest scale; SQL statements the same at every scale"
DIGEST_AT = datetime(2027, 11, 29, 8, 0, 30, tzinfo=UTC)  # a Monday, 08:00 GMT
YEAR_START = DIGEST_AT - timedelta(days=365)
STAFF = 4000
CHANNELS = {"recognition": "C0RECOG", "engagement": "C0ENGAGE", "forum": "C0FORUM", "admin": "C0ADMIN",
            "digest": ["C0DIGEST"]}
SITES = [{"name": f"Station {i}", "area": f"Area {i % 8}"} for i in range(100)]
BASE = {"nominations": 500, "pulses": 10, "answers_per_pulse": 500, "engagements": 100, "posts": 1, "personal": 4}
VALUES = ["care", "teamwork", "quality", "respect", "honesty"]
SCALE = ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"]


async def _bulk(db: Database, table: Any, rows: list[dict[str, Any]]) -> None:
    async with db.transaction() as session:
        for chunk in range(0, len(rows), 5000):
            await session.execute(insert(table), rows[chunk:chunk + 5000])


async def _seed(db: Database, scale: int) -> dict[str, int]:
    rng = random.Random(scale)
    size = {key: value * scale for key, value in BASE.items()}
    size["answers_per_pulse"] = BASE["answers_per_pulse"]
    year = (DIGEST_AT - YEAR_START).total_seconds()

    nominations, nominees = [], []
    for i in range(1, size["nominations"] + 1):
        made = YEAR_START + timedelta(seconds=year * i / (size["nominations"] + 1))
        public = i % 5 == 0
        nominations.append({"id": i, "nominator_id": f"U{rng.randrange(STAFF):08d}", "award": rng.choice(
            ["values", "leadership", "thanks"]), "story": "A story of care on a long night shift. " * 4,
            "values": rng.sample(VALUES, 2), "behaviours": [], "status": "active", "share_publicly": public,
            "hide_nominator": False, "public_channel": CHANNELS["recognition"] if public else None,
            "public_ts": f"{made.timestamp():.6f}" if public else None,
            "celebrated_at": made + timedelta(hours=5) if public else None, "created_at": made, "updated_at": made})
        nominees.append({"nomination_id": i, "user_id": f"U{rng.randrange(STAFF):08d}",
                         "consent": "given" if public else "not_asked"})
    await _bulk(db, Nomination, nominations)
    await _bulk(db, Nominee, nominees)

    engagements = []
    span = year + 28 * 86400  # a year back and four weeks ahead
    for i in range(size["engagements"]):
        starts = YEAR_START + timedelta(seconds=span * i / size["engagements"])
        site = SITES[i % len(SITES)]["name"]
        engagements.append({"source_key": "ics:bench", "external_id": f"e{i}", "occurrence": "", "title": f"Visit {i}",
                            "leader": f"Director {i % 12}", "site": site, "location": site, "starts_at": starts,
                            "ends_at": starts + timedelta(hours=2), "all_day": False, "status": "scheduled",
                            "announcement_queued": True, "first_seen_at": YEAR_START, "updated_at": YEAR_START})
    await _bulk(db, Engagement, engagements)

    pulses, answers, taking_part = [], [], []
    for i in range(1, size["pulses"] + 1):
        # Evenly over the year, except that the last two are one closed last week and one open now, so that
        # every scale has both kinds and runs the same statements.
        opens = (YEAR_START + timedelta(seconds=(year - 10 * 86400) * i / size["pulses"]) if i < size["pulses"] - 1
                 else DIGEST_AT - timedelta(days=9 if i == size["pulses"] - 1 else 2))
        closes = opens + timedelta(days=7)
        closed = closes <= DIGEST_AT
        pulses.append({"id": i, "title": f"Pulse {i}", "questions": [
            {"key": "q1", "type": "agreement", "text": "I am able to make suggestions to improve the work of my team.",
             "options": SCALE}], "channel": CHANNELS["forum"], "created_by": "U0FORUM", "anonymous": True,
            "live_results": False, "status": "closed" if closed else "open", "opens_at": opens, "closes_at": closes,
            "message_channel": CHANNELS["forum"], "message_ts": f"{opens.timestamp():.6f}",
            "responses": size["answers_per_pulse"], "responses_shown": size["answers_per_pulse"],
            "created_at": opens, "closed_at": closes if closed else None})
        for n in range(size["answers_per_pulse"]):
            answers.append({"id": secrets.token_hex(16), "pulse_id": i, "answers": {"q1": rng.choice(SCALE)},
                            "answered_on": (opens + timedelta(days=n % 7)).date(),
                            "change_hash": secrets.token_hex(32)})
            taking_part.append({"pulse_id": i, "user_id": f"U{(n * 7 + i) % STAFF:08d}"})
    await _bulk(db, Pulse, pulses)
    await _bulk(db, PulseAnswer, answers)
    await _bulk(db, PulseParticipation, taking_part)

    posts = []
    for i in range(size["posts"]):
        run = DIGEST_AT + timedelta(hours=1 + i % 150)
        posts.append({"author_id": "U0COMMS", "channels": [CHANNELS["engagement"]], "message": {
            "type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [
                {"type": "text", "text": f"Announcement {i} for every station"}]}]},
            "fallback_text": f"Announcement {i}", "starts_local": run.replace(tzinfo=None), "timezone": "Europe/London",
            "repeat": "daily" if i % 10 == 0 else "none", "status": "scheduled", "revision": 1, "next_run_at": run,
            "audience_confirmed": True, "created_at": YEAR_START, "updated_at": YEAR_START})
    await _bulk(db, ScheduledPost, posts)
    await _bulk(db, UserPreference, [{"user_id": f"U{i:08d}", "site": SITES[i % len(SITES)]["name"],
                                      "personal_digest": True, "updated_at": YEAR_START}
                                     for i in range(size["personal"])])
    if not db.is_sqlite:
        async with db.transaction() as session:
            for table in ("nomination", "nominee", "engagement", "pulse", "scheduled_post"):
                await session.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))  # noqa: S608
            await session.execute(text("ANALYZE"))
    return {"nominations": size["nominations"], "pulses": size["pulses"], "pulse_answers": len(answers),
            "engagements": size["engagements"], "scheduled_posts": size["posts"], "personal_digests": size["personal"]}


async def _one_scale(slack: LocalSlack, workspace: Workspace, database_url: str, scale: int,
                     runs: int) -> dict[str, Any]:
    url = await fresh_database(database_url, f"digest-{scale}")
    await upgrade(url)
    db = Database(url)
    seeded = time.perf_counter()
    rows = await _seed(db, scale)
    seeded = time.perf_counter() - seeded
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    settings = Settings(_env_file=None, slack_bot_token=workspace.bot_token, slack_api_url=slack.api_url,  # type: ignore[call-arg]
                        database_url=url, beacon_secret_key="b" * 40)
    organisation = parse_organisation({"channels": CHANNELS, "sites": SITES}, source="bench")
    deps = build_deps(settings, organisation, clock=ManualClock(DIGEST_AT), db=db)
    await deps.people.refresh_all()
    digests = deps.digests
    week = digests.due_week()
    assert week is not None

    async def channel_digest() -> dict[str, Any]:
        params = await digests.gather(db=db, week=week)
        render({"template": "weekly_digest", "params": params})
        return params

    async def personal_digests() -> dict[str, Any]:
        async with db.transaction() as session:
            found = await digests.gather_personal(session=session, week=week, digest={})
        for params in found.values():
            render({"template": "personal_digest", "params": params})
        return found

    measured: dict[str, Any] = {}
    for name, work in (("channel_digest", channel_digest), ("personal_digests", personal_digests)):
        await work()  # warm: connections, the app's identity, caches
        samples, per_run = [], []
        for _ in range(runs):
            before = statements
            started = time.perf_counter()
            made = await work()
            samples.append((time.perf_counter() - started) * 1000)
            per_run.append(statements - before)
        measured[name] = {"median_ms": round(statistics.median(samples), 1), "max_ms": round(max(samples), 1),
                          "sql_statements": max(per_run), "runs": runs}
        if name == "channel_digest":
            measured[name]["shown"] = {"leaders": made["leaders_total"],
                                       "celebrated": made["recognition"]["shout_outs_total"],
                                       "nominations": made["recognition"]["nominations"],
                                       "pulse_results": len(made["forum"]["results"]),
                                       "scheduled_runs": made["scheduled_total"]}
        else:
            measured[name]["people"] = len(made)
    await db.dispose()
    return {"scale": scale, "rows": rows, "seed_seconds": round(seeded, 1), **measured}


async def run(scales: list[int], runs: int, database_url: str) -> dict[str, Any]:
    workspace = Workspace()
    for i in range(STAFF):
        workspace.add_user(f"U{i:08d}", f"staff{i}", f"Staff Member {i}")
    slack = LocalSlack(workspace)
    await slack.start()
    try:
        results = [await _one_scale(slack, workspace, database_url, scale, runs) for scale in scales]
    finally:
        await slack.stop()
    largest = results[-1]["channel_digest"]
    statements = {r["channel_digest"]["sql_statements"] for r in results}
    personal = {r["personal_digests"]["sql_statements"] for r in results}  # the same at every scale: pass
    return {
        "database": database_url.split(":")[0], "scales": results,
        "constant_statements": len(statements) == 1 and len(personal) == 1,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "pass": largest["max_ms"] < 300 and len(statements) == 1 and len(personal) == 1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="1,10,100")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--record", action="store_true", help=f"append the figures to {RESULTS}")
    args = parser.parse_args()
    database_url = os.environ.get("BEACON_BENCH_DATABASE_URL") or "sqlite+aiosqlite:///unused"
    result = asyncio.run(run([int(s) for s in args.scales.split(",")], args.runs, database_url))
    checks = {"the same SQL statements at every scale": result["constant_statements"]}
    finish(result, passed=result["pass"], checks=checks, goal=GOAL, results=RESULTS, record=args.record)


if __name__ == "__main__":
    main()

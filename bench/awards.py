"""Benchmark: a round of 10,000 nominations under review. Goals: the review view built in under 300 ms,
the CSV export under 2 s, the insight under 500 ms (on SQLite and PostgreSQL).

    .venv/bin/python -m bench.awards [--nominations 10000] [--record]
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from beacon.bot.blocks.awards import build_candidate_modal, build_insight_blocks, build_review_modal
from beacon.bot.clock import ManualClock
from beacon.bot.db import Database, upgrade
from beacon.bot.deps import build_deps
from beacon.bot.local_slack import Workspace
from beacon.bot.models import AwardRound, Nomination, Nominee, RoundStatus, Score
from beacon.bot.organisation import parse_organisation
from beacon.bot.settings import Settings
from bench.reporting import finish

RESULTS = Path(__file__).parent / "results" / "awards.json"
PANEL = ["U0PANEL1", "U0PANEL2", "U0PANEL3"]
SITES = [{"name": f"Station {i}", "area": f"Area {i % 6}"} for i in range(100)]


async def _seed(db: Database, count: int) -> None:
    rng = random.Random(11)
    start = datetime(2027, 1, 1, tzinfo=UTC)
    async with db.transaction() as session:
        session.add(AwardRound(id=1, name="2027 Staff Awards", status=RoundStatus.CLOSED, created_by=PANEL[0],
                               closes_at=start + timedelta(days=90), opened_at=start))
        await session.flush()
        values = ["care", "teamwork", "quality", "respect", "honesty"]
        behaviours = ["leading_with_care", "engaging_the_team", "inspiring_shared_purpose", "holding_to_account"]
        nominations, nominees, scores = [], [], []
        for i in range(1, count + 1):
            award = "leadership" if i % 3 == 0 else "values"
            person = rng.randrange(50) if rng.random() < 0.2 else rng.randrange(3000)  # some are noticed more
            nominations.append({"id": i, "nominator_id": f"U{rng.randrange(4000):08d}", "award": award, "round_id": 1,
                                "story": "A story of care and courage on a long night shift. " * 6,
                                "values": rng.sample(values, 2), "framework": "healthcare_leadership_model",
                                "behaviours": rng.sample(behaviours, 1) if award == "leadership" else [],
                                "status": "active", "share_publicly": False, "hide_nominator": False,
                                "created_at": start + timedelta(minutes=i), "updated_at": start})
            if person % 2:
                nominees.append({"nomination_id": i, "user_id": f"U{person:08d}", "consent": "not_asked"})
            else:
                nominees.append({"nomination_id": i, "name": f"Crew member {person}", "role": "Paramedic",
                                 "site": f"Station {person % 100}", "consent": "not_asked"})
            if i % 4 == 0:
                scores.append({"nomination_id": i, "panel_member": PANEL[i % 3], "score": 1 + i % 5, "note": "ok",
                               "created_at": start, "updated_at": start})
        for table, rows in ((Nomination, nominations), (Nominee, nominees), (Score, scores)):
            for chunk in range(0, len(rows), 5000):
                await session.execute(insert(table), rows[chunk:chunk + 5000])
    if not db.is_sqlite:
        async with db.transaction() as session:
            for table in ("award_round", "nomination", "nominee", "score"):
                await session.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))  # noqa: S608


async def _timed(runs: int, work) -> dict[str, float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        samples.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(samples), 1), "max_ms": round(max(samples), 1), "runs": runs}


async def run(count: int, database_url: str) -> dict[str, object]:
    await upgrade(database_url)
    db = Database(database_url)
    await _seed(db, count)
    workspace = Workspace()
    settings = Settings(_env_file=None, slack_bot_token=workspace.bot_token, database_url=database_url,  # type: ignore[call-arg]
                        beacon_secret_key="b" * 40)
    organisation = parse_organisation({
        "channels": {"recognition": "C01", "engagement": "C02", "forum": "C03", "admin": "C04"},
        "roles": {"panel": PANEL, "comms": ["U0COMMS"]}, "sites": SITES}, source="bench")
    deps = build_deps(settings, organisation, clock=ManualClock(datetime(2027, 4, 2, tzinfo=UTC)), db=db)
    review, content = deps.panel_review, deps.content

    async def review_view() -> None:
        async with db.transaction() as session:
            page = await review.review(session=session, user_id=PANEL[0], award="values")
            build_review_modal(page, content=content, framework="healthcare_leadership_model", viewer=PANEL[0])

    async def candidate_view() -> None:
        async with db.transaction() as session:
            page = await review.review(session=session, user_id=PANEL[0], award="values")
            detail = await review.candidate(session=session, user_id=PANEL[0], award="values",
                                            key=page.candidates[0].key)
            build_candidate_modal(detail, content=content, tz=organisation.tz)

    async def export() -> None:
        async with db.transaction() as session:
            await review.export_csv(session=session, user_id=PANEL[0])

    async def insight() -> None:
        async with db.transaction() as session:
            build_insight_blocks(await review.insight(session=session, user_id=PANEL[0]))

    result: dict[str, object] = {
        "nominations": count, "database": database_url.split(":")[0],
        "review_view": await _timed(10, review_view), "candidate_view": await _timed(10, candidate_view),
        "csv_export": await _timed(3, export), "insight": await _timed(10, insight),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    await db.dispose()
    result["pass"] = (result["review_view"]["max_ms"] < 300 and result["csv_export"]["max_ms"] < 2000  # type: ignore[index]
                      and result["insight"]["max_ms"] < 500)  # type: ignore[index]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nominations", type=int, default=10_000)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    database_url = os.environ.get("BEACON_BENCH_DATABASE_URL") or (
        f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='beacon-bench-')}/bench.db")
    result = asyncio.run(run(args.nominations, database_url))
    finish(result, passed=result["pass"], goal=None, results=RESULTS, record=args.record)


if __name__ == "__main__":
    main()

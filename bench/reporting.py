"""What the benchmarks share: a fresh database for each run, and how every benchmark ends (print the result,
PASS or FAIL against its goal, and with --record append it to its file in bench/results/; exit code 0 on PASS,
so a script can run them all; `bench/suite.py` runs them all and reads each result from `BEACON_BENCH_RESULT`)."""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import text

from beacon.bot.db import Database


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50 / p95 / p99 / max of latencies in ms, and how many there were; {} for none."""
    ordered = sorted(samples)
    if not ordered:
        return {}

    def at(share: float) -> float:
        return round(ordered[max(0, int(len(ordered) * share) - 1)], 2)

    return {"p50_ms": round(statistics.median(ordered), 2), "p95_ms": at(0.95), "p99_ms": at(0.99),
            "max_ms": round(ordered[-1], 2), "samples": len(ordered)}


async def fresh_database(database_url: str, name: str) -> str:
    """A new SQLite file named `name`, or the PostgreSQL database at `database_url` emptied."""
    if database_url.startswith("sqlite"):
        return f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='beacon-bench-')}/{name}.db"
    db = Database(database_url)
    async with db.engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await db.dispose()
    return database_url


def finish(result: dict[str, Any], *, passed: bool, goal: str | None, results: Path, record: bool,
           checks: dict[str, bool] | None = None) -> None:
    """Print the figures and the verdict, hand them to the suite, and exit 0 only when everything held.

    `checks` are the benchmark's own correctness checks (nothing lost, nothing doubled, the answers right): a run
    that fails one is a failed run whatever its timings, and the suite names the check. `passed` is the standalone
    verdict, the checks and the benchmark's own time goals together; the suite judges timings against its goals."""
    checks = checks if checks is not None else {"passed": passed}
    failed = [name for name, held in checks.items() if not held]
    passed = passed and not failed
    print(json.dumps(result, indent=2))
    if out := os.environ.get("BEACON_BENCH_RESULT"):  # `python -m bench.suite` reads each run's figures from here
        Path(out).write_text(json.dumps({**result, "passed": not failed, "failed_checks": failed}))
    if goal:
        print("PASS" if passed else "FAIL", f"({goal})")
    if failed:
        print("checks that failed:", ", ".join(failed))
    if record:
        history = json.loads(results.read_text()) if results.exists() else []
        results.write_text(json.dumps([*history, result], indent=2) + "\n")
    raise SystemExit(0 if passed else 1)

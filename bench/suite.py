"""Every benchmark, several runs each, on SQLite and PostgreSQL: one table of min / median / max against its goal.

Each benchmark runs as its own process (so one cannot warm or slow the next) as often as `runs` says; a benchmark
that repeats itself (fan-out) runs once and reports each repeat. A row passes when its median meets the goal and
every run of the benchmark passed its own checks (nothing lost, nothing doubled, the answers right). Goals are set
within about 2x of what this machine (2 cores) measures, so a real regression fails; where the issue that asked for
a figure set a tighter one, that one stands. Rows "vs bare Bolt" divide Beacon's figure by a bare Bolt app's,
measured in the same run.

    make bench                                       # everything, both databases (about an hour and a half)
    .venv/bin/python -m bench.suite --only nominations,fanout --databases sqlite --runs 1
    .venv/bin/python -m bench.suite --record         # and write the table into README.md and bench/results/suite.json

PostgreSQL: `--postgres-url` (default postgresql+asyncpg://postgres@127.0.0.1:5432/beacon_bench), created if missing
and emptied before each run. Exit code 0 when every row passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent.parent
RESULTS = Path(__file__).parent / "results" / "suite.json"
README = ROOT / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
DATABASES = ("sqlite", "postgresql")

Figure = Callable[[dict[str, Any]], float | list[float]]


@dataclass(frozen=True)
class Row:
    """One figure a benchmark reports, and the most (or least) it may be. `goal` per database when they differ."""

    label: str
    unit: str
    figure: Figure
    most: float | dict[str, float] | None = None
    least: float | None = None
    bare: Figure | None = None  # the same figure from the bare Bolt app in the same run

    def goal_for(self, database: str) -> float | None:
        return self.most.get(database) if isinstance(self.most, dict) else self.most

    def goal_text(self, database: str) -> str:
        most = self.goal_for(database)
        if most is not None:
            return f"≤ {most:g} {self.unit}".rstrip()
        return f"≥ {self.least:g} {self.unit}".rstrip() if self.least is not None else "reported"


@dataclass(frozen=True)
class Bench:
    name: str
    args: tuple[str, ...] = ()
    runs: int = 3
    rows: tuple[Row, ...] = field(default_factory=tuple)
    about: str = ""


def _at(*path: str | int) -> Figure:
    def figure(result: dict[str, Any]) -> float | list[float]:
        value: Any = result
        for key in path:
            value = value[key]
        return value if isinstance(value, list) else float(value)
    return figure


def _scale(count: int, *path: str) -> Figure:
    def figure(result: dict[str, Any]) -> float:
        scale = next(s for s in result["scales"] if s.get("nominations", s.get("scale")) == count)
        value: Any = scale
        for key in path:
            value = value[key]
        return float(value)
    return figure


BENCHES: tuple[Bench, ...] = (
    Bench("nominations", ("--nominations", "50000", "--samples", "300"), about="50,000 nominations in the database",
          rows=(
        Row("`/nominate` to ack, p99", "ms", _at("command_to_ack", "p99_ms"), most=30),
        Row("`/nominate` to views.open, p99", "ms", _at("command_to_views_open", "p99_ms"), most=10),
        Row("submission to ack, p99", "ms", _at("submission_to_ack", "p99_ms"), most=50),
        Row("App Home of a person with 500 nominations, p99", "ms", _at("app_home_500_nominations", "p99_ms"), most=60),
    )),
    Bench("pulse_answers", ("--people", "2000", "--window", "60"), about="2,000 people answer a pulse within 60 s",
          rows=(
              Row("answer click to ack, p99", "ms", _at("beacon_serve", "ack_latency", "p99_ms"), most=50,
                  bare=_at("bare_bolt_ack_only", "ack_latency", "p99_ms")),
              Row("answer click to ack, p50", "ms", _at("beacon_serve", "ack_latency", "p50_ms"), most=30,
                  bare=_at("bare_bolt_ack_only", "ack_latency", "p50_ms")),
          )),
    Bench("crowd", ("--per-kind", "100", "--rounds", "3"), runs=1,
          about="20 requests at once (/nominate, pulse clicks, nomination forms), 3 rounds interleaved with bare Bolt",
          rows=(
              Row("ack, p99", "ms", _at("ack_p99_ms_rounds"), most=100, bare=_at("bare_ack_p99_ms_rounds")),
              Row("`/nominate` to ack, p99", "ms", _at("command_ack_p99_ms_rounds"), most=100,
                  bare=_at("bare_command_ack_p99_ms_rounds")),
              Row("pulse click to ack, p99", "ms", _at("click_ack_p99_ms_rounds"), most=100,
                  bare=_at("bare_click_ack_p99_ms_rounds")),
              Row("nomination form to ack, p99", "ms", _at("submission_ack_p99_ms_rounds"), most=100,
                  bare=_at("bare_submission_ack_p99_ms_rounds")),
              Row("pulse click to private confirmation, p99", "ms", _at("confirmation_p99_ms_rounds"),
                  most={"postgresql": 1000, "sqlite": 2000}),
              Row("memory 10 s after the burst over before it", "x", _at("memory_after_over_before"), most=1.15),
          )),
    Bench("calendar_sync", ("--calendars", "5", "--events", "2000", "--large", "50000"),
          about="5 ICS feeds of 2,000 events; one of 50,000", rows=(
        Row("5 x 2,000: first sync", "s", _at("bulk", "first_sync_seconds"), most=3),
        Row("5 x 2,000: second sync (unchanged)", "s", _at("bulk", "second_sync_seconds"), most=0.2),
        Row("5 x 2,000: posts the import queues (besides one each starting within the hour)", "posts",
            _at("bulk", "posts_beyond_the_hour"), most=1),
        Row("5 x 2,000: peak memory", "MB", _at("peak_rss_mb"), most=200),
        Row("50,000: first sync", "s", _at("large", "first_sync_seconds"), most=12),
        Row("50,000: unchanged feed", "s", _at("large", "unchanged_sync_seconds"), most=0.4),
        Row("50,000: changed feed", "s", _at("large", "changed_sync_seconds"), most=6),
        Row("50,000: changed feed, peak memory", "MB", _at("large", "changed_sync_peak_rss_mb"), most=200),
    )),
    Bench("isolation", ("--seconds", "15", "--rate", "20"),
          about="staff clicks while the panel reviews and exports 10,000 nominations and 10,000 events sync", rows=(
        Row("staff ack p99, loaded / idle", "x", _at("p99_ratio"), most=1.5),
        Row("staff ack p99 under load", "ms", _at("loaded_ms", "p99"), most=100),
    )),
    Bench("digest", ("--scales", "1,10,100", "--runs", "10"), about="a year of data at 100x", rows=(
        Row("channel digest at 100x, median", "ms", _scale(100, "channel_digest", "median_ms"), most=120),
        Row("400 personal digests at 100x, median", "ms", _scale(100, "personal_digests", "median_ms"), most=200),
    )),
    Bench("visibility", ("--runs", "10"), about="a year of 10,000 engagements, 100 sites, 4,000 staff", rows=(
        Row("the year's visibility report, median", "ms", _at("sizes", 1, "year", "median_ms"), most=300),
        Row("the year's visibility report, slowest", "ms", _at("sizes", 1, "year", "max_ms"), most=300),
    )),
    Bench("awards", ("--scales", "10000,100000"), about="a round of 10,000 and 100,000 nominations", rows=(
        Row("review page at 10k, median", "ms", _scale(10_000, "review_page_ms", "median"), most=30),
        Row("review page at 100k, median", "ms", _scale(100_000, "review_page_ms", "median"), most=30),
        Row("candidate view at 100k, median", "ms", _scale(100_000, "candidate_view_ms", "median"), most=60),
        Row("CSV export of 100k", "s", lambda r: _scale(100_000, "csv_export_ms", "median")(r) / 1000,
            most={"sqlite": 28, "postgresql": 55}),
        Row("CSV export peak memory", "MB", _scale(100_000, "export_peak_mb"), most=8),
        Row("insight of 10k, median", "ms", _scale(10_000, "insight_ms", "median"), most=500),
    )),
    Bench("audit_privacy", (), runs=3, about="a year of a 4,000-person trust, 1.3 million rows", rows=(
        Row("audit append, p99", "ms", _at("audit_append", "sequential", "p99_ms"), most=16),
        Row("verify 100,000 entries", "s", _at("audit_verify", "seconds"), most=10),
        Row("export a busy person, median", "ms", _at("privacy", "export", "median_ms"), most=650),
        Row("erase a busy person", "ms", _at("privacy", "erase", "ms"), most=400),
        Row("retention applied", "s", _at("retention", "apply_seconds"), most={"sqlite": 6, "postgresql": 2}),
        Row("`/metrics` scrape, p99", "ms", _at("metrics_scrape", "p99_ms"), most=13),
    )),
    Bench("fanout", ("--messages", "1500", "--limit", "3000", "--latency-ms", "150", "--jitter-ms", "50"), runs=1,
          about="1,500 DMs at 3,000 a minute, every call answered after 150 ± 50 ms", rows=(
              Row("time over the limits' minimum", "%", _at("over_minimum_percent_runs"), most=5),
          )),
    Bench("fanout", ("--messages", "1500", "--limit", "3000", "--latency-ms", "300", "--jitter-ms", "50"), runs=1,
          about="1,500 DMs at 3,000 a minute, calls answered after 300 ± 50 ms", rows=(
              Row("time over the limits' minimum", "%", _at("over_minimum_percent_runs"), most=5),
          )),
    Bench("fanout", ("--messages", "300", "--limit", "300", "--latency-ms", "300", "--jitter-ms", "50"), runs=1,
          about="300 DMs at Beacon's default 300 a minute, calls answered after 300 ± 50 ms", rows=(
              Row("time over the limits' minimum", "%", _at("over_minimum_percent_runs"), most=5),
          )),
    Bench("leaders", ("--leaders", "20,200", "--engagements", "10000"),
          about="the leader directory: 210 leaders, 10,000 engagements", rows=(
        Row("`/leaders` read and built, 210 leaders, median", "ms", _at("largest", "median_ms"), most=50),
        Row("SQL statements per listing", "statements", _at("largest", "sql_statements"), most=2),
    )),
)


@dataclass
class Outcome:
    bench: Bench
    database: str
    results: list[dict[str, Any]]
    failures: list[str]
    seconds: float


def _run_once(bench: Bench, database: str, postgres_url: str) -> tuple[dict[str, Any] | None, str | None]:
    with tempfile.TemporaryDirectory(prefix="beacon-suite-") as folder:
        out = Path(folder) / "result.json"
        env = {**os.environ, "BEACON_BENCH_RESULT": str(out)}
        env.pop("BEACON_BENCH_DATABASE_URL", None)
        if database == "postgresql":
            env["BEACON_BENCH_DATABASE_URL"] = postgres_url
        command = [sys.executable, "-m", f"bench.{bench.name}", *bench.args]  # our own modules, our own arguments
        done = subprocess.run(command, cwd=ROOT, env=env,  # noqa: S603
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
        if not out.exists():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return None, f"exit {done.returncode}: {last}"
        result: dict[str, Any] = json.loads(out.read_text())
        return result, run_failure(result)


def run_failure(result: dict[str, Any]) -> str | None:
    """Why one run of a benchmark failed, naming the checks that did not hold; None when it passed."""
    if result.get("passed"):
        return None
    failed = result.get("failed_checks") or []
    return "its own checks failed" + (f" ({', '.join(failed)})" if failed else "")


def _figures(row: Row, results: list[dict[str, Any]], figure: Figure) -> list[float]:
    values: list[float] = []
    for result in results:
        value = figure(result)
        values.extend(value if isinstance(value, list) else [value])
    return values


def summarise(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """One entry per row and database: min / median / max, the goal, the bare Bolt ratio, and whether it passes."""
    table = []
    for outcome in outcomes:
        for row in outcome.bench.rows:
            entry: dict[str, Any] = {"benchmark": outcome.bench.name, "about": outcome.bench.about,
                                     "measure": row.label, "database": outcome.database, "unit": row.unit,
                                     "goal": row.goal_text(outcome.database), "runs": len(outcome.results),
                                     "problems": outcome.failures}
            try:
                values = _figures(row, outcome.results, row.figure)
            except (KeyError, StopIteration, TypeError) as missing:
                values, entry["problems"] = [], [*outcome.failures, f"no figure ({missing!r})"]
            if values:
                median = statistics.median(values)
                entry.update(min=min(values), median=median, max=max(values), samples=len(values))
                most, least = row.goal_for(outcome.database), row.least
                entry["passed"] = (not outcome.failures and (most is None or median <= most)
                                   and (least is None or median >= least))
                if row.bare is not None:
                    bare = _figures(row, outcome.results, row.bare)
                    entry["vs_bare_bolt"] = round(median / statistics.median(bare), 2) if bare else None
                    entry["passed"] = entry["passed"] and (entry["vs_bare_bolt"] or 0) <= 2
            else:
                entry["passed"] = False
            table.append(entry)
    return table


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def markdown(table: Sequence[dict[str, Any]]) -> str:
    lines = ["| benchmark | measure | database | goal (median) | min | median | max | vs bare Bolt | result |",
             "|---|---|---|---|---|---|---|---|---|"]
    for entry in table:
        if "median" in entry:
            low, mid, high = (f"{_number(entry[k])} {entry['unit']}".rstrip() for k in ("min", "median", "max"))
        else:
            low = mid = high = "–"
        ratio = f"x{entry['vs_bare_bolt']:.2f}" if entry.get("vs_bare_bolt") else ""
        verdict = "pass" if entry["passed"] else "FAIL " + "; ".join(entry["problems"])
        lines.append(f"| `{entry['benchmark']}`: {entry['about']} | {entry['measure']} | {entry['database']} | "
                     f"{entry['goal']} | {low} | {mid} | {high} | {ratio} | {verdict.strip()} |")
    return "\n".join(lines)


async def _ensure_postgres(url: str) -> None:
    """Create the benchmark's database on the server if it is not there yet."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    target = make_url(url)
    engine = create_async_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            exists = await connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                             {"name": target.database})
            if not exists:
                await connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        await engine.dispose()


def _record(table: list[dict[str, Any]]) -> None:
    """Keep the newest entry for each benchmark, measure and database, and write the table into the README."""
    kept = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    fresh = {(e["benchmark"], e["about"], e["measure"], e["database"]) for e in table}
    kept = [e for e in kept if (e["benchmark"], e["about"], e["measure"], e["database"]) not in fresh] + table
    order = {(b.name, b.about): i for i, b in enumerate(BENCHES)}
    kept.sort(key=lambda e: (order.get((e["benchmark"], e["about"]), len(order)), DATABASES.index(e["database"])))
    RESULTS.write_text(json.dumps(kept, indent=2) + "\n")
    readme = README.read_text()
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    if not rest:
        raise SystemExit(f"README.md has no {START} ... {END} section to write the table into")
    README.write_text(f"{head}{START}\n{markdown(kept)}\n{END}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated benchmark names (default: all)")
    parser.add_argument("--databases", default=",".join(DATABASES))
    parser.add_argument("--runs", type=int, help="runs of each benchmark instead of its own number (usually 3)")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "BEACON_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/beacon_bench"))
    parser.add_argument("--record", action="store_true", help="write the table into README.md and bench/results/")
    args = parser.parse_args()
    names = set(args.only.split(",")) if args.only else None
    databases = [d for d in args.databases.split(",") if d]
    unknown = (names or set()) - {b.name for b in BENCHES} | set(databases) - set(DATABASES)
    if unknown:
        raise SystemExit(f"unknown benchmark or database: {', '.join(sorted(unknown))}")
    if "postgresql" in databases:
        asyncio.run(_ensure_postgres(args.postgres_url))
    outcomes = []
    for database in databases:
        for bench in BENCHES:
            if names and bench.name not in names:
                continue
            started = time.monotonic()
            results, failures = [], []
            for run in range(args.runs or bench.runs):
                print(f"{bench.name} {' '.join(bench.args)} on {database}, run {run + 1}", file=sys.stderr, flush=True)
                result, problem = _run_once(bench, database, args.postgres_url)
                if result is not None:
                    results.append(result)
                if problem:
                    failures.append(f"run {run + 1}: {problem}")
            outcomes.append(Outcome(bench, database, results, failures, time.monotonic() - started))
    table = summarise(outcomes)
    print(markdown(table))
    print(f"\nmeasured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores; "
          f"{sum(e['passed'] for e in table)} of {len(table)} rows pass")
    if args.record:
        _record(table)
    raise SystemExit(0 if all(e["passed"] for e in table) else 1)


if __name__ == "__main__":
    main()

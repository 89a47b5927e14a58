"""`make bench`'s table: every benchmark is in it, a row fails when its median misses the goal, when any run of the
benchmark failed its own checks, or when Beacon is more than twice as slow as bare Bolt in the same run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import suite
from bench.reporting import finish
from bench.suite import Bench, Outcome, Row, markdown, run_failure, summarise

BENCH = Path(suite.__file__).parent
NOT_BENCHMARKS = {"__init__", "__main__", "suite", "reporting", "bare_bolt", "shared", "serving", "closed_loop",
                  "sampling"}


def test_every_benchmark_module_is_in_the_suite() -> None:
    modules = {p.stem for p in BENCH.glob("*.py")} - NOT_BENCHMARKS
    assert modules == {b.name for b in suite.BENCHES}


def test_every_benchmark_writes_its_result_for_the_suite() -> None:
    for bench in {b.name for b in suite.BENCHES}:
        assert "finish(" in (BENCH / f"{bench}.py").read_text(), bench


def _outcome(values: list[float], *, bare: list[float] | None = None, failures: list[str] | None = None,
             most: float | dict[str, float] = 10, database: str = "sqlite") -> Outcome:
    row = Row("ack p99", "ms", lambda r: r["ack"], most=most, bare=(lambda r: r["bare"]) if bare else None)
    results: list[dict[str, Any]] = [{"ack": v, **({"bare": b} if bare else {})}
                                     for v, b in zip(values, bare or values, strict=True)]
    return Outcome(Bench("x", rows=(row,), about="a test"), database, results, failures or [], 1.0)


def test_a_row_passes_on_its_median_and_reports_min_and_max() -> None:
    [entry] = summarise([_outcome([4, 9, 30])])
    assert (entry["min"], entry["median"], entry["max"], entry["passed"]) == (4, 9, 30, True)
    [entry] = summarise([_outcome([4, 11, 30])])
    assert entry["passed"] is False


def test_a_failed_run_fails_the_row_whatever_the_figures() -> None:
    [entry] = summarise([_outcome([1, 1, 1], failures=["run 2: its own checks failed"])])
    assert entry["passed"] is False
    assert "run 2: its own checks failed" in markdown([entry])


def test_beacon_more_than_twice_bare_bolt_fails_even_under_the_goal() -> None:
    [entry] = summarise([_outcome([5, 5, 5], bare=[2, 2, 2], most=100)])
    assert (entry["vs_bare_bolt"], entry["passed"]) == (2.5, False)
    [entry] = summarise([_outcome([4, 4, 4], bare=[2, 2, 2], most=100)])
    assert (entry["vs_bare_bolt"], entry["passed"]) == (2.0, True)


def test_goals_per_database() -> None:
    sqlite, postgresql = summarise([_outcome([20], most={"sqlite": 28, "postgresql": 15}),
                                    _outcome([20], most={"sqlite": 28, "postgresql": 15}, database="postgresql")])
    assert (sqlite["passed"], postgresql["passed"]) == (True, False)


def test_a_figure_missing_from_the_result_is_a_failure_not_a_crash() -> None:
    row = Row("absent", "ms", lambda r: r["nothing"], most=1)
    [entry] = summarise([Outcome(Bench("x", rows=(row,)), "sqlite", [{}], [], 1.0)])
    assert entry["passed"] is False
    assert "no figure" in markdown([entry])


def test_the_readme_has_the_section_the_suite_writes() -> None:
    readme = (BENCH.parent / "README.md").read_text()
    assert readme.count(suite.START) == 1 and readme.count(suite.END) == 1
    assert readme.index(suite.START) < readme.index(suite.END)


@pytest.mark.parametrize("bench", suite.BENCHES, ids=lambda b: f"{b.name} {b.about}")
def test_each_row_has_a_goal(bench: Bench) -> None:
    for row in bench.rows:
        assert row.most is not None or row.least is not None, row.label


def test_a_failed_check_is_named_and_fails_the_run_whatever_the_timings(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "result.json"
    monkeypatch.setenv("BEACON_BENCH_RESULT", str(out))
    with pytest.raises(SystemExit) as stopped:
        finish({"ack": 1}, passed=True, checks={"nothing lost": False, "nothing doubled": True}, goal="g",
               results=tmp_path / "history.json", record=False)
    assert stopped.value.code == 1
    assert run_failure(json.loads(out.read_text())) == "its own checks failed (nothing lost)"


def test_slow_timings_alone_leave_the_run_to_the_suites_goals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "result.json"
    monkeypatch.setenv("BEACON_BENCH_RESULT", str(out))
    with pytest.raises(SystemExit) as stopped:  # standalone, the benchmark's own time goal still fails it
        finish({"ack": 900}, passed=False, checks={"nothing lost": True}, goal="g", results=tmp_path / "h.json",
               record=False)
    assert stopped.value.code == 1
    assert run_failure(json.loads(out.read_text())) is None

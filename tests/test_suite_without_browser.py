"""`make test` in a trust's own CI, which sets CI (true, even 0) and has no Chromium: the suite runs, the browser
tests are skipped with their count, and only BEACON_REQUIRE_BROWSER (set by `.ci/run`) makes the browser a must."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
BROWSER_TESTS = len(re.findall(r"^async def test_", (ROOT / "tests/test_sandbox_browser.py").read_text(), re.M))


def _pytest(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"CI", "BEACON_REQUIRE_BROWSER", "PYTEST_ADDOPTS"}}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/test_sandbox_browser.py",
         "tests/test_configuration.py"],
        cwd=ROOT, env={**base, "BEACON_CHROMIUM": str(tmp_path / "no-chromium"),
                       "BEACON_TEST_OUTPUT": str(tmp_path), **env},
        capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.parametrize("ci", ["true", "0"])
def test_any_ci_variable_without_chromium_runs_the_rest_and_counts_the_skipped(tmp_path: Path, ci: str) -> None:
    run = _pytest(tmp_path, CI=ci)
    assert run.returncode == 0, run.stdout + run.stderr
    assert BROWSER_TESTS >= 5
    assert f"{BROWSER_TESTS} browser tests skipped: {tmp_path / 'no-chromium'} is not installed" in run.stdout
    ran = re.search(r"(\d+) passed, (\d+) skipped", run.stdout)
    assert ran, run.stdout
    assert int(ran[1]) >= 7 and int(ran[2]) == BROWSER_TESTS
    assert "error" not in run.stdout.lower().split("short test summary")[-1]


def test_the_projects_own_ci_insists_on_the_browser(tmp_path: Path) -> None:
    run = _pytest(tmp_path, CI="true", BEACON_REQUIRE_BROWSER="1")
    assert run.returncode == 1
    assert re.search(rf"\d+ passed, {BROWSER_TESTS} errors", run.stdout), run.stdout  # the rest still ran
    assert "BEACON_REQUIRE_BROWSER is set, so the browser tests must run" in run.stdout

"""`make sandbox HOST=... PORT=...` on a headless server: the page is served where it was asked to be, and a HOST
that only the environment sets (zsh sets it to the machine's name) leaves the sandbox on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.processes import free_port

ROOT = Path(__file__).parents[1]
BIN = str(Path(sys.executable).parent)
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _outside_make(**env: str) -> dict[str, str]:
    """The environment as a person's shell has it: under `make test`, make's own variables would make the inner
    make print "Entering directory" and pass its flags on."""
    return {k: v for k, v in {**os.environ, **env}.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}


def _dry_run(*args: str, **env: str) -> str:
    # -o: the install step counts as done, so nothing is installed; BIN: this test run's own environment.
    command = ["make", "--no-print-directory", "-n", "-o", ".venv/.installed-run", "sandbox", f"BIN={BIN}", *args]
    return subprocess.run(command, cwd=ROOT, env=_outside_make(**env),  # noqa: S603
                          capture_output=True, text=True, check=True).stdout


def test_host_and_port_come_from_makes_command_line_only() -> None:
    assert _dry_run("HOST=0.0.0.0", "PORT=8123").strip() == f"{BIN}/beacon sandbox --host 0.0.0.0 --port 8123"
    assert _dry_run(HOST="build-box-7", PORT="9999").strip() == f"{BIN}/beacon sandbox --host 127.0.0.1 --port 8000"


async def test_make_sandbox_serves_the_page_on_the_port_asked_for(tmp_path: Path) -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        "make", "-o", ".venv/.installed-run", "sandbox", f"BIN={BIN}", "HOST=127.0.0.1", f"PORT={port}",
        cwd=ROOT, env=_outside_make(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        start_new_session=True)
    try:
        assert process.stdout is not None
        said = b""
        while f"open http://127.0.0.1:{port}".encode() not in said:  # as a person waits for the line to open
            line = await asyncio.wait_for(process.stdout.readline(), 120)
            assert line, f"make sandbox ended before the sandbox was ready: {said.decode()}"
            said += line
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/") as page:
            assert page.status == 200 and "<html" in (await page.text()).lower()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        out, _ = await asyncio.wait_for(process.communicate(), 30)
    assert "Traceback" not in out.decode()
    # Once the page is served, SIGTERM is a graceful stop (work under way finishes), not an abandoned start, which
    # cancelled the sandbox's timeline mid-transaction and left SQLAlchemy to log a rollback it could not finish.
    assert "stopped before Beacon was ready" not in out.decode()

"""What benchmarks that serve Beacon over HTTP share: a free port, waiting for a server to answer, a child process
tied to a `with` block, `beacon serve` started against the local Slack, and a process's resident memory."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path
from types import TracebackType

import aiohttp
import yaml

from beacon.bot.local_slack import LocalSlack
from tests.harness import ERIN, FORUM, SECRET_KEY, organisation_for

ROOT = Path(__file__).resolve().parents[1]
BEACON = str(Path(sys.executable).parent / "beacon")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def healthy(port: int, path: str) -> None:
    """Wait until something answers on `port` (any status below 500)."""
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            try:
                async with http.get(f"http://127.0.0.1:{port}{path}") as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"nothing answered on port {port}")


class Process:
    """A child process for the length of an `async with` block: terminated (then killed) when it ends."""

    def __init__(self, *args: str, env: dict[str, str], cwd: Path, stderr: Path | None = None):
        self.args, self.env, self.cwd, self.stderr = args, env, cwd, stderr
        self.process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def __aenter__(self) -> Process:
        err = self.stderr.open("wb") if self.stderr else asyncio.subprocess.DEVNULL
        self.process = await asyncio.create_subprocess_exec(
            *self.args, env=self.env, cwd=self.cwd, stdout=asyncio.subprocess.DEVNULL, stderr=err)
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


def beacon_env(slack: LocalSlack, database_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    """The environment `beacon serve` needs against the local Slack, with a configuration file in `workdir`."""
    ws = slack.workspace
    organisation = organisation_for(ws)
    config = workdir / "beacon.yaml"
    config.write_text(yaml.safe_dump({"name": organisation.name, "timezone": "Europe/London",
                                      "channels": {"recognition": "C0RECOG", "engagement": "C0ENGAGE",
                                                   "forum": FORUM, "admin": "C0ADMIN"},
                                      "roles": {"forum_moderators": [ERIN], "admins": ["U0FRANK"]}}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BEACON_", "DATABASE_URL"))}
    return env | {"SLACK_BOT_TOKEN": ws.bot_token, "SLACK_SIGNING_SECRET": ws.signing_secret,
                  "SLACK_API_URL": slack.api_url, "BEACON_SECRET_KEY": SECRET_KEY, "BEACON_CONFIG": str(config),
                  "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING", **extra}


def bare_env(slack: LocalSlack) -> dict[str, str]:
    ws = slack.workspace
    return {**os.environ, "SLACK_BOT_TOKEN": ws.bot_token, "SLACK_SIGNING_SECRET": ws.signing_secret,
            "SLACK_API_URL": slack.api_url}


def rss_mb(pid: int) -> float:
    """A process's resident memory now, in MB (Linux: /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used so far (user and system), in seconds (Linux: /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

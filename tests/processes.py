"""Running `beacon` as real processes against the local Slack, as an operator would."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from beacon.bot.local_slack import LocalSlack
from tests.harness import SECRET_KEY

BEACON = str(Path(sys.executable).parent / "beacon")


def clean_env(**values: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "BEACON_", "DATABASE_URL", "GRAPH_"))}
    return {**keep, **values}


def write_config(path: Path, *, delivery: dict[str, Any] | None = None, **channels: str) -> Path:
    config: dict[str, Any] = {
        "channels": {"recognition": "C0RECOG", "engagement": "C0ENGAGE", "forum": "C0FORUM", "admin": "C0ADMIN",
                     **channels},
        "roles": {"comms": ["@comms-team", "U0GRACE"], "admins": ["U0FRANK"]},
    }
    if delivery:
        config["delivery"] = delivery
    path.write_text(yaml.safe_dump(config))
    return path


def slack_env(slack: LocalSlack, config: Path, database_url: str) -> dict[str, str]:
    ws = slack.workspace
    return clean_env(SLACK_BOT_TOKEN=ws.bot_token, SLACK_APP_TOKEN=ws.app_token,
                     SLACK_SIGNING_SECRET=ws.signing_secret, SLACK_API_URL=slack.api_url,
                     BEACON_SECRET_KEY=SECRET_KEY, BEACON_CONFIG=str(config), DATABASE_URL=database_url)


async def run_beacon(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(BEACON, *args, env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def beacon_process(*args: str, env: dict[str, str], cwd: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(BEACON, *args, env=env, cwd=cwd, stdout=asyncio.subprocess.DEVNULL,
                                                   stderr=asyncio.subprocess.PIPE)
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def wait_healthy(port: int) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        for _ in range(400):
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return dict(await response.json())
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("beacon serve never became healthy")


async def eventually(check: Callable[[], Any], seconds: float = 20.0) -> None:
    """Wait until `check()` (sync or async) is truthy."""
    for _ in range(int(seconds / 0.05)):
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the expected effect did not happen in time")

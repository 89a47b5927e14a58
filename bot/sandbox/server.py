"""`beacon sandbox`: Beacon, unchanged, against a local Slack workspace, with a web page to use it as anyone.

Three servers run in one process, all on 127.0.0.1:
- the local Slack (Web API and response URLs: `bot.local_slack`), which Beacon calls as it calls slack.com;
- Beacon in HTTP mode (`bot.http_server`), to which the local Slack sends signed requests;
- the sandbox page and its JSON API (`bot.sandbox.page_api`), plus the demo trust's published calendars.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from beacon.bot.content import load_content
from beacon.bot.http_server import EVENTS_PATH, build_web_app
from beacon.bot.listening import listen, next_port, why_not
from beacon.bot.local_slack import LocalSlack
from beacon.bot.runtime import Runtime, running
from beacon.bot.sandbox import demo_story, demo_trust, page_api
from beacon.bot.sandbox.timeline import TickingClock, Timeline
from beacon.bot.settings import Settings

log = logging.getLogger("beacon.sandbox")
_MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yaml"  # present in a checkout of Beacon


def _manifest() -> dict[str, Any] | None:
    return yaml.safe_load(_MANIFEST.read_text()) if _MANIFEST.is_file() else None


def _commands(manifest: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The slash commands the page offers: Beacon's own table, with the manifest's escaping rule for each."""
    escaped = {c["command"]: c.get("should_escape", False)
               for c in ((manifest or {}).get("features") or {}).get("slash_commands") or []}
    return [{"command": name, "description": spec.summary,
             "usage_hint": " | ".join(a.usage.partition(" ")[2] for a in spec.actions if " " in a.usage),
             "should_escape": escaped.get(name, True)}
            for name, spec in load_content().commands.items()]


class Sandbox:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 8000, database_url: str | None = None,
                 start: datetime | None = None, seed: bool = True):
        self.host, self.port = host, port
        self._database_url = database_url
        self._seed = seed
        self.clock = TickingClock((start or datetime.now(UTC)).replace(second=0, microsecond=0))
        self.tz = demo_trust.TZ
        self.first_day = self.clock.now().astimezone(self.tz).date()  # the demo calendars count from here
        manifest = _manifest()
        scopes = set(manifest["oauth_config"]["scopes"]["bot"]) if manifest else None
        self.slack = LocalSlack(demo_trust.workspace(scopes))
        self.slack.workspace.clock = lambda: self.clock.now().timestamp()  # messages are stamped in sandbox time
        self.commands = _commands(manifest)
        self.runtime: Runtime | None = None
        self.timeline: Timeline
        self._runners: list[web.AppRunner] = []
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self._ticking: asyncio.Task[None] | None = None
        self._stop_ticking = asyncio.Event()
        self._lifetime = contextlib.AsyncExitStack()  # the runtime's, entered in start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> Sandbox:
        page = web.Application()
        page.add_routes([*page_api.routes(self), web.get("/", self._index),
                         web.get("/demo/calendars/{leader}.ics", self._calendar)])
        page.router.add_static("/static/", Path(str(resources.files("beacon.bot.sandbox") / "static")))
        # First: a port already taken stops the sandbox before anything else has started.
        runner, self.port = await listen(page, self.host, self.port, shutdown_timeout=1)
        self._runners.append(runner)
        await self.slack.start()
        organisation = demo_trust.organisation(f"{self.url}/demo/calendars")
        if self._database_url is None:
            self._tempdir = tempfile.TemporaryDirectory(prefix="beacon-sandbox-")
            self._database_url = f"sqlite+aiosqlite:///{self._tempdir.name}/sandbox.db"
        ws = self.slack.workspace
        settings = Settings(
            _env_file=None, slack_bot_token=ws.bot_token, slack_app_token=ws.app_token,
            slack_signing_secret=ws.signing_secret, slack_api_url=self.slack.api_url,
            database_url=self._database_url, beacon_secret_key=secrets.token_urlsafe(48))
        # APScheduler stays paused: its triggers follow the machine's clock; the timeline runs the jobs instead.
        self.runtime = await self._lifetime.enter_async_context(
            running(settings, organisation, clock=self.clock, start_paused=True, grace_seconds=5))
        bolt, bolt_port = await listen(build_web_app(self.runtime), "127.0.0.1", 0, shutdown_timeout=1)
        self._runners.append(bolt)
        self.slack.app_url = f"http://127.0.0.1:{bolt_port}{EVENTS_PATH}"
        self.timeline = Timeline(self.runtime.scheduler, self.clock, work=self.runtime.run_queued_work)
        await self.timeline.run_due()  # roles, people and the calendar, as at any start
        if self._seed:
            await demo_story.play(self)
            await self.timeline.run_all()  # e.g. the pulse's response count, which the timetable job updates
        self._ticking = asyncio.create_task(self.timeline.keep_running(self._stop_ticking), name="sandbox timeline")
        return self

    async def stop(self) -> None:
        if self._ticking is not None:
            self._stop_ticking.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._ticking), 10)
            except TimeoutError:  # a step that does not finish in time is cancelled, as the runtime's grace does
                self._ticking.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._ticking
        for runner in reversed(self._runners):
            await runner.cleanup()
        await self._lifetime.aclose()
        await self.slack.stop()
        if self._tempdir is not None:
            self._tempdir.cleanup()

    async def _index(self, _request: web.Request) -> web.StreamResponse:
        return web.FileResponse(Path(str(resources.files("beacon.bot.sandbox") / "static" / "index.html")))

    async def _calendar(self, request: web.Request) -> web.Response:
        leader = request.match_info["leader"]
        if leader not in ("carol", "omar"):
            raise web.HTTPNotFound()
        return web.Response(text=demo_trust.leaders_calendar(leader, self.first_day), content_type="text/calendar")


async def serve(*, host: str, port: int, stop: asyncio.Event, ready: Callable[[], None] = lambda: None) -> int:
    """`beacon sandbox`: run until `stop` is set. `ready` is called once the page is served: from then on a stop
    signal lets the work under way finish (before it, the start is abandoned)."""
    sandbox = Sandbox(host=host, port=port)
    try:
        await sandbox.start()
    except OSError as problem:
        why = why_not(problem, host, port, what="another sandbox",
                      other_port=f"beacon sandbox --port {next_port(port)}")
        print(f"The sandbox could not listen on {host}:{port}: {why}")
        await sandbox.stop()
        return 2
    except BaseException:  # stopped while starting (SIGTERM, Ctrl+C): what had started is closed, not leaked
        await asyncio.shield(sandbox.stop())
        raise
    ready()
    print(f"Beacon sandbox: open {sandbox.url} in your browser. Nothing here reaches Slack. Ctrl+C stops it.",
          flush=True)
    try:
        await stop.wait()
    finally:
        await sandbox.stop()
    return 0

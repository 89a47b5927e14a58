"""Beacon under test: the real app served over HTTP (or Socket Mode) against the local Slack."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml
from aiohttp import web
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from beacon.bot.clock import ManualClock
from beacon.bot.db import Database, upgrade
from beacon.bot.deps import Deps
from beacon.bot.http_server import EVENTS_PATH, build_web_app
from beacon.bot.listening import listen
from beacon.bot.local_slack import LocalSlack, Workspace
from beacon.bot.organisation import Organisation, parse_organisation
from beacon.bot.runtime import Runtime, running
from beacon.bot.settings import Settings
from beacon.bot.socket_mode import LoggedSocketModeHandler

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get("BEACON_TEST_DATABASE_URL", "")
SECRET_KEY = "test-secret-key-" + "x" * 40

# People in the test trust. Bob is in comms through the @comms-team user group; Grace directly.
ALICE, BOB, CAROL, DAVE, ERIN, FRANK, GRACE, HEIDI = (
    "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0ERIN", "U0FRANK", "U0GRACE", "U0HEIDI")
RECOGNITION, ENGAGEMENT, FORUM, ADMIN, DIGEST, GENERAL, CHELMSFORD = (
    "C0RECOG", "C0ENGAGE", "C0FORUM", "C0ADMIN", "C0DIGEST", "C0GENERAL", "C0CHELMS")


def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yaml").read_text())


def manifest_scopes() -> set[str]:
    return set(manifest()["oauth_config"]["scopes"]["bot"])


def seed_workspace() -> Workspace:
    ws = Workspace(scopes=manifest_scopes())
    people = {ALICE: ("alice", "Alice Ambrose", "Paramedic"), BOB: ("bob", "Bob Birch", "Communications Officer"),
              CAROL: ("carol", "Carol Chen", "Chief Executive"), DAVE: ("dave", "Dave Dale", "Panel member"),
              ERIN: ("erin", "Erin Evans", "Forum moderator"), FRANK: ("frank", "Frank Fox", "IT lead"),
              GRACE: ("grace", "Grace Gale", "Head of Communications"), HEIDI: ("heidi", "Heidi Hart", "EMT")}
    for user_id, (name, real_name, title) in people.items():
        ws.add_user(user_id, name, real_name, title=title)
    everyone = set(people)
    for channel_id, name in [(RECOGNITION, "recognition"), (ENGAGEMENT, "leaders-out-and-about"),
                             (FORUM, "staff-forum"), (DIGEST, "weekly-digest"), (GENERAL, "general"),
                             (CHELMSFORD, "chelmsford-station")]:
        ws.add_channel(channel_id, name, members=everyone)
    ws.add_channel(ADMIN, "beacon-admin", members={FRANK}, is_private=True)
    ws.add_usergroup("S0COMMS", "comms-team", "Communications team", [BOB])
    return ws


def organisation_for(ws: Workspace, **overrides: object) -> Organisation:
    data: dict = {
        "name": "East of England Ambulance Service NHS Trust",
        "timezone": "Europe/London",
        "channels": {"recognition": RECOGNITION, "engagement": ENGAGEMENT, "forum": FORUM, "admin": ADMIN,
                     "digest": [DIGEST]},
        "roles": {"executives": [CAROL], "comms": [GRACE, "@comms-team"], "panel": [DAVE],
                  "forum_moderators": [ERIN], "admins": [FRANK]},
        "sites": [{"name": "Chelmsford Ambulance Station", "area": "Essex", "channel": CHELMSFORD}],
        # Tests pace nothing unless they test pacing; they use the manual clock for everything else.
        "delivery": {"posts_per_minute": 60000, "per_channel_seconds": 0},
    }
    data.update(overrides)
    return parse_organisation(data, source="test")


def settings_for(slack: LocalSlack, database_url: str, **overrides: object) -> Settings:
    ws = slack.workspace
    values: dict = {
        "slack_bot_token": ws.bot_token, "slack_app_token": ws.app_token,
        "slack_signing_secret": ws.signing_secret, "slack_api_url": slack.api_url,
        "database_url": database_url, "beacon_secret_key": SECRET_KEY,
        "beacon_home_refresh_seconds": 0,  # settle() sees each Home refresh at once (test_home_refresh.py: 2 s)
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class TestDatabases:
    """Fresh, migrated databases for each test, made cheaply.

    SQLite: one migrated template file, copied per test. PostgreSQL: migrated once per run,
    every table emptied between tests.
    """

    def __init__(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="beacon-test-"))
        self._template: Path | None = None
        self._postgres_ready = False

    def cleanup(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)

    async def fresh_url(self, name: str) -> str:
        if POSTGRES_URL:
            if not self._postgres_ready:
                await upgrade(POSTGRES_URL)
                self._postgres_ready = True
            await _empty_postgres(POSTGRES_URL)
            return POSTGRES_URL
        if self._template is None:
            self._template = self._dir / "template.db"
            await upgrade(f"sqlite+aiosqlite:///{self._template}")
        path = self._dir / f"{name}.db"
        shutil.copyfile(self._template, path)
        return f"sqlite+aiosqlite:///{path}"


async def _empty_postgres(url: str) -> None:
    engine = create_async_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    async with engine.begin() as connection:
        if tables:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@dataclass
class Beacon:
    """A running Beacon wired to the local Slack, as a test sees it."""

    slack: LocalSlack
    runtime: Runtime
    clock: ManualClock

    @property
    def deps(self) -> Deps:
        return self.runtime.deps

    @property
    def ws(self) -> Workspace:
        return self.slack.workspace


class BeaconServer:
    """Start and stop Beacon in HTTP mode (the default) or Socket Mode, in this event loop."""

    def __init__(self, slack: LocalSlack, settings: Settings, organisation: Organisation, clock: ManualClock):
        self.slack, self.settings, self.organisation, self.clock = slack, settings, organisation, clock
        self._runner: web.AppRunner | None = None
        self._socket: LoggedSocketModeHandler | None = None
        self.runtime: Runtime | None = None
        self._lifetime = AsyncExitStack()  # the runtime's, entered in start()

    async def start(self, *, socket_mode: bool = False, db: Database | None = None,
                    scheduler_paused: bool = True) -> Beacon:
        """Scheduler jobs are paused unless asked for: tests drive the dispatcher with the manual clock."""
        self.runtime = await self._lifetime.enter_async_context(running(
            self.settings, self.organisation, clock=self.clock, db=db, migrate=False, start_paused=scheduler_paused,
            grace_seconds=5))
        if socket_mode:
            self.slack.app_url = None
            self._socket = LoggedSocketModeHandler(self.runtime.app, self.settings.secret("slack_app_token"))
            await self._socket.connect_async()
        else:
            self._runner, port = await listen(build_web_app(self.runtime), "127.0.0.1", 0)
            self.slack.app_url = f"http://127.0.0.1:{port}{EVENTS_PATH}"
        return Beacon(slack=self.slack, runtime=self.runtime, clock=self.clock)

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
        if self._runner is not None:
            await self._runner.cleanup()
        await self._lifetime.aclose()


def start_of_test_time() -> datetime:
    return datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def settle() -> None:
    """Wait until every Bolt listener (after its ack) and scheduler job in this process has finished."""
    import asyncio

    from beacon.bot.runtime import in_flight_tasks

    for _ in range(100):
        pending = in_flight_tasks()
        if not pending:
            return
        await asyncio.wait(pending, timeout=5)
    raise AssertionError("Beacon's in-flight work did not settle")


@contextmanager
def connections_in_use(db: Database) -> Iterator[Callable[[], int]]:
    """How many of the database's connections are checked out at any moment (on SQLite, a writer's connection
    holds the write lock until it is checked back in)."""
    out = 0

    def checkout(*_: object) -> None:
        nonlocal out
        out += 1

    def checkin(*_: object) -> None:
        nonlocal out
        out -= 1

    pool = db.engine.sync_engine.pool
    event.listen(pool, "checkout", checkout)
    event.listen(pool, "checkin", checkin)
    try:
        yield lambda: out
    finally:
        event.remove(pool, "checkout", checkout)
        event.remove(pool, "checkin", checkin)


async def slack_answered(ws: Workspace, method: str, *, after: int = 0) -> None:
    """Wait (a few seconds at most) until the local Slack has answered `method` more than `after` times."""
    for _ in range(500):
        if len(ws.calls_to(method)) > after:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"Slack was never asked {method}")

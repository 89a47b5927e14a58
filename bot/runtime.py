"""A running Beacon: the Bolt app, its scheduler and connections, started and stopped together."""

from __future__ import annotations

import asyncio
import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING
from slack_bolt.async_app import AsyncApp

from bot import __version__
from bot.app import create_app
from bot.deps import Deps
from scheduler import build_scheduler

log = logging.getLogger("beacon.runtime")


class Runtime:
    def __init__(self, deps: Deps, *, app: AsyncApp | None = None, scheduler: AsyncIOScheduler | None = None,
                 start_paused: bool = False):
        self.deps = deps
        self._start_paused = start_paused
        self.app = app or create_app(deps.settings, deps)
        self.scheduler = scheduler or build_scheduler(deps)

    async def start(self) -> None:
        # One pooled HTTP session for every outbound call (Slack, Graph, ICS) instead of a new one per call.
        http = await self.deps.http.open()
        self.deps.slack.session = http
        self.deps.slack_delivery.session = http
        self.scheduler.start(paused=self._start_paused)
        log.info("beacon started", extra={"version": __version__})

    @property
    def scheduler_state(self) -> str:
        return {STATE_RUNNING: "running", STATE_PAUSED: "paused"}.get(self.scheduler.state, "stopped")

    async def stop(self, *, grace_seconds: float = 20.0) -> None:
        """Stop taking work, let in-flight handlers and jobs finish, then close everything."""
        if self.scheduler.running:
            self.scheduler.pause()
        await drain_tasks(grace_seconds)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.deps.http.close()
        await self.deps.db.dispose()
        log.info("beacon stopped")

    async def health(self) -> dict[str, object]:
        database = await self.deps.db.ping()
        scheduler = self.scheduler_state
        return {
            "ok": database and scheduler != "stopped",
            "database": "reachable" if database else "unreachable",
            "scheduler": scheduler,
            "version": __version__,
        }


# Work that must finish before Beacon exits: Bolt runs each listener, after its ack, as a task of this
# coroutine; APScheduler runs each job as a task of the other. Everything else (servers, sockets) is
# stopped by its owner.
IN_FLIGHT_WORK = {"run_ack_function_asynchronously", "run_coroutine_job"}


def in_flight_tasks() -> set[asyncio.Task[object]]:
    current = asyncio.current_task()
    return {t for t in asyncio.all_tasks()
            if t is not current and not t.done() and t.get_coro().__name__ in IN_FLIGHT_WORK}  # type: ignore[union-attr]


async def drain_tasks(grace_seconds: float) -> None:
    """Wait for in-flight listeners and jobs to finish; cancel any still running after the grace period."""
    pending = in_flight_tasks()
    if not pending:
        return
    log.info("waiting for in-flight work", extra={"tasks": len(pending)})
    _, still_running = await asyncio.wait(pending, timeout=grace_seconds)
    for task in still_running:
        log.warning("cancelling work that did not finish in time", extra={"task": task.get_name()})
        task.cancel()

"""A running Beacon: the Bolt app, its scheduler, connections and metrics, started and stopped together."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING
from slack_bolt.async_app import AsyncApp

from beacon.bot import __version__
from beacon.bot.app import create_app
from beacon.bot.deps import Deps
from beacon.bot.http_server import build_operations_app
from beacon.bot.listening import listen
from beacon.bot.metrics import Metrics, Readings, attach, outbox_backlog, take_readings
from beacon.scheduler import build_scheduler

log = logging.getLogger("beacon.runtime")


class Runtime:
    def __init__(self, deps: Deps, *, app: AsyncApp | None = None, scheduler: AsyncIOScheduler | None = None,
                 start_paused: bool = False):
        self.deps = deps
        self._start_paused = start_paused
        self.app = app or create_app(deps.settings, deps)
        self.scheduler = scheduler or build_scheduler(deps)
        # Metrics of its own, not the process-wide registry: tests run several Beacons in one process.
        self.metrics = Metrics()
        self.metrics.watch(self.scheduler)
        deps.dispatcher.on_outcome = self.metrics.count_send
        attach(self.app, self.metrics)
        self._operations: web.AppRunner | None = None
        self.operations_port: int | None = None  # where /metrics and /healthz are served, when asked for

    async def start(self) -> None:
        # One pooled HTTP session for every outbound call (Slack, Graph, ICS) instead of a new one per call.
        http = await self.deps.http.open()
        self.deps.slack.session = http
        self.deps.slack_delivery.session = http
        settings = self.deps.settings
        if settings.beacon_metrics_port is not None:  # first: a port already taken stops Beacon before any job runs
            await self._serve_operations(settings.beacon_metrics_host, settings.beacon_metrics_port)
        self.scheduler.start(paused=self._start_paused)
        log.info("beacon started", extra={"version": __version__})

    async def _serve_operations(self, host: str, port: int) -> None:
        self._operations, self.operations_port = await listen(build_operations_app(self), host, port,
                                                              handle_signals=False)
        log.info("serving metrics and health", extra={"url": f"http://{host}:{self.operations_port}/metrics"})

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
        await self.deps.pulse_answering.shutdown()  # held anonymous answers: stored, or their people told
        if self._operations is not None:
            await self._operations.cleanup()
            self._operations = None
        await self.deps.http.close()
        await self.deps.db.dispose()
        log.info("beacon stopped")

    async def health(self) -> dict[str, object]:
        """Unhealthy (503) when the database is unreachable, the scheduler has stopped, or the outbox's oldest due
        message has waited longer than `delivery.unhealthy_after_minutes`: delivery is stuck, so a restart may help.
        """
        database = await self.deps.db.ping()
        scheduler = self.scheduler_state
        reasons = [] if database else ["the database is unreachable"]
        if scheduler == "stopped":
            reasons.append("the scheduler has stopped")
        due = oldest_seconds = None
        if database:
            try:
                async with self.deps.db.transaction() as session:
                    due, oldest_seconds = await outbox_backlog(session=session, now=self.deps.clock.now())
            except Exception:
                log.warning("health check could not read the outbox", exc_info=True)
                reasons.append("the outbox could not be read")
        limit = self.deps.organisation.delivery.unhealthy_after_minutes
        if oldest_seconds is not None and oldest_seconds > limit * 60:
            reasons.append(f"the oldest due outbox message has waited {oldest_seconds / 60:.1f} minutes "
                           f"(delivery.unhealthy_after_minutes is {limit:g})")
        return {
            "ok": not reasons,
            "reasons": reasons,
            "database": "reachable" if database else "unreachable",
            "scheduler": scheduler,
            "outbox_due": due,
            "outbox_oldest_due_seconds": oldest_seconds,
            "version": __version__,
        }

    async def scrape(self) -> bytes:
        """The Prometheus text for `GET /metrics`: counters as they stand, the database's state read now."""
        readings: Readings | None = None
        try:
            async with self.deps.db.transaction() as session:
                readings = await take_readings(session=session, now=self.deps.clock.now(),
                                               sources=self.deps.calendar_sync.readers)
        except Exception:  # the counters are still worth serving; the database's own gauges are left out
            log.warning("metrics could not read the database", exc_info=True)
        return self.metrics.render(readings)


# Work that must finish before Beacon exits: Bolt runs each listener, after its ack, as a task of this
# coroutine; APScheduler runs each job as a task of the other. Everything else (servers, sockets) is
# stopped by its owner.
IN_FLIGHT_WORK = {"run_ack_function_asynchronously", "run_coroutine_job"}


def in_flight_tasks() -> set[asyncio.Task[object]]:
    current = asyncio.current_task()
    return {t for t in asyncio.all_tasks()
            if t is not current and not t.done() and getattr(t.get_coro(), "__name__", None) in IN_FLIGHT_WORK}


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

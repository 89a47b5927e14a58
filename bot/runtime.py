"""A running Beacon: the Bolt app, its scheduler, connections and metrics, started and stopped together.

`running(...)` is the one lifecycle every entry point uses (`beacon run`, `serve`, each admin command, the
sandbox and the tests): it opens the HTTP session, builds the dependencies around it, checks the database,
and closes everything in reverse order however the body ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING
from slack_bolt.async_app import AsyncApp

from beacon.bot import __version__
from beacon.bot.app import create_app
from beacon.bot.clock import Clock
from beacon.bot.db import Database, upgrade
from beacon.bot.deps import Deps, build_deps
from beacon.bot.http_server import build_operations_app
from beacon.bot.integrations.http import SharedHttp
from beacon.bot.listening import cannot_listen, listen, next_port
from beacon.bot.metrics import Metrics, Readings, attach, outbox_backlog, take_readings
from beacon.bot.organisation import Organisation
from beacon.bot.reachability import explain_database
from beacon.bot.services.authorisation import GroupDirectory
from beacon.bot.settings import Settings
from beacon.bot.worker import Worker
from beacon.bot.worker_processes import WorkerProcesses
from beacon.scheduler import build_scheduler

log = logging.getLogger("beacon.runtime")


@asynccontextmanager
async def running(settings: Settings, organisation: Organisation, *, serve: bool = True, migrate: bool = True,
                  clock: Clock | None = None, db: Database | None = None, directory: GroupDirectory | None = None,
                  start_paused: bool = False, grace_seconds: float = 20.0,
                  workers: int | None = None) -> AsyncIterator[Runtime]:
    """Beacon, from its first connection to its last. With `serve`, the scheduler (and the metrics port, when set)
    run inside the block and stop, draining in-flight work for up to `grace_seconds`, when it ends; without it, the
    block has the dependencies alone, as the admin commands need. `migrate` checks that the database answers (one
    clear message if not) and brings its schema up to date first. `workers`: how many `beacon worker` processes to
    start for the heavy work (0: they run elsewhere); None runs that work in this process, as the tests and the
    sandbox do."""
    # Metrics of its own, not the process-wide registry: tests run several Beacons in one process.
    metrics = Metrics()
    # One pooled HTTP session for every outbound call (Slack, Graph, ICS) instead of a new one per call.
    http = SharedHttp(timeout=settings.beacon_connect_timeout)
    await http.open()
    try:
        deps = build_deps(settings, organisation, clock=clock, db=db, directory=directory, http=http,
                          on_send=metrics.count_send)
        try:
            if migrate:
                await prepare_database(deps.db, settings.beacon_connect_timeout)
            runtime = Runtime(deps, metrics, start_paused=start_paused, workers=workers)
            if not serve:
                yield runtime
                return
            await runtime.start()
            try:
                yield runtime
            finally:
                await runtime.stop(grace_seconds=grace_seconds)
        finally:
            await deps.db.dispose()
    finally:
        await http.close()


async def prepare_database(db: Database, seconds: float) -> None:
    """Connect once (bounded, and in this loop, so a stop signal ends the wait), then migrate."""
    timeout = seconds
    try:
        async with asyncio.timeout(timeout):
            await db.connect_once()
        await upgrade(db.url)
    except Exception as error:
        failure = explain_database(error, db.url, timeout=timeout)
        if failure is None:
            raise
        raise failure from None


class Runtime:
    def __init__(self, deps: Deps, metrics: Metrics, *, app: AsyncApp | None = None,
                 scheduler: AsyncIOScheduler | None = None, start_paused: bool = False, workers: int | None = None):
        self.deps = deps
        self._start_paused = start_paused
        self.app = app or create_app(deps.settings, deps)
        self.scheduler = scheduler or build_scheduler(deps)
        self.metrics = metrics
        self.metrics.watch(self.scheduler)
        attach(self.app, self.metrics)
        self._operations: web.AppRunner | None = None
        self.operations_port: int | None = None  # where /metrics and /healthz are served, when asked for
        # Heavy work: run by `beacon worker` children (or elsewhere), or, with workers=None, in this process.
        self.worker_processes = WorkerProcesses(workers) if workers else None
        self.worker = Worker(deps) if workers is None else None
        self._kicked: set[asyncio.Task[int]] = set()

    async def start(self) -> None:
        settings = self.deps.settings
        if settings.beacon_metrics_port is not None:  # first: a port already taken stops Beacon before any job runs
            await self._serve_operations(settings.beacon_metrics_host, settings.beacon_metrics_port)
        if self.worker is not None:
            self.deps.work.on_queued = self.run_queued_work_soon
        if self.worker_processes is not None:
            await self.worker_processes.start()
        self.scheduler.start(paused=self._start_paused)
        log.info("beacon started", extra={"version": __version__})

    def run_queued_work_soon(self) -> None:
        """In-process work (tests, the sandbox): run what was just queued as a task of its own, which shutdown and
        the tests' `settle` wait for like a listener."""
        task = asyncio.get_running_loop().create_task(run_queued_work(self))
        self._kicked.add(task)
        task.add_done_callback(self._kicked.discard)

    async def run_queued_work(self) -> int:
        """Run every due job in this process now, after any already under way (the sandbox's clock calls this after
        each jump, so what a job queued is done before delivery runs)."""
        if self._kicked:
            await asyncio.gather(*self._kicked, return_exceptions=True)
        return await self.drain_queued_work()

    async def drain_queued_work(self) -> int:
        return await self.worker.drain() if self.worker is not None else 0

    async def _serve_operations(self, host: str, port: int) -> None:
        try:
            self._operations, self.operations_port = await listen(build_operations_app(self), host, port,
                                                                  handle_signals=False)
        except OSError as problem:
            raise cannot_listen(problem, host, port, host_setting="BEACON_METRICS_HOST",
                                port_setting="BEACON_METRICS_PORT",
                                other_port=f"BEACON_METRICS_PORT={next_port(port)}") from None
        log.info("serving metrics and health", extra={"url": f"http://{host}:{self.operations_port}/metrics"})

    @property
    def scheduler_state(self) -> str:
        return {STATE_RUNNING: "running", STATE_PAUSED: "paused"}.get(self.scheduler.state, "stopped")

    async def stop(self, *, grace_seconds: float = 20.0) -> None:
        """Stop taking work, let in-flight handlers and jobs finish; `running` then closes the connections."""
        if self.scheduler.running:
            self.scheduler.pause()
        self.deps.work.on_queued = None
        await drain_tasks(grace_seconds)
        if self.worker_processes is not None:
            await self.worker_processes.stop(grace_seconds)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.deps.pulse_answering.shutdown()  # held anonymous answers: stored, or their people told
        if self._operations is not None:
            await self._operations.cleanup()
            self._operations = None
        log.info("beacon stopped")

    async def health(self) -> dict[str, object]:
        """Unhealthy (503) when the database is unreachable, the scheduler has stopped, or the outbox's oldest due
        message has waited longer than `delivery.unhealthy_after_minutes` while nothing was sent in the last minute:
        delivery is stuck, so a restart may help. Behind but sending (a large fan-out at Slack's pace) is healthy:
        `delivery` says "draining" and `outbox_sent_last_minute` how fast.
        """
        database = await self.deps.db.ping()
        scheduler = self.scheduler_state
        reasons = [] if database else ["the database is unreachable"]
        if scheduler == "stopped":
            reasons.append("the scheduler has stopped")
        now = self.deps.clock.now()
        due = oldest_seconds = None
        if database:
            try:
                async with self.deps.db.transaction() as session:
                    due, oldest_seconds = await outbox_backlog(session=session, now=now)
            except Exception:
                log.warning("health check could not read the outbox", exc_info=True)
                reasons.append("the outbox could not be read")
        sent = self.deps.dispatcher.sent_since(now - timedelta(minutes=1))
        limit = self.deps.organisation.delivery.unhealthy_after_minutes
        delivery = "idle" if not due else "sending"
        if oldest_seconds is not None and oldest_seconds > limit * 60:
            if sent:
                delivery = "draining"
            else:
                delivery = "stuck"
                reasons.append(f"the oldest due outbox message has waited {oldest_seconds / 60:.1f} minutes "
                               f"(delivery.unhealthy_after_minutes is {limit:g}) and nothing was sent in the last "
                               "minute")
        return {
            "ok": not reasons,
            "reasons": reasons,
            "database": "reachable" if database else "unreachable",
            "scheduler": scheduler,
            "delivery": delivery,
            "outbox_due": due,
            "outbox_oldest_due_seconds": oldest_seconds,
            "outbox_sent_last_minute": sent,
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


# Work that must finish before Beacon exits: Bolt runs each listener, after its ack, as a task of the first
# coroutine; APScheduler runs each job as a task of the second; in-process queued work runs in the third;
# coalesced App Home refreshes (bot/after_ack.py) in the fourth.
# Everything else (servers, sockets) is stopped by its owner.
IN_FLIGHT_WORK = {"run_ack_function_asynchronously", "run_coroutine_job", "run_queued_work", "run_coalesced_work"}


async def run_queued_work(runtime: Runtime) -> int:
    return await runtime.drain_queued_work()


def in_flight_tasks() -> set[asyncio.Task[object]]:
    current = asyncio.current_task()
    return {t for t in asyncio.all_tasks()
            if t is not current and not t.done() and getattr(t.get_coro(), "__name__", None) in IN_FLIGHT_WORK}


async def drain_tasks(grace_seconds: float) -> None:
    """Wait for in-flight listeners and jobs to finish, and for what they start as they finish (a listener's App Home
    refresh); cancel any still running after the grace period."""
    pending = in_flight_tasks()
    if not pending:
        return
    log.info("waiting for in-flight work", extra={"tasks": len(pending)})
    deadline = asyncio.get_running_loop().time() + grace_seconds
    while pending and (left := deadline - asyncio.get_running_loop().time()) > 0:
        await asyncio.wait(pending, timeout=left)
        pending = in_flight_tasks()
    for task in pending:
        log.warning("cancelling work that did not finish in time", extra={"task": task.get_name()})
        task.cancel()

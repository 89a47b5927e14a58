"""Beacon's Prometheus metrics, in a registry per running Beacon (never the process-wide default one).

Counters and the ack histogram move as things happen: Slack requests, outbox sends, scheduler jobs. What the
database holds (the outbox backlog, calendar source health) is read at each scrape and handed to `render`, so
a scrape never shows a stale backlog and the collector itself does no I/O.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.base import BaseScheduler
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from slack_bolt.async_app import AsyncApp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot.models import CalendarSource
from beacon.bot.services import outbox

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Slack gives up on an ack after 3 s and Beacon aims for 100 ms; Prometheus counts in seconds.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 3.0)

_NUMBERED = re.compile(r"_\d+$")  # pulse_choose_3: one action id per answer option, one label for them all
_JOB_OUTCOMES = {EVENT_JOB_EXECUTED: "ok", EVENT_JOB_ERROR: "error", EVENT_JOB_MISSED: "missed"}


def request_type(kind: str, *, verified: bool) -> str:
    """A request's type as a label value: numbered action ids collapsed, unverified requests lumped together."""
    if not verified:
        return "unverified"  # an unsigned body is anyone's words: it must not be able to name new series
    return _NUMBERED.sub("", kind)


class NamedSource(Protocol):
    key: str
    name: str


@dataclass(frozen=True)
class SourceHealth:
    name: str                 # as in beacon.yaml: an ICS feed's URL may hold a secret, so it is never a label
    kind: str                 # ics or graph
    consecutive_failures: int
    last_success_at: datetime | None
    skipped_events: int = 0   # events of the feed its last sync could not read (skipped, the rest kept)


@dataclass(frozen=True)
class Readings:
    """What the database says at one scrape."""

    outbox_due: int
    outbox_oldest_due_seconds: float  # 0 when nothing is due
    calendar_sources: Sequence[SourceHealth]


async def outbox_backlog(*, session: AsyncSession, now: datetime) -> tuple[int, float | None]:
    """(rows due and not yet sent, seconds the oldest of them has waited or None): one indexed query."""
    due, oldest = await outbox.depth(session=session, now=now)
    return due, None if oldest is None else round(max(0.0, (now - oldest).total_seconds()), 1)


async def take_readings(*, session: AsyncSession, now: datetime, sources: Sequence[NamedSource]) -> Readings:
    """The outbox backlog and each configured calendar source's state, in two queries."""
    due, oldest_seconds = await outbox_backlog(session=session, now=now)
    states = {s.key: s for s in (await session.scalars(
        select(CalendarSource).where(col(CalendarSource.key).in_([s.key for s in sources])))).all()}
    health = []
    for source in sources:
        state = states.get(source.key)  # none yet: never synced
        health.append(SourceHealth(name=source.name, kind=source.key.partition(":")[0],
                                   consecutive_failures=state.consecutive_failures if state else 0,
                                   last_success_at=state.last_success_at if state else None,
                                   skipped_events=state.skipped_events if state else 0))
    return Readings(outbox_due=due, outbox_oldest_due_seconds=oldest_seconds or 0.0, calendar_sources=health)


class _ScrapeReadings(Collector):
    """Serves the readings taken for the scrape in progress; none (the database was unreadable): no samples."""

    def __init__(self) -> None:
        self.latest: Readings | None = None

    def collect(self) -> Iterator[Metric]:
        readings = self.latest
        if readings is None:
            return
        yield GaugeMetricFamily("beacon_outbox_due", "Outbox rows due and not yet sent (pending or sending).",
                                value=readings.outbox_due)
        yield GaugeMetricFamily("beacon_outbox_oldest_due_age_seconds",
                                "How long the oldest due, unsent outbox row has waited (0 when none).",
                                value=readings.outbox_oldest_due_seconds)
        failures = GaugeMetricFamily("beacon_calendar_source_consecutive_failures",
                                     "Failed syncs of a calendar source since its last success.",
                                     labels=["source", "kind"])
        success = GaugeMetricFamily("beacon_calendar_source_last_success_timestamp_seconds",
                                    "When a calendar source last synced (Unix time; absent if never).",
                                    labels=["source", "kind"])
        skipped = GaugeMetricFamily("beacon_calendar_source_skipped_events",
                                    "Events of a calendar source its last sync could not read (skipped).",
                                    labels=["source", "kind"])
        seen: dict[tuple[str, str], int] = {}
        for source in readings.calendar_sources:
            labels = (source.name, source.kind)
            seen[labels] = seen.get(labels, 0) + 1
            if seen[labels] > 1:  # two sources of one name: a second series, not a broken exposition
                labels = (f"{source.name} #{seen[labels]}", source.kind)
            failures.add_metric(labels, source.consecutive_failures)
            skipped.add_metric(labels, source.skipped_events)
            if source.last_success_at is not None:
                success.add_metric(labels, source.last_success_at.timestamp())
        yield failures
        yield success
        yield skipped


class Metrics:
    """One Beacon's metrics. `render` gives the Prometheus text for `GET /metrics`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._requests = Counter("beacon_slack_requests", "Slack requests by type and outcome.",
                                 ["type", "outcome"], registry=self.registry)
        self._ack = Histogram("beacon_slack_ack_seconds", "Time from receiving a Slack request to acking it.",
                              ["type"], buckets=ACK_BUCKETS, registry=self.registry)
        self._sends = Counter("beacon_outbox_sends", "Outbox delivery attempts by how they ended.",
                              ["outcome", "source"], registry=self.registry)
        self._jobs = Counter("beacon_scheduler_job_runs", "Scheduler job runs by job id and outcome.",
                             ["job", "outcome"], registry=self.registry)
        self._readings = _ScrapeReadings()
        self.registry.register(self._readings)

    def observe_request(self, *, kind: str, outcome: str, seconds: float, verified: bool) -> None:
        label = request_type(kind, verified=verified)
        self._requests.labels(type=label, outcome=outcome).inc()
        self._ack.labels(type=label).observe(seconds)

    def count_send(self, outcome: str, source: str) -> None:
        """The dispatcher's `on_outcome`."""
        self._sends.labels(outcome=outcome, source=source).inc()

    def watch(self, scheduler: BaseScheduler) -> None:
        """Count the runs of `scheduler`'s jobs; the jobs it already has start at 0, so rates work from the start."""
        for job in scheduler.get_jobs():
            for outcome in _JOB_OUTCOMES.values():
                self._jobs.labels(job=job.id, outcome=outcome)
        scheduler.add_listener(self._job_finished, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)

    def _job_finished(self, event: JobExecutionEvent) -> None:
        self._jobs.labels(job=event.job_id, outcome=_JOB_OUTCOMES[event.code]).inc()

    def render(self, readings: Readings | None) -> bytes:
        """The exposition, with `readings` just taken (None when the database could not be read)."""
        self._readings.latest = readings
        try:
            return generate_latest(self.registry)
        finally:
            self._readings.latest = None


# HTTP mode and Socket Mode are each handed only the Bolt app; this is how they find its metrics.
_BY_APP: weakref.WeakKeyDictionary[AsyncApp, Metrics] = weakref.WeakKeyDictionary()


def attach(app: AsyncApp, metrics: Metrics) -> None:
    _BY_APP[app] = metrics


def attached(app: AsyncApp) -> Metrics | None:
    return _BY_APP.get(app)

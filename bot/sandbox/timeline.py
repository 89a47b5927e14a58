"""Sandbox time: a clock that ticks from a chosen moment and can jump ahead, and the scheduler's jobs run on it.

Beacon's APScheduler stays paused in the sandbox (its triggers follow the machine's clock); `Timeline` runs the
very same jobs, with the same triggers, on sandbox time instead. When the clock jumps, it walks forward through
every cron firing and every hour on the way, so a digest, a reminder or a scheduled post due in between happens
at its own moment, as it would have on a real day.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time as system_time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.job import Job
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from beacon.bot.clock import ManualClock

log = logging.getLogger("beacon.sandbox")

LONGEST_JUMP = timedelta(days=35)
_STEP = timedelta(hours=1)
_HOUSEKEEPING = timedelta(minutes=5)
_DELIVERY_JOB = "delivery.dispatch"  # scheduler/delivery.py


class TickingClock(ManualClock):
    """Sandbox time: moves with the machine's clock from where it was last set."""

    def __init__(self, start: datetime):
        super().__init__(start)
        self._anchor = system_time.monotonic()

    def now(self) -> datetime:
        return self._now + timedelta(seconds=system_time.monotonic() - self._anchor)

    def set(self, moment: datetime) -> None:
        super().set(moment)
        self._anchor = system_time.monotonic()

    def advance(self, delta: timedelta) -> None:
        self.set(self.now() + delta)


@dataclass
class Timeline:
    """Runs the scheduler's jobs when they fall due in sandbox time."""

    scheduler: BaseScheduler
    clock: TickingClock
    work: Callable[[], Awaitable[int]] | None = None  # runs the work the jobs queued (exports, syncs, digests)
    _next: dict[str, datetime] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        now = self.clock.now()
        for job in self.scheduler.get_jobs():
            self._next[job.id] = now if isinstance(job.trigger, IntervalTrigger) else self._after(job, now)

    def _after(self, job: Job, moment: datetime) -> datetime:
        """The job's next firing strictly after `moment` on sandbox time."""
        if isinstance(job.trigger, IntervalTrigger):
            interval: timedelta = job.trigger.interval
            return moment + interval
        fire: datetime | None = job.trigger.get_next_fire_time(None, moment + timedelta(microseconds=1))
        return fire.astimezone(UTC) if fire else datetime.max.replace(tzinfo=UTC)

    async def run_due(self) -> list[str]:
        """Run every job due now (each once, however late), then deliver what they wrote. Returns the job ids."""
        async with self._lock:
            return await self._run_due()

    async def _run_due(self, *, on_the_way: bool = False) -> list[str]:
        """`on_the_way`: a stop during a jump, where slow housekeeping (syncs, refreshes: every 5 minutes or less
        often) waits for the last stop; what is time-critical (delivery, posts, pulses, digests) still runs."""
        now = self.clock.now()
        ran = []
        for job in self.scheduler.get_jobs():
            if job.id == _DELIVERY_JOB or (on_the_way and isinstance(job.trigger, IntervalTrigger)
                                           and job.trigger.interval >= _HOUSEKEEPING):
                continue
            if self._next.get(job.id, now) <= now:
                await self._run(job)
                self._next[job.id] = self._after(job, now)
                ran.append(job.id)
        if self.work is not None:  # what the jobs queued is done at this moment too, before delivery
            await self.work()
        delivery = self.scheduler.get_job(_DELIVERY_JOB)
        if delivery is not None and (ran or self._next.get(delivery.id, now) <= now):
            await self._run(delivery)  # last: what the jobs just wrote to the outbox goes out at this moment too
            self._next[delivery.id] = self._after(delivery, now)
            ran.append(delivery.id)
        return ran

    async def run_all(self) -> list[str]:
        """Run every job now, due or not (after the demo story, so counts and posts are up to date at once)."""
        async with self._lock:
            for job_id in list(self._next):
                self._next[job_id] = self.clock.now()
            return await self._run_due()

    async def jump_to(self, target: datetime) -> list[str]:
        """Move sandbox time to `target`, stopping at every cron firing and every hour on the way."""
        async with self._lock:
            start = self.clock.now()
            if target <= start:
                raise ValueError("the sandbox clock only moves forward")
            if target - start > LONGEST_JUMP:
                raise ValueError(f"the sandbox clock jumps at most {LONGEST_JUMP.days} days at a time")
            ran: list[str] = []
            for moment in self._stops(start, target):
                self.clock.set(moment)
                ran.extend(job for job in await self._run_due(on_the_way=moment < target) if job not in ran)
            return ran

    def _stops(self, start: datetime, target: datetime) -> Iterator[datetime]:
        stops = {target}
        hour = start.replace(minute=0, second=0, microsecond=0) + _STEP
        while hour < target:
            stops.add(hour)
            hour += _STEP
        for job in self.scheduler.get_jobs():
            if isinstance(job.trigger, CronTrigger):
                fire = self._after(job, start)
                if self._after(job, fire) - fire < _STEP:
                    continue  # fires more often than hourly (late questions, every 5 minutes): the hours cover it
                while fire <= target:
                    stops.add(fire)
                    fire = self._after(job, fire)
        return iter(sorted(stops))

    async def _run(self, job: Job) -> None:
        try:
            result = job.func(*job.args, **job.kwargs)
            if inspect.isawaitable(result):
                await result
        except Exception:  # as APScheduler does: a failing job is logged and the others still run
            log.exception("sandbox job failed", extra={"job": job.id})

    async def keep_running(self, stop: asyncio.Event, every_seconds: float = 1.0) -> None:
        """Between jumps, sandbox time passes as real time does, and jobs run when they fall due, until `stop` is set:
        a step under way finishes (cancelling it mid-transaction would leave a connection to be rolled back by the
        garbage collector)."""
        while not stop.is_set():
            await self.run_due()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_seconds)

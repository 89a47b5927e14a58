"""`beacon worker`: runs the heavy work the serving process queues (bot/services/work_queue.py), so the event loop
that answers Slack never holds a CSV export, a calendar parse or a digest.

A worker claims one job at a time under a lease, renews the lease while the job runs (a job whose row another
worker has taken meanwhile is cancelled), and marks it done, for retry, or failed for good (its requester told). Any
number of workers, on any number of machines, can share one PostgreSQL database; `beacon serve` and `beacon run`
start `BEACON_WORKERS` of them as child processes (bot/worker_processes.py), and the tests and the sandbox run the
same `Worker` inside their own process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from beacon.bot.deps import Deps
from beacon.bot.models import WorkItem
from beacon.bot.services import work_queue
from beacon.bot.services.delivery import worker_name
from beacon.bot.services.work_queue import RetryPolicy, Work, WorkKind

log = logging.getLogger("beacon.worker")

Job = Callable[[Deps, Work], Awaitable[None]]
FORGET_AFTER = timedelta(days=1)  # finished rows are kept this long, for whoever looks into a failure


class PermanentFailure(Exception):
    """A job that cannot succeed however often it is tried (the requester is no longer allowed, say)."""


def jobs() -> dict[str, Job]:
    """Every job a worker runs, by the kind stored in its row."""
    from beacon.handlers.awards import export_job, insight_job
    from beacon.handlers.nominations import submit_job
    from beacon.handlers.visibility import files_job
    from beacon.scheduler.calendar import sync_job
    from beacon.scheduler.digests import digest_job

    return {WorkKind.AWARDS_EXPORT: export_job, WorkKind.AWARDS_INSIGHT: insight_job,
            WorkKind.CALENDAR_SYNC: sync_job, WorkKind.WEEKLY_DIGEST: digest_job, WorkKind.VISIBILITY_FILES: files_job,
            WorkKind.NOMINATION_SUBMIT: submit_job}


class Worker:
    def __init__(self, deps: Deps, *, name: str | None = None, policy: RetryPolicy | None = None,
                 table: dict[str, Job] | None = None):
        self.deps = deps
        self.name = name or worker_name()
        # The outbox's lease (beacon.yaml delivery.lease_seconds): how long a job's claim outlives its worker.
        self.policy = policy or RetryPolicy(lease=timedelta(seconds=deps.organisation.delivery.lease_seconds))
        self.jobs = table if table is not None else jobs()
        self._purged_at = deps.clock.now() - FORGET_AFTER

    async def run_one(self) -> bool:
        """Claim and run one job; False when there was none to claim."""
        async with self.deps.db.transaction() as session:
            item = await work_queue.claim(session=session, worker=self.name, now=self.deps.clock.now(),
                                          lease=self.policy.lease)
        if item is None:
            return False
        job = self.jobs.get(item.kind)
        if job is None or item.attempts > self.policy.attempts:
            # A kind this release does not know, or a job that has now outlived its attempts (each a worker that
            # died with it): neither is run again.
            reason = "unknown job" if job is None else f"stopped its worker {item.attempts - 1} times"
            await self._finish_failed(item, reason)
            return True
        log.info("work started", extra={"work": item.id, "kind": item.kind, "attempt": item.attempts})
        try:
            await self._run_leased(job, item)
        except asyncio.CancelledError:
            raise
        except LostLease:
            log.warning("work taken over by another worker", extra={"work": item.id, "kind": item.kind})
            return True
        except PermanentFailure as failure:
            log.warning("work failed for good", extra={"work": item.id, "kind": item.kind, "error": str(failure)})
            await self._finish_failed(item, str(failure))
            return True
        except Exception as error:
            log.exception("work failed", extra={"work": item.id, "kind": item.kind, "attempt": item.attempts})
            async with self.deps.db.transaction() as session:
                await work_queue.mark_retry(session=session, item=item, worker=self.name, now=self.deps.clock.now(),
                                            error=f"{type(error).__name__}: {error}", policy=self.policy,
                                            admin_channel=self.deps.organisation.channels.admin)
            return True
        async with self.deps.db.transaction() as session:
            await work_queue.mark_done(session=session, item_id=item.id or 0, worker=self.name,
                                       now=self.deps.clock.now())
        log.info("work done", extra={"work": item.id, "kind": item.kind})
        return True

    async def _finish_failed(self, item: WorkItem, reason: str) -> None:
        async with self.deps.db.transaction() as session:
            await work_queue.mark_failed(session=session, item=item, worker=self.name, error=reason,
                                         now=self.deps.clock.now(), admin_channel=self.deps.organisation.channels.admin)

    async def _run_leased(self, job: Job, item: WorkItem) -> None:
        """Run the job while renewing its lease every third of it; if the row is no longer ours, stop the job."""
        running = asyncio.ensure_future(job(self.deps, Work.of(item)))
        every = self.policy.lease.total_seconds() / 3
        try:
            while True:
                done, _ = await asyncio.wait({running}, timeout=every)
                if done:
                    running.result()
                    return
                async with self.deps.db.transaction(queue=False) as session:  # never behind the job's own
                    mine = await work_queue.renew(session=session, item_id=item.id or 0, worker=self.name,
                                                  now=self.deps.clock.now(), lease=self.policy.lease)
                if not mine:
                    running.cancel()
                    raise LostLease()
        finally:
            if not running.done():
                running.cancel()

    async def drain(self, stop: asyncio.Event | None = None) -> int:
        """Run jobs until none is due (or `stop` is set: no further job is started); returns how many ran."""
        ran = 0
        while not (stop is not None and stop.is_set()) and await self.run_one():
            ran += 1
        return ran

    async def run_forever(self, stop: asyncio.Event, *, poll_seconds: float = 0.25) -> None:
        """Claim and run jobs until `stop` is set; the job under way is finished first."""
        log.info("worker started", extra={"worker": self.name})
        while not stop.is_set():
            try:
                ran = await self.drain(stop)
                await self._forget_old()
            except Exception:  # the database went away for a moment: try again at the next poll
                log.exception("worker could not reach the queue")
                ran = 0
            if not ran:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
        log.info("worker stopped", extra={"worker": self.name})

    async def _forget_old(self) -> None:
        now = self.deps.clock.now()
        if now - self._purged_at < timedelta(hours=1):
            return
        self._purged_at = now
        async with self.deps.db.transaction() as session:
            await work_queue.purge(session=session, before=now - FORGET_AFTER)


class LostLease(Exception):
    """The job's row was claimed by another worker after this one's lease lapsed."""

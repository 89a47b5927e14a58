"""The weekly digest: checked every minute, sent once for each time `digest.cron` fires (late only within the
grace period, after a restart), whichever replica gets there first. The timer only queues it; `beacon worker`
builds it."""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from beacon.bot.deps import Deps
from beacon.bot.services.delivery import worker_name
from beacon.bot.services.work_queue import Work, WorkKind

JOB_ID = "digest.weekly"
WORKER = worker_name()
log = logging.getLogger(__name__)


async def run(deps: Deps) -> None:
    """Checked every minute; when a digest is due, a worker builds it (the queue keeps one per firing)."""
    week = deps.digests.due_week()
    if week is not None:
        await deps.work.submit(WorkKind.WEEKLY_DIGEST, dedupe_key=f"{JOB_ID}:{week.period}")


async def digest_job(deps: Deps, work: Work) -> None:
    """Run by `beacon worker`: gather the week and queue the digest's posts (claimed once per firing)."""
    sent = await deps.digests.run_due(db=deps.db, worker=WORKER)
    if sent is not None:
        log.info("weekly digest queued", extra={"channels": sent.channels, "personal": sent.personal,
                                                "quiet": sent.quiet})


def register(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    scheduler.add_job(run, IntervalTrigger(minutes=1), id=JOB_ID, replace_existing=True, kwargs={"deps": deps})

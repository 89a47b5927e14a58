"""Retention, daily: remove what is older than `retention:` allows (nominations, pulse answers, engagements, sent
messages, audit entries). Every replica may run it; deleting what is already gone does nothing."""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from beacon.bot.deps import Deps

JOB_ID = "privacy.retention"
log = logging.getLogger(__name__)


async def run(deps: Deps) -> None:
    async with deps.db.transaction() as session:
        plan = await deps.privacy.retention(session=session, dry_run=False)
    removed = {k: v for k, v in plan.counts.items() if v}
    if removed:
        log.info("retention removed old data", extra={"removed": removed, "cutoffs": plan.cutoffs})


def register(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    scheduler.add_job(run, CronTrigger(hour=3, minute=41, timezone=deps.organisation.tz), id=JOB_ID,
                      replace_existing=True, kwargs={"deps": deps})

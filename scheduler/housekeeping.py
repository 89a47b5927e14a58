"""Daily tidying of bookkeeping rows that only matter for a short while."""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.deps import Deps
from bot.services.events import forget_old_events

JOB_ID = "housekeeping.daily"
log = logging.getLogger(__name__)


async def run(deps: Deps) -> None:
    async with deps.db.transaction() as session:
        events = await forget_old_events(session=session, now=deps.clock.now())
        drafts = await deps.scheduled_posts.forget_abandoned_drafts(session=session)
    log.info("housekeeping done", extra={"events_forgotten": events, "drafts_forgotten": drafts})


def register(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    scheduler.add_job(run, CronTrigger(hour=3, minute=17, timezone=deps.organisation.tz), id=JOB_ID,
                      replace_existing=True, kwargs={"deps": deps})

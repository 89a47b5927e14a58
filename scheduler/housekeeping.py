"""Daily tidying of bookkeeping rows that only matter for a short while."""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from beacon.bot.deps import Deps
from beacon.bot.services.events import forget_old_events
from beacon.bot.services.signed_requests import forget_old_requests

JOB_ID = "housekeeping.daily"
REPLAY_JOB_ID = "housekeeping.requests_seen"  # the replay table only matters for ten minutes: keep it small
log = logging.getLogger(__name__)


async def run(deps: Deps) -> None:
    async with deps.db.transaction() as session:
        events = await forget_old_events(session=session, now=deps.clock.now())
        drafts = await deps.scheduled_posts.forget_abandoned_drafts(session=session)
        requests = await forget_old_requests(session=session, now=deps.clock.now())
    log.info("housekeeping done", extra={"events_forgotten": events, "drafts_forgotten": drafts,
                                         "requests_forgotten": requests})


async def forget_seen_requests(deps: Deps) -> None:
    async with deps.db.transaction() as session:
        await forget_old_requests(session=session, now=deps.clock.now())


def register(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    scheduler.add_job(run, CronTrigger(hour=3, minute=17, timezone=deps.organisation.tz), id=JOB_ID,
                      replace_existing=True, kwargs={"deps": deps})
    scheduler.add_job(forget_seen_requests, IntervalTrigger(minutes=10), id=REPLAY_JOB_ID, replace_existing=True,
                      kwargs={"deps": deps})

"""Deliver whatever the outbox holds that is due: every couple of seconds, in every replica."""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from beacon.bot.deps import Deps

JOB_ID = "delivery.dispatch"
log = logging.getLogger(__name__)


async def run(deps: Deps) -> None:
    report = await deps.dispatcher.run_once()
    if any(vars(report).values()):
        log.info("outbox delivered", extra=vars(report))


def register(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    scheduler.add_job(run, IntervalTrigger(seconds=2), id=JOB_ID, replace_existing=True, kwargs={"deps": deps})

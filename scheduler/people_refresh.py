"""Load everyone in the workspace a few times a day, so nominations need no Slack call to check people."""

from __future__ import annotations

from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from beacon.bot.deps import Deps

JOB_ID = "people.refresh"


async def run(deps: Deps) -> None:
    await deps.people.refresh_all()


def register(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    scheduler.add_job(run, IntervalTrigger(hours=6), id=JOB_ID, replace_existing=True, kwargs={"deps": deps},
                      next_run_time=datetime.now(deps.organisation.tz))

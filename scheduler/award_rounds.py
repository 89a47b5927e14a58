"""Close an award round when its closing time comes (its closing post is already in the outbox)."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from beacon.bot.deps import Deps

JOB_ID = "award_rounds.close_due"


async def run(deps: Deps) -> None:
    async with deps.db.transaction() as session:
        await deps.award_rounds.close_due(session=session)


def register(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    scheduler.add_job(run, IntervalTrigger(minutes=1), id=JOB_ID, replace_existing=True, kwargs={"deps": deps})

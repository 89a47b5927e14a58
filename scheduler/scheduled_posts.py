"""Write each scheduled post's next run to the outbox once its current run falls due."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from beacon.bot.deps import Deps

JOB_ID = "scheduled_posts.roll_forward"


async def run(deps: Deps) -> None:
    async with deps.db.transaction() as session:
        await deps.scheduled_posts.roll_forward(session=session)


def register(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    scheduler.add_job(run, IntervalTrigger(seconds=30), id=JOB_ID, replace_existing=True, kwargs={"deps": deps})

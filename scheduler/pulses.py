"""Pulses on their timetable: open, update counts, remind, close, and start each repeating pulse's next run."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.deps import Deps
from bot.services.delivery import worker_name

JOB_ID = "pulses.timetable"
WORKER = worker_name()


async def run(deps: Deps) -> None:
    pulses = deps.pulses
    for step in (pulses.open_due, pulses.close_due, pulses.counts_due):
        async with deps.db.transaction() as session:
            await step(session=session)
    async with deps.db.transaction() as session:
        await pulses.remind_due(session=session, worker=WORKER)
    async with deps.db.transaction() as session:
        await pulses.run_series_due(session=session, worker=WORKER)


def register(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    scheduler.add_job(run, IntervalTrigger(seconds=15), id=JOB_ID, replace_existing=True, kwargs={"deps": deps})

"""Reload Slack user groups named in `roles:` so permission checks never wait on Slack."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from beacon.bot.deps import Deps

JOB_ID = "roles.refresh"


async def run(deps: Deps) -> None:
    await deps.authorisation.refresh()


def register(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    scheduler.add_job(run, IntervalTrigger(minutes=5), id=JOB_ID, replace_existing=True, kwargs={"deps": deps})

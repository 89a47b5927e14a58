"""Copy each leader's Slack profile (name, title, photo) into the database, so the leader directory is one read
and never waits on Slack. The people refresh warms the same cache first, so this is usually no Slack call."""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from beacon.bot.deps import Deps

JOB_ID = "leaders.refresh"


async def run(deps: Deps) -> int:
    people = await deps.leaders.profiles_from_slack()  # Slack first, outside the transaction
    async with deps.db.transaction() as session:
        return await deps.leaders.store_profiles(session=session, people=people.values())


def register(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    # A minute after start, once the people refresh (which runs at start) has loaded everyone.
    scheduler.add_job(run, IntervalTrigger(minutes=30), id=JOB_ID, replace_existing=True, kwargs={"deps": deps},
                      next_run_time=datetime.now(deps.organisation.tz) + timedelta(minutes=1))

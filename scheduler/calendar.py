"""The engagement calendar's timetable: sync the sources (queued for `beacon worker`), the weekly post, the day
before and the day after."""

from __future__ import annotations

import logging
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from beacon.bot.deps import Deps
from beacon.bot.services.delivery import worker_name
from beacon.bot.services.engagements import QUESTION_BATCH
from beacon.bot.services.work_queue import Work, WorkKind

SYNC, WEEKLY, DAY_BEFORE, DAY_AFTER = ("calendar.sync", "calendar.weekly", "calendar.day_before",
                                       "calendar.day_after")
LATE_QUESTIONS = "calendar.late_questions"
log = logging.getLogger(__name__)
WORKER = worker_name()


async def sync(deps: Deps) -> None:
    """Queue this period's sync for a worker (parsing thousands of events would hold the serving loop); each
    replica's timer names the same period, so the sync is queued once."""
    every = deps.organisation.calendar.sync_every_minutes * 60
    period = int(deps.clock.now().timestamp() // every)
    await deps.work.submit(WorkKind.CALENDAR_SYNC, dedupe_key=f"{SYNC}:{period}")


async def sync_job(deps: Deps, work: Work) -> None:
    """Run by `beacon worker`: read every source and fold it into the calendar."""
    reports = await deps.calendar_sync.run()
    busy = {name: vars(r) for name, r in reports.items() if r.added or r.changed or r.cancelled or r.kept}
    if busy:
        log.info("calendar synced", extra={"sources": busy})


async def weekly(deps: Deps) -> None:
    async with deps.db.transaction() as session:
        await deps.engagements.weekly_post(session=session, worker=WORKER)


async def day_before(deps: Deps) -> None:
    async with deps.db.transaction() as session:
        await deps.engagements.day_before(session=session, worker=WORKER)


async def day_after(deps: Deps) -> None:
    async with deps.db.transaction() as session:
        await deps.engagements.day_after(session=session, worker=WORKER)


async def late_questions(deps: Deps) -> None:
    async with deps.db.transaction() as session:
        await deps.engagements.deliver_late_questions(session=session)


def _at(clock: str) -> dict[str, int]:
    hour, minute = clock.split(":")
    return {"hour": int(hour), "minute": int(minute)}


def register(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    settings, tz = deps.organisation.calendar, deps.organisation.tz
    options = {"replace_existing": True, "kwargs": {"deps": deps}}
    # Also with no sources: each run announces visits and synced engagements as they come within reach.
    scheduler.add_job(sync, IntervalTrigger(minutes=settings.sync_every_minutes), id=SYNC,
                      next_run_time=datetime.now(tz), **options)
    scheduler.add_job(weekly, CronTrigger(day_of_week=settings.weekly_post_day, timezone=tz,
                                          **_at(settings.weekly_post_time)), id=WEEKLY, **options)
    scheduler.add_job(day_before, CronTrigger(timezone=tz, **_at(settings.reminder_time)), id=DAY_BEFORE, **options)
    # On the clock's five-minute marks: a question's DM says only which five minutes it came in.
    scheduler.add_job(late_questions, CronTrigger(minute=f"*/{int(QUESTION_BATCH.total_seconds() // 60)}", timezone=tz),
                      id=LATE_QUESTIONS, **options)
    scheduler.add_job(day_after, CronTrigger(timezone=tz, **_at(settings.follow_up_time)), id=DAY_AFTER, **options)

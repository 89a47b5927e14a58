"""APScheduler jobs, one per module. The database, not the scheduler, is the source of truth."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from beacon.bot.deps import Deps
from beacon.scheduler import (
    award_rounds,
    calendar,
    delivery,
    digests,
    housekeeping,
    leaders_refresh,
    people_refresh,
    pulses,
    retention,
    roles_refresh,
    scheduled_posts,
)


def register_jobs(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    roles_refresh.register(scheduler, deps)    # keep user-group membership for roles warm
    people_refresh.register(scheduler, deps)   # who is a person, a bot, or deactivated
    leaders_refresh.register(scheduler, deps)  # the leader directory's names, titles and photos
    delivery.register(scheduler, deps)         # send what the outbox holds that is due
    scheduled_posts.register(scheduler, deps)  # write each scheduled post's next run
    award_rounds.register(scheduler, deps)     # close award rounds at their closing time
    calendar.register(scheduler, deps)         # sync calendars; weekly post, day-before reminders, follow-ups
    pulses.register(scheduler, deps)           # open, count, remind and close pulses
    digests.register(scheduler, deps)          # the weekly digest, once each time digest.cron fires
    housekeeping.register(scheduler, deps)     # forget old event ids, request signatures and abandoned drafts
    retention.register(scheduler, deps)        # remove what is older than the retention periods allow


def build_scheduler(deps: Deps) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(
        timezone=deps.organisation.tz,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    register_jobs(scheduler, deps)
    return scheduler

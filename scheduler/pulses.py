"""Pulses on their timetable: open, close, store held anonymous answers, update counts, remind, and start each
repeating pulse's next run."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from beacon.bot.deps import Deps
from beacon.bot.services.delivery import worker_name

JOB_ID = "pulses.timetable"
WORKER = worker_name()
log = logging.getLogger(__name__)


async def run(deps: Deps) -> None:
    """Each step on its own, so that one failing (and logged) never stops the others: above all, the leases on
    held anonymous answers are renewed first, whatever else fails."""
    pulses, answering = deps.pulses, deps.pulse_answering

    async def in_transaction(step: Callable[..., Awaitable[object]], **kwargs: object) -> None:
        async with deps.db.transaction() as session:
            await step(session=session, **kwargs)

    steps: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("held answers", answering.tick),
        ("opening", lambda: in_transaction(pulses.open_due)),
        ("closing", answering.close_due),
        ("counts", lambda: in_transaction(pulses.counts_due)),
        # Reminders ask Slack who is in each channel, so they open their own transactions around that, not in it.
        ("reminders", lambda: pulses.remind_due(db=deps.db, worker=WORKER)),
        ("series", lambda: in_transaction(pulses.run_series_due, worker=WORKER)),
    ]
    for name, step in steps:
        try:
            await step()
        except Exception:
            log.exception("a pulse step failed; the others still ran", extra={"step": name})


def register(scheduler: AsyncIOScheduler, deps: Deps) -> None:
    scheduler.add_job(run, IntervalTrigger(seconds=15), id=JOB_ID, replace_existing=True, kwargs={"deps": deps})

"""Once per period, across replicas: a job claims (job, period) under a unique key before it runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot.db import insert_ignoring_duplicates
from beacon.bot.models import JobRun


async def claim_period(*, session: AsyncSession, job: str, period: str, worker: str, now: datetime) -> bool:
    """True for exactly one caller per (job, period), whichever replica asks first."""
    return await insert_ignoring_duplicates(session, JobRun, {"job": job, "period": period, "claimed_by": worker,
                                                              "started_at": now})


async def claimed(*, session: AsyncSession, job: str, period: str) -> bool:
    """Whether (job, period) was claimed already: a cheap look before work that `claim_period` then decides."""
    return await session.scalar(select(col(JobRun.id)).where(col(JobRun.job) == job,
                                                             col(JobRun.period) == period)) is not None

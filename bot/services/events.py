"""Slack's Events API retries: each event_id has its effect once, whichever replica it reaches."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot.db import insert_ignoring_duplicates, rows_changed
from beacon.bot.models import ProcessedEvent

KEEP_FOR = timedelta(days=2)  # Slack retries for about an hour; two days is ample.


async def first_delivery(*, session: AsyncSession, event_id: str, now: datetime) -> bool:
    """Record `event_id`; False when it was already recorded (a retry or a duplicate)."""
    return await insert_ignoring_duplicates(session, ProcessedEvent, {"event_id": event_id, "received_at": now})


async def forget_old_events(*, session: AsyncSession, now: datetime) -> int:
    return await rows_changed(session, delete(ProcessedEvent).where(col(ProcessedEvent.received_at) < now - KEEP_FOR))

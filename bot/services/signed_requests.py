"""Signed Slack requests let in once: a replayed request (same signature, so same timestamp and body) does nothing,
whichever replica it reaches, because the database decides."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot.db import insert_ignoring_duplicates, rows_changed
from beacon.bot.models import SlackRequestSeen

# Slack's window is five minutes either side of the request's timestamp; a row older than ten minutes can no
# longer match a request that passes the timestamp check, so it may go.
KEEP_FOR = timedelta(minutes=10)


def signature_digest(signature: str) -> str:
    """What is stored: the SHA-256 of the signature header, never the body or anything naming a person."""
    return hashlib.sha256(signature.encode("ascii")).hexdigest()


async def first_sight(*, session: AsyncSession, signature: str, now: datetime) -> bool:
    """Record a verified request's signature; False when it was already recorded (a replay)."""
    return await insert_ignoring_duplicates(session, SlackRequestSeen,
                                            {"signature_sha256": signature_digest(signature), "seen_at": now})


async def forget_old_requests(*, session: AsyncSession, now: datetime) -> int:
    return await rows_changed(session, delete(SlackRequestSeen).where(col(SlackRequestSeen.seen_at) < now - KEEP_FOR))

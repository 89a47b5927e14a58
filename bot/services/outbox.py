"""The outbox: every promise to post, written first, then claimed, sent and marked exactly once.

Claims are atomic and leased. On PostgreSQL a batch is claimed with SELECT ... FOR UPDATE SKIP LOCKED
inside one UPDATE; SQLite has a single writer, so the same conditional UPDATE is atomic there. A row
whose claimer died is claimed again once its lease has run out, and before each send the claimer
renews its lease only if the row is still its own (a fence), so two replicas never send one row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot.db import insert_many_ignoring_duplicates, rows_changed
from beacon.bot.models import OutboxMessage, OutboxStatus
from beacon.bot.templates import Template


@dataclass(frozen=True)
class Promise:
    """One message to post: what, where, when, and until when it is still worth posting."""

    dedupe_key: str
    source: str
    channel: str
    content: dict[str, Any]
    due_at: datetime
    expires_at: datetime
    source_id: int | None = None
    thread_ts: str | None = None
    update_ts: str | None = None  # edit this message of `channel` rather than post a new one
    held: bool = False


async def enqueue(*, session: AsyncSession, promises: Sequence[Promise], now: datetime) -> int:
    """Write promises; one already written under the same key is left as it is. Returns how many were offered."""
    await insert_many_ignoring_duplicates(session, OutboxMessage, [{
        "dedupe_key": p.dedupe_key, "source": p.source, "source_id": p.source_id, "channel": p.channel,
        "content": p.content, "thread_ts": p.thread_ts, "update_ts": p.update_ts,
        "status": OutboxStatus.HELD if p.held else OutboxStatus.PENDING,
        "due_at": p.due_at, "available_at": p.due_at, "expires_at": p.expires_at,
        "attempts": 0, "failures": 0, "created_at": now,
    } for p in promises])
    return len(promises)


def notice(*, key: str, user_id: str, template: Template, params: dict[str, Any], now: datetime,
           source: str = "notice", source_id: int | None = None) -> Promise:
    """A direct message to one person, rendered from a template when it is sent."""
    return Promise(dedupe_key=f"notice:{key}", source=source, source_id=source_id, channel=user_id,
                   content={"template": template, "params": params}, due_at=now, expires_at=now + timedelta(days=1))


async def claim(*, session: AsyncSession, worker: str, now: datetime, lease: timedelta,
                limit: int) -> list[OutboxMessage]:
    """Claim up to `limit` due rows for `worker`: pending ones, and sending ones whose lease ran out."""
    claimable = or_(
        and_(col(OutboxMessage.status) == OutboxStatus.PENDING, col(OutboxMessage.available_at) <= now),
        and_(col(OutboxMessage.status) == OutboxStatus.SENDING, col(OutboxMessage.lease_until) < now),
    )
    # Two statements in one transaction, as the work queue claims: the rows are locked by the first, then taken by
    # the second. (One UPDATE over IN (SELECT ... LIMIT n SKIP LOCKED) may run the subquery more than once on
    # PostgreSQL and take more than `limit` rows.) On SQLite the UPDATE's own condition decides between two replicas
    # that picked the same rows.
    ids = list((await session.scalars(
        select(col(OutboxMessage.id)).where(claimable)
        .order_by(col(OutboxMessage.available_at), col(OutboxMessage.id))
        .limit(limit).with_for_update(skip_locked=True))).all())
    if not ids:
        return []
    statement = (
        update(OutboxMessage).where(col(OutboxMessage.id).in_(ids), claimable)
        .values(status=OutboxStatus.SENDING, claimed_by=worker, lease_until=now + lease,
                attempts=col(OutboxMessage.attempts) + 1)
        .returning(OutboxMessage).execution_options(synchronize_session=False)
    )
    return sorted((await session.scalars(statement)).all(), key=lambda m: (m.available_at, m.id or 0))


async def fence(*, session: AsyncSession, message_id: int, worker: str, now: datetime, lease: timedelta) -> bool:
    """Renew the lease only if the row is still this worker's; False means someone else has it now."""
    renewed = await rows_changed(session, update(OutboxMessage)
                                 .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.claimed_by) == worker,
                                        col(OutboxMessage.status) == OutboxStatus.SENDING)
                                 .values(lease_until=now + lease).execution_options(synchronize_session=False))
    return renewed == 1


async def _finish(session: AsyncSession, message_id: int, worker: str, **values: Any) -> bool:
    finished = await rows_changed(session, update(OutboxMessage)
                                  .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.claimed_by) == worker,
                                         col(OutboxMessage.status) == OutboxStatus.SENDING)
                                  .values(claimed_by=None, lease_until=None, **values)
                                  .execution_options(synchronize_session=False))
    return finished == 1


async def mark_sent(*, session: AsyncSession, message_id: int, worker: str, now: datetime, ts: str,
                    channel: str) -> bool:
    return await _finish(session, message_id, worker, status=OutboxStatus.SENT, sent_at=now, sent_ts=ts,
                         sent_channel=channel, last_error=None)


async def mark_failed(*, session: AsyncSession, message_id: int, worker: str, error: str) -> bool:
    return await _finish(session, message_id, worker, status=OutboxStatus.FAILED, last_error=error[:200])


async def mark_missed(*, session: AsyncSession, message_id: int, worker: str, reason: str) -> bool:
    return await _finish(session, message_id, worker, status=OutboxStatus.MISSED, last_error=reason[:200])


async def mark_retry(*, session: AsyncSession, message_id: int, worker: str, error: str,
                     available_at: datetime, certainly_unsent: bool) -> bool:
    """Back to pending. Only a failure known not to have posted counts in `failures`; any other (a
    timeout, a 5xx) leaves the row looking interrupted, so the next claim checks Slack first."""
    failures = col(OutboxMessage.failures) + (1 if certainly_unsent else 0)
    return await _finish(session, message_id, worker, status=OutboxStatus.PENDING, available_at=available_at,
                         failures=failures, last_error=error[:200])


async def expire_held(*, session: AsyncSession, now: datetime) -> list[OutboxMessage]:
    """Held rows whose time has come are not sent: they become missed (e.g. never approved)."""
    statement = (
        update(OutboxMessage)
        .where(col(OutboxMessage.status) == OutboxStatus.HELD, col(OutboxMessage.due_at) <= now)
        .values(status=OutboxStatus.MISSED, last_error="not approved in time")
        .returning(OutboxMessage).execution_options(synchronize_session=False))
    return list((await session.scalars(statement)).all())


async def release_held(*, session: AsyncSession, source: str, source_id: int) -> int:
    return await rows_changed(session, update(OutboxMessage)
                              .where(col(OutboxMessage.source) == source, col(OutboxMessage.source_id) == source_id,
                                     col(OutboxMessage.status) == OutboxStatus.HELD)
                              .values(status=OutboxStatus.PENDING).execution_options(synchronize_session=False))


async def cancel_unsent(*, session: AsyncSession, source: str, source_id: int) -> int:
    """Cancel what has not started sending; a row already being sent goes out (it is too late to stop)."""
    return await rows_changed(session, update(OutboxMessage)
                              .where(col(OutboxMessage.source) == source, col(OutboxMessage.source_id) == source_id,
                                     col(OutboxMessage.status).in_([OutboxStatus.HELD, OutboxStatus.PENDING]))
                              .values(status=OutboxStatus.CANCELLED).execution_options(synchronize_session=False))


async def last_outcomes(*, session: AsyncSession, source: str,
                        source_ids: Sequence[int]) -> dict[int, OutboxMessage]:
    """The most recently finished row (sent, failed or missed) of each source, in one query."""
    if not source_ids:
        return {}
    finished = [OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.MISSED]
    latest = (select(col(OutboxMessage.source_id), func.max(col(OutboxMessage.id)).label("id"))
              .where(col(OutboxMessage.source) == source, col(OutboxMessage.source_id).in_(source_ids),
                     col(OutboxMessage.status).in_(finished))
              .group_by(col(OutboxMessage.source_id)).subquery())
    rows = await session.scalars(select(OutboxMessage).join(latest, col(OutboxMessage.id) == latest.c.id))
    return {row.source_id: row for row in rows if row.source_id is not None}


async def depth(*, session: AsyncSession, now: datetime) -> tuple[int, datetime | None]:
    """How many rows are due and unsent, and when the oldest of them fell due."""
    due = [OutboxStatus.PENDING, OutboxStatus.SENDING]
    count, oldest = (await session.execute(
        select(func.count(), func.min(col(OutboxMessage.due_at)))
        .where(col(OutboxMessage.status).in_(due), col(OutboxMessage.due_at) <= now))).one()
    return int(count), oldest

"""The work queue: heavy work the serving process hands to `beacon worker`, written first, then claimed, run and
marked exactly once.

The serving process answers Slack; a CSV export of a large round, a calendar sync or a digest would hold its event
loop for seconds, so it writes a `work_item` and a worker process runs it. Claims are leased and atomic, as the
outbox's are (bot/services/outbox.py): on PostgreSQL the row is picked with SELECT ... FOR UPDATE SKIP LOCKED, so
workers on many machines never claim one row twice; on SQLite the conditional UPDATE that follows decides. The
claim is leased: a worker renews its lease while it runs (only if the row is still its own), and a row whose worker
died is claimed again once the lease lapses. A failure is retried with a growing delay; after the
last attempt the row fails for good and the person who asked is told through the outbox, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot.clock import Clock
from beacon.bot.db import Database, insert_ignoring_duplicates, rows_changed
from beacon.bot.models import WorkItem, WorkStatus
from beacon.bot.services import outbox
from beacon.bot.templates import Template


class WorkKind(StrEnum):
    """The jobs a worker knows; the value is stored in the row, so a member's value never changes once released."""

    AWARDS_EXPORT = "awards.export"
    AWARDS_INSIGHT = "awards.insight"
    CALENDAR_SYNC = "calendar.sync"
    WEEKLY_DIGEST = "digest.weekly"
    VISIBILITY_FILES = "calendar.report"
    NOMINATION_SUBMIT = "nominations.submit"  # a form accepted in its ack, stored after it (nomination_intake.py)


# What each job is called when its requester is told it failed.
DESCRIBED: dict[str, str] = {WorkKind.AWARDS_EXPORT: "the export of the award round",
                             WorkKind.AWARDS_INSIGHT: "the award insight", WorkKind.CALENDAR_SYNC: "the calendar sync",
                             WorkKind.WEEKLY_DIGEST: "the weekly digest",
                             WorkKind.VISIBILITY_FILES: "the visibility report's chart and CSV",
                             WorkKind.NOMINATION_SUBMIT: "storing the nomination you sent"}

# Work whose parameters are what a person wrote: when it fails for good, the parameters are emptied in the same
# UPDATE and the person's own words go back to them in the failure notice, so they can send them again.
RETURNED_ON_FAILURE: dict[str, Callable[[dict[str, Any]], str]] = {
    WorkKind.NOMINATION_SUBMIT: lambda params: str((params.get("draft") or {}).get("story") or "")}


@dataclass(frozen=True)
class Work:
    """One claimed job as its code sees it: which, with what, for whom."""

    id: int
    kind: str
    params: dict[str, Any]
    requested_by: str | None
    attempt: int

    @classmethod
    def of(cls, item: WorkItem) -> Work:
        return cls(id=item.id or 0, kind=item.kind, params=dict(item.params or {}), requested_by=item.requested_by,
                   attempt=item.attempts)


@dataclass(frozen=True)
class RetryPolicy:
    """How long a claim lasts, how often a job is tried, and how long to wait before each retry (doubling)."""

    lease: timedelta = timedelta(seconds=60)
    attempts: int = 3
    backoff: timedelta = timedelta(seconds=5)

    def delay(self, attempt: int) -> timedelta:
        return self.backoff * float(2 ** max(attempt - 1, 0))


async def enqueue(*, session: AsyncSession, kind: WorkKind, params: dict[str, Any], now: datetime,
                  requested_by: str | None = None, dedupe_key: str | None = None) -> bool:
    """Queue one job; with a `dedupe_key` already queued (another replica's timer), nothing. True when new."""
    return await insert_ignoring_duplicates(session, WorkItem, {
        "kind": str(kind), "params": params, "requested_by": requested_by, "dedupe_key": dedupe_key,
        "status": WorkStatus.PENDING, "available_at": now, "attempts": 0, "created_at": now})


async def claim(*, session: AsyncSession, worker: str, now: datetime, lease: timedelta) -> WorkItem | None:
    """Claim the job that has waited longest: a pending one now due, or a running one whose worker's lease lapsed."""
    claimable = or_(
        and_(col(WorkItem.status) == WorkStatus.PENDING, col(WorkItem.available_at) <= now),
        and_(col(WorkItem.status) == WorkStatus.RUNNING, col(WorkItem.lease_until) < now),
    )
    # Two statements in one transaction: the row is locked by the first, then taken by the second. (One UPDATE over
    # an IN (SELECT ... LIMIT 1 SKIP LOCKED) may run the subquery more than once on PostgreSQL and take two rows.)
    # On SQLite the UPDATE's own condition decides between two workers that picked the same row.
    picked = await session.scalar(select(col(WorkItem.id)).where(claimable)
                                  .order_by(col(WorkItem.available_at), col(WorkItem.id))
                                  .limit(1).with_for_update(skip_locked=True))
    if picked is None:
        return None
    statement = (update(WorkItem).where(col(WorkItem.id) == picked, claimable)
                 .values(status=WorkStatus.RUNNING, claimed_by=worker, lease_until=now + lease,
                         attempts=col(WorkItem.attempts) + 1)
                 .returning(WorkItem).execution_options(synchronize_session=False))
    return (await session.scalars(statement)).first()


def _mine(item_id: int, worker: str) -> Any:
    return and_(col(WorkItem.id) == item_id, col(WorkItem.claimed_by) == worker,
                col(WorkItem.status) == WorkStatus.RUNNING)


async def renew(*, session: AsyncSession, item_id: int, worker: str, now: datetime, lease: timedelta) -> bool:
    """Extend the lease only if the row is still this worker's; False means another worker has it now."""
    return await rows_changed(session, update(WorkItem).where(_mine(item_id, worker))
                              .values(lease_until=now + lease).execution_options(synchronize_session=False)) == 1


async def mark_done(*, session: AsyncSession, item_id: int, worker: str, now: datetime) -> bool:
    return await rows_changed(session, update(WorkItem).where(_mine(item_id, worker)).values(
        status=WorkStatus.DONE, claimed_by=None, lease_until=None, finished_at=now, requested_by=None,
        last_error=None).execution_options(synchronize_session=False)) == 1


async def mark_retry(*, session: AsyncSession, item: WorkItem, worker: str, error: str, now: datetime,
                     policy: RetryPolicy, admin_channel: str | None = None) -> bool:
    """Back to pending after a delay, or, after the last attempt, failed for good with its requester told."""
    if item.attempts >= policy.attempts:
        return await mark_failed(session=session, item=item, worker=worker, error=error, now=now,
                                 admin_channel=admin_channel)
    return await rows_changed(session, update(WorkItem).where(_mine(item.id or 0, worker)).values(
        status=WorkStatus.PENDING, claimed_by=None, lease_until=None, last_error=error[:200],
        available_at=now + policy.delay(item.attempts)).execution_options(synchronize_session=False)) == 1


async def mark_failed(*, session: AsyncSession, item: WorkItem, worker: str, error: str, now: datetime,
                      admin_channel: str | None = None) -> bool:
    """Failed for good, told through the outbox in this transaction: the requester, if a person asked; for a timed
    job (a period's digest or sync), the administrators' channel, once for the period, and the period's key is given
    up so the timer's next check queues it again while it is still due (a database outage longer than the retries
    must not cost the trust its week's digest)."""
    released: dict[str, Any] = {"dedupe_key": None} if item.dedupe_key and not item.requested_by else {}
    if item.kind in RETURNED_ON_FAILURE:  # a person's words: given back to them, not kept until the purge
        released["params"] = {}
    failed = await rows_changed(session, update(WorkItem).where(_mine(item.id or 0, worker)).values(
        status=WorkStatus.FAILED, claimed_by=None, lease_until=None, finished_at=now, last_error=error[:200],
        **released).execution_options(synchronize_session=False)) == 1
    if not failed:
        return False
    params: dict[str, Any] = {"what": DESCRIBED.get(item.kind, "a job"), "reference": f"work #{item.id}",
                              "attempts": item.attempts}
    if item.kind in RETURNED_ON_FAILURE:
        params["returned"] = RETURNED_ON_FAILURE[item.kind](item.params or {})
    if item.requested_by:
        await outbox.enqueue(session=session, promises=[outbox.notice(
            key=f"work-failed:{item.id}", user_id=item.requested_by, template=Template.WORK_FAILED, now=now,
            source="work", source_id=item.id, params=params)], now=now)
    elif admin_channel:
        key = f"work-failed:{item.dedupe_key or item.id}"[:200]  # once a period, however often it is re-queued
        await outbox.enqueue(session=session, promises=[outbox.Promise(
            dedupe_key=key, source="work", source_id=item.id, channel=admin_channel, due_at=now,
            expires_at=now + timedelta(days=1), content={"template": Template.WORK_FAILED, "params": {
                **params, "scheduled": True, "error": error[:200]}})], now=now)
    return True


async def purge(*, session: AsyncSession, before: datetime) -> int:
    """Forget finished work (done or failed) older than `before`."""
    return await rows_changed(session, delete(WorkItem).where(
        col(WorkItem.status).in_([WorkStatus.DONE, WorkStatus.FAILED]), col(WorkItem.finished_at) < before))


@dataclass
class WorkQueue:
    """What handlers and timers call to hand work over. `on_queued`, when set, hears of each new job: a Beacon that
    runs its work in its own process (the tests, the sandbox) starts on it at once instead of waiting for a poll."""

    db: Database
    clock: Clock
    on_queued: Callable[[], None] | None = field(default=None)

    async def submit(self, kind: WorkKind, params: dict[str, Any] | None = None, *, requested_by: str | None = None,
                     dedupe_key: str | None = None) -> bool:
        async with self.db.transaction() as session:
            queued = await enqueue(session=session, kind=kind, params=params or {}, now=self.clock.now(),
                                   requested_by=requested_by, dedupe_key=dedupe_key)
        if queued and self.on_queued is not None:
            self.on_queued()
        return queued

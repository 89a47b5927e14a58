"""The dispatcher: claims due outbox rows, sends each once, and records what happened.

It knows nothing of Slack: a `Sender` sends and says whether a failure is worth retrying. Temporary
failures (429, 5xx, dropped connections) are retried with exponential backoff and jitter until
the row's grace period ends; permanent ones (channel archived, bot not in channel) fail at once. A row
whose earlier claim ended without a recorded outcome may have been sent just before a crash, so the
sender is asked to look for it in Slack (by the outbox id in the message's metadata) before resending.

Nothing fails silently: a row that ends failed or missed is told, once and through the outbox, to the person
whose message it was (its author: the nominator, the post's author), or to the admins channel when it has no
author (a digest, a pulse, a round notice). Scheduled posts tell their authors through their own hook.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import socket
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from beacon.bot.clock import Clock
from beacon.bot.db import Database
from beacon.bot.models import OutboxMessage, OutboxStatus
from beacon.bot.services import outbox
from beacon.bot.templates import Template

log = logging.getLogger(__name__)

FAILURE_SOURCE = "delivery_failure"
FAILURE_TEMPLATE = Template.DELIVERY_FAILED
# Sources whose own outcome hook tells the author (a failed scheduled post: `post_failed`, `post_missed`).
TOLD_BY_THEIR_HOOK = frozenset({"scheduled_post"})
# Where a row's template parameters name the person whose message it is.
_AUTHOR_PARAMS = ("author", "nominator")


class SendOutcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"          # temporary: try again later
    PERMANENT = "permanent"  # Slack will never accept it as it is


@dataclass(frozen=True)
class SendResult:
    outcome: SendOutcome
    ts: str | None = None
    channel: str | None = None
    error: str | None = None
    retry_after: float | None = None
    maybe_sent: bool = False  # e.g. a timeout: Slack may have posted it, so look before sending again


class Sender(Protocol):
    async def wait_turn(self, channel: str) -> None:
        """Wait until a post to `channel` keeps within the rate limits."""

    async def send(self, message: OutboxMessage) -> SendResult: ...

    async def find_sent(self, message: OutboxMessage) -> SendResult | None:
        """The message as already posted (a crash came between send and mark), or None."""


OutcomeHook = Callable[[AsyncSession, OutboxMessage, OutboxStatus, str | None], Awaitable[None]]

OutcomeObserver = Callable[[str, str], None]
"""Told (outcome, the row's source) once an attempt's end is committed: sent, recovered, retried, failed, missed
or skipped, one outcome per attempt. For counting (metrics), so it must be quick and must not block."""


@dataclass(frozen=True)
class DeliveryPolicy:
    lease: timedelta = timedelta(seconds=60)
    batch: int = 50
    concurrency: int = 32
    backoff_base: float = 2.0
    backoff_cap: float = 300.0


@dataclass
class DispatchReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    missed: int = 0
    recovered: int = 0  # found already posted after an interrupted attempt (also counted in `sent`)
    skipped: int = 0    # lost the claim to another dispatcher before sending

    def add(self, other: DispatchReport) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class Dispatcher:
    db: Database
    sender: Sender
    clock: Clock
    policy: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    hooks: dict[str, OutcomeHook] = field(default_factory=dict)
    worker: str = field(default_factory=worker_name)
    on_outcome: OutcomeObserver | None = None  # e.g. metrics; told "recovered" rather than "sent" for a found row
    admin_channel: Callable[[], str | None] | None = None  # read at call time: a reload may change it
    _sent_at: deque[datetime] = field(default_factory=lambda: deque(maxlen=100_000), init=False, repr=False)

    def sent_since(self, moment: datetime) -> int:
        """How many rows this dispatcher has sent since `moment` (kept for health: draining, or stuck?)."""
        while self._sent_at and self._sent_at[0] < moment - timedelta(minutes=5):
            self._sent_at.popleft()
        return sum(1 for at in self._sent_at if at >= moment)

    async def run_once(self) -> DispatchReport:
        """Deliver everything due now; returns counts of what happened."""
        report = DispatchReport()
        async with self.db.transaction() as session:
            expired = await outbox.expire_held(session=session, now=self.clock.now())
            for row in expired:
                report.missed += 1
                await self._hook(session, row, OutboxStatus.MISSED, row.last_error)
                await self._tell(session, row, OutboxStatus.MISSED, row.last_error)
        for row in expired:
            self._observe("missed", row)
        # A pipeline, not batches: rows are claimed a batch at a time, but each is sent as soon as the pace and a
        # free slot allow, and the next batch is claimed once fewer than a batch are waiting, so one slow answer
        # from Slack never holds the others back. Each channel is a lane: its rows go one after another, in the
        # order they were written (people read them in that order: visits by date, say); lanes run side by side.
        gate = asyncio.Semaphore(self.policy.concurrency)
        lanes: dict[str, asyncio.Lock] = {}
        waiting: set[asyncio.Task[DispatchReport]] = set()
        more = True
        try:
            while True:
                # Claim again while rows may remain (the last claim was full), and once everything in hand is done:
                # sending may have queued more (an author told that their message failed) that is due now too.
                if (more and len(waiting) < self.policy.batch) or not waiting:
                    async with self.db.transaction() as session:
                        claimed = await outbox.claim(session=session, worker=self.worker, now=self.clock.now(),
                                                     lease=self.policy.lease, limit=self.policy.batch)
                    more = len(claimed) == self.policy.batch
                    for row in sorted(claimed, key=lambda r: (r.available_at, r.id or 0)):
                        lane = lanes.setdefault(row.channel, asyncio.Lock())
                        waiting.add(asyncio.ensure_future(self._deliver_in_lane(lane, gate, row)))
                if not waiting:
                    break
                done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    report.add(task.result())
        finally:
            for task in waiting:  # cancelled (shutdown): the claims lapse and another run sends them
                task.cancel()
        return report

    async def _deliver_in_lane(self, lane: asyncio.Lock, gate: asyncio.Semaphore,
                               row: OutboxMessage) -> DispatchReport:
        async with lane, gate:  # asyncio.Lock wakes its waiters in the order they came: the lane keeps order
            return await self._deliver(row)

    async def _deliver(self, row: OutboxMessage) -> DispatchReport:
        report = DispatchReport()
        try:
            # Every claim that ended without a recorded "not sent" may have posted the message.
            if row.attempts - 1 > row.failures:
                found = await self.sender.find_sent(row)
                if found is not None:
                    await self._finish(row, OutboxStatus.SENT, found, report, recovered=True)
                    return report
            if self.clock.now() > row.expires_at:
                reason = f"not sent by {row.expires_at:%H:%M UTC}" + (f" (last error: {row.last_error})"
                                                                      if row.last_error else "")
                await self._finish(row, OutboxStatus.MISSED, SendResult(SendOutcome.PERMANENT, error=reason),
                                   report)
                return report
            if not await self._fence(row):
                report.skipped += 1
                self._observe("skipped", row)
                return report
            # The turn is taken last, just before the call: a database write between the two would make calls
            # reach Slack bunched up after their slots, and Slack answers a bunch with 429. But a turn can be long
            # in coming (a fan-out far beyond the pace): past half the lease, another replica may take the row
            # once the lease lapses, so the lease is renewed (or found lost) before the call.
            fenced_at = self.clock.now()
            await self.sender.wait_turn(row.channel)
            if self.clock.now() - fenced_at > self.policy.lease / 2 and not await self._fence(row):
                report.skipped += 1
                self._observe("skipped", row)
                return report
            result = await self.sender.send(row)
        except Exception as error:  # one bad row never stops the others; it is retried later
            log.exception("delivery of an outbox row failed unexpectedly", extra={"outbox_id": row.id})
            result = SendResult(SendOutcome.RETRY, error=f"unexpected: {type(error).__name__}", maybe_sent=True)
        if result.outcome is SendOutcome.SENT:
            await self._finish(row, OutboxStatus.SENT, result, report)
        elif result.outcome is SendOutcome.PERMANENT:
            await self._finish(row, OutboxStatus.FAILED, result, report)
        else:
            await self._retry(row, result, report)
        return report

    async def _fence(self, row: OutboxMessage) -> bool:
        """Renew this row's lease; False when it is no longer this dispatcher's to send."""
        async with self.db.transaction() as session:
            return await outbox.fence(session=session, message_id=row.id or 0, worker=self.worker,
                                      now=self.clock.now(), lease=self.policy.lease)

    async def _finish(self, row: OutboxMessage, status: OutboxStatus, result: SendResult,
                      report: DispatchReport, *, recovered: bool = False) -> None:
        async with self.db.transaction() as session:
            if status is OutboxStatus.SENT:
                done = await outbox.mark_sent(session=session, message_id=row.id or 0, worker=self.worker,
                                              now=self.clock.now(), ts=result.ts or "", channel=result.channel or "")
            elif status is OutboxStatus.FAILED:
                done = await outbox.mark_failed(session=session, message_id=row.id or 0, worker=self.worker,
                                                error=result.error or "refused")
            else:
                done = await outbox.mark_missed(session=session, message_id=row.id or 0, worker=self.worker,
                                                reason=result.error or "missed")
            if done:
                setattr(report, status.value, getattr(report, status.value) + 1)
                if status is OutboxStatus.SENT:
                    self._sent_at.append(self.clock.now())
                if recovered:
                    report.recovered += 1
                log.log(logging.INFO if status is OutboxStatus.SENT else logging.WARNING, "outbox row finished",
                        extra={"outbox_id": row.id, "status": status.value, "source": row.source,
                               "channel": row.channel, "error": result.error})
                await self._hook(session, row, status, result.error)
                if status is not OutboxStatus.SENT:
                    await self._tell(session, row, status, result.error)
        if done:  # only once the outcome is committed
            self._observe("recovered" if recovered else status.value, row)

    async def _retry(self, row: OutboxMessage, result: SendResult, report: DispatchReport) -> None:
        ceiling = min(self.policy.backoff_cap, self.policy.backoff_base * 2 ** min(row.attempts - 1, 16))
        delay = max(result.retry_after or 0.0, random.uniform(ceiling / 2, ceiling))
        async with self.db.transaction() as session:
            retried = await outbox.mark_retry(session=session, message_id=row.id or 0, worker=self.worker,
                                              error=result.error or "temporary failure",
                                              available_at=self.clock.now() + timedelta(seconds=delay),
                                              certainly_unsent=not result.maybe_sent)
        if retried:
            report.retried += 1
            log.info("outbox row will be retried", extra={"outbox_id": row.id, "error": result.error,
                                                          "retry_in_s": round(delay, 1)})
            self._observe("retried", row)

    def _observe(self, outcome: str, row: OutboxMessage) -> None:
        if self.on_outcome is None:
            return
        try:
            self.on_outcome(outcome, row.source)
        except Exception:  # counting must never stop delivery
            log.exception("the delivery outcome observer failed", extra={"outcome": outcome})

    async def _hook(self, session: AsyncSession, row: OutboxMessage, status: OutboxStatus,
                    error: str | None) -> None:
        hook = self.hooks.get(row.source)
        if hook is not None:
            await hook(session, row, status, error)

    async def _tell(self, session: AsyncSession, row: OutboxMessage, status: OutboxStatus, error: str | None) -> None:
        """Say, through the outbox, that a row will never be delivered: to its author, or else the admins."""
        admins = self.admin_channel() if self.admin_channel else None
        promise = failure_notice(row, status=status, error=error, admin_channel=admins, now=self.clock.now())
        if promise is None:
            if row.source == FAILURE_SOURCE:  # telling about a failure failed: the log is the last resort
                log.error("a delivery failure could not be reported", extra={
                    "outbox_id": row.id, "channel": row.channel, "error": error})
            return
        await outbox.enqueue(session=session, promises=[promise], now=self.clock.now())


def author_of(row: OutboxMessage) -> str | None:
    """The Slack user whose message this row carries, when its parameters name one."""
    params = (row.content or {}).get("params") or {}
    for key in _AUTHOR_PARAMS:
        value = params.get(key)
        if isinstance(value, str) and value[:1] in ("U", "W"):
            return value
    return None


def failure_notice(row: OutboxMessage, *, status: OutboxStatus, error: str | None, admin_channel: str | None,
                   now: datetime) -> outbox.Promise | None:
    """The one message that tells someone a row was not delivered, or None when nobody is left to tell.

    A person is told about their own message once (keyed by the row). The admins hear of messages with no
    author, and of a person who could not be told; those are keyed by source, error and hour, so an outage
    that fails many rows at once tells the channel once an hour per kind, not once per row.
    """
    if row.source in TOLD_BY_THEIR_HOOK:
        return None
    params: dict[str, Any] = {"status": status.value, "error": error or "", "source": row.source,
                              "template": (row.content or {}).get("template"), "channel": row.channel,
                              "thread": bool(row.thread_ts), "outbox_id": row.id}
    if row.source == FAILURE_SOURCE:  # the notice itself failed: escalate once to the admins, never further
        original = (row.content or {}).get("params") or {}
        if original.get("for_admins") or not admin_channel or row.channel == admin_channel:
            return None
        params = {**original, "for_admins": True, "author": None, "told_author_failed": error or ""}
        return outbox.Promise(dedupe_key=f"delivery-failed:{row.id}:admins", source=FAILURE_SOURCE,
                              source_id=row.id, channel=admin_channel,
                              content={"template": FAILURE_TEMPLATE, "params": params},
                              due_at=now, expires_at=now + timedelta(days=2))
    author = author_of(row)
    if author is not None:
        return outbox.Promise(dedupe_key=f"delivery-failed:{row.id}", source=FAILURE_SOURCE, source_id=row.id,
                              channel=author, content={"template": FAILURE_TEMPLATE,
                                                       "params": {**params, "for_admins": False, "author": author}},
                              due_at=now, expires_at=now + timedelta(days=2))
    if not admin_channel:
        log.error("an outbox row was not delivered and there is no admins channel to tell", extra={
            "outbox_id": row.id, "source": row.source, "status": status.value, "error": error})
        return None
    hour = now.strftime("%Y%m%dT%H")
    return outbox.Promise(dedupe_key=f"delivery-failed:admins:{row.source}:{status.value}:{error or ''}:{hour}"[:190],
                          source=FAILURE_SOURCE, source_id=row.id, channel=admin_channel,
                          content={"template": FAILURE_TEMPLATE, "params": {**params, "for_admins": True,
                                                                             "author": None}},
                          due_at=now, expires_at=now + timedelta(days=2))

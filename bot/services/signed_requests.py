"""Signed Slack requests let in once: a replayed request (same signature, so same timestamp and body) does nothing,
whichever replica it reaches, because the database decides.

Under a crowd one transaction per request would be most of what the database does (and, on SQLite, each waits
for the one write lock in turn), so `SeenRecorder` writes the signatures that arrive together in one statement:
one writer at a time, each batch everything that arrived while the previous one was written. A signature is
"first seen" only once its row is committed, so the promise is unchanged: of two requests with the same
signature, on any replica, exactly one is told it is new.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot.db import insert_ignoring_duplicates, rows_changed
from beacon.bot.models import SlackRequestSeen

# Slack's window is five minutes either side of the request's timestamp; a row older than ten minutes can no
# longer match a request that passes the timestamp check, so it may go.
KEEP_FOR = timedelta(minutes=10)
BATCH_MOST = 200  # signatures written in one statement at most (well under either database's parameter limit)


def signature_digest(signature: str) -> str:
    """What is stored: the SHA-256 of the signature header, never the body or anything naming a person."""
    return hashlib.sha256(signature.encode("ascii")).hexdigest()


async def first_sight(*, session: AsyncSession, signature: str, now: datetime) -> bool:
    """Record a verified request's signature; False when it was already recorded (a replay)."""
    return await insert_ignoring_duplicates(session, SlackRequestSeen,
                                            {"signature_sha256": signature_digest(signature), "seen_at": now})


async def first_sights(*, session: AsyncSession, digests: list[str], now: datetime) -> set[str]:
    """Record many signatures' digests (distinct) in one statement; the ones not recorded before."""
    if not digests:
        return set()
    insert = (postgresql.insert(SlackRequestSeen) if session.get_bind().dialect.name == "postgresql"
              else sqlite.insert(SlackRequestSeen))
    statement = (insert.values([{"signature_sha256": d, "seen_at": now} for d in digests])
                 .on_conflict_do_nothing().returning(col(SlackRequestSeen.signature_sha256)))
    return set((await session.scalars(statement)).all())


class SeenRecorder:
    """Records signatures in batches, one batch (one transaction) at a time; `seen(signature)` says whether this
    is the first time. A signature twice in one batch: the first is new, the second a replay."""

    def __init__(self, transaction: Callable[[], AbstractAsyncContextManager[AsyncSession]],
                 now: Callable[[], datetime]):
        self._transaction, self._now = transaction, now
        self._waiting: dict[str, list[asyncio.Future[bool]]] = {}
        self._writer: asyncio.Task[None] | None = None

    def seen(self, signature: str) -> Awaitable[bool]:
        """A future that is True when this is the signature's first sight, False for a replay, or raises what
        the database raised (the request then does nothing)."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(signature_digest(signature), []).append(future)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.ensure_future(self._write())
        return future

    async def _write(self) -> None:
        while self._waiting:
            digests = list(self._waiting)[:BATCH_MOST]
            batch = {d: self._waiting.pop(d) for d in digests}
            try:
                async with self._transaction() as session:
                    new = await first_sights(session=session, digests=digests, now=self._now())
            except BaseException as error:
                for futures in batch.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(error if isinstance(error, Exception) else RuntimeError(
                                "recording signatures was interrupted"))
                if not isinstance(error, Exception):
                    raise
                continue
            for digest, futures in batch.items():
                for index, future in enumerate(futures):
                    if not future.done():
                        future.set_result(index == 0 and digest in new)

    async def close(self) -> None:
        """Wait for the batch being written (at shutdown)."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)


async def forget_old_requests(*, session: AsyncSession, now: datetime) -> int:
    return await rows_changed(session, delete(SlackRequestSeen).where(col(SlackRequestSeen.seen_at) < now - KEEP_FOR))

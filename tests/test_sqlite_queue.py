"""SQLite transactions in one process queue in order (bot/db.py: Database.transaction) rather than polling for
SQLite's one write lock, and a transaction opened inside another does not wait for itself."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from sqlalchemy import text

from beacon.bot.db import Database
from beacon.bot.models import SlackRequestSeen
from beacon.bot.services.signed_requests import SeenRecorder


async def test_sqlite_transactions_run_one_at_a_time_first_come_first_served(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'queue.db'}")
    async with db.transaction() as session:
        await session.execute(text("CREATE TABLE said (n INTEGER)"))
    inside, most, order = 0, 0, []

    async def write(n: int) -> None:
        nonlocal inside, most
        async with db.transaction() as session:
            inside += 1
            most = max(most, inside)
            order.append(n)
            await session.execute(text("INSERT INTO said (n) VALUES (:n)"), {"n": n})
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.gather(*(write(n) for n in range(10)))
    assert most == 1 and order == list(range(10))
    async with db.transaction() as outer:
        await outer.execute(text("SELECT 1"))
        async with db.transaction() as inner:  # would wait for ever if it queued behind its own outer transaction
            assert (await inner.execute(text("SELECT count(*) FROM said"))).scalar() == 10
    await db.engine.dispose()


async def test_a_long_read_does_not_hold_back_the_replay_check(tmp_path: Path) -> None:
    """Every click waits for the replay check (at most RECORD_SECONDS before it is refused): a long read elsewhere in
    the process (an export streaming a round to a file) must not queue it. WAL lets a writer commit beside a reader,
    so the check's one-row write skips the queue, as bot/http_server.py builds it."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'replay.db'}")
    async with db.engine.begin() as connection:
        await connection.run_sync(lambda c: SlackRequestSeen.__table__.create(c))  # type: ignore[attr-defined]
    reading = asyncio.Event()

    async def long_export() -> None:
        async with db.transaction() as session:
            await session.execute(text("SELECT count(*) FROM slack_request_seen"))
            reading.set()
            await asyncio.sleep(1.5)  # streaming rows to a file, a part at a time

    export = asyncio.create_task(long_export())
    await reading.wait()
    recorder = SeenRecorder(partial(db.transaction, queue=False), lambda: datetime.now(UTC))
    try:
        assert await asyncio.wait_for(recorder.seen("v0=abc"), 0.5) is True  # 0.5 s stands for RECORD_SECONDS
        assert not export.done(), "the check was answered while the read was still open"
    finally:
        await export
        await recorder.close()
        await db.dispose()


async def test_a_write_an_ack_waits_for_goes_ahead_of_the_queue_and_commits_on_its_own(tmp_path: Path) -> None:
    """A nomination form's row (bot/services/nomination_intake.py) waits only for the transaction under way, not
    for the work queued behind it; written as one statement, it is committed when the statement returns."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'ahead.db'}")
    async with db.transaction() as session:
        await session.execute(text("CREATE TABLE said (n INTEGER)"))
    order: list[int] = []

    async def work(n: int) -> None:
        async with db.transaction() as session:
            order.append(n)
            await session.execute(text("INSERT INTO said (n) VALUES (:n)"), {"n": n})
            await asyncio.sleep(0.05)

    queued = [asyncio.create_task(work(n)) for n in range(5)]
    await asyncio.sleep(0.01)  # the first is under way, four wait
    async with db.one_statement(ahead=True) as connection:
        order.append(99)
        await connection.execute(text("INSERT INTO said (n) VALUES (99)"))
    other = Database(db.url)  # another connection sees it at once: nothing left to commit
    async with other.transaction() as session:
        assert (await session.execute(text("SELECT count(*) FROM said WHERE n = 99"))).scalar() == 1
    await asyncio.gather(*queued)
    assert order == [0, 99, 1, 2, 3, 4]
    await other.engine.dispose()
    await db.engine.dispose()

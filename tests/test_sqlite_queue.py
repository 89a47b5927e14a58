"""SQLite transactions in one process queue in order (bot/db.py: Database.transaction) rather than polling for
SQLite's one write lock, and a transaction opened inside another does not wait for itself."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from beacon.bot.db import Database


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

"""PostgreSQL connections are pinged only after they sat idle (bot/db.py: PING_AFTER_IDLE_SECONDS), not on every
checkout; a connection the server dropped while it sat idle is replaced, never handed to a request."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from beacon.bot import db as database
from beacon.bot.db import Database


async def test_a_connection_dropped_while_idle_is_replaced_not_used(database_url: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's connections are files; nothing drops them")
    db = Database(database_url)
    killer = Database(database_url)
    try:
        async with db.transaction() as session:
            pid = await session.scalar(text("SELECT pg_backend_pid()"))
        async with killer.transaction() as session:  # the server drops the idle pooled connection (a restart)
            assert await session.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)
        async with db.transaction() as session:
            assert await session.scalar(text("SELECT pg_backend_pid()")) != pid
    finally:
        await db.dispose()
        await killer.dispose()


async def test_a_connection_used_a_moment_ago_is_not_pinged_and_an_idle_one_is(
        database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's pool")
    pings: list[object] = []
    ping = database._ping
    monkeypatch.setattr(database, "_ping", lambda connection: (pings.append(connection), ping(connection)))
    db = Database(database_url)
    try:
        for _ in range(5):
            async with db.transaction() as session:
                assert await session.scalar(text("SELECT 2")) == 2
        assert pings == [], "no ping on a connection just used"
        monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)
        async with db.transaction() as session:
            await session.execute(text("SELECT 2"))
        assert len(pings) == 1, "a connection idle past the limit is pinged before use"
    finally:
        await db.dispose()

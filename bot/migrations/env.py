"""Alembic environment: async engine, batch mode on SQLite, one migrator at a time on PostgreSQL."""

import asyncio
import logging
import threading
import time

from alembic import context
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import beacon.bot.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from beacon.bot.db import MIGRATION_LOCK_ID, MigrationStopped

config = context.config
target_metadata = SQLModel.metadata
log = logging.getLogger("beacon.db")
LOCK_POLL_SECONDS = 0.25


def _database_url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL given to alembic (set DATABASE_URL)")
    return url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    if connection.dialect.name == "postgresql":
        _take_migration_lock(connection)
    with context.begin_transaction():
        context.run_migrations()


def _take_migration_lock(connection: Connection) -> None:
    """Replicas starting together take turns. The lock is held until this transaction ends. It is polled for, not
    waited on in PostgreSQL, so that a stop signal (`stop`, set by bot.db.upgrade) ends the wait."""
    stop: threading.Event | None = config.attributes.get("stop")
    waiting_since: float | None = None
    take = text("SELECT pg_try_advisory_xact_lock(:id)")
    while not connection.execute(take, {"id": MIGRATION_LOCK_ID}).scalar():
        if waiting_since is None:
            waiting_since = time.monotonic()
            log.info("waiting for another replica's migration to finish", extra={"lock": MIGRATION_LOCK_ID})
        if (stop or threading.Event()).wait(LOCK_POLL_SECONDS):
            raise MigrationStopped("stopped while waiting for another replica's migration")
    if waiting_since is not None:
        log.info("the other replica's migration has finished",
                 extra={"waited_seconds": round(time.monotonic() - waiting_since, 1)})


async def _run_online() -> None:
    engine = create_async_engine(_database_url(), poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())

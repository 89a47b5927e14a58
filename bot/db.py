"""The database: an async engine for SQLite or PostgreSQL, sessions, and alembic migrations."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import CursorResult, DateTime, Executable, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.engine.url import URL, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

from beacon.bot.config_errors import ConfigError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes in, timezone-aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass a timezone-aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# The drivers Beacon ships with; other tools' spellings of the same databases are accepted and mapped to them.
_ASYNC_DRIVERS = {"postgres": "postgresql+asyncpg", "postgresql": "postgresql+asyncpg",
                  "postgresql+asyncpg": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite",
                  "sqlite+aiosqlite": "sqlite+aiosqlite"}


def async_url(url: str) -> str:
    """DATABASE_URL with Beacon's async driver: `postgres://` and `postgresql://` (as Heroku, psql and many tools
    write it) become `postgresql+asyncpg://`, `sqlite://` becomes `sqlite+aiosqlite://`. Anything else is refused
    with a message naming DATABASE_URL (and never its password)."""
    scheme, separator, rest = url.partition("://")
    driver = _ASYNC_DRIVERS.get(scheme.lower()) if separator else None
    if driver is None:
        shown = f"{scheme}://..." if separator else "a value that is not a URL"
        raise ConfigError([f"DATABASE_URL: {shown} is not a database Beacon can use; give "
                           "sqlite+aiosqlite:///path/to/beacon.db or postgresql://user:password@host:5432/database"])
    unreadable = ConfigError([f"DATABASE_URL: the address after {scheme}:// cannot be read; percent-encode special "
                              "characters in the user name and password (@ as %40, : as %3A, / as %2F)"])
    if rest.split("/", 1)[0].count("@") > 1:  # read as user:pass@word@host, part of the password would be the host
        raise unreadable
    try:
        parsed = make_url(f"{driver}://{rest}")
        port = parsed.port
    except (ArgumentError, ValueError):
        raise unreadable from None
    if port is not None and not 1 <= port <= 65535:
        raise ConfigError([f"DATABASE_URL: port {port} is not a port (1 to 65535; PostgreSQL's is 5432)"])
    if driver.startswith("sqlite"):
        if not parsed.database or parsed.database == ":memory:" or parsed.query.get("mode") == "memory":
            raise ConfigError(["DATABASE_URL: give SQLite a file, e.g. sqlite+aiosqlite:////var/lib/beacon/beacon.db "
                               "(four slashes for an absolute path); an in-memory database is empty for every "
                               "connection, so nothing Beacon promised would be kept"])
        return f"{driver}://{rest}"
    return _asyncpg_options(parsed).render_as_string(hide_password=False)


# What asyncpg accepts in the URL's query. libpq's `sslmode` (as psql, Heroku and cloud consoles write it) means
# asyncpg's `ssl` with the same values.
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}


def _asyncpg_options(url: URL) -> URL:
    query = dict(url.query)
    if "sslmode" in query:
        query["ssl"] = query.pop("sslmode")
    unknown = sorted(set(query) - {"ssl"})
    if unknown:
        raise ConfigError([f"DATABASE_URL: ?{unknown[0]}= is not understood: Beacon connects with asyncpg, whose only "
                           "URL option is ssl (or sslmode): " + ", ".join(sorted(_SSL_MODES))])
    if "ssl" in query and query["ssl"] not in _SSL_MODES:
        raise ConfigError([f"DATABASE_URL: ssl={query['ssl']} is not an SSL mode; use one of "
                           + ", ".join(sorted(_SSL_MODES))])
    return url.set(query=query)


def shown_url(url: str) -> str:
    """The URL as it may be printed: the password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "DATABASE_URL"


class Database:
    """One engine per process; `transaction()` is the unit of work handlers and jobs use."""

    def __init__(self, url: str, *, connect_timeout: float = 30):
        self.url = url = async_url(url)
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        # hide_parameters: an error's message never carries the row it was writing (an answer, a story).
        options: dict[str, object] = {"hide_parameters": True}
        if self.is_sqlite:
            options["connect_args"] = {"timeout": 30}  # SQLite's: how long a writer waits for the lock
        else:
            options.update(pool_size=10, max_overflow=10, connect_args={"timeout": connect_timeout})
        self.engine = create_async_engine(url, **options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        else:  # a connection that sat idle may have been dropped (a restart, a failover): ping it, only then
            event.listen(self.engine.sync_engine, "checkin", _note_idle_since)
            event.listen(self.engine.sync_engine, "checkout", _ping_if_idle)
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        self._one_at_a_time = _TransactionQueue() if self.is_sqlite else None

    def session(self) -> AsyncSession:
        return self._sessions()

    @asynccontextmanager
    async def transaction(self, *, queue: bool = True, ahead: bool = False) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error.

        On SQLite one transaction at a time in this process, first come first served: SQLite lets one writer in at
        a time, and writers that find it busy poll with growing sleeps (up to 100 ms each) in no order, so under a
        crowd a form could wait seconds behind later arrivals. Waiting here, in order, each starts as soon as the
        one before it ends. A transaction opened inside another (same task) does not wait for itself.

        `queue=False` is for one-row writes that must not wait behind a long transaction of this process (the
        replay check, which every click waits for; a worker's lease renewal, while its own job reads a whole round):
        they go straight to SQLite, whose busy timeout makes them wait only for a writer, never for a reader.

        `ahead=True` is for a short write an ack waits for (a nomination form stored before its ack): it queues
        ahead of every transaction not marked so (they are work after acks), behind the one under way. Going
        straight to SQLite instead, it would poll the write lock against a queue that is never empty under a crowd,
        and wait for seconds."""
        if self._one_at_a_time is None or not queue or _HOLDING.get():
            async with self._sessions() as session, session.begin():
                yield session
            return
        await self._one_at_a_time.acquire(ahead=ahead)
        token = _HOLDING.set(True)
        try:
            async with self._sessions() as session, session.begin():
                yield session
        finally:
            _HOLDING.reset(token)
            self._one_at_a_time.release()

    @asynccontextmanager
    async def one_statement(self, *, ahead: bool = False) -> AsyncIterator[AsyncConnection]:
        """A connection that commits each statement as it runs, for a write that is one statement (atomic on its
        own): no BEGIN and no COMMIT, so on PostgreSQL one round trip instead of three, which under a crowd is most
        of its time. On SQLite it takes its place in the queue as `transaction` does (`ahead` likewise)."""
        holding = self._one_at_a_time is not None and not _HOLDING.get()
        if holding:
            assert self._one_at_a_time is not None
            await self._one_at_a_time.acquire(ahead=ahead)
        try:
            async with self.engine.connect() as connection:
                yield await connection.execution_options(isolation_level="AUTOCOMMIT")
        finally:
            if holding:
                assert self._one_at_a_time is not None
                self._one_at_a_time.release()

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:  # any failure means "not reachable" to a health check
            log.warning("database ping failed", exc_info=True)
            return False
        return True

    async def connect_once(self) -> None:
        """Open one connection and close it: raises what the driver raised when the database cannot be used."""
        database = make_url(self.url).database
        if self.is_sqlite and database and database != ":memory:":
            # sqlite3 itself first: aiosqlite's worker thread outlives a failed connect and, if the process then
            # exits, prints a traceback of its own ("Event loop is closed").
            await asyncio.to_thread(lambda: sqlite3.connect(database).close())
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


class _TransactionQueue:
    """SQLite's transactions in this process, one at a time: those marked `ahead` first, then the rest, each in
    the order they came. The place passes straight from the transaction that ends to the next waiting."""

    def __init__(self) -> None:
        self._held = False
        self._waiting: tuple[deque[asyncio.Future[None]], ...] = (deque(), deque())

    async def acquire(self, *, ahead: bool) -> None:
        if not self._held and not any(self._waiting):
            self._held = True
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[0 if ahead else 1].append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # given the place just as it was cancelled: pass it on
                self.release()
            raise

    def release(self) -> None:
        for waiting in self._waiting:
            while waiting:
                turn = waiting.popleft()
                if not turn.done():
                    turn.set_result(None)
                    return
        self._held = False


# A pooled connection used within this many seconds is taken as alive; one idle longer is pinged before use. Pinging
# on every checkout (pool_pre_ping) costs a round trip per transaction, which under a crowd is most of them.
PING_AFTER_IDLE_SECONDS = 10.0


def _note_idle_since(_dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, _proxy: object) -> None:
    """Ping a connection idle for longer than PING_AFTER_IDLE_SECONDS; a dead one is replaced (the pool retries
    the checkout with a new connection on DisconnectionError), as pool_pre_ping would."""
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
        return
    try:
        _ping(dbapi_connection)
    except Exception as error:  # any failure: this connection is not to be used
        raise DisconnectionError("a pooled connection idle since a while did not answer a ping") from error


def _ping(dbapi_connection: DBAPIConnection) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SELECT 1")
    cursor.close()


# Set while this task holds the SQLite transaction queue (Database.transaction). asyncio copies it into every task
# started inside the transaction, where it stays set after the transaction ends: such a task never queues again.
# Start background tasks outside transactions (every one Beacon starts today is).
_HOLDING: contextvars.ContextVar[bool] = contextvars.ContextVar("beacon_sqlite_transaction", default=False)


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: object) -> None:
    # WAL lets readers proceed while one writer writes; busy_timeout makes writers queue, not fail.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = async_url(database_url)
    return config


# The PostgreSQL advisory lock that makes replicas starting together migrate one at a time (migrations/env.py).
MIGRATION_LOCK_ID = 7_262_001


class MigrationStopped(Exception):
    """The migration was given up while waiting for another replica's (a stop signal); nothing was changed."""


def upgrade_sync(database_url: str, revision: str = "head", *, stop: threading.Event | None = None) -> None:
    """Bring the schema to `revision`; safe to run at every start and from several replicas. On PostgreSQL, while
    another replica holds the migration lock this waits, polling, and gives up (MigrationStopped) once `stop` is
    set; a migration already under way is never interrupted."""
    config = alembic_config(database_url)
    config.attributes["stop"] = stop
    command.upgrade(config, revision)


async def upgrade(database_url: str, revision: str = "head") -> None:
    # alembic's async env runs its own event loop, so it gets a thread of its own. A cancelled wait (SIGTERM) cannot
    # reach into the thread, so it is told through `stop`: it stops waiting for the lock within a poll interval, and
    # asyncio.run, which waits for the thread before the process exits, is not held up.
    stop = threading.Event()
    try:
        await asyncio.to_thread(upgrade_sync, database_url, revision, stop=stop)
    finally:
        stop.set()


async def rows_changed(session: AsyncSession, statement: Executable) -> int:
    """Run an INSERT, UPDATE or DELETE; how many rows it matched."""
    # Session.execute returns a CursorResult for these statements; its signature promises only a Result.
    result = cast(CursorResult[Any], await session.execute(statement))
    return result.rowcount


def _insert(session: AsyncSession, table: type[SQLModel]) -> postgresql.Insert | sqlite.Insert:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def insert_ignoring_duplicates(session: AsyncSession, table: type[SQLModel], values: dict[str, object]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING on either database; True when the row is new."""
    return bool(await rows_changed(session, _insert(session, table).values(**values).on_conflict_do_nothing()))


async def insert_many_ignoring_duplicates(session: AsyncSession, table: type[SQLModel],
                                          rows: list[dict[str, object]]) -> None:
    """The same for many rows, as one cached statement executed for them all (drivers do not all report how
    many were new, so nothing is returned)."""
    if rows:
        connection = await session.connection()
        await connection.execute(_insert(session, table).on_conflict_do_nothing(), rows)

"""Reading every calendar source in turn and folding what each says into the engagement calendar."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Protocol

from beacon.bot.clock import Clock
from beacon.bot.db import Database
from beacon.bot.services.engagements import Engagements, SourceAnswer, SyncReport

log = logging.getLogger(__name__)


@cache
def _libc() -> ctypes.CDLL | None:
    """The C library, found once (find_library runs ldconfig); None where there is none to load."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def _give_memory_back() -> None:
    """Hand the C heap's free pages back to the system after a source is synced: glibc otherwise keeps what a large
    feed's download and reading freed, and a long-running process stays at its peak. Elsewhere it does nothing."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


class SourceReader(Protocol):
    key: str
    name: str

    async def read(self, *, start: datetime, end: datetime) -> SourceAnswer: ...


@dataclass
class CalendarSync:
    db: Database
    engagements: Engagements
    clock: Clock
    readers: list[SourceReader]
    window_days: int

    async def run(self) -> dict[str, SyncReport]:
        """Sync every source; one failing source never stops the others."""
        reports: dict[str, SyncReport] = {}
        now = self.clock.now()
        start, end = now - timedelta(days=1), now + timedelta(days=self.window_days)
        for reader in self.readers:
            try:
                answer = await reader.read(start=start, end=end)
                async with self.db.transaction() as session:
                    reports[reader.name] = await self.engagements.record_sync(
                        session=session, source_key=reader.key, source_name=reader.name, answer=answer)
            except Exception:
                log.exception("calendar source sync failed", extra={"source": reader.name})
            _give_memory_back()
        async with self.db.transaction() as session:
            await self.engagements.announce_due(session=session)
        return reports

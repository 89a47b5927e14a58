"""The audit log of privileged actions: append-only, in an HMAC chain keyed by BEACON_SECRET_KEY.

An entry is written in the same transaction as the action it records, so there is no action without its
entry. Appending locks the chain's head row first (on PostgreSQL a row lock, on SQLite the write lock), so
entries from several replicas form one chain. Verifying recomputes every hash: an entry changed, inserted or
removed in the database, by anyone without the key, shows up as the first entry that does not match.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot.clock import Clock
from beacon.bot.config_errors import ConfigError
from beacon.bot.db import insert_ignoring_duplicates, rows_changed
from beacon.bot.models import AuditEntry, AuditHead


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"beacon-audit:" + key).hexdigest()[:12]


def _payload(*, seq: int, at: datetime, actor: str, action: str, subject: str, details: dict[str, Any],
             prev_hash: str) -> bytes:
    return json.dumps([seq, at.astimezone(UTC).isoformat(), actor, action, subject, details, prev_hash], sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False, default=str).encode()


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    problem: str | None = None   # what is wrong, at which entry
    unverifiable: bool = False   # not wrong as far as can be told, but signed with a key Beacon was not given


class Audit:
    def __init__(self, *, key: bytes | None, clock: Clock, old_keys: Sequence[bytes] = ()):
        self._key, self._clock = key, clock
        self._keys = {key_id(k): k for k in (*old_keys, *([key] if key else []))}

    @property
    def _signing_key(self) -> bytes:
        if self._key is None:
            raise ConfigError(["BEACON_SECRET_KEY: needed to write the audit log; set it as for `beacon run`"])
        return self._key

    async def record(self, *, session: AsyncSession, actor: str, action: str, subject: str,
                     details: dict[str, Any] | None = None) -> AuditEntry:
        """Append an entry, in the caller's transaction."""
        locked = await rows_changed(session, update(AuditHead).where(col(AuditHead.id) == 1)
                                    .values(seq=col(AuditHead.seq) + 1))
        if not locked:  # the head row is made by the migration; restore it
            await insert_ignoring_duplicates(session, AuditHead, {"id": 1, "seq": 0, "last_hash": ""})
            await session.execute(update(AuditHead).where(col(AuditHead.id) == 1).values(seq=col(AuditHead.seq) + 1))
        head = (await session.execute(select(col(AuditHead.seq),
                                             col(AuditHead.last_hash)).where(col(AuditHead.id) == 1))).one()
        at = self._clock.now().astimezone(UTC)
        content = json.loads(json.dumps(details or {}, default=str))
        digest = hmac.new(self._signing_key, _payload(seq=head.seq, at=at, actor=actor, action=action, subject=subject,
                                              details=content, prev_hash=head.last_hash), hashlib.sha256).hexdigest()
        entry = AuditEntry(seq=head.seq, at=at, actor=actor, action=action, subject=subject[:120], details=content,
                           key_id=key_id(self._signing_key), prev_hash=head.last_hash, hash=digest)
        session.add(entry)
        await session.execute(update(AuditHead).where(col(AuditHead.id) == 1).values(last_hash=digest))
        return entry

    async def entries(self, *, session: AsyncSession, since: datetime | None = None, until: datetime | None = None,
                      actor: str | None = None, limit: int = 10_000) -> list[AuditEntry]:
        statement = select(AuditEntry).order_by(col(AuditEntry.seq))
        if since is not None:
            statement = statement.where(col(AuditEntry.at) >= since)
        if until is not None:
            statement = statement.where(col(AuditEntry.at) < until)
        if actor is not None:
            statement = statement.where(col(AuditEntry.actor) == actor)
        return list((await session.scalars(statement.limit(limit))).all())

    async def verify(self, *, session: AsyncSession) -> Verification:
        """Walk the whole chain. The first entry may follow entries removed by retention (its prev_hash is then
        taken as given); every later link must hold, and the last entry must be the head's."""
        head = (await session.execute(select(col(AuditHead.seq),
                                             col(AuditHead.last_hash)).where(col(AuditHead.id) == 1))).first()
        head_seq, head_hash = (head.seq, head.last_hash) if head else (0, "")
        previous: AuditEntry | None = None
        checked = 0
        async for entry in self._in_order(session):
            key = self._keys.get(entry.key_id)
            if key is None:
                return Verification(False, checked, f"entry {entry.seq} was signed with a key Beacon does not have "
                                                    f"(key {entry.key_id}); set BEACON_OLD_SECRET_KEYS to verify it",
                                    unverifiable=True)
            if previous is not None and (entry.seq != previous.seq + 1 or entry.prev_hash != previous.hash):
                return Verification(False, checked, f"the chain is broken before entry {entry.seq}: an entry was "
                                                    "removed or inserted")
            expected = hmac.new(key, _payload(seq=entry.seq, at=entry.at, actor=entry.actor, action=entry.action,
                                              subject=entry.subject, details=entry.details,
                                              prev_hash=entry.prev_hash), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, entry.hash):
                return Verification(False, checked, f"entry {entry.seq} ({entry.action}) was changed after it was "
                                                    "written")
            previous, checked = entry, checked + 1
        if previous is None:
            return Verification(head_seq == 0, 0, None if head_seq == 0 else
                                f"the log is empty but {head_seq} entries were written")
        if previous.seq != head_seq or previous.hash != head_hash:
            return Verification(False, checked, f"entries after {previous.seq} were removed (the log's head is at "
                                                f"entry {head_seq})")
        return Verification(True, checked)

    @staticmethod
    async def _in_order(session: AsyncSession, batch: int = 5000) -> AsyncIterator[AuditEntry]:
        """Every entry by seq, a batch at a time: memory stays flat however long the log grows."""
        after = -1
        while True:
            entries = (await session.scalars(select(AuditEntry).where(col(AuditEntry.seq) > after)
                                             .order_by(col(AuditEntry.seq)).limit(batch))).all()
            for entry in entries:
                yield entry
            if len(entries) < batch:
                return
            after = entries[-1].seq
            for entry in entries:  # checked: they need not stay in the session
                session.expunge(entry)

    async def forget_before(self, *, session: AsyncSession, cutoff: datetime) -> int:
        """Retention: drop the oldest entries (never a gap in the middle, so the rest still verifies)."""
        last = await session.scalar(select(func.max(col(AuditEntry.seq))).where(col(AuditEntry.at) < cutoff))
        if last is None:
            return 0
        return await rows_changed(session, delete(AuditEntry).where(col(AuditEntry.seq) <= last))

"""A nomination form, accepted in the ack's time and finished after it, never lost in between.

Storing a nomination is a dozen statements (the round, an earlier one it repeats, the nomination, its nominees, the
round's totals, the receipt and every nominee's message in the outbox). Done before the ack, under a crowd the
form waited for all of them, behind every other request's transaction: ten times the ack of a click. So the ack
waits only for what it must: the form is checked (what is wrong comes back in the ack, beside the field), then
what was sent is stored as one row, a `work_item` already claimed by this process under a lease, and only then is
the person told it is in. The row is keyed by the signed request, so a replay stores nothing, and the ack need
not wait for the replay check (handlers/errors.py: stores_once). Straight after the ack (`finish`) the
nomination is stored and the row marked done, in one transaction: whichever process marks the row done is the
one whose nomination is kept, so it is stored once. If this process stops first, the lease lapses and a worker
(`beacon worker`, bot/worker.py) finishes it the same way. The story stays in the row only until then: a
finished row keeps no parameters.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from beacon.bot.clock import Clock
from beacon.bot.db import Database, rows_changed
from beacon.bot.models import WorkItem, WorkStatus
from beacon.bot.services.nominations import NominationDraft, Nominations, NomineeInput, Submitted
from beacon.bot.services.work_queue import WorkKind


@dataclass(frozen=True)
class Accepted:
    """A form accepted and stored, not yet a nomination: `id` is its `work_item`."""

    id: int
    nominator: str
    draft: NominationDraft
    editing: int | None


def accepted_params(nominator: str, draft: NominationDraft, editing: int | None) -> dict[str, Any]:
    return {"nominator": nominator, "editing": editing, "draft": asdict(draft)}


def accepted_from(item_id: int, params: dict[str, Any]) -> Accepted:
    """A stored form read back (a worker finishing it after its process died)."""
    draft = dict(params["draft"])
    draft["nominees"] = tuple(NomineeInput(**n) for n in draft["nominees"])
    draft["values"], draft["behaviours"] = tuple(draft["values"]), tuple(draft["behaviours"])
    editing = params.get("editing")
    return Accepted(id=item_id, nominator=str(params["nominator"]), draft=NominationDraft(**draft),
                    editing=int(editing) if editing is not None else None)


BATCH_MOST = 100  # forms stored in one statement at most (well under either database's parameter limit)
WRITERS = 4  # statements storing forms at once on PostgreSQL


class NominationIntake:
    """Forms that arrive together are stored together, in one statement (as `SeenRecorder` does the signatures):
    under a crowd, one transaction per form would queue each behind the others (on SQLite, one writer at a time;
    each step of each also waits for a busy event loop). On SQLite one such statement at a time; on PostgreSQL up to
    `WRITERS`, so a form arriving while one is written need not wait for it."""

    def __init__(self, *, db: Database, clock: Clock, nominations: Nominations, owner: str, lease: timedelta):
        self._db, self._clock, self._nominations = db, clock, nominations
        self.owner, self.lease = owner, lease
        self._waiting: dict[str, tuple[dict[str, Any], asyncio.Future[int | None]]] = {}
        self._writers: set[asyncio.Task[None]] = set()
        # SQLite writes one at a time whatever is asked; PostgreSQL need not make a form wait for the batch before.
        self._most_writers = 1 if db.is_sqlite else WRITERS

    async def accept(self, *, nominator: str, draft: NominationDraft, editing: int | None = None,
                     request_key: str | None = None) -> Accepted | None:
        """Check the form (raises NominationProblems, or RoleRequired for an entry on someone's behalf by
        someone not allowed), then store it, claimed by this process: once this returns it may be acked. None when
        a form with the same `request_key` (the signed request's, so a replay of it) was already stored."""
        await self._nominations.refuse_invalid(draft, nominator=nominator)
        if editing is not None:  # only its own nominator edits a nomination: refused before anything is stored
            async with self._db.transaction() as session:
                await self._nominations.for_edit(session=session, user_id=nominator, nomination_id=editing)
        now = self._clock.now()
        key = f"nomination-form:{request_key or secrets.token_hex(16)}"  # without a request's own: just this one
        row = {"kind": str(WorkKind.NOMINATION_SUBMIT), "params": accepted_params(nominator, draft, editing),
               "requested_by": nominator, "status": WorkStatus.RUNNING, "available_at": now, "attempts": 1,
               "claimed_by": self.owner, "lease_until": now + self.lease, "created_at": now, "dedupe_key": key}
        if key in self._waiting:  # the same request twice in one batch: the second is a replay
            return None
        stored: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._waiting[key] = (row, stored)
        if len(self._writers) < self._most_writers:
            writer = asyncio.ensure_future(self._write())
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)
        item_id = await asyncio.shield(stored)  # a request given up on does not undo a row being stored
        if item_id is None:
            return None
        return Accepted(id=item_id, nominator=nominator, draft=draft, editing=editing)

    async def _write(self) -> None:
        while self._waiting:
            batch = {key: self._waiting.pop(key) for key in list(self._waiting)[:BATCH_MOST]}
            try:
                # The ack waits for this: one statement, ahead of the work after other requests' acks (bot/db.py).
                async with self._db.one_statement(ahead=True) as connection:
                    insert = (postgresql.insert(WorkItem) if connection.dialect.name == "postgresql"
                              else sqlite.insert(WorkItem))
                    new = {key: item_id for key, item_id in await connection.execute(
                        insert.values([row for row, _ in batch.values()]).on_conflict_do_nothing()
                        .returning(col(WorkItem.dedupe_key), col(WorkItem.id)))}
            except BaseException as error:
                for _, stored in batch.values():
                    if not stored.done():
                        stored.set_exception(error if isinstance(error, Exception) else RuntimeError(
                            "storing the form was interrupted"))
                if not isinstance(error, Exception):
                    raise
                continue
            for key, (_, stored) in batch.items():
                if not stored.done():
                    stored.set_result(new.get(key))

    async def finish(self, accepted: Accepted, *, owner: str | None) -> Submitted | None:
        """Store the nomination and mark its row done, together. None when the row is no longer `owner`'s to
        finish (None: whoever holds it), because another process has taken it over or already finished it."""
        async with self._db.transaction() as session:
            mine = [col(WorkItem.id) == accepted.id, col(WorkItem.status) == WorkStatus.RUNNING]
            if owner is not None:
                mine.append(col(WorkItem.claimed_by) == owner)
            taken = await rows_changed(session, update(WorkItem).where(*mine).values(
                status=WorkStatus.DONE, claimed_by=None, lease_until=None, finished_at=self._clock.now(),
                requested_by=None, params={}).execution_options(synchronize_session=False))
            if not taken:
                return None
            return await self._nominations.submit(session=session, nominator=accepted.nominator,
                                                  draft=accepted.draft, editing=accepted.editing)

    async def refused(self, accepted: Accepted, reason: str) -> None:
        """Finishing it was refused (the nomination being edited was withdrawn meanwhile, say), and the person is
        told why by the caller: the row is closed, keeping nothing of the form, and never tried again."""
        async with self._db.transaction() as session:
            await rows_changed(session, update(WorkItem).where(
                col(WorkItem.id) == accepted.id, col(WorkItem.status) == WorkStatus.RUNNING).values(
                status=WorkStatus.FAILED, claimed_by=None, lease_until=None, finished_at=self._clock.now(),
                requested_by=None, params={}, last_error=reason[:200]).execution_options(synchronize_session=False))

"""Anonymous pulse answers, held and stored in groups so that nothing on disk or in a log pairs a person with
their answer (the threat model is in docs/ARCHITECTURE.md).

A person's anonymous answer is held in this process's memory (the database records only that they are waiting,
in `pulse_held`). Once a pulse has `2 × answer_batch` new answers held, all but the newest `answer_batch` are
stored as one group (`Pulses.store`), so every group stored holds at least `answer_batch` new answers and enough
are always left for the last group, stored when the pulse closes. Only new answers count towards a group: a
change (by its token) never makes one, or one person pressing "Change my answer" again and again could make a
colleague's answer the only new one in its group. Changes wait, one per token (the latest wins), and are stored
with the next group of new answers, or on their own once `answer_batch` people have changed theirs, or at close.
Each person is told only after their group has committed (`AnswerReplies`), with the token that lets them change
it. At shutdown a pulse's held answers are stored if there are at least `answer_batch` new ones; fewer are let
go and their people asked to answer again, because storing them would pair them with too few others. A crash
loses what was held: `pulse_held`'s lease runs out and each person is told (`Pulses.release_lost`). With several
replicas a pulse closes in two steps: it stops taking answers, each replica stores what it holds at its next
tick, then results are posted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

from beacon.bot.clock import Clock
from beacon.bot.db import Database
from beacon.bot.services.pulses import Closing, HeldAnswer, Outcome, Pulses, Receipt, ReplyTo

log = logging.getLogger(__name__)

LET_GO = ("Beacon was restarting before enough answers had come in to store yours safely among them, so it was "
          "not counted and nothing of it was kept. Please answer again.")


class AnswerReplies(Protocol):
    """Tells each person what became of their held answer (Slack: `bot/integrations/pulse_replies.py`)."""

    async def deliver(self, outcomes: Sequence[Outcome]) -> None: ...


class HeldAnswers:
    """The answers this process holds, by pulse: new answers oldest first, and one change per token."""

    def __init__(self) -> None:
        self._new: dict[int, list[HeldAnswer]] = {}
        self._changes: dict[int, dict[str, HeldAnswer]] = {}

    def add(self, held: HeldAnswer) -> None:
        if held.token is None:
            self._new.setdefault(held.pulse_id, []).append(held)
        else:  # the latest change for a token replaces an earlier one still waiting
            changes = self._changes.setdefault(held.pulse_id, {})
            changes.pop(held.token, None)
            changes[held.token] = held

    def new_count(self, pulse_id: int) -> int:
        return len(self._new.get(pulse_id, ()))

    def change_count(self, pulse_id: int) -> int:
        return len(self._changes.get(pulse_id, ()))

    def pulses(self) -> list[int]:
        return sorted({p for p, held in self._new.items() if held} | {p for p, held in self._changes.items() if held})

    def take_oldest_new(self, pulse_id: int, n: int) -> list[HeldAnswer]:
        held = self._new.get(pulse_id, [])
        taken, self._new[pulse_id] = held[:n], held[n:]
        return taken

    def take_changes(self, pulse_id: int) -> list[HeldAnswer]:
        return list(self._changes.pop(pulse_id, {}).values())

    def take_all(self, pulse_id: int) -> list[HeldAnswer]:
        return self._new.pop(pulse_id, []) + self.take_changes(pulse_id)

    def put_back(self, held: Sequence[HeldAnswer]) -> None:
        for pulse_id in {h.pulse_id for h in held}:
            self._new[pulse_id] = [h for h in held if h.pulse_id == pulse_id and h.token is None] + \
                self._new.get(pulse_id, [])
            for h in held:
                if h.pulse_id == pulse_id and h.token is not None:
                    self._changes.setdefault(pulse_id, {}).setdefault(h.token, h)


class PulseAnswering:
    """Answering pulses: named answers are stored at once, anonymous ones held and stored in groups."""

    def __init__(self, *, db: Database, pulses: Pulses, clock: Clock, batch: int, replies: AnswerReplies,
                 worker: str):
        self._db, self._pulses, self._clock = db, pulses, clock
        self.batch = batch
        self.replies = replies
        self.worker = worker
        self.held = HeldAnswers()

    async def answer(self, *, user_id: str, pulse_id: int, answers: dict[str, Any], token: str | None = None,
                     response_url: str | None = None) -> Receipt:
        """Take an answer; the receipt says whether it is stored yet (`held` is None) or held for a group."""
        reply = ReplyTo(user_id=user_id, response_url=response_url, since=self._clock.now())
        async with self._db.transaction() as session:
            receipt = await self._pulses.answer(session=session, user_id=user_id, pulse_id=pulse_id, answers=answers,
                                                token=token, holder=self.worker, reply=reply)
        if receipt.held is not None:
            self.held.add(receipt.held)
        return receipt

    async def store_ready(self, pulse_id: int) -> None:
        """Store a group if this pulse has enough held: all but the newest `batch` new answers (which wait for the
        next group) with every change waiting; or the changes alone, once `batch` people have made one."""
        new = self.held.new_count(pulse_id)
        if new >= 2 * self.batch:
            await self._store(pulse_id, self.held.take_oldest_new(pulse_id, new - self.batch)
                              + self.held.take_changes(pulse_id))
        elif self.held.change_count(pulse_id) >= self.batch:
            await self._store(pulse_id, self.held.take_changes(pulse_id))

    async def _store(self, pulse_id: int, held: list[HeldAnswer], *, closing: bool = False) -> None:
        try:
            async with self._db.transaction() as session:
                outcomes = await self._pulses.store(session=session, pulse_id=pulse_id, held=held,
                                                    holder=self.worker, closing=closing)
        except Exception:
            self.held.put_back(held)
            raise
        await self.replies.deliver(outcomes)

    async def close(self, *, user_id: str | None, pulse_id: int) -> Closing:
        """Close a pulse, storing every answer this process holds for it in the closing transaction; if other
        replicas hold answers for it, it stops taking answers and finishes closing once they have stored them."""
        held = self.held.take_all(pulse_id)
        try:
            async with self._db.transaction() as session:
                closing = await self._pulses.close(session=session, user_id=user_id, pulse_id=pulse_id, held=held,
                                                   holder=self.worker)
        except Exception:
            self.held.put_back(held)
            raise
        await self.replies.deliver(closing.outcomes)
        return closing

    async def close_due(self) -> int:
        """Close (or finish closing) every pulse whose time has come; one that fails is logged, the rest close."""
        async with self._db.transaction() as session:
            due = await self._pulses.due_to_close(session=session)
        closed = 0
        for pulse_id in due:
            try:
                closed += (await self.close(user_id=None, pulse_id=pulse_id)).finished
            except Exception:
                log.exception("could not close a pulse", extra={"pulse": pulse_id})
        return closed

    async def tick(self) -> None:
        """Every few seconds: keep this process's holds alive, tell the people whose held answers were lost in
        a crash elsewhere, store any group that is ready, and store everything held for a pulse that is closing
        (it closed on another replica, which waits for these)."""
        async with self._db.transaction() as session:  # first: nothing else may keep the leases from renewal
            await self._pulses.renew_holds(session=session, holder=self.worker)
        async with self._db.transaction() as session:
            await self._pulses.release_lost(session=session)
        for pulse_id in self.held.pulses():
            async with self._db.transaction() as session:
                state = await self._pulses.state(session=session, pulse_id=pulse_id)
            if state == "open":
                await self.store_ready(pulse_id)
            else:  # closing: this replica's last group; closed: refused, and their people told
                await self._store(pulse_id, self.held.take_all(pulse_id), closing=state == "closing")

    async def shutdown(self) -> None:
        """Before the process stops: store each pulse's held answers if there are enough new ones to hide among
        each other (or the pulse is closing), else let them go and ask their people to answer again."""
        for pulse_id in self.held.pulses():
            held = self.held.take_all(pulse_id)
            new = [h for h in held if h.token is None]
            changes = [h for h in held if h.token is not None]
            try:
                async with self._db.transaction() as session:
                    closing = await self._pulses.state(session=session, pulse_id=pulse_id) == "closing"
                keep = new if closing or len(new) >= self.batch else []
                keep += changes if closing or keep or len(changes) >= self.batch else []
                if keep:
                    await self._store(pulse_id, keep, closing=closing)
                let_go = [h for h in held if h not in keep]
                if let_go:
                    async with self._db.transaction() as session:
                        outcomes = await self._pulses.release(session=session, held=let_go, why=LET_GO,
                                                              holder=self.worker)
                    await self.replies.deliver(outcomes)
            except Exception:
                log.exception("could not store or let go of held pulse answers at shutdown",
                              extra={"pulse": pulse_id, "held": len(held)})

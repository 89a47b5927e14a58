"""Back-pressure for the work a request does after its ack.

Every Slack request is acked at once, however busy Beacon is: Slack gives three seconds, and a person waiting on a
spinner learns nothing. What a listener does after its ack (open a modal, store an answer, publish a Home tab,
reply through response_url) takes CPU and database connections; twenty clicks at once each starting it at once
would make every ack that follows wait for the event loop. So at most `BEACON_WORK_IN_FLIGHT` requests' work runs
at once; the rest wait, first come first served, in this process's memory, never dropped.

What is durable if the process dies while work waits: everything a request promised before its ack (a pulse
built, every message queued in the outbox, a nomination form as it was sent) is already committed, because those
commit before the ack; a nomination form's work (storing it as a nomination) is finished by a worker once the
dead process's lease on it lapses (bot/services/nomination_intake.py). Other work that waits here is a click's
or a command's own (store this answer, open this modal): it is lost with the process, as it is today when the
process dies mid-work; Slack does not resend interactions, and the person sees no confirmation, so they press
again (a second press is harmless: answers and nominations are keyed to be stored once).
"""

from __future__ import annotations

import asyncio
import contextvars
import ctypes
import ctypes.util
import gc
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

# After a burst, once no work has run for this long, memory the burst used is given back (see `_give_back`).
QUIET_SECONDS = 2.0
BURST = 50  # requests' work done since memory was last given back, for it to be worth doing again

# Set in a request's Bolt context by the HTTP entry point: the limiter its listener's work after the ack takes a
# place in (handlers/errors.py: guarded).
AFTER_ACK = "beacon_after_ack"


@dataclass(frozen=True)
class Load:
    running: int
    waiting: int
    most: int
    done: int


class AfterAck:
    """At most `most` requests' work at once; the others wait their turn, first come first served, except that
    work a person is waiting to see (`urgent`: a click's confirmation, a command's modal, whose trigger lasts three
    seconds) goes before work that only refreshes what they already have (a form's work after its ack: the form's
    promise was kept before the ack), and both go before `last` work (an App Home refresh, `Coalesced`), which
    nobody is waiting on. Nothing waits for ever: once no more pressing work waits, the rest runs."""

    def __init__(self, most: int):
        if most < 1:
            raise ValueError("at least one request's work must be allowed to run")
        self.most = most
        self._free = most
        self._queues: tuple[deque[asyncio.Future[None]], ...] = (deque(), deque(), deque())
        self._running = self._done = 0
        self._given_back_at = 0  # `_done` when memory was last given back
        self._quiet: asyncio.TimerHandle | None = None

    @property
    def _waiting(self) -> int:
        return sum(1 for queue in self._queues for f in queue if not f.done())

    async def _acquire(self, queue: int) -> None:
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queues[queue].append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # given a place just as it was cancelled: pass it on
                self._release()
            raise

    def _release(self) -> None:
        for queue in self._queues:
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    turn.set_result(None)
                    return
        self._free += 1

    @asynccontextmanager
    async def slot(self, *, urgent: bool = True, last: bool = False) -> AsyncIterator[None]:
        await self._acquire(2 if last else 0 if urgent else 1)
        self._running += 1
        if self._quiet is not None:
            self._quiet.cancel()
            self._quiet = None
        try:
            yield
        finally:
            self._running -= 1
            self._done += 1
            self._release()
            if not self._running and not self._waiting and self._done - self._given_back_at >= BURST:
                self._quiet = asyncio.get_running_loop().call_later(QUIET_SECONDS, self._give_back)

    def _give_back(self) -> None:
        """Quiet after a burst: collect its garbage and hand the freed memory back to the system, so the process
        returns to its idle size (CPython keeps freed memory for reuse otherwise). A few milliseconds, on an idle
        loop; the objects made at start-up are frozen (`freeze_start_up`), so the collection skips them."""
        self._quiet = None
        self._given_back_at = self._done
        gc.collect()
        if _LIBC is not None:
            _LIBC.malloc_trim(0)

    def load(self) -> Load:
        return Load(running=self._running, waiting=self._waiting, most=self.most, done=self._done)


# The limiter of the request whose listener is running (set by handlers/errors.py: guarded), for work a listener
# leaves to run later (`Coalesced`) to take its place among the same requests' work. None outside HTTP mode.
CURRENT: contextvars.ContextVar[AfterAck | None] = contextvars.ContextVar("beacon_after_ack", default=None)

Key = TypeVar("Key", bound=Hashable)


class Coalesced(Generic[Key]):
    """Work for one key (a person's App Home) asked for many times in a few seconds, done once, after the last of
    them has been asked for, with the state as it is then.

    Publishing a Home reads everything it shows (several queries) and sends a large view: after every form, click
    and command under a crowd that is much of Beacon's CPU, for a tab the person is rarely looking at, and a second
    publish within seconds replaces the first. So `request` only marks the key; `window` seconds after the first
    request (and never sooner than `window` after the key's last run) the work runs once, at the lowest priority
    among the work after acks (`AfterAck.slot(last=True)`). The mark is cleared just before the work reads the
    state, so a change committed while it runs asks for another run: nothing is lost. A run still waiting when
    the process stops is waited for like a listener (bot/runtime.py: IN_FLIGHT_WORK)."""

    def __init__(self, run: Callable[[Key], Awaitable[None]], *, window: float):
        self._run = run
        self.window = window
        self._pending: dict[Key, asyncio.Task[None]] = {}
        self._last_run: dict[Key, float] = {}

    def request(self, key: Key) -> None:
        if key in self._pending:
            return  # a run is already due, and will read the state as it is then
        loop = asyncio.get_running_loop()
        due = max(loop.time() + self.window, self._last_run.get(key, float("-inf")) + self.window)
        self._pending[key] = loop.create_task(run_coalesced_work(self, key, due, CURRENT.get()))

    async def _due(self, key: Key, due: float, limiter: AfterAck | None) -> None:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.sleep(max(0.0, due - loop.time()))
            async with limiter.slot(last=True) if limiter is not None else nullcontext():
                del self._pending[key]  # from here on, a change asks for another run
                self._last_run[key] = loop.time()
                if len(self._last_run) > 10_000:  # people seen long ago: their window has passed
                    cutoff = loop.time() - self.window
                    self._last_run = {k: t for k, t in self._last_run.items() if t > cutoff}
                await self._run(key)
        except Exception:
            log.exception("coalesced work failed", extra={"key": str(key)})
        finally:
            if self._pending.get(key) is asyncio.current_task():
                del self._pending[key]

    def pending(self) -> int:
        return len(self._pending)


async def run_coalesced_work(coalesced: Coalesced[Any], key: Any, due: float, limiter: AfterAck | None) -> None:
    """The task of one coalesced run; named so that shutting down and tests' settle() wait for it."""
    await coalesced._due(key, due, limiter)


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None  # glibc only


_LIBC = _libc()


def freeze_start_up() -> None:
    """Once Beacon has started: move everything made so far (modules, the app, its listeners) out of the garbage
    collector's sight. They live as long as the process, so every full collection would walk them for nothing."""
    gc.collect()
    gc.freeze()

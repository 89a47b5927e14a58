"""Client-side pacing for chat.postMessage: Slack allows about one message a second per channel, within
a workspace-wide limit. Each send waits for its channel's next slot and then for the workspace's, so a
fan-out runs at the limit without provoking 429s; a 429 that still comes pauses all sends.

Slots are given out one at a time and counted from when each send actually left, not from when it was
booked: if the event loop was busy and several sends woke late together, booked slots would let them all
go at once, and Slack answers such a bunch with 429 and a Retry-After of a second or more (fifty sends
lost at 3,000 a minute). A stall is not caught up by sending faster afterwards: what was on its way when
the stall began arrives with what follows it, and that bunch alone can exceed Slack's burst."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class Pacer:
    def __init__(self, *, posts_per_minute: float, per_channel_seconds: float = 1.0,
                 seconds: Callable[[], float] = time.monotonic):
        self._interval = 60.0 / posts_per_minute
        self._per_channel = per_channel_seconds
        self._monotonic = seconds  # the app's clock, so that tests and the sandbox can move it
        self._next_any = 0.0  # the workspace's next slot
        self._next_in: dict[str, float] = {}
        self._turns = asyncio.Lock()  # wakes its waiters in the order they came

    async def wait_turn(self, channel: str) -> None:
        # The channel first, outside the queue: a channel waiting out its second holds up no other channel.
        # (The dispatcher sends one row at a time per channel, so nothing else books this channel meanwhile.)
        if (wait := self._next_in.get(channel, 0.0) - self._monotonic()) > 0:
            await asyncio.sleep(wait)
        async with self._turns:
            if (wait := self._next_any - self._monotonic()) > 0:
                await asyncio.sleep(wait)
            now = self._monotonic()
            # Woken a little late (the timer's usual overshoot), the cadence holds; woken much later, the next
            # slot is counted from now, at most half an interval early, so a stall is never caught up in a bunch.
            self._next_any = max(self._next_any, now - self._interval / 2) + self._interval
            self._next_in[channel] = now + self._per_channel
            if len(self._next_in) > 10_000:  # forget channels whose slot has long passed
                self._next_in = {c: t for c, t in self._next_in.items() if t > now}

    def cool_down(self, seconds: float) -> None:
        """Slack said 429: nothing more goes out until Retry-After has passed."""
        self._next_any = max(self._next_any, self._monotonic() + seconds)

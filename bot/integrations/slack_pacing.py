"""Client-side pacing for chat.postMessage: Slack allows about one message a second per channel, within
a workspace-wide limit. Each send reserves the next free slot for its channel and for the workspace, so
a fan-out runs at the limit without provoking 429s; a 429 that still comes pauses all sends."""

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
        self._next_any = 0.0
        self._next_in: dict[str, float] = {}

    def reserve(self, channel: str) -> float:
        """Book the next slot for `channel`; returns the seconds to wait for it."""
        now = self._monotonic()
        slot = max(now, self._next_any, self._next_in.get(channel, 0.0))
        self._next_any = slot + self._interval
        self._next_in[channel] = slot + self._per_channel
        if len(self._next_in) > 10_000:  # forget channels whose slot has long passed
            self._next_in = {c: t for c, t in self._next_in.items() if t > now}
        return slot - now

    async def wait_turn(self, channel: str) -> None:
        wait = self.reserve(channel)
        if wait > 0:
            await asyncio.sleep(wait)

    def cool_down(self, seconds: float) -> None:
        """Slack said 429: nothing more goes out until Retry-After has passed."""
        self._next_any = max(self._next_any, self._monotonic() + seconds)

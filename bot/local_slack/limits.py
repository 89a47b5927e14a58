"""Rate limits and injected faults for the local Web API: Slack's 429s, 5xx and dropped connections."""

from __future__ import annotations

import asyncio
import math
import random
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Fault:
    """The next `times` matching calls fail this way."""

    method: str
    status: int = 200           # 429, 500, 503 ...; 200 with `error` for an `ok: false` answer
    error: str | None = None    # e.g. "channel_not_found", "is_archived", "not_in_channel"
    retry_after: int = 1        # seconds, for 429
    times: int = 1
    channel: str | None = None  # only calls for this channel
    disconnect: bool = False    # drop the connection without doing anything (a network error)
    disconnect_after: bool = False  # do the call, then drop the connection: the caller cannot know it worked
    delay: float = 0.0          # wait this long before doing the call (a slow Slack)
    delay_after: float = 0.0    # do the call, then wait this long before answering
    hold: asyncio.Event | None = None  # wait until this is set before doing the call (a test decides when)



@dataclass
class Latency:
    """How long every Web API call takes to answer, as over the internet to Slack: `seconds`, give or take up to
    `jitter` (uniformly). Benchmarks set it; tests leave it at nothing."""

    seconds: float = 0.0
    jitter: float = 0.0
    _random: random.Random = field(default_factory=lambda: random.Random(7), repr=False)

    def draw(self) -> float:
        if not self.seconds and not self.jitter:
            return 0.0
        return max(0.0, self.seconds + self._random.uniform(-self.jitter, self.jitter))

class FaultPlan:
    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, method: str, **options: Any) -> Fault:
        fault = Fault(method=method, **options)
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        self._faults.clear()

    def take(self, method: str, channel: str | None) -> Fault | None:
        for fault in self._faults:
            if fault.method == method and (fault.channel is None or fault.channel == channel):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None


@dataclass
class _Bucket:
    rate: float      # tokens per second
    capacity: float
    tokens: float
    updated: float

    def wait(self, now: float) -> float:
        """Seconds until a token is free (0 when one is free now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


@dataclass
class RateLimits:
    """Per-method limits (requests a minute, per app per workspace) and chat.postMessage's per channel.

    Off unless set, so ordinary tests run at full speed; rate-limit tests and benchmarks turn them on.
    """

    per_minute: dict[str, float] = field(default_factory=dict)
    post_per_channel_per_second: float | None = None
    burst: float = 1.0
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    rejected: int = 0

    @classmethod
    def slack_tiers(cls, *, workspace_posts_per_minute: float = 600.0) -> RateLimits:
        """Slack's published tiers for the methods Beacon uses (Tier 2: 20/min, 3: 50/min, 4: 100/min)."""
        tier2, tier3, tier4 = 20.0, 50.0, 100.0
        return cls(
            per_minute={
                "chat.postMessage": workspace_posts_per_minute, "chat.postEphemeral": tier4,
                "chat.update": tier3, "chat.delete": tier3, "chat.getPermalink": tier4,
                "conversations.history": tier3, "conversations.info": tier3, "conversations.open": tier3,
                "conversations.members": tier4, "conversations.replies": tier3, "users.info": tier4,
                "usergroups.list": tier2, "usergroups.users.list": tier2, "views.open": tier4,
                "views.update": tier4, "views.push": tier4, "views.publish": tier4,
                "files.getUploadURLExternal": tier4, "files.completeUploadExternal": tier4,
            },
            post_per_channel_per_second=1.0,
        )

    def check(self, method: str, channel: str | None) -> int:
        """0 when the call may proceed, otherwise the Retry-After seconds to answer with."""
        now = time.monotonic()
        buckets = []
        if method in self.per_minute:
            buckets.append(self._bucket(method, self.per_minute[method] / 60.0, now))
        if method == "chat.postMessage" and channel and self.post_per_channel_per_second:
            buckets.append(self._bucket(f"post:{channel}", self.post_per_channel_per_second, now))
        wait = max((bucket.wait(now) for bucket in buckets), default=0.0)
        if wait > 0:
            self.rejected += 1
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.tokens -= 1
        return 0

    def _bucket(self, key: str, rate: float, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(rate=rate, capacity=max(1.0, self.burst), tokens=max(1.0, self.burst),
                                                  updated=now)
        return bucket

"""The pacer against the event loop's real timing: sends keep the cadence the limit allows, and a stall (a busy
loop, a garbage collection) never releases the sends that waited through it as one bunch, which Slack would
answer with 429 and a pause of a second or more."""

from __future__ import annotations

import asyncio
import itertools
import time

from beacon.bot.integrations.slack_pacing import Pacer


async def _released(pacer: Pacer, channels: list[str], *, stall_after: int | None = None,
                    stall: float = 0.0) -> list[float]:
    times: list[float] = []

    async def send(channel: str) -> None:
        await pacer.wait_turn(channel)
        times.append(time.monotonic())
        if stall_after is not None and len(times) == stall_after:
            time.sleep(stall)  # the whole loop stops, as in a long garbage collection  # noqa: ASYNC251

    await asyncio.gather(*(send(c) for c in channels))
    return times


async def test_the_cadence_holds_at_the_limit() -> None:
    pacer = Pacer(posts_per_minute=1200, per_channel_seconds=1.0)  # one every 50 ms
    times = await _released(pacer, [f"D{i}" for i in range(21)])
    took = times[-1] - times[0]
    # The first send after a quiet spell may be followed after half an interval, never sooner; then the cadence.
    assert 19.5 * 0.050 - 0.003 <= took <= 20 * 0.050 * 1.05  # the timer's overshoot does not add up


async def test_sends_held_up_by_a_stall_do_not_go_out_together() -> None:
    pacer = Pacer(posts_per_minute=1200, per_channel_seconds=1.0)  # one every 50 ms
    times = await _released(pacer, [f"D{i}" for i in range(15)], stall_after=4, stall=0.4)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) >= 0.4  # the stall happened, and eight slots passed during it
    assert min(gaps) >= 0.025 - 0.003  # never closer than half an interval: no bunch after the stall
    within_any_200ms = max(sum(1 for t in times if start <= t < start + 0.2) for start in times)
    assert within_any_200ms <= 5  # 4 allowed by the limit in 200 ms, and one caught up


async def test_one_channel_waits_its_second_without_holding_up_others() -> None:
    pacer = Pacer(posts_per_minute=6000, per_channel_seconds=0.5)
    started = time.monotonic()
    first = await _released(pacer, ["C1"])
    times = await asyncio.gather(_released(pacer, ["C1"]), _released(pacer, ["C2", "C3", "C4"]))
    assert times[0][0] - first[0] >= 0.5 - 0.005  # the same channel: half a second later
    assert max(times[1]) - started < 0.2  # the others went meanwhile


async def test_a_429_pauses_everything_for_its_retry_after() -> None:
    pacer = Pacer(posts_per_minute=6000, per_channel_seconds=0.0)
    await pacer.wait_turn("C1")
    pacer.cool_down(0.3)
    started = time.monotonic()
    await pacer.wait_turn("C2")
    assert time.monotonic() - started >= 0.3 - 0.005

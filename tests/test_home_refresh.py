"""App Home refreshes after actions: coalesced per person (one views.publish for several changes within a few
seconds, showing the last of them), run after every other request's work, and never lost."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from beacon.bot.after_ack import AfterAck, Coalesced
from beacon.bot.ids import ActionId
from beacon.bot.local_slack import LocalSlack
from beacon.bot.settings import Settings as BeaconSettings
from tests.harness import HEIDI, Beacon, settings_for, settle

WINDOW = 1.5


@pytest.fixture
def settings(slack: LocalSlack, database_url: str) -> BeaconSettings:
    return settings_for(slack, database_url, beacon_home_refresh_seconds=WINDOW)


def _shown(beacon: Beacon) -> str:
    home = beacon.slack.person(HEIDI).home
    assert home is not None
    return json.dumps(home.blocks)


async def _clicks_done(beacon: Beacon, count: int) -> None:
    """The clicks' listeners have run (the Home refresh they asked for may still wait)."""
    for _ in range(100):
        if beacon.slack.person(HEIDI).home is not None and len(beacon.ws.calls_to("views.publish")) >= 1:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)


async def test_several_changes_within_the_window_publish_once_with_the_last(beacon: Beacon) -> None:
    heidi = beacon.slack.person(HEIDI)
    await heidi.open_home()  # opening the Home publishes at once
    await settle()
    assert len(beacon.ws.calls_to("views.publish")) == 1
    assert "Send me a weekly digest" in _shown(beacon)

    started = time.monotonic()
    for value in ("on", "off", "on"):
        reply = await heidi.click(ActionId.DIGEST_PERSONAL, in_home=True, value=value)
        assert reply.status == 200
    await _clicks_done(beacon, 3)
    assert len(beacon.ws.calls_to("views.publish")) == 1, "no refresh within the window"
    await settle()  # waits for the refresh due
    assert time.monotonic() - started >= WINDOW - 0.05
    assert len(beacon.ws.calls_to("views.publish")) == 2, "three changes, one refresh"
    assert "Stop my weekly digest" in _shown(beacon), "the refresh shows the last change"

    await heidi.click(ActionId.DIGEST_PERSONAL, in_home=True, value="off")  # a change after it: refreshed again
    await settle()
    assert len(beacon.ws.calls_to("views.publish")) == 3
    assert "Send me a weekly digest" in _shown(beacon), "nothing lost"


async def test_a_change_while_the_refresh_runs_asks_for_another() -> None:
    state = {"value": 0}
    published: list[int] = []
    reading = asyncio.Event()
    proceed = asyncio.Event()

    async def publish(key: str) -> None:
        seen = state["value"]
        reading.set()
        await proceed.wait()
        published.append(seen)

    coalesced: Coalesced[str] = Coalesced(publish, window=0.05)
    coalesced.request("U1")
    coalesced.request("U1")
    await reading.wait()  # the run has read value 0
    state["value"] = 1
    coalesced.request("U1")  # changed after the read: another run is due
    proceed.set()
    for _ in range(100):
        if len(published) == 2:
            break
        await asyncio.sleep(0.02)
    assert published == [0, 1]
    assert coalesced.pending() == 0


async def test_a_refresh_waits_behind_every_other_requests_work() -> None:
    after_ack = AfterAck(1)
    order: list[str] = []
    release = asyncio.Event()

    async def work(name: str, **kind: bool) -> None:
        async with after_ack.slot(**kind):
            order.append(name)
            if name == "first":
                await release.wait()

    tasks = [asyncio.create_task(work("first"))]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(work("home", last=True)))
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(work("form", urgent=False)))
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(work("click")))
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(*tasks)
    assert order == ["first", "click", "form", "home"]

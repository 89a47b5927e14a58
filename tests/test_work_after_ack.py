"""Back-pressure: however many requests arrive at once, each is acked at once; the work after the acks runs at most
BEACON_WORK_IN_FLIGHT at a time, and every request's work still happens (nothing dropped)."""

from __future__ import annotations

import asyncio

import pytest

from beacon.bot.after_ack import AfterAck, Load
from beacon.bot.http_server import AFTER_ACK_KEY
from beacon.bot.ids import CallbackId
from beacon.bot.local_slack import LocalSlack
from beacon.bot.local_slack.limits import Latency
from beacon.bot.settings import Settings as BeaconSettings
from tests.harness import Beacon, BeaconServer, settings_for

PEOPLE = [f"U0CROWD{i:02d}" for i in range(8)]


@pytest.fixture
def settings(slack: LocalSlack, database_url: str) -> BeaconSettings:
    for user in PEOPLE:
        slack.workspace.add_user(user, user.lower(), f"Crowd Member {user}")
    return settings_for(slack, database_url, beacon_work_in_flight=2)


async def test_beyond_the_bound_requests_are_acked_at_once_and_their_work_waits_its_turn(
        server: BeaconServer, beacon: Beacon) -> None:
    assert server._runner is not None
    after_ack = server._runner.app[AFTER_ACK_KEY]
    beacon.slack.latency = Latency(seconds=0.3)  # every Web API call (views.open) takes 0.3 s to answer
    people = [beacon.slack.person(user) for user in PEOPLE]
    loads: list[Load] = []

    async def watch() -> None:
        while True:
            loads.append(after_ack.load())
            await asyncio.sleep(0.01)
    watching = asyncio.create_task(watch())
    replies = await asyncio.gather(*(person.command("/nominate") for person in people))
    assert [r.status for r in replies] == [200] * len(people)
    assert max(r.latency_ms for r in replies) < 1000, "every /nominate was acked while the work queued"
    for _ in range(100):  # the queued work finishes: every modal opens
        if all(p.modal is not None for p in people) and after_ack.load().done >= len(people):
            break
        await asyncio.sleep(0.1)
    watching.cancel()
    assert all(p.modal is not None and p.modal.callback_id == CallbackId.NOMINATE for p in people), \
        "no request's work was dropped"
    assert len(beacon.ws.calls_to("views.open")) == len(people)
    assert max(load.running for load in loads) == 2, "never more than BEACON_WORK_IN_FLIGHT at once"
    assert max(load.waiting for load in loads) >= 4, "the rest waited their turn"
    assert after_ack.load().done == len(people)


async def test_at_most_the_bound_runs_at_once_first_come_first_served_and_none_is_dropped() -> None:
    after_ack = AfterAck(3)
    running, most_at_once, finished = 0, 0, []

    async def work(n: int) -> None:
        nonlocal running, most_at_once
        async with after_ack.slot():
            running += 1
            most_at_once = max(most_at_once, running)
            await asyncio.sleep(0.01)
            running -= 1
            finished.append(n)

    tasks = [asyncio.create_task(work(n)) for n in range(50)]
    await asyncio.sleep(0)
    load = after_ack.load()
    assert (load.running, load.waiting) == (3, 47)
    await asyncio.gather(*tasks)
    assert most_at_once == 3
    assert sorted(finished) == list(range(50)) and after_ack.load().done == 50
    assert finished[:3] == [0, 1, 2]


async def test_work_that_fails_gives_its_place_back() -> None:
    after_ack = AfterAck(1)
    with pytest.raises(RuntimeError):
        async with after_ack.slot():
            raise RuntimeError("a listener's bug")
    async with asyncio.timeout(1):
        async with after_ack.slot():
            pass


def test_the_bound_is_a_setting_with_a_sane_default() -> None:
    assert BeaconSettings(_env_file=None).beacon_work_in_flight == 8  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        BeaconSettings(_env_file=None, beacon_work_in_flight=0)  # type: ignore[call-arg]


async def test_work_a_person_waits_to_see_goes_before_a_forms_refresh_and_the_refresh_still_runs() -> None:
    after_ack = AfterAck(1)
    order: list[str] = []
    release = asyncio.Event()

    async def holder() -> None:
        async with after_ack.slot():
            await release.wait()

    async def work(name: str, urgent: bool) -> None:
        async with after_ack.slot(urgent=urgent):
            order.append(name)
            await asyncio.sleep(0)

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    tasks = [asyncio.create_task(work(name, urgent)) for name, urgent in
             (("form 1", False), ("click 1", True), ("form 2", False), ("click 2", True))]
    await asyncio.sleep(0)
    assert after_ack.load().waiting == 4
    release.set()
    await asyncio.gather(first, *tasks)
    assert order == ["click 1", "click 2", "form 1", "form 2"]


async def test_a_request_given_up_while_waiting_leaves_no_place_taken() -> None:
    after_ack = AfterAck(1)
    release = asyncio.Event()

    async def holder() -> None:
        async with after_ack.slot():
            await release.wait()

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    waiting = asyncio.create_task(holder())
    await asyncio.sleep(0)
    waiting.cancel()
    release.set()
    await first
    async with asyncio.timeout(1), after_ack.slot():
        assert after_ack.load().running == 1

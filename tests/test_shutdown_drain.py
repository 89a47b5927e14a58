"""Shutdown waits for work in flight. `bot/runtime.py: in_flight_tasks` finds that work by the names of the
coroutines Bolt and APScheduler run it in (neither offers a public handle); these tests drive the real libraries,
so an upgrade that renames or restructures either fails here instead of silently cutting work short at SIGTERM."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest

from beacon.bot.after_ack import Coalesced
from beacon.bot.runtime import drain_tasks, in_flight_tasks

SECRET = "drain-test-signing-secret"


def _app() -> AsyncApp:
    """A real Bolt app that never calls Slack: authorisation is answered here instead of by auth.test."""
    async def authorize(**_: object) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=None, team_id="T1", bot_token="xoxb-drain-test", bot_user_id="UBOT",
                               bot_id="B1")
    return AsyncApp(signing_secret=SECRET, authorize=authorize)


def _signed_click() -> AsyncBoltRequest:
    payload = {"type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U1", "team_id": "T1"},
               "api_app_id": "A1", "token": "x", "trigger_id": "1.2.3", "container": {"type": "message"},
               "actions": [{"type": "button", "action_id": "slow", "block_id": "b", "value": "v",
                            "action_ts": "1.2"}]}
    body = urlencode({"payload": json.dumps(payload)})
    stamp = str(int(time.time()))
    signature = "v0=" + hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return AsyncBoltRequest(body=body, headers={
        "content-type": ["application/x-www-form-urlencoded"], "x-slack-request-timestamp": [stamp],
        "x-slack-signature": [signature]})


async def test_a_bolt_listener_in_flight_after_its_ack_is_found_and_finishes_before_shutdown() -> None:
    release, finished = asyncio.Event(), []
    app = _app()

    @app.action("slow")
    async def slow(ack, body):  # type: ignore[no-untyped-def]
        await ack()
        await release.wait()
        finished.append(body["actions"][0]["value"])

    response = await app.async_dispatch(_signed_click())
    assert response.status == 200, "acked before the work is done"
    await asyncio.sleep(0)
    assert len(in_flight_tasks()) == 1, "the listener's task is found by its coroutine's name"
    asyncio.get_running_loop().call_later(0.05, release.set)
    await drain_tasks(grace_seconds=5)
    assert finished == ["v"], "shutdown waited for the listener"
    assert in_flight_tasks() == set()


async def test_an_apscheduler_job_in_flight_is_found_and_finishes_before_shutdown() -> None:
    started, release, finished = asyncio.Event(), asyncio.Event(), []

    async def job() -> None:
        started.set()
        await release.wait()
        finished.append("job")

    scheduler = AsyncIOScheduler()
    scheduler.add_job(job, id="slow-job")  # runs at once
    scheduler.start()
    try:
        await asyncio.wait_for(started.wait(), 5)
        scheduler.pause()  # as Runtime.stop does: no new runs
        assert len(in_flight_tasks()) == 1, "the job's task is found by its coroutine's name"
        asyncio.get_running_loop().call_later(0.05, release.set)
        await drain_tasks(grace_seconds=5)
        assert finished == ["job"]
    finally:
        scheduler.shutdown(wait=False)


async def test_work_still_running_after_the_grace_period_is_cancelled_not_waited_for_forever() -> None:
    app = _app()
    cancelled = asyncio.Event()

    @app.action("slow")
    async def stuck(ack):  # type: ignore[no-untyped-def]
        await ack()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    await app.async_dispatch(_signed_click())
    await asyncio.sleep(0)
    await drain_tasks(grace_seconds=0.1)
    await asyncio.wait_for(cancelled.wait(), 5)


async def test_a_home_refresh_asked_for_as_a_listener_finishes_is_waited_for() -> None:
    """A listener that ends during the grace asks for its App Home refresh (a new task, not among those in flight
    when the drain began): the drain waits for it too, as after_ack.py promises."""
    published: list[str] = []

    async def publish(user: str) -> None:
        published.append(user)

    refresh: Coalesced[str] = Coalesced(publish, window=0.01)

    async def run_ack_function_asynchronously() -> None:  # a listener's work after its ack (Bolt's name)
        await asyncio.sleep(0.05)
        refresh.request("U0ALICE")  # home_tab.publish at its end

    listener = asyncio.get_running_loop().create_task(run_ack_function_asynchronously())
    await drain_tasks(grace_seconds=2)
    assert listener.done()
    assert published == ["U0ALICE"], "the refresh the listener asked for was left behind at shutdown"

"""`beacon serve`: signed requests in Slack's shapes answered end to end; anything unsigned does nothing."""

import json
import time
import urllib.parse

import aiohttp

from beacon.bot.local_slack import payloads
from tests.harness import ALICE, BOB, Beacon, settle


async def test_beacon_command_shows_who_you_are_and_what_you_can_do(beacon: Beacon) -> None:
    alice = beacon.slack.person(ALICE)
    reply = await alice.command("/beacon")
    await settle()
    assert reply.status == 200
    shown = json.dumps(alice.last_ephemeral().blocks)
    assert "<@U0ALICE>" in shown
    assert "no special roles" in shown
    assert "/beacon" in shown


async def test_roles_held_through_a_user_group_are_recognised(beacon: Beacon) -> None:
    bob = beacon.slack.person(BOB)  # in comms through @comms-team
    await bob.command("/beacon")
    await settle()
    shown = json.dumps(bob.last_ephemeral().blocks)
    assert "communications team" in shown


async def test_unknown_arguments_get_a_usage_message(beacon: Beacon) -> None:
    alice = beacon.slack.person(ALICE)
    await alice.command("/beacon", "frobnicate now")
    await settle()
    shown = json.dumps(alice.last_ephemeral().blocks)
    assert "did not understand `/beacon frobnicate now`" in shown
    assert "/beacon" in shown


async def test_user_text_echoed_back_pings_nobody(beacon: Beacon) -> None:
    alice = beacon.slack.person(ALICE)
    await alice.command("/beacon", "<!channel> <!here> <@U0BOB> <https://evil.example|click me>")
    await settle()
    shown = alice.last_ephemeral().blocks[0]["text"]["text"]
    assert "&lt;!channel&gt; &lt;!here&gt; &lt;@U0BOB&gt; &lt;https://evil.example|click me&gt;" in shown
    for live in ("<!channel>", "<!here>", "<@U0BOB>", "<https://evil.example"):
        assert live not in shown


async def _post_raw(beacon: Beacon, body: str, headers: dict[str, str]) -> int:
    return (await beacon.slack.post_to_app(body, headers)).status


def _command_body(beacon: Beacon) -> str:
    ws = beacon.ws
    form = payloads.slash_command(ws, user=ws.users[ALICE], channel=ws.dm_channel(ALICE), command="/beacon",
                                  text="", trigger_id=ws.issue_trigger(ALICE),
                                  response_url=f"{beacon.slack.url}/respond/none")
    return urllib.parse.urlencode(form)


async def test_unsigned_wrongly_signed_and_stale_requests_get_401_and_do_nothing(beacon: Beacon) -> None:
    body = _command_body(beacon)
    unsigned = {"Content-Type": "application/x-www-form-urlencoded"}
    wrong = beacon.slack.signed_headers(body, secret="not-the-signing-secret")
    stale = beacon.slack.signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    for headers in (unsigned, wrong, stale):
        assert await _post_raw(beacon, body, headers) == 401
    await settle()
    assert beacon.ws.ephemerals == []
    assert [c.method for c in beacon.ws.calls] == [], "a rejected request makes no Slack call"
    assert await _post_raw(beacon, body, beacon.slack.signed_headers(body)) == 200


async def test_a_tampered_body_is_rejected(beacon: Beacon) -> None:
    body = _command_body(beacon)
    headers = beacon.slack.signed_headers(body)
    assert await _post_raw(beacon, body.replace("U0ALICE", "U0BOB"), headers) == 401


async def test_healthz_reports_database_scheduler_and_version(server) -> None:  # type: ignore[no-untyped-def]
    beacon = await server.start(scheduler_paused=False)
    url = beacon.slack.app_url.replace("/slack/events", "/healthz")  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        report = await response.json()
    assert response.status == 200
    assert report["database"] == "reachable" and report["scheduler"] == "running"
    assert report["version"]


async def test_healthz_is_503_when_the_database_is_unreachable(server) -> None:  # type: ignore[no-untyped-def]
    from beacon.bot.db import Database

    beacon = await server.start(db=Database("postgresql+asyncpg://nobody@127.0.0.1:1/none"))
    url = beacon.slack.app_url.replace("/slack/events", "/healthz")  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        report = await response.json()
    assert response.status == 503
    assert report["database"] == "unreachable"

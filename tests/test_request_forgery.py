"""Only Slack can make Beacon act: forged, malformed and replayed requests, sent as an attacker would.

Every forged request names a real person and carries a `response_url` pointing at a listener this test runs; the
test fails if Beacon answers anything but 401/400, calls Slack, writes a row, or posts to that listener. Signed
requests replayed (to one Beacon, or to two sharing a database, as replicas) have one effect. Values Beacon put in
`private_metadata` and button values, forged, get a plain refusal at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDict
from sqlalchemy import func, inspect, select, table

from beacon.bot.db import Database
from beacon.bot.http_server import EVENTS_PATH, verified_signature
from beacon.bot.ids import ActionId, CallbackId
from beacon.bot.listening import listen
from beacon.bot.local_slack import LocalSlack, payloads
from beacon.bot.local_slack.workspace import ResponseTarget
from beacon.bot.models import SlackRequestSeen
from beacon.bot.services.signed_requests import KEEP_FOR, forget_old_requests
from beacon.handlers.parsing import NOT_FOUND, STALE, bounded, read_metadata, record_id
from tests.harness import ALICE, ERIN, GRACE, Beacon, BeaconServer, settle
from tests.processes import beacon_process, free_port, slack_env, wait_healthy, write_config

# Web API methods that would be an effect of a request (background jobs may read users and groups meanwhile).
ACTING = ("chat.", "views.", "conversations.open", "files.", "reactions.", "pins.")


class Trap:
    """A loopback listener standing for the attacker's server: a forged `response_url` points here."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> Trap:
        async def record(request: web.Request) -> web.Response:
            self.hits.append(f"{request.method} {request.path_qs} {await request.text()}")
            return web.json_response({"ok": True})

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", record)
        self._runner, port = await listen(app, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{port}/hook"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def trap() -> AsyncIterator[Trap]:
    listener = await Trap().start()
    yield listener
    await listener.stop()


# -- requests as an attacker builds them ---------------------------------------------------------------------------
def sign(secret: str, body: bytes, timestamp: int | str | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}


async def post(url: str, body: bytes, headers: list[tuple[str, str]] | dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=CIMultiDict(
            headers if isinstance(headers, list) else list(headers.items()))) as response:
        return response.status, await response.text()


def forged_command(slack: LocalSlack, response_url: str, *, user: str = ALICE) -> bytes:
    ws = slack.workspace
    form = payloads.slash_command(ws, user=ws.users[user], channel=ws.dm_channel(user), command="/beacon", text="",
                                  trigger_id=ws.issue_trigger(user), response_url=response_url)
    return urllib.parse.urlencode(form).encode()


def forged_action(response_url: str, *, action_id: str = ActionId.NOMINATION_WITHDRAW, value: str = "1",
                  user: str = ALICE) -> dict[str, Any]:
    return {"type": "block_actions", "user": {"id": user, "username": "alice", "team_id": "T0BEACON01"},
            "api_app_id": "A0BEACON", "team": {"id": "T0BEACON01"}, "trigger_id": "1.2.forged",
            "container": {"type": "message", "message_ts": "1.000001", "channel_id": "D0ALICE",
                          "is_ephemeral": True},
            "channel": {"id": "D0ALICE"}, "response_url": response_url,
            "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value,
                         "action_ts": f"{time.time():.6f}"}]}


def interactive(payload: Any) -> bytes:
    return urllib.parse.urlencode({"payload": payload if isinstance(payload, str) else json.dumps(payload)}).encode()


def unverifiable(slack: LocalSlack, body: bytes) -> dict[str, list[tuple[str, str]]]:
    """Every way a request can fail to be Slack's: each must get 401 and do nothing."""
    secret = slack.workspace.signing_secret
    good = sign(secret, body)
    ts, sig = good["X-Slack-Request-Timestamp"], good["X-Slack-Signature"]
    now = int(time.time())
    cases: dict[str, dict[str, str] | list[tuple[str, str]]] = {
        "no headers": {},
        "timestamp x": {"X-Slack-Request-Timestamp": "x", "X-Slack-Signature": sig},
        "timestamp empty": {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": sig},
        "timestamp huge": {"X-Slack-Request-Timestamp": "9" * 5000, "X-Slack-Signature": sig},
        "timestamp negative": sign(secret, body, -now),
        "timestamp float": sign(secret, body, f"{now}.5"),
        "timestamp padded": sign(secret, body, f" {now}"),
        "timestamp other digits": sign(secret, body, "".join(chr(0x660 + int(d)) for d in str(now))),
        "timestamp missing": {"X-Slack-Signature": sig},
        "signature missing": {"X-Slack-Request-Timestamp": ts},
        "signature empty": {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": ""},
        "signature garbage": {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=zz"},
        "signature non-ascii": {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + "é" * 64},
        "signature v1": {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v1=" + sig[3:]},
        "signature upper-case": {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + sig[3:].upper()},
        "wrong secret": sign("not-the-signing-secret", body),
        "stale": sign(secret, body, now - 6 * 60),
        "from the future": sign(secret, body, now + 6 * 60),
        "two signatures": [("X-Slack-Request-Timestamp", ts), ("X-Slack-Signature", "v0=" + "0" * 64),
                           ("X-Slack-Signature", sig)],
        "two timestamps": [("X-Slack-Request-Timestamp", "1"), ("X-Slack-Request-Timestamp", ts),
                           ("X-Slack-Signature", sig)],
    }
    return {name: [*FORM.items(), *(h.items() if isinstance(h, dict) else h)] for name, h in cases.items()}


# -- what an effect would look like --------------------------------------------------------------------------------
def acting_calls(slack: LocalSlack) -> list[str]:
    return [c.method for c in slack.workspace.calls if c.method.startswith(ACTING)]


async def row_counts(database_url: str) -> dict[str, int]:
    db = Database(database_url)
    try:
        async with db.engine.connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
            return {name: (await connection.execute(select(func.count()).select_from(table(name)))).scalar_one()
                    for name in names if name != "alembic_version"}
    finally:
        await db.dispose()


async def assert_no_effect(slack: LocalSlack, trap: Trap, database_url: str, rows_before: dict[str, int]) -> None:
    await settle()
    await asyncio.sleep(0.1)  # anything posted to the trap would have arrived by now
    assert acting_calls(slack) == [], "a refused request made Slack calls"
    assert slack.workspace.ephemerals == [], "a refused request answered someone"
    assert trap.hits == [], "a refused request posted to the response_url it named"
    assert await row_counts(database_url) == rows_before, "a refused request wrote to the database"


# -- unverifiable requests ------------------------------------------------------------------------------------------
async def test_every_unverifiable_request_gets_401_and_does_nothing(beacon: Beacon, trap: Trap,
                                                                    database_url: str) -> None:
    url = beacon.slack.app_url or ""
    before = await row_counts(database_url)
    bodies = {"command": forged_command(beacon.slack, trap.url),
              "action": interactive(forged_action(trap.url, value="not-a-number"))}
    for kind, body in bodies.items():
        for name, headers in unverifiable(beacon.slack, body).items():
            status, answer = await post(url, body, headers)
            assert status == 401, f"{kind}, {name}: {status} {answer}"
    body = bodies["command"]
    tampered = body.replace(b"U0ALICE", b"U0GRACE")
    assert (await post(url, tampered, [*FORM.items(), *sign(beacon.ws.signing_secret, body).items()]))[0] == 401
    await assert_no_effect(beacon.slack, trap, database_url, before)
    # and the same endpoint still serves Slack
    ok = forged_command(beacon.slack, f"{beacon.slack.url}/respond/none")
    assert (await post(url, ok, [*FORM.items(), *sign(beacon.ws.signing_secret, ok).items()]))[0] == 200


async def test_refusals_are_logged_without_the_claimed_user(beacon: Beacon, trap: Trap,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    body = forged_command(beacon.slack, trap.url, user=GRACE)
    with caplog.at_level("DEBUG"):
        for headers in unverifiable(beacon.slack, body).values():
            await post(beacon.slack.app_url or "", body, headers)
        await settle()
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert GRACE not in logged and trap.url not in logged
    assert "unauthorised" in logged


async def test_the_error_path_never_acts_on_a_body_no_entry_point_verified(beacon: Beacon, trap: Trap) -> None:
    """Belt and braces: a request that reaches Bolt without the entry points' mark (it cannot, today) and fails in
    a listener tells nobody and posts nowhere, whatever user and response_url it names."""
    from slack_bolt.request.async_request import AsyncBoltRequest

    request = AsyncBoltRequest(body=forged_action(trap.url, value="not-a-number"), mode="socket_mode")
    await beacon.runtime.app.async_dispatch(request)
    await settle()
    await asyncio.sleep(0.1)
    assert acting_calls(beacon.slack) == [] and trap.hits == [] and beacon.ws.ephemerals == []


# -- signed but malformed -------------------------------------------------------------------------------------------
def malformed(trap_url: str) -> dict[str, tuple[bytes, dict[str, str]]]:
    user = {"id": ALICE}
    return {
        "events body not JSON": (b'{"type": "event_callback", "event": ', JSON),
        "events body a list": (b"[1, 2, 3]", JSON),
        "events body a string": (b'"event_callback"', JSON),
        "events body without type": (json.dumps({"event": {"type": "app_home_opened", "user": ALICE}}).encode(),
                                     JSON),
        "events body with a numeric type": (json.dumps({"type": 7, "event": {}}).encode(), JSON),
        "events body with event a list": (json.dumps({"type": "event_callback", "event": []}).encode(), JSON),
        "payload not JSON": (interactive("{'type': 'block_actions'"), FORM),
        "payload a list": (interactive("[]"), FORM),
        "payload without type": (interactive({"user": user, "response_url": trap_url,
                                              "actions": [{"action_id": ActionId.NOMINATION_WITHDRAW}]}), FORM),
        "payload with user a string": (interactive({"type": "block_actions", "user": ALICE,
                                                    "response_url": trap_url}), FORM),
        "payload with actions not a list": (interactive({"type": "block_actions", "user": user, "actions": "x",
                                                         "response_url": trap_url}), FORM),
        "payload with view a list": (interactive({"type": "view_submission", "user": user, "view": []}), FORM),
        "body not UTF-8": (b"payload=%7B%7D\xff\xfe", FORM),
        "empty body": (b"", FORM),
    }


async def test_signed_but_malformed_bodies_get_400_and_do_nothing(beacon: Beacon, trap: Trap,
                                                                 database_url: str) -> None:
    before = await row_counts(database_url)
    for name, (body, content_type) in malformed(trap.url).items():
        headers = [*content_type.items(), *sign(beacon.ws.signing_secret, body).items()]
        status, answer = await post(beacon.slack.app_url or "", body, headers)
        assert status == 400, f"{name}: {status} {answer}"
    await assert_no_effect(beacon.slack, trap, database_url, before)


async def test_a_malformed_socket_mode_envelope_is_acknowledged_and_does_nothing(server: BeaconServer,
                                                                                 trap: Trap) -> None:
    beacon = await server.start(socket_mode=True)
    for kind, payload in [("interactive", {"user": {"id": ALICE}, "response_url": trap.url}),
                          ("interactive", {"type": "block_actions", "user": ALICE, "response_url": trap.url}),
                          ("events_api", {"type": "event_callback", "event": "app_home_opened"}),
                          ("slash_commands", {"command": 5, "user_id": ALICE, "response_url": trap.url})]:
        ack = await beacon.slack.hub.deliver(kind, payload)
        assert ack is not None, f"{payload}: not acknowledged, so Slack would send it again"
    await settle()
    await asyncio.sleep(0.1)
    assert acting_calls(beacon.slack) == [] and trap.hits == []
    reply = await beacon.slack.person(ALICE).command("/beacon")  # and the connection still serves
    await settle()
    assert reply.status == 200 and beacon.slack.person(ALICE).last_ephemeral()


async def test_signed_requests_that_only_look_odd_still_work(beacon: Beacon) -> None:
    """Not forgeries: a command whose text holds the word "payload" (Bolt's own parser mistook it for an
    interactivity payload, so it reached no listener), and Slack's certificate check."""
    alice = beacon.slack.person(ALICE)
    await alice.command("/beacon", "payload please")
    await settle()
    assert "did not understand `/beacon payload please`" in json.dumps(alice.last_ephemeral().blocks)
    body = b"token=legacy-verification-token&ssl_check=1"
    status, _ = await post(beacon.slack.app_url or "", body, [*FORM.items(),
                                                              *sign(beacon.ws.signing_secret, body).items()])
    assert status == 200


# -- replays ---------------------------------------------------------------------------------------------------------
def real_command(slack: LocalSlack, user: str = ALICE) -> bytes:
    ws = slack.workspace
    token = ws.issue_response_url_token(ResponseTarget(channel=ws.dm_channel(user).id, user=user))
    return forged_command(slack, f"{slack.url}/respond/{token}", user=user)


async def seen_rows(database_url: str) -> int:
    db = Database(database_url)
    async with db.transaction() as session:
        count = (await session.execute(select(func.count()).select_from(SlackRequestSeen))).scalar_one()
    await db.dispose()
    return int(count)


async def test_a_replayed_signed_request_has_one_effect(beacon: Beacon, database_url: str) -> None:
    body = real_command(beacon.slack)
    headers = [*FORM.items(), *sign(beacon.ws.signing_secret, body).items()]
    first = await post(beacon.slack.app_url or "", body, headers)
    again = [await post(beacon.slack.app_url or "", body, headers) for _ in range(3)]
    await settle()
    assert first[0] == 200
    assert again == [(200, "")] * 3, "a replay is acked as Slack expects, with nothing in it"
    assert len(beacon.slack.person(ALICE).ephemerals()) == 1
    assert await seen_rows(database_url) == 1


async def test_a_replay_to_another_replica_has_no_effect(server: BeaconServer, slack: LocalSlack,
                                                         database_url: str) -> None:
    first = await server.start()
    first_url = slack.app_url or ""
    second_server = BeaconServer(slack, server.settings, server.organisation, server.clock)
    try:
        await second_server.start()
        second_url = slack.app_url or ""
        assert first_url != second_url
        body = real_command(slack)
        headers = [*FORM.items(), *sign(slack.workspace.signing_secret, body).items()]
        answers = await asyncio.gather(post(first_url, body, headers), post(second_url, body, headers),
                                       post(first_url, body, headers), post(second_url, body, headers))
        await settle()
        assert sorted(status for status, _ in answers) == [200] * 4
        assert sum(1 for _, text_ in answers if text_ == "") >= 3, answers
        assert len(first.slack.person(ALICE).ephemerals()) == 1
        assert await seen_rows(database_url) == 1
    finally:
        await second_server.stop()


async def test_slack_retries_of_an_event_still_have_one_effect_and_a_replayed_event_none(beacon: Beacon) -> None:
    event = {"type": "app_home_opened", "user": ALICE, "channel": "D0ALICE", "tab": "home"}
    assert (await beacon.slack.send_event(event, event_id="Ev0RETRY001")).status == 200
    assert (await beacon.slack.send_event(event, event_id="Ev0RETRY001", retry_num=1)).status == 200
    body = json.dumps(payloads.event_callback(beacon.ws, event, event_id="Ev0REPLAY01")).encode()
    headers = [*JSON.items(), *sign(beacon.ws.signing_secret, body).items()]
    assert [await post(beacon.slack.app_url or "", body, headers) for _ in range(2)][1] == (200, "")
    await settle()
    assert len(beacon.ws.calls_to("views.publish")) == 2  # one per event id


async def test_seen_signatures_are_forgotten_after_ten_minutes_and_hold_no_user_id(beacon: Beacon,
                                                                                  database_url: str) -> None:
    await beacon.slack.person(ALICE).command("/beacon")
    await settle()
    db = beacon.deps.db
    async with db.transaction() as session:
        [row] = (await session.scalars(select(SlackRequestSeen))).all()
    assert len(row.signature_sha256) == 64 and ALICE not in row.signature_sha256
    async with db.transaction() as session:
        assert await forget_old_requests(session=session, now=row.seen_at + KEEP_FOR / 2) == 0
    async with db.transaction() as session:
        assert await forget_old_requests(session=session, now=row.seen_at + KEEP_FOR * 1.01) == 1


# -- forged values Beacon wrote -------------------------------------------------------------------------------------
def submission(callback_id: str, metadata: str, user: str = ALICE) -> dict[str, Any]:
    return {"type": "view_submission", "team": {"id": "T0BEACON01"}, "api_app_id": "A0BEACON",
            "user": {"id": user, "username": user.lower(), "team_id": "T0BEACON01"}, "trigger_id": "1.2.3",
            "view": {"id": "V0FORGED", "type": "modal", "callback_id": callback_id, "private_metadata": metadata,
                     "state": {"values": {}}, "hash": "1.abc"},
            "response_urls": []}


FORGED_METADATA = ['{"post_id": 99999999999999999999}', '{"post_id": -1}', '{"post_id": "1e9"}',
                   '{"post_id": [1]}', '{"post_id": true}', "not json", "[1, 2]", '{"post_id": 1' + " " * 4000 + "}",
                   '{"post_id": "١"}']


async def test_forged_private_metadata_gets_a_plain_refusal_at_once(beacon: Beacon, trap: Trap) -> None:
    grace = beacon.slack.person(GRACE)  # comms: allowed to schedule posts, so only the forgery can fail
    for metadata in FORGED_METADATA:
        started = time.perf_counter()
        reply = await beacon.slack.send_interaction(submission(CallbackId.SCHEDULE_PREVIEW, metadata, GRACE))
        seconds = time.perf_counter() - started
        await settle()
        assert reply.status == 200 and seconds < 1.0, (metadata, seconds)
        shown = json.dumps(reply.json)
        assert NOT_FOUND in shown or STALE in shown, (metadata, shown)
        assert "went wrong" not in shown
    assert acting_calls(beacon.slack) == [] and grace.dms() == []


async def test_forged_button_values_get_not_found_not_a_traceback(beacon: Beacon, trap: Trap) -> None:
    alice = beacon.slack.person(ALICE)
    ws = beacon.ws
    for action_id in (ActionId.NOMINATION_WITHDRAW, ActionId.NOMINATION_EDIT, ActionId.CALENDAR_ATTEND,
                      ActionId.SCHEDULE_EDIT, ActionId.AWARDS_SCORE_OPEN):
        for value in ("abc", "99999999999999999999", "-5", "0", " 7", "1e3", "2147483648", ""):
            token = ws.issue_response_url_token(ResponseTarget(channel=ws.dm_channel(ALICE).id, user=ALICE))
            reply = await beacon.slack.send_interaction(
                forged_action(f"{beacon.slack.url}/respond/{token}", action_id=action_id, value=value))
            await settle()
            assert reply.status == 200
            told = alice.last_ephemeral().text
            assert NOT_FOUND in told and "went wrong" not in told, (action_id, value, told)
    assert [m for m in acting_calls(beacon.slack) if m != "chat.postEphemeral"] == []
    assert trap.hits == []


async def test_a_forged_slot_count_in_the_pulse_builder_does_not_stall_beacon(beacon: Beacon) -> None:
    """Today `{"slots": 1000000}` in the builder's metadata stalls the event loop for seconds (handlers/pulse.py,
    which applies handlers.parsing.bounded)."""
    started = time.perf_counter()
    reply = await beacon.slack.send_interaction(submission(CallbackId.PULSE_CREATE, '{"slots": 1000000}', ERIN))
    await settle()
    seconds = time.perf_counter() - started
    assert reply.status == 200
    assert seconds < 1.0, f"the forged slot count took {seconds:.2f} s"
    assert "went wrong" not in json.dumps(reply.json) + " ".join(m.text for m in beacon.ws.dms(ERIN))


# -- the pure helpers -----------------------------------------------------------------------------------------------
def test_parsing_helpers_refuse_what_beacon_never_wrote() -> None:
    from beacon.bot.errors import BeaconError

    assert record_id("42") == 42 and record_id(7) == 7 and record_id(2**31 - 1) == 2**31 - 1
    for bad in ("", "0", "-1", " 1", "1 ", "1e3", "١", "2147483648", "9" * 5000, True, None, 1.0, [1], {"a": 1}):
        with pytest.raises(BeaconError):
            record_id(bad)
    assert bounded(1_000_000, 0, 5) == 5 and bounded(-3, 0, 5) == 0 and bounded("3", 0, 5) == 3
    with pytest.raises(BeaconError):
        bounded("x", 0, 5)
    assert read_metadata({"private_metadata": ""}) == {} and read_metadata({}) == {}
    assert read_metadata({"private_metadata": '{"a": 1}'}) == {"a": 1}
    for bad_meta in ("[]", "1", "nope", "{" * 3001, 5):
        with pytest.raises(BeaconError):
            read_metadata({"private_metadata": bad_meta})


def test_the_verifier_agrees_with_slack_sdk_and_never_raises() -> None:
    from slack_sdk.signature import SignatureVerifier

    secret, body, now = "s3cret", b"token=x&text=%C3%A9", int(time.time())
    headers = SignatureVerifier(secret).generate_signature(timestamp=str(now), body=body)
    assert verified_signature(secret=secret, raw_body=body, timestamps=[str(now)], signatures=[headers or ""],
                              now=now) == headers
    for timestamps, signatures in [(["x"], [headers]), ([""], [""]), (["9" * 5000], ["v0=" + "é" * 64]),
                                   ([], []), ([str(now), str(now)], [headers, headers]), ([str(now)], ["\x00"])]:
        assert verified_signature(secret=secret, raw_body=body, timestamps=timestamps,
                                  signatures=[s or "" for s in signatures], now=now) is None
    assert verified_signature(secret="", raw_body=body, timestamps=[str(now)], signatures=[headers or ""],
                              now=now) is None


# -- `beacon serve` as a real process ---------------------------------------------------------------------------------
async def test_beacon_serve_refuses_forgeries_and_replays_as_a_process(slack: LocalSlack, trap: Trap, tmp_path: Path,
                                                                     database_url: str) -> None:
    env = slack_env(slack, write_config(tmp_path / "beacon.yaml"), database_url)
    env["LOG_LEVEL"] = "INFO"
    port = free_port()
    url = f"http://127.0.0.1:{port}{EVENTS_PATH}"
    async with beacon_process("serve", "--port", str(port), env=env, cwd=tmp_path) as process:
        await wait_healthy(port)
        slack.app_url = url
        before = await row_counts(database_url)
        body = forged_command(slack, trap.url)
        for name, headers in unverifiable(slack, body).items():
            status, answer = await post(url, body, headers)
            assert status == 401, f"{name}: {status} {answer}"
        for name, (bad, content_type) in malformed(trap.url).items():
            status, answer = await post(url, bad, [*content_type.items(), *sign(slack.workspace.signing_secret,
                                                                                bad).items()])
            assert status == 400, f"{name}: {status} {answer}"
        await asyncio.sleep(0.3)
        assert acting_calls(slack) == [] and trap.hits == [] and slack.workspace.ephemerals == []
        assert await row_counts(database_url) == before

        real = real_command(slack)
        headers = [*FORM.items(), *sign(slack.workspace.signing_secret, real).items()]
        answers = [await post(url, real, headers) for _ in range(3)]
        for _ in range(100):
            if slack.workspace.ephemerals:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        assert [a[0] for a in answers] == [200, 200, 200] and answers[1:] == [(200, "")] * 2
        assert len(slack.person(ALICE).ephemerals()) == 1
        process.terminate()
        _, stderr = await process.communicate()
    logs = stderr.decode()
    assert "unauthorised" in logs and "malformed" in logs
    assert trap.url not in logs and "Traceback" not in logs

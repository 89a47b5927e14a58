"""The replay check under a crowd: signatures arriving together are recorded in one batch, and the promise still
holds inside a batch: the same signed request sent many times at once has one effect, and every distinct request
sent beside it has its own."""

from __future__ import annotations

import asyncio

from beacon.bot.local_slack import LocalSlack
from tests.harness import ALICE, BOB, CAROL, Beacon, BeaconServer, settle
from tests.test_request_forgery import FORM, post, real_command, seen_rows, sign


async def test_the_same_request_sent_many_times_at_once_among_others_has_one_effect(beacon: Beacon,
                                                                                     database_url: str) -> None:
    url = beacon.slack.app_url or ""
    body = real_command(beacon.slack)
    headers = [*FORM.items(), *sign(beacon.ws.signing_secret, body).items()]
    others = [real_command(beacon.slack, user) for user in (BOB, CAROL) for _ in range(5)]
    answers = await asyncio.gather(*(post(url, body, headers) for _ in range(8)),
                                   *(post(url, b, [*FORM.items(), *sign(beacon.ws.signing_secret, b).items()])
                                     for b in others))
    await settle()
    assert [status for status, _ in answers] == [200] * 18
    assert len(beacon.slack.person(ALICE).ephemerals()) == 1, "one of the eight copies acted"
    assert len(beacon.slack.person(BOB).ephemerals()) == 5, "every distinct request beside them acted"
    assert len(beacon.slack.person(CAROL).ephemerals()) == 5
    assert await seen_rows(database_url) == 11


async def test_copies_racing_to_two_replicas_at_once_have_one_effect(server: BeaconServer, slack: LocalSlack,
                                                                     database_url: str) -> None:
    await server.start()
    first_url = slack.app_url or ""
    second = BeaconServer(slack, server.settings, server.organisation, server.clock)
    try:
        await second.start()
        second_url = slack.app_url or ""
        body = real_command(slack)
        headers = [*FORM.items(), *sign(slack.workspace.signing_secret, body).items()]
        answers = await asyncio.gather(*(post(u, body, headers) for u in [first_url, second_url] * 6))
        await settle()
        assert [status for status, _ in answers] == [200] * 12
        assert len(slack.person(ALICE).ephemerals()) == 1, "one copy acted, on one replica"
        assert await seen_rows(database_url) == 1
    finally:
        await second.stop()

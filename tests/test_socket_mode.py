"""Socket Mode (`beacon run`): the same app over a WebSocket from the local Slack."""

import json

from beacon.bot.ids import BlockId
from tests.harness import ALICE, BOB, BeaconServer, settle
from tests.nominating import STORY, choose_award, fill_and_send, open_modal


async def test_a_command_and_an_event_over_socket_mode(server: BeaconServer) -> None:
    beacon = await server.start(socket_mode=True)
    alice = beacon.slack.person(ALICE)

    reply = await alice.command("/beacon")
    assert reply.status == 200, "the envelope was acked within 3 seconds"
    await alice.open_home()
    await settle()

    assert "<@U0ALICE>" in json.dumps(alice.last_ephemeral().blocks)
    assert alice.home is not None
    assert beacon.ws.calls_to("apps.connections.open")[0].ok


async def test_a_forms_inline_errors_come_back_over_the_socket(server: BeaconServer) -> None:
    """The envelope's acknowledgement carries what the listener acked with (Beacon builds it itself, not through
    Bolt's private helpers): a refused form shows its errors, a good one closes."""
    beacon = await server.start(socket_mode=True)
    bob = beacon.slack.person(BOB)
    await open_modal(bob)
    await choose_award(bob, "leadership")
    refused = await fill_and_send(bob, colleagues=[ALICE], behaviours=["leading_with_care"], story="Too short.")
    assert refused.json.get("response_action") == "errors"
    assert "at least 50 characters" in refused.json["errors"][BlockId.NOMINATE_STORY]
    accepted = await fill_and_send(bob, colleagues=[ALICE], behaviours=["leading_with_care"], story=STORY)
    assert accepted.status == 200 and accepted.json in ({}, None)

"""Socket Mode (`beacon run`): the same app over a WebSocket from the local Slack."""

import json

from tests.harness import ALICE, BeaconServer, settle


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

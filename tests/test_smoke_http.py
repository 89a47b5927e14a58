from tests.harness import ALICE, Beacon


async def test_beacon_command_answers_ephemerally(beacon: Beacon) -> None:
    alice = beacon.slack.person(ALICE)
    reply = await alice.command("/beacon")
    assert reply.status == 200
    import asyncio
    await asyncio.sleep(0.3)
    print(alice.ephemerals())
    assert "/beacon" in str(alice.last_ephemeral().blocks)

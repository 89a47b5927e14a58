"""The App Home, and Events API retries that never repeat an effect."""

import json

from tests.harness import ALICE, FRANK, GRACE, Beacon, settle


async def test_opening_the_app_home_publishes_who_you_are(beacon: Beacon) -> None:
    grace = beacon.slack.person(GRACE)
    reply = await grace.open_home()
    await settle()
    assert reply.status == 200
    home = grace.home
    assert home is not None and home.type == "home"
    shown = json.dumps(home.blocks)
    assert "<@U0GRACE>" in shown and "communications team" in shown
    assert "/beacon" in shown


async def test_each_person_sees_only_their_own_roles(beacon: Beacon) -> None:
    alice, frank = beacon.slack.person(ALICE), beacon.slack.person(FRANK)
    await alice.open_home()
    await frank.open_home()
    await settle()
    assert "Beacon administrator" in json.dumps(frank.home.blocks)  # type: ignore[union-attr]
    assert "Beacon administrator" not in json.dumps(alice.home.blocks)  # type: ignore[union-attr]


async def test_a_retried_event_has_its_effect_once(beacon: Beacon) -> None:
    alice = beacon.slack.person(ALICE)
    event = {"type": "app_home_opened", "user": ALICE, "channel": "D0ALICE", "tab": "home"}
    first = await beacon.slack.send_event(event, event_id="Ev0SAME0001")
    retry = await beacon.slack.send_event(event, event_id="Ev0SAME0001", retry_num=1)
    await settle()
    assert first.status == 200 and retry.status == 200, "Slack must see both acked, or it retries again"
    assert len(beacon.ws.calls_to("views.publish")) == 1
    assert alice.home is not None


async def test_the_messages_tab_opening_publishes_nothing(beacon: Beacon) -> None:
    await beacon.slack.send_event({"type": "app_home_opened", "user": ALICE, "channel": "D0ALICE",
                                   "tab": "messages"})
    await settle()
    assert beacon.ws.calls_to("views.publish") == []

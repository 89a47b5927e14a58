"""Staff ask for a visit ("come and see our night shift at Bedford"): the request goes to the coordinator channel,
is decided once (accepted, or declined with a reason), and the person who asked is told; every one of those
messages goes through the outbox, so a Slack outage delays them and loses none."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from beacon.bot.ids import ActionId, BlockId
from beacon.bot.local_slack import LocalSlack
from beacon.bot.models import OutboxMessage, OutboxStatus, VisitRequest
from beacon.bot.organisation import Organisation
from tests.harness import ALICE, CAROL, HEIDI, Beacon, organisation_for, settle

COORDINATOR = "C0COORD"


@pytest.fixture
def organisation(slack: LocalSlack) -> Organisation:
    slack.workspace.add_channel(COORDINATOR, "leaders-coordinator", members={CAROL, HEIDI})
    return organisation_for(slack.workspace, sites=[{"name": "Bedford Ambulance Station", "area": "Bedfordshire"}],
                            staff_groups=[{"name": "Control room"}], calendar={"coordinator_channel": COORDINATOR})


async def _delivered(beacon: Beacon) -> None:
    await settle()
    await beacon.deps.dispatcher.run_once()
    await settle()


async def _ask(beacon: Beacon, who: str, what: str) -> dict:
    person = beacon.slack.person(who)
    await person.command("/calendar", "request")
    await settle()
    reply = await person.submit({BlockId.REQUEST_PLACE: "Bedford Ambulance Station", BlockId.REQUEST_KIND: "visit",
                                 BlockId.REQUEST_WHAT: what, BlockId.REQUEST_WHEN: "Any weeknight after 22:00"})
    await _delivered(beacon)
    return reply.json or {}


async def test_a_request_is_decided_once_and_the_asker_is_told(beacon: Beacon) -> None:
    alice, heidi, carol = (beacon.slack.person(u) for u in (ALICE, HEIDI, CAROL))
    reply = await _ask(beacon, ALICE, "Night")
    assert "at least 10 characters" in reply["errors"][BlockId.REQUEST_WHAT]
    await alice.submit({BlockId.REQUEST_WHAT: "Come and see our night shift <!channel>"})
    await _delivered(beacon)
    [post] = beacon.ws.messages(COORDINATOR)
    body = json.dumps(post.blocks)
    assert "<@U0ALICE> asks for *A visit* at *Bedford Ambulance Station*" in body and "&lt;!channel&gt;" in body
    assert "with the leaders' coordinator" in alice.dms()[-1].text

    await heidi.click(ActionId.VISIT_REQUEST_ACCEPT, message=post)
    await settle()
    assert "executive" in heidi.last_ephemeral().text, "only executives decide"
    stale = copy.deepcopy(post)  # the post as another coordinator still sees it, buttons and all
    await carol.click(ActionId.VISIT_REQUEST_DECLINE, message=post)
    await settle()
    reply = await carol.submit({BlockId.REQUEST_REASON: "No"})
    assert "5 to 500 characters" in reply.json["errors"][BlockId.REQUEST_REASON]
    await carol.submit({BlockId.REQUEST_REASON: "I am on leave that month; the deputy will come instead."})
    await _delivered(beacon)
    assert "Declined by <@U0CAROL>: I am on leave" in json.dumps(post.blocks) and "Accept" not in json.dumps(
        post.blocks)
    assert "declined your request for a visit at *Bedford Ambulance Station*: I am on leave" in alice.dms()[-1].text
    await carol.click(ActionId.VISIT_REQUEST_ACCEPT, message=stale)
    await settle()
    assert "already been declined" in carol.last_ephemeral().text

    await _ask(beacon, HEIDI, "Back to the floor with the night crews")
    second = beacon.ws.messages(COORDINATOR)[-1]
    await carol.click(ActionId.VISIT_REQUEST_ACCEPT, message=second)
    await _delivered(beacon)
    assert "<@U0CAROL> accepted your request" in heidi.dms()[-1].text
    async with beacon.deps.db.transaction() as session:
        statuses = [r.status for r in (await session.scalars(select(VisitRequest).order_by(VisitRequest.id))).all()]
    assert statuses == ["declined", "accepted"]


async def test_a_slack_outage_delays_a_request_and_its_decision_and_loses_neither(beacon: Beacon) -> None:
    alice, carol = beacon.slack.person(ALICE), beacon.slack.person(CAROL)
    beacon.slack.faults.add("chat.postMessage", status=503, times=2)  # Slack is down as the request comes in
    reply = await _ask(beacon, ALICE, "Come and see our night shift at Bedford")
    assert reply == {}, "the form is accepted: what was asked is stored, not waiting on Slack"
    assert beacon.ws.messages(COORDINATOR) == [], "nothing reached Slack yet"
    async with beacon.deps.db.transaction() as session:
        waiting = (await session.scalars(select(OutboxMessage).where(
            OutboxMessage.source == "visit_request"))).all()
    assert {m.status for m in waiting} == {OutboxStatus.PENDING} and len(waiting) == 2
    beacon.clock.advance(timedelta(minutes=5))  # Slack is back; the retries are due
    await _delivered(beacon)
    await _delivered(beacon)
    [post] = beacon.ws.messages(COORDINATOR)
    assert [m.text for m in alice.dms()].count(alice.dms()[-1].text) == 1
    assert "with the leaders' coordinator" in alice.dms()[-1].text

    beacon.slack.faults.add("chat.update", status=503, times=1)
    beacon.slack.faults.add("chat.postMessage", status=503, times=1, channel=ALICE)
    await carol.click(ActionId.VISIT_REQUEST_ACCEPT, message=post)
    await _delivered(beacon)
    assert "Accept" in json.dumps(post.blocks), "Slack was down for the edit"
    beacon.clock.advance(timedelta(minutes=5))
    await _delivered(beacon)
    await _delivered(beacon)
    assert "Accepted by <@U0CAROL>" in json.dumps(post.blocks) and "Decline" not in json.dumps(post.blocks)
    outcomes = [m.text for m in alice.dms() if "accepted your request" in m.text]
    assert len(outcomes) == 1, "told once, after the outage"
    assert len(beacon.ws.messages(COORDINATOR)) == 1, "the post was edited, not posted again"


async def test_a_request_decided_while_its_post_is_on_the_way_shows_the_decision(beacon: Beacon) -> None:
    alice = beacon.slack.person(ALICE)
    release = asyncio.Event()
    beacon.slack.faults.add("chat.postMessage", hold=release, channel=COORDINATOR)
    await alice.command("/calendar", "request")
    await settle()
    await alice.submit({BlockId.REQUEST_PLACE: "Bedford Ambulance Station", BlockId.REQUEST_KIND: "visit",
                        BlockId.REQUEST_WHAT: "Come and see our night shift at Bedford"})
    await settle()
    sending = asyncio.ensure_future(beacon.deps.dispatcher.run_once())
    await asyncio.sleep(0.3)  # the post is claimed and on its way to Slack, held there
    async with beacon.deps.db.transaction() as session:
        [request] = (await session.scalars(select(VisitRequest))).all()
        await beacon.deps.visit_requests.decide(session=session, user_id=CAROL, request_id=request.id or 0,
                                                accept=True)
    release.set()
    await sending
    await _delivered(beacon)
    [post] = beacon.ws.messages(COORDINATOR)
    assert "Accepted by <@U0CAROL>" in json.dumps(post.blocks), "the post caught up with the decision"
    assert "Accept\"" not in json.dumps(post.blocks)



async def test_a_request_is_in_the_askers_export_and_forgotten_on_erasure(beacon: Beacon) -> None:
    await _ask(beacon, ALICE, "Come and see our night shift at Bedford")
    async with beacon.deps.db.transaction() as session:
        document = await beacon.deps.privacy.export(session=session, user_id=ALICE, actor="cli:ig-officer")
    [asked] = document["calendar"]["visits_requested"]
    assert asked["what"] == "Come and see our night shift at Bedford" and asked["status"] == "open"
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.privacy.erase(session=session, user_id=ALICE, actor="cli:ig-officer")
    async with beacon.deps.db.transaction() as session:
        [request] = (await session.scalars(select(VisitRequest))).all()
    assert request.requester_id != ALICE and "night shift" not in request.what

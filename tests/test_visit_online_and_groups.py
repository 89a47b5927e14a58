"""Fit for a 24/7 service: visits online or hybrid (a join link, https only, given only to staff who say they'll be
there), and visits for a staff group (the control room, 111) announced in the group's channel."""

from __future__ import annotations

import json

import pytest

from beacon.bot.ids import ActionId, BlockId
from beacon.bot.local_slack import LocalSlack
from beacon.bot.organisation import Organisation
from tests.harness import ALICE, CAROL, CHELMSFORD, ENGAGEMENT, Beacon, organisation_for, settle

CONTROL, GUEST = "C0CONTROL", "U0GUEST"


@pytest.fixture
def organisation(slack: LocalSlack) -> Organisation:
    ws = slack.workspace
    ws.add_user(GUEST, "gus", "Gus Guest", guest=True)
    ws.add_channel(CONTROL, "control-room", members={ALICE, CAROL, GUEST})
    ws.channels[ENGAGEMENT].members.add(GUEST)
    sites = [{"name": "Chelmsford Ambulance Station", "area": "Essex", "channel": CHELMSFORD},
             {"name": "Bedford Ambulance Station", "area": "Bedfordshire"}]
    groups = [{"name": "Control room", "channel": CONTROL, "aliases": ["EOC"]}, {"name": "NHS 111"}]
    return organisation_for(ws, sites=sites, staff_groups=groups)


def _visit(**changes: object) -> dict[str, object]:
    return {BlockId.VISIT_DAY: "2026-11-27", BlockId.VISIT_STARTS: "19:00", BlockId.VISIT_ENDS: "20:00",
            BlockId.VISIT_PURPOSE: "Question time with the night shift", BlockId.VISIT_OPEN_TO: "All staff"} | changes


async def _open_form(beacon: Beacon) -> None:
    await beacon.slack.person(CAROL).command("/visit")
    await settle()


async def test_an_online_visit_gives_its_link_only_to_staff_who_say_they_will_be_there(beacon: Beacon) -> None:
    carol = beacon.slack.person(CAROL)
    await _open_form(beacon)
    reply = await carol.submit(_visit(**{BlockId.VISIT_MODE: "online"}))
    assert "needs its join link" in reply.json["errors"][BlockId.VISIT_JOIN_LINK]
    reply = await carol.submit({BlockId.VISIT_JOIN_LINK: "http://teams.example/meet/123"})
    assert reply.json["errors"][BlockId.VISIT_JOIN_LINK] == (
        "The join link has to be secure: change “http://” at its start to “https://”.")
    reply = await carol.submit({BlockId.VISIT_JOIN_LINK: "teams.example/meet/123"})
    assert "has to start with “https://”" in reply.json["errors"][BlockId.VISIT_JOIN_LINK]
    link = "https://teams.example/meet/123"
    await carol.submit({BlockId.VISIT_JOIN_LINK: link})
    await settle()
    await beacon.deps.dispatcher.run_once()
    [post] = beacon.ws.messages(ENGAGEMENT)
    assert post.text.startswith(":computer: Online: <@U0CAROL> will be online, Fri 27 Nov, 19:00–20:00 GMT")
    assert link not in json.dumps(post.blocks) and link not in post.text, "never in a channel's post"
    assert link in carol.dms()[-1].text, "the leader is told the link goes only to staff who say they'll be there"

    alice, gus = beacon.slack.person(ALICE), beacon.slack.person(GUEST)
    await alice.click(ActionId.CALENDAR_ATTEND, message=post)
    await gus.click(ActionId.CALENDAR_ATTEND, message=post)
    await settle()
    assert f"<{link}|{link}>" in alice.last_ephemeral().text
    assert "down as going" in gus.last_ephemeral().text and link not in gus.last_ephemeral().text, "not to a guest"
    assert link not in json.dumps([m.blocks for m in beacon.ws.messages(ENGAGEMENT)])


async def test_a_hybrid_visit_by_invitation_never_gives_the_link_out(beacon: Beacon) -> None:
    carol, alice = beacon.slack.person(CAROL), beacon.slack.person(ALICE)
    await _open_form(beacon)
    link = "https://teams.example/meet/456"
    reply = await carol.submit(_visit(**{BlockId.VISIT_SITE: "Chelmsford Ambulance Station", BlockId.VISIT_MODE:
                                         "in_person", BlockId.VISIT_JOIN_LINK: link}))
    assert "A join link is for an online or hybrid visit" in reply.json["errors"][BlockId.VISIT_JOIN_LINK]
    await carol.submit({BlockId.VISIT_MODE: "hybrid", BlockId.VISIT_OPEN_TO: "By invitation"})
    await settle()
    await beacon.deps.dispatcher.run_once()
    [post] = beacon.ws.messages(CHELMSFORD)
    assert post.text.startswith(":round_pushpin: Hybrid: <@U0CAROL> will be at *Chelmsford Ambulance Station* "
                                "(Essex) and online")
    assert "The leader sends the join link to those invited." in json.dumps(post.blocks)
    await alice.click(ActionId.CALENDAR_ATTEND, message=post)
    await settle()
    assert link not in alice.last_ephemeral().text
    assert "by invitation" in carol.dms()[-1].text


async def test_a_visit_for_a_staff_group_goes_to_its_channel(beacon: Beacon) -> None:
    carol = beacon.slack.person(CAROL)
    await _open_form(beacon)
    options = json.dumps(carol.modal.blocks if carol.modal else [])  # type: ignore[attr-defined]
    assert "Control room" in options and "NHS 111" in options
    await carol.submit(_visit(**{BlockId.VISIT_STAFF_GROUP: "Control room", BlockId.VISIT_STARTS: "23:00",
                                 BlockId.VISIT_ENDS: "03:00"}))
    await settle()
    await beacon.deps.dispatcher.run_once()
    shown = "<@U0CAROL> will be at *Control room*, Fri 27 Nov, 23:00 to 03:00 GMT (next day)"
    assert shown in beacon.ws.messages(CONTROL)[-1].text and shown in beacon.ws.messages(ENGAGEMENT)[-1].text
    assert "<#C0CONTROL>" in carol.dms()[-1].text
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.engagements.weekly_post(session=session, worker="test")
    await beacon.deps.dispatcher.run_once()
    assert "23:00 to 03:00 GMT (next day) · <@U0CAROL> at *Control room*: Question time" in json.dumps(
        beacon.ws.messages(ENGAGEMENT)[-1].blocks, ensure_ascii=False)
    beacon.clock.set(beacon.clock.now().replace(day=26, hour=16))
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.engagements.day_before(session=session, worker="test")
    await beacon.deps.dispatcher.run_once()
    assert beacon.ws.messages(CONTROL)[-1].text.startswith(":wave: Tomorrow:")
    await carol.command("/calendar", "EOC")
    await settle()
    assert "Question time with the night shift" in json.dumps(carol.last_ephemeral().blocks)


async def test_calendar_for_a_place_beacon_does_not_know_suggests_the_nearest(beacon: Beacon) -> None:
    alice = beacon.slack.person(ALICE)
    await alice.command("/calendar", "Bedfrod")
    await settle()
    said = alice.last_ephemeral().text
    assert said.startswith("Beacon knows no site, area or staff group called “Bedfrod”.")
    assert "`/calendar Bedford Ambulance Station`" in said
    await alice.command("/calendar", "Ipswich")
    await settle()
    assert "called “Ipswich”" in alice.last_ephemeral().text and "Did you mean" not in alice.last_ephemeral().text
    await alice.command("/calendar", "111")
    await settle()
    assert "Leaders out and about: 111" in alice.last_ephemeral().text, "part of a staff group's name"
    await alice.command("/calendar", "Bedford")
    await settle()
    assert "Leaders out and about: Bedford" in alice.last_ephemeral().text, "a known place lists its engagements"


async def test_a_visit_request_without_a_coordinator_channel_says_what_to_set(beacon: Beacon) -> None:
    alice = beacon.slack.person(ALICE)
    await alice.command("/calendar", "request")
    await settle()
    assert alice.modal is None and "calendar.coordinator_channel" in alice.last_ephemeral().text


async def test_an_answer_to_a_question_about_a_staff_group_visit_reaches_the_groups_channel(beacon: Beacon) -> None:
    """"You said, we did" goes where the askers are: for a visit to the control room, its channel (as its
    announcement and reminder do), not only the engagement's thread."""
    carol, alice = beacon.slack.person(CAROL), beacon.slack.person(ALICE)
    await _open_form(beacon)
    await carol.submit(_visit(**{BlockId.VISIT_STAFF_GROUP: "Control room"}))
    await settle()
    await beacon.deps.dispatcher.run_once()
    post = beacon.ws.messages(CONTROL)[-1]
    await alice.click(ActionId.CALENDAR_ASK, message=post)
    await settle()
    assert (await alice.submit({BlockId.QUESTION_TEXT: "Will the EOC get more call handlers at night?"})).json \
        in ({}, None)
    await settle()
    beacon.clock.set(beacon.clock.now().replace(day=26, hour=16))
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.engagements.day_before(session=session, worker="test")
    await beacon.deps.dispatcher.run_once()
    await settle()
    briefing = next(m for m in reversed(carol.dms()) if "call handlers" in json.dumps(m.blocks))
    await carol.click(ActionId.CALENDAR_ANSWER, message=briefing)
    await settle()
    assert (await carol.submit({BlockId.ANSWER_TEXT: "Two more call handlers on nights from January."})).json \
        in ({}, None)
    await beacon.deps.dispatcher.run_once()
    await settle()
    assert any("You said, we did" in m.text and "Two more call handlers" in json.dumps(m.blocks)
               for m in beacon.ws.messages(CONTROL)), [m.text for m in beacon.ws.messages(CONTROL)]

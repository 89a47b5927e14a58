"""The leaders role and the leader directory, end to end: leaders announce visits at their own sites only, and staff
see every leader's photo, title, area, commitment and next engagements (`/leaders`, the App Home)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import event, select

from beacon.bot.config_errors import ConfigError
from beacon.bot.ids import ActionId, BlockId, CallbackId
from beacon.bot.local_slack import LocalSlack
from beacon.bot.models import Engagement, LeaderProfile
from beacon.bot.organisation import Organisation
from beacon.scheduler import leaders_refresh
from tests.harness import ALICE, CAROL, CHELMSFORD, ENGAGEMENT, HEIDI, Beacon, organisation_for, settle

SITES = [{"name": "Chelmsford Ambulance Station", "area": "Essex", "channel": CHELMSFORD, "aliases": ["Chelmsford"]},
         {"name": "Colchester Ambulance Station", "area": "Essex"},
         {"name": "Bedford Ambulance Station", "area": "Bedfordshire"},
         {"name": "Norwich Emergency Operations Centre", "area": "Norfolk"}]
HEIDI_PHOTO = "https://avatars.slack-edge.com/2026-12-01/123_heidi"
ESSEX = ["Chelmsford Ambulance Station", "Colchester Ambulance Station"]
CONTROL = "C0CONTROL"
GROUPS = [{"name": "Control room", "channel": CONTROL}, {"name": "NHS 111"}]


@pytest.fixture
def organisation(slack: LocalSlack) -> Organisation:
    # Heidi is the Essex locality manager; Alice manages Bedford station, through the @station-managers group.
    slack.workspace.add_usergroup("S0STATION", "station-managers", "Station managers", [ALICE])
    slack.workspace.users[HEIDI].image = HEIDI_PHOTO
    slack.workspace.users[HEIDI].title = "Locality Manager, Essex"
    slack.workspace.add_channel(CONTROL, "control-room", members={ALICE, CAROL, HEIDI})
    return organisation_for(slack.workspace, sites=SITES, staff_groups=GROUPS, roles={
        "executives": [CAROL], "comms": [], "panel": [], "forum_moderators": [], "admins": [],
        "leaders": [HEIDI, "@station-managers"]}, leaders={
        HEIDI: {"areas": ["Essex"]},
        "@station-managers": {"sites": ["Bedford Ambulance Station"], "staff_groups": ["Control room"]}})


VISIT = {BlockId.VISIT_DAY: "2026-11-25", BlockId.VISIT_STARTS: "14:00", BlockId.VISIT_ENDS: "15:30",
         BlockId.VISIT_PURPOSE: "Meet the day shift", BlockId.VISIT_OPEN_TO: "All staff"}


def _site_options(view: Any) -> list[str]:
    block = next(b for b in view.blocks if b.get("block_id") == BlockId.VISIT_SITE)
    return [o["value"] for o in block["element"]["options"]]


async def test_a_leader_announces_visits_at_their_own_sites_only(beacon: Beacon) -> None:
    heidi, alice, carol = (beacon.slack.person(u) for u in (HEIDI, ALICE, CAROL))
    await carol.command("/visit")
    await settle()
    assert _site_options(carol.modal) == [s["name"] for s in SITES], "an executive announces anywhere"
    await alice.command("/visit")
    await settle()
    assert _site_options(alice.modal) == ["Bedford Ambulance Station"], "a group's leaders: the group's sites"
    await heidi.command("/visit")
    await settle()
    assert _site_options(heidi.modal) == ESSEX, "a locality manager: every site in the area, and only those"

    reply = await heidi.submit({**VISIT, BlockId.VISIT_SITE: "Colchester Ambulance Station",
                                BlockId.VISIT_LEADER: CAROL})
    assert "As a leader you announce your own visits" in reply.json["errors"][BlockId.VISIT_LEADER], \
        "a leader cannot announce someone else (an executive) at their station"
    reply = await heidi.submit({BlockId.VISIT_LEADER: HEIDI, BlockId.VISIT_SITE: None,
                                BlockId.VISIT_OTHER_PLACE: "Luton and Dunstable Hospital"})
    error = reply.json["errors"][BlockId.VISIT_OTHER_PLACE]
    assert "your own sites: Chelmsford Ambulance Station, Colchester Ambulance Station" in error

    # Her places change while the form is open (the organisation file is reloaded): the site she chose is refused,
    # and the error names the sites she may now use.
    org = beacon.deps.organisation
    object.__setattr__(org, "leaders", org.leaders | {HEIDI: org.leaders["@station-managers"]})
    reply = await heidi.submit({BlockId.VISIT_OTHER_PLACE: "", BlockId.VISIT_SITE: "Chelmsford Ambulance Station"})
    error = reply.json["errors"][BlockId.VISIT_SITE]
    assert error.startswith("Chelmsford Ambulance Station is not one of your sites") and (
        "your own sites: Bedford Ambulance Station." in error)
    async with beacon.deps.db.transaction() as session:
        assert (await session.scalars(select(Engagement))).all() == [], "nothing was announced"

    await heidi.command("/visit")
    await settle()
    await heidi.submit({**VISIT, BlockId.VISIT_SITE: "Bedford Ambulance Station"})
    await settle()
    await beacon.deps.dispatcher.run_once()
    assert any("<@U0HEIDI> will be at *Bedford Ambulance Station*" in m.text for m in beacon.ws.messages(ENGAGEMENT))


def _group_options(view: Any) -> list[str]:
    block = next((b for b in view.blocks if b.get("block_id") == BlockId.VISIT_STAFF_GROUP), None)
    return [o["value"] for o in block["element"]["options"]] if block else []


async def test_a_leader_announces_for_their_own_staff_groups_only(beacon: Beacon) -> None:
    """A staff group's channel is a place as a site's is: a locality manager cannot post a visit into the control
    room's channel (nor 111's) unless `leaders:` gives them the group; an executive can."""
    heidi, alice, carol = (beacon.slack.person(u) for u in (HEIDI, ALICE, CAROL))
    await carol.command("/visit")
    await settle()
    assert _group_options(carol.modal) == ["Control room", "NHS 111"]
    groups = next(b for b in carol.modal.blocks if b.get("block_id") == BlockId.VISIT_STAFF_GROUP)  # type: ignore
    await heidi.command("/visit")
    await settle()
    assert _group_options(heidi.modal) == [], "Heidi's places hold no staff group"
    heidi.modal.blocks.append(groups)  # type: ignore[union-attr]  (a forged submission: the field Carol sees)
    reply = await heidi.submit({**VISIT, BlockId.VISIT_STAFF_GROUP: "Control room"})
    assert reply.json.get("response_action") == "errors", reply.json
    assert "not one of your staff groups" in reply.json["errors"][BlockId.VISIT_STAFF_GROUP]
    async with beacon.deps.db.transaction() as session:
        assert (await session.scalars(select(Engagement))).all() == [], "nothing was announced"

    await alice.command("/visit")
    await settle()
    assert _group_options(alice.modal) == ["Control room"]
    assert (await alice.submit({**VISIT, BlockId.VISIT_STAFF_GROUP: "Control room"})).json in ({}, None)
    await settle()
    await beacon.deps.dispatcher.run_once()
    assert any("<@U0ALICE> will be at *Control room*" in m.text for m in beacon.ws.messages(CONTROL))


def test_the_organisation_file_refuses_a_leaders_unknown_staff_group(slack: LocalSlack) -> None:
    with pytest.raises(ConfigError, match=re.escape("'Control' is not a staff group under staff_groups")):
        organisation_for(slack.workspace, roles={"leaders": [HEIDI]}, sites=SITES,
                         leaders={HEIDI: {"staff_groups": ["Control"]}}, staff_groups=GROUPS)


async def test_someone_without_either_role_is_told_who_can_announce(beacon: Beacon) -> None:
    frank = beacon.slack.person("U0FRANK")
    await frank.command("/visit")
    await settle()
    text = frank.last_ephemeral().text
    assert frank.modal is None and "needs the *executive* or *leader* role" in text
    assert "<@U0HEIDI>" in text and "station-managers" in text


async def _write(person: Any, text: str) -> Any:
    return await person.submit({BlockId.LEADER_STATEMENT: text})


async def test_the_leader_directory(beacon: Beacon) -> None:
    heidi, erin = (beacon.slack.person(u) for u in (HEIDI, "U0ERIN"))
    await leaders_refresh.run(beacon.deps)  # the background copy of the leaders' Slack profiles

    # Heidi writes her commitment from the App Home; too long is refused inline, naming the limit.
    await heidi.open_home()
    await settle()
    await heidi.click(ActionId.LEADER_STATEMENT_OPEN, in_home=True)
    await settle()
    assert heidi.modal is not None and heidi.modal.callback_id == CallbackId.LEADER_STATEMENT
    reply = await _write(heidi, "x" * 501)
    assert reply.json["errors"][BlockId.LEADER_STATEMENT] == (
        "Keep your commitment to 500 characters; this is 501. Shorten it by 1.")
    await _write(heidi, "I will be at every Essex station each quarter & <listen> to *you*. <!channel>")
    await settle()
    assert "Your commitment is in the leader directory" in heidi.dms()[-1].text
    await heidi.command("/visit")
    await settle()
    await heidi.submit({**VISIT, BlockId.VISIT_SITE: "Colchester Ambulance Station"})
    await settle()

    # Erin, who leads nothing, reads the directory.
    await erin.command("/leaders")
    await settle()
    shown = erin.last_ephemeral()
    body = json.dumps(shown.blocks)
    cards = [b for b in shown.blocks if b["type"] == "section"]
    assert [c["text"]["text"].split(" · ")[0] for c in cards] == ["*Carol Chen*", "*Alice Ambrose*", "*Heidi Hart*"], \
        "executives first, then leaders by area"
    heidi_card = cards[2]
    assert heidi_card["accessory"] == {"type": "image", "image_url": HEIDI_PHOTO + "_72.jpg",
                                       "alt_text": "Heidi Hart"}, "her own photo, from her Slack profile"
    text = heidi_card["text"]["text"]
    assert "Locality Manager, Essex" in text and "_Essex_" in text
    assert "&amp; &lt;listen&gt; to *you*. &lt;!channel&gt;" in text and "<!channel>" not in body, "escaped"
    assert "Wed 25 Nov, 14:00–15:30 GMT at Colchester Ambulance Station" in text
    assert "_Trust-wide_" in cards[0]["text"]["text"] and "gravatar" in cards[0]["accessory"]["image_url"]
    assert "Nothing in the calendar yet" in cards[1]["text"]["text"]
    assert ActionId.LEADER_STATEMENT_OPEN not in body, "only leaders are offered the commitment form"

    await erin.command("/leaders", "bedford")
    await settle()
    assert [b["text"]["text"].split(" · ")[0] for b in erin.last_ephemeral().blocks if b["type"] == "section"] == [
        "*Alice Ambrose*"], "a site's name finds the leader whose places include it"
    await erin.command("/leaders", "locality")
    await settle()
    assert "*Heidi Hart*" in json.dumps(erin.last_ephemeral().blocks)
    await erin.command("/leaders", "Suffolk <b>")
    await settle()
    shown = erin.last_ephemeral()
    assert "No leader matches “Suffolk &lt;b&gt;”" in json.dumps(shown.blocks, ensure_ascii=False)
    assert shown.text == "Your leaders: Suffolk &lt;b&gt;", "the notification's text is escaped too"

    # The App Home: a button opens the same directory; a leader's Home also offers the commitment form.
    await erin.open_home()
    await settle()
    home = json.dumps(erin.home.blocks if erin.home else [])
    assert "3 leaders" in home and ActionId.LEADER_STATEMENT_OPEN not in home
    await erin.click(ActionId.LEADERS_OPEN, in_home=True)
    await settle()
    assert erin.modal is not None and "*Heidi Hart*" in json.dumps(erin.modal.blocks)

    # Alice reopens her form: what she wrote is there to change; an empty one removes it.
    await heidi.click(ActionId.LEADER_STATEMENT_OPEN, in_home=True)
    await settle()
    assert "every Essex station" in json.dumps(heidi.modal.blocks if heidi.modal else [])
    await _write(heidi, "")
    await settle()
    async with beacon.deps.db.transaction() as session:
        assert (await session.get(LeaderProfile, HEIDI)).statement is None  # type: ignore[union-attr]


async def test_someone_without_the_role_cannot_write_a_commitment(beacon: Beacon) -> None:
    async with beacon.deps.db.transaction() as session:
        with pytest.raises(Exception, match="needs the"):
            await beacon.deps.leaders.set_statement(session=session, user_id="U0ERIN", text="I lead")


async def test_listing_the_leaders_is_two_statements_and_no_slack_call(beacon: Beacon) -> None:
    await leaders_refresh.run(beacon.deps)
    calls = len(beacon.ws.calls)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = beacon.deps.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        async with beacon.deps.db.transaction() as session:
            listed = await beacon.deps.leaders.directory(session=session)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(listed.leaders) == 3
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 2, reads
    assert [c.method for c in beacon.ws.calls[calls:]] == [], "no Slack call on the request path"


def test_the_organisation_file_refuses_leaders_without_places(slack: LocalSlack) -> None:
    with pytest.raises(ConfigError, match=re.escape("roles.leaders: U0HEIDI has no places")):
        organisation_for(slack.workspace, roles={"leaders": [HEIDI]})
    with pytest.raises(ConfigError, match=re.escape("'Luton' is not a site under sites")):
        organisation_for(slack.workspace, roles={"leaders": [HEIDI]}, leaders={HEIDI: {"sites": ["Luton"]}})
    with pytest.raises(ConfigError, match=re.escape("leaders.U0ALICE is not in roles.leaders")):
        organisation_for(slack.workspace, leaders={ALICE: {"areas": ["Essex"]}})


async def test_a_leaders_commitment_is_in_their_export_and_goes_with_erasure(beacon: Beacon) -> None:
    await leaders_refresh.run(beacon.deps)
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.leaders.set_statement(session=session, user_id=HEIDI, text="I will listen")
    async with beacon.deps.db.transaction() as session:
        document = await beacon.deps.privacy.export(session=session, user_id=HEIDI, actor="cli:ig-officer")
    assert document["leader_directory"]["commitment"] == "I will listen"
    assert document["leader_directory"]["photo"] == HEIDI_PHOTO + "_72.jpg"
    async with beacon.deps.db.transaction() as session:
        report = await beacon.deps.privacy.erase(session=session, user_id=HEIDI, actor="cli:ig-officer")
    assert report.changed["leader directory entry"] == 1
    async with beacon.deps.db.transaction() as session:
        assert await session.get(LeaderProfile, HEIDI) is None


def test_a_leader_card_as_built() -> None:
    from beacon.bot.blocks.leaders import build_directory_blocks
    from beacon.bot.services.leaders import Directory, LeaderCard
    from tests.snapshots import assert_snapshot

    card = LeaderCard(user_id=HEIDI, name="Heidi Hart", title="Locality Manager, Essex", area="Essex",
                      image_url=HEIDI_PHOTO + "_72.jpg", statement="I will be at every station & listen.\nEvery month.",
                      upcoming=("Wed 25 Nov, 14:00–15:30 GMT at Colchester Ambulance Station",))
    unnamed = LeaderCard(user_id=CAROL, name="", title="Executive", area="Trust-wide", image_url="", statement=None,
                         upcoming=())
    blocks = build_directory_blocks(Directory([unnamed, card], more=3, query=None), may_write=True)
    assert_snapshot("leaders_directory", [b.to_dict() for b in blocks])


async def test_a_leader_writes_their_commitment_from_the_directory(beacon: Beacon) -> None:
    heidi = beacon.slack.person(HEIDI)
    await heidi.open_home()
    await settle()
    await heidi.click(ActionId.LEADERS_OPEN, in_home=True)
    await settle()
    assert heidi.modal is not None and heidi.modal.callback_id == CallbackId.LEADERS_DIRECTORY
    await heidi.click(ActionId.LEADER_STATEMENT_OPEN)  # in the directory's modal: the form is pushed on top
    await settle()
    assert heidi.modal is not None and heidi.modal.callback_id == CallbackId.LEADER_STATEMENT
    await _write(heidi, "Ask me anything, any shift.")
    await settle()
    await leaders_refresh.run(beacon.deps)
    await heidi.command("/leaders", "Heidi")
    await settle()
    assert "&gt; Ask me anything, any shift." not in heidi.last_ephemeral().blocks[1]["text"]["text"]
    assert "> Ask me anything, any shift." in heidi.last_ephemeral().blocks[1]["text"]["text"]

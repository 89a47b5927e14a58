"""Peer nominations end to end through Slack: nominate, receipts, consent, celebration, endorsement, privacy."""

from __future__ import annotations

import asyncio
import json

from beacon.bot.ids import ActionId, BlockId
from beacon.bot.models import Consent, NominationStatus
from tests.harness import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    GRACE,
    HEIDI,
    RECOGNITION,
    Beacon,
    connections_in_use,
    settle,
    slack_answered,
)
from tests.nominating import STORY, choose_award, deliver, fill_and_send, nominate, nominations, open_modal


def _shown(blocks: list[dict]) -> str:
    return json.dumps(blocks)


async def test_a_colleague_is_nominated_thanked_and_celebrated_with_consent(beacon: Beacon) -> None:
    bob, alice, carol = (beacon.slack.person(u) for u in (BOB, ALICE, CAROL))
    await open_modal(bob, "<@U0ALICE|alice>")
    colleagues = next(b for b in bob.modal.blocks if b.get("block_id") == BlockId.NOMINATE_COLLEAGUES)
    assert colleagues["element"]["initial_users"] == [ALICE], "/nominate @colleague fills the colleague in"
    assert BlockId.NOMINATE_BEHAVIOURS not in _shown(bob.modal.blocks)

    await choose_award(bob, "leadership")
    assert BlockId.NOMINATE_BEHAVIOURS in _shown(bob.modal.blocks), "the Leadership award asks for behaviours"
    reply = await fill_and_send(bob, values=["care", "honesty"], behaviours=["leading_with_care"])
    assert reply.status == 200 and reply.json == {}, f"submitted without errors: {reply.json}"
    assert bob.modal is None

    [(nomination, nominees)] = await nominations(beacon)
    assert nomination.award == "leadership" and nomination.values == ["care", "honesty"]
    assert [n.user_id for n in nominees] == [ALICE] and nominees[0].consent == Consent.PENDING

    await deliver(beacon)
    receipt = bob.dms()[-1]
    assert "received your nomination of <@U0ALICE> for the *Delivering Excellence through Leadership* award" in (
        receipt.text)
    told = alice.dms()[-1]
    assert told.text == (":tada: <@U0BOB> nominated you for the *Delivering Excellence through Leadership* "
                         "award.")
    assert "Leading with care" in _shown(told.blocks) and ":heart: Care" in _shown(told.blocks)
    assert beacon.ws.messages(RECOGNITION) == [], "nothing is public before the nominee agrees"

    await alice.click(ActionId.CONSENT_GIVE, message=told)
    await settle()
    answered = _shown(alice.dms()[-1].blocks)
    assert "Is that all right" not in answered and "You said yes" in answered, "the question gives way to the answer"
    assert ActionId.CONSENT_DECLINE in answered, "she can still change her mind"
    await deliver(beacon)
    [post] = beacon.ws.messages(RECOGNITION)
    assert post.text.startswith(":trophy: <@U0BOB> nominated <@U0ALICE> for the *Delivering Excellence")
    assert "Calm, kind and honest" in _shown(post.blocks)

    await carol.click(ActionId.ENDORSE, message=post)
    await settle()
    assert "1 colleague has endorsed this" in _shown(beacon.ws.messages(RECOGNITION)[0].blocks)
    await carol.click(ActionId.ENDORSE, message=beacon.ws.messages(RECOGNITION)[0])
    await settle()
    assert "already endorsed" in carol.last_ephemeral().text
    await alice.click(ActionId.ENDORSE, message=beacon.ws.messages(RECOGNITION)[0])
    await settle()
    assert "is about you" in alice.last_ephemeral().text


async def test_nothing_is_public_unless_the_nominator_wished_it(beacon: Beacon) -> None:
    bob, alice = beacon.slack.person(BOB), beacon.slack.person(ALICE)
    await nominate(bob, colleagues=[ALICE], share=False)
    await deliver(beacon)
    assert "Is that all right" not in _shown(alice.dms()[-1].blocks), "no consent is asked for a private one"
    [(_, nominees)] = await nominations(beacon)
    assert nominees[0].consent == Consent.NOT_ASKED
    assert beacon.ws.messages(RECOGNITION) == []


async def test_declining_keeps_it_private_and_removes_a_celebration_already_posted(beacon: Beacon) -> None:
    bob, alice = beacon.slack.person(BOB), beacon.slack.person(ALICE)
    await nominate(bob, colleagues=[ALICE])
    await deliver(beacon)
    request = alice.dms()[-1]
    await alice.click(ActionId.CONSENT_GIVE, message=request)
    await deliver(beacon)
    assert len(beacon.ws.messages(RECOGNITION)) == 1
    await alice.click(ActionId.CONSENT_DECLINE, message=request)
    await settle()
    assert beacon.ws.messages(RECOGNITION) == [], "changing her mind takes the celebration down"
    assert "Kept private" in _shown(alice.dms()[-1].blocks)


async def test_a_team_is_celebrated_only_when_everyone_has_agreed(beacon: Beacon) -> None:
    bob, alice, heidi = (beacon.slack.person(u) for u in (BOB, ALICE, HEIDI))
    await nominate(bob, award="thanks", colleagues=[ALICE, HEIDI])
    await deliver(beacon)
    await alice.click(ActionId.CONSENT_GIVE, message=alice.dms()[-1])
    await deliver(beacon)
    assert beacon.ws.messages(RECOGNITION) == []
    await heidi.click(ActionId.CONSENT_GIVE, message=heidi.dms()[-1])
    await deliver(beacon)
    [post] = beacon.ws.messages(RECOGNITION)
    assert post.text == ":clap: <@U0BOB> says thank you to <@U0ALICE> and <@U0HEIDI>"


async def test_inline_errors_say_what_to_fix(beacon: Beacon) -> None:
    ws = beacon.ws
    ws.add_user("U0GONE", "gone", "Gone Away", deleted=True)
    ws.add_user("U0ROBOT", "robot", "Rota Bot", is_bot=True)
    bob = beacon.slack.person(BOB)
    await open_modal(bob)
    await choose_award(bob, "leadership")
    cases = [
        (dict(colleagues=[BOB]), BlockId.NOMINATE_COLLEAGUES, "cannot nominate yourself"),
        (dict(colleagues=["U0ROBOT"]), BlockId.NOMINATE_COLLEAGUES, "Rota Bot is an app, not a colleague"),
        (dict(colleagues=["U0GONE"]), BlockId.NOMINATE_COLLEAGUES, "Gone Away is no longer active on Slack"),
        (dict(colleagues=[ALICE], values=[]), BlockId.NOMINATE_VALUES, "at least one Trust value"),
        (dict(colleagues=[ALICE], behaviours=[]), BlockId.NOMINATE_BEHAVIOURS, "needs at least one leadership"),
        (dict(colleagues=[ALICE], story="Great job, thanks!"), BlockId.NOMINATE_STORY, "at least 50 characters"),
        (dict(colleagues=[ALICE], story=STORY + " Her NHS number is 943 476 5919."), BlockId.NOMINATE_STORY,
         "This looks like an NHS number (“943 476 5919”)"),
        (dict(colleagues=[ALICE], confirm=False), BlockId.NOMINATE_NO_PATIENT_DETAILS, "Please confirm"),
    ]
    for fields, block, message in cases:
        reply = await fill_and_send(bob, **{"behaviours": ["leading_with_care"], **fields})
        assert reply.json.get("response_action") == "errors", f"{fields} should be refused"
        assert message in reply.json["errors"][block], reply.json["errors"]
    assert await nominations(beacon) == [], "nothing is stored from a refused nomination"


async def test_nominating_the_same_colleague_again_updates_the_earlier_one(beacon: Beacon) -> None:
    bob = beacon.slack.person(BOB)
    await nominate(bob, colleagues=[ALICE], values=["care"])
    await nominate(bob, colleagues=[ALICE], values=["teamwork"], story=STORY + " And again on Friday.")
    [(nomination, _)] = await nominations(beacon)
    assert nomination.values == ["teamwork"] and nomination.story.endswith("And again on Friday.")
    await deliver(beacon)
    assert "updated your earlier nomination of <@U0ALICE>" in bob.dms()[-1].text
    await nominate(bob, award="thanks", colleagues=[ALICE])
    assert len(await nominations(beacon)) == 2, "a thank-you is never folded into an award nomination"


async def test_a_hidden_nominator_stays_hidden_from_the_nominee_and_the_channel(beacon: Beacon) -> None:
    bob, alice = beacon.slack.person(BOB), beacon.slack.person(ALICE)
    await nominate(bob, colleagues=[ALICE], hide=True)
    await deliver(beacon)
    told = alice.dms()[-1]
    assert told.text.startswith(":tada: A colleague nominated you") and "U0BOB" not in _shown(told.blocks)
    await alice.click(ActionId.CONSENT_GIVE, message=told)
    await deliver(beacon)
    [post] = beacon.ws.messages(RECOGNITION)
    assert "U0BOB" not in post.text + _shown(post.blocks)
    await alice.open_home()
    await bob.open_home()
    await settle()
    assert "U0BOB" not in _shown(alice.home.blocks)  # type: ignore[union-attr]
    assert "Recognition you have received" in _shown(alice.home.blocks)  # type: ignore[union-attr]
    assert "<@U0ALICE>" in _shown(bob.home.blocks), "the nominator sees whom they nominated"  # type: ignore[union-attr]


async def test_user_text_pings_nobody_anywhere(beacon: Beacon) -> None:
    bob, alice = beacon.slack.person(BOB), beacon.slack.person(ALICE)
    story = STORY + " <!channel> <!here> <@U0CAROL> <https://evil.example|click>"
    await nominate(bob, colleagues=[ALICE], story=story)
    await deliver(beacon)
    await alice.click(ActionId.CONSENT_GIVE, message=alice.dms()[-1])
    await deliver(beacon)
    await alice.open_home()
    await settle()
    surfaces = [alice.dms()[0], bob.dms()[-1], beacon.ws.messages(RECOGNITION)[0]]
    for message in surfaces:
        everything = message.text + _shown(message.blocks)
        for live in ("<!channel>", "<!here>", "<@U0CAROL>", "<https://evil.example"):
            assert live not in everything
        assert "&lt;!channel&gt;" in everything
    assert "<!channel>" not in _shown(alice.home.blocks)  # type: ignore[union-attr]


async def test_colleagues_not_on_slack_and_paper_nominations(beacon: Beacon) -> None:
    grace = beacon.slack.person(GRACE)
    await nominate(grace, colleagues=[], not_on_slack="Sam Jones, Emergency Care Assistant, Bedford\nLee Wu",
                   on_behalf="Pat Smith (paper form)")
    [(nomination, nominees)] = await nominations(beacon)
    assert nomination.nominator_id is None and nomination.nominator_name == "Pat Smith (paper form)"
    assert nomination.entered_by == GRACE
    assert [(n.name, n.role, n.site) for n in nominees] == [("Sam Jones", "Emergency Care Assistant", "Bedford"),
                                                            ("Lee Wu", None, None)]
    assert all(n.consent == Consent.NOT_ASKED for n in nominees)
    await grace.open_home()
    await settle()
    assert "Sam Jones (Emergency Care Assistant, Bedford) and Lee Wu (for Pat Smith (paper form))" in _shown(
        grace.home.blocks)  # type: ignore[union-attr]


async def test_only_the_comms_team_may_enter_a_nomination_for_someone_else(beacon: Beacon) -> None:
    bob, alice = beacon.slack.person(BOB), beacon.slack.person(ALICE)
    await open_modal(alice)
    assert BlockId.NOMINATE_ON_BEHALF not in _shown(alice.modal.blocks)  # type: ignore[union-attr]
    await open_modal(bob)
    assert BlockId.NOMINATE_ON_BEHALF in _shown(bob.modal.blocks), "Bob is in comms"  # type: ignore[union-attr]


async def test_edit_and_withdraw_from_the_home_tab(beacon: Beacon) -> None:
    bob, alice = beacon.slack.person(BOB), beacon.slack.person(ALICE)
    await nominate(bob, colleagues=[ALICE], values=["care"])
    await bob.open_home()
    await settle()
    await bob.click(ActionId.NOMINATION_EDIT, in_home=True)
    await settle()
    assert bob.modal is not None and STORY in _shown(bob.modal.blocks), "the modal comes back filled in"
    await fill_and_send(bob, values=["respect"])
    [(nomination, _)] = await nominations(beacon)
    assert nomination.values == ["respect"]
    await bob.click(ActionId.NOMINATION_WITHDRAW, in_home=True)
    await settle()
    [(nomination, _)] = await nominations(beacon)
    assert nomination.status == NominationStatus.WITHDRAWN
    await alice.open_home()
    await settle()
    assert STORY[:40] not in _shown(alice.home.blocks), "a withdrawn nomination leaves the record"  # type: ignore[union-attr]


async def test_nobody_else_sees_a_nomination(beacon: Beacon) -> None:
    bob, heidi, dave = (beacon.slack.person(u) for u in (BOB, HEIDI, DAVE))
    await nominate(bob, colleagues=[ALICE])
    await deliver(beacon)
    for outsider in (heidi, dave):
        await outsider.open_home()
        await outsider.command("/beacon")
    await settle()
    for outsider in (heidi, dave):
        seen = _shown(outsider.home.blocks) + json.dumps([m.blocks for m in outsider.dms()])  # type: ignore[union-attr]
        seen += json.dumps([e.blocks for e in outsider.ephemerals()])
        assert STORY[:40] not in seen
    everywhere_public = json.dumps([m.blocks for c in beacon.ws.channels.values() if not c.is_im for m in c.messages])
    assert STORY[:40] not in everywhere_public
    dm_channels = {c.id for c in beacon.ws.channels.values() if c.is_im and any(STORY[:40] in json.dumps(m.blocks)
                                                                                  for m in c.messages)}
    assert dm_channels == {"D0ALICE", "D0BOB"}, "only the nominee and the nominator were told"


async def test_no_connection_is_held_while_slack_says_who_the_nominees_are(beacon: Beacon) -> None:
    """Checking the colleagues chosen asks Slack (users.info); it happens before the nomination's transaction
    touches the database, so a slow Slack keeps no connection (nor SQLite's write lock) from anyone else."""
    bob = beacon.slack.person(BOB)
    await open_modal(bob)
    await choose_award(bob, "values")
    asked = len(beacon.ws.calls_to("users.info"))
    beacon.slack.faults.add("users.info", delay_after=1.5)
    with connections_in_use(beacon.deps.db) as in_use:
        sending = asyncio.create_task(fill_and_send(bob, colleagues=[HEIDI]))
        await slack_answered(beacon.ws, "users.info", after=asked)
        for _ in range(50):  # the replay check's one-row write runs beside the form's check, and ends at once
            if in_use() == 0:
                break
            await asyncio.sleep(0.01)
        assert in_use() == 0, "no connection is checked out while Slack is asked"
        assert not sending.done(), "Slack has not answered yet"
        await sending
    assert len(await nominations(beacon)) == 1, "and the nomination went in"

"""Award rounds and the panel's review, end to end through Slack, with conflicts and privacy enforced."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from beacon.bot.ids import ActionId, BlockId, CallbackId
from beacon.bot.local_slack import payloads
from beacon.bot.models import AwardRound, CandidateDecision, OutboxMessage, RoundExport, RoundStatus, Score
from beacon.bot.organisation import Organisation
from tests.harness import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    ERIN,
    FRANK,
    GRACE,
    HEIDI,
    RECOGNITION,
    Beacon,
    organisation_for,
    settle,
)
from tests.nominating import STORY, deliver, nominate, nominations
from tests.scheduling import tick


@pytest.fixture
def organisation(slack) -> Organisation:  # type: ignore[no-untyped-def]
    return organisation_for(slack.workspace, roles={"panel": [DAVE, ERIN], "admins": [FRANK], "comms": [BOB],
                                                   "executives": [CAROL]},
                            sites=[{"name": "Bedford Ambulance Station", "area": "Bedfordshire",
                                    "aliases": ["Bedford"]},
                                   {"name": "Chelmsford Ambulance Station", "area": "Essex"}])


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


async def _awards(beacon: Beacon, user: str, text: str) -> str:
    person = beacon.slack.person(user)
    await person.command("/awards", text)
    await settle()
    return person.last_ephemeral().text if person.ephemerals() else ""


async def _round(beacon: Beacon) -> AwardRound:
    async with beacon.deps.db.transaction() as session:
        return (await session.scalars(select(AwardRound).order_by(AwardRound.id.desc()))).first()  # type: ignore[return-value]


async def _open_with_nominations(beacon: Beacon) -> None:
    """A round with Alice nominated twice (by Bob and by Erin, who sits on the panel) and Heidi once."""
    await _awards(beacon, DAVE, 'open "2027 Staff Awards" closes 2027-03-31')
    await nominate(beacon.slack.person(BOB), colleagues=[ALICE], values=["care", "teamwork"])
    await nominate(beacon.slack.person(ERIN), colleagues=[ALICE], values=["care"],
                   story=STORY + " Erin saw it too.")
    await nominate(beacon.slack.person(CAROL), colleagues=[HEIDI], values=["quality"])
    await deliver(beacon)


async def test_a_round_opens_reminds_and_closes_on_time(beacon: Beacon) -> None:
    told = await _awards(beacon, DAVE, 'open “2027 Staff Awards” closes 2027-03-31')
    assert "*2027 Staff Awards* is open for nominations" in told and "Wednesday 31 March 2027 at 23:59" in told
    async with beacon.deps.db.transaction() as session:
        posts = (await session.scalars(select(OutboxMessage).where(OutboxMessage.source == "round_post")
                                       .order_by(OutboxMessage.due_at))).all()
    assert [(p.content["template"], p.due_at) for p in posts] == [
        ("round_opened", _utc(2026, 11, 23, 9, 0)), ("round_reminder", _utc(2027, 3, 24, 9, 0)),
        ("round_reminder", _utc(2027, 3, 30, 8, 0)), ("round_closed", _utc(2027, 3, 31, 23, 0))]
    await deliver(beacon)
    assert "Nominations are open for *2027 Staff Awards*" in beacon.ws.messages(RECOGNITION)[0].text
    assert "A round is already open" in await _awards(beacon, FRANK, 'open "Another" closes 2027-05-01')

    await tick(beacon, _utc(2027, 3, 30, 8, 0))
    assert "close tomorrow" in beacon.ws.messages(RECOGNITION)[-1].text
    await tick(beacon, _utc(2027, 3, 31, 23, 0))
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.award_rounds.close_due(session=session)
    assert (await _round(beacon)).status == RoundStatus.CLOSED
    await beacon.deps.dispatcher.run_once()
    assert "are now closed" in beacon.ws.messages(RECOGNITION)[-1].text


async def test_an_award_nomination_with_no_round_open_is_kept_as_recognition(beacon: Beacon) -> None:
    bob = beacon.slack.person(BOB)
    await nominate(bob, colleagues=[ALICE])
    await deliver(beacon)
    assert "No award round is open just now, so this is kept as recognition" in json.dumps(bob.dms()[-1].blocks)
    [(nomination, _)] = await nominations(beacon)
    assert nomination.round_id is None
    await _awards(beacon, DAVE, 'open "2027 Staff Awards" closes 2027-03-31')
    await nominate(bob, colleagues=[HEIDI])
    assert (await nominations(beacon))[1][0].round_id == (await _round(beacon)).id


async def test_the_panel_reviews_scores_and_respects_conflicts(beacon: Beacon) -> None:
    await _open_with_nominations(beacon)
    dave, erin = beacon.slack.person(DAVE), beacon.slack.person(ERIN)
    await dave.command("/awards", "review")
    await settle()
    review = json.dumps(dave.modal.blocks)  # type: ignore[union-attr]
    assert "3 nominations for 2 candidates" in review
    assert "Care 2" in review and "Teamwork 1" in review
    assert "conflict: <@U0ERIN> nominated" in review, "the panel sees Erin's conflict"

    await dave.click(ActionId.AWARDS_CANDIDATE_OPEN, value=None, block_id=None)  # the first candidate: Alice
    await settle()
    assert dave.modal.callback_id == CallbackId.AWARDS_CANDIDATE  # type: ignore[union-attr]
    assert "Erin saw it too" in json.dumps(dave.modal.blocks)  # type: ignore[union-attr]
    await dave.click(ActionId.AWARDS_SCORE_OPEN)
    await settle()
    assert dave.modal.callback_id == CallbackId.AWARDS_CANDIDATE, "no score sheet while the round is open"  # type: ignore[union-attr]
    assert "once the round has closed" in dave.dms()[-1].text

    await _awards(beacon, DAVE, "close")
    await dave.click(ActionId.AWARDS_SCORE_OPEN)
    await settle()
    await dave.submit({BlockId.AWARDS_SCORE_VALUE: "4", BlockId.AWARDS_SCORE_NOTE: "Strong example"})
    await settle()
    candidate = json.dumps(dave.modal.blocks)  # type: ignore[union-attr]
    assert "Your score: *4*" in candidate, "back on the candidate, with the score shown"

    await erin.command("/awards", "review")
    await settle()
    await erin.click(ActionId.AWARDS_CANDIDATE_OPEN)
    await settle()
    hidden = json.dumps(erin.modal.blocks)  # type: ignore[union-attr]
    assert "You have a conflict of interest here" in hidden
    assert STORY[:40] not in hidden and "Strong example" not in hidden and "Your score" not in hidden
    async with beacon.deps.db.transaction() as session:
        alice_nomination = (await nominations(beacon))[0][0]
        with pytest.raises(Exception, match="conflict of interest"):
            await beacon.deps.panel_review.score(session=session, user_id=ERIN, nomination_id=alice_nomination.id,
                                                 score=5, level=None, note="")


async def test_scores_of_others_show_only_after_scoring_your_own(beacon: Beacon, slack) -> None:  # type: ignore[no-untyped-def]
    await _open_with_nominations(beacon)
    await _awards(beacon, DAVE, "close")
    heidi_candidate = None
    async with beacon.deps.db.transaction() as session:
        page = await beacon.deps.panel_review.review(session=session, user_id=DAVE, award="values")
        heidi_candidate = next(c for c in page.candidates if c.key == HEIDI)
        [nomination_id] = heidi_candidate.nomination_ids
        await beacon.deps.panel_review.score(session=session, user_id=ERIN, nomination_id=nomination_id, score=5,
                                             level=None, note="Outstanding")
        before = await beacon.deps.panel_review.candidate(session=session, user_id=DAVE, award="values", key=HEIDI)
        assert before.nominations[0].others == [], "Erin's score stays hidden from Dave until he scores"
        await beacon.deps.panel_review.score(session=session, user_id=DAVE, nomination_id=nomination_id, score=3,
                                             level=None, note="")
        after = await beacon.deps.panel_review.candidate(session=session, user_id=DAVE, award="values", key=HEIDI)
        assert [(s.panel_member, s.score) for s in after.nominations[0].others] == [(ERIN, 5)]


async def test_decide_announce_with_consent_and_tell_every_nominator(beacon: Beacon) -> None:
    await _open_with_nominations(beacon)
    await _awards(beacon, DAVE, "close")
    assert "Mark at least one winner" in await _awards(beacon, DAVE, "decide")
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.panel_review.decide_candidate(session=session, user_id=DAVE, award="values", key=HEIDI,
                                                        winner=True)
        await beacon.deps.panel_review.decide_candidate(session=session, user_id=DAVE, award="values", key=ALICE,
                                                        shortlisted=True)
    assert "1 winner(s)" in await _awards(beacon, DAVE, "decide")
    await deliver(beacon)
    heidi = beacon.slack.person(HEIDI)
    ask = heidi.dms()[-1]
    assert "chosen you as a winner of the *Delivering Excellence through Values* award" in ask.text
    await heidi.click(ActionId.WINNER_CONSENT_GIVE, message=ask)
    await settle()
    assert "you will be named" in json.dumps(heidi.dms()[-1].blocks)

    await _awards(beacon, DAVE, "announce")
    await deliver(beacon)
    announcement = beacon.ws.messages(RECOGNITION)[-1]
    assert "The winners of *2027 Staff Awards*" in announcement.text
    assert "<@U0HEIDI>" in json.dumps(announcement.blocks) and "<@U0ALICE>" not in json.dumps(announcement.blocks)
    assert "for *Delivering Excellence through Values* won" in beacon.slack.person(CAROL).dms()[-1].text
    assert "was shortlisted" in beacon.slack.person(BOB).dms()[-1].text
    assert (await _round(beacon)).status == RoundStatus.ANNOUNCED


async def test_a_winner_who_declines_is_not_named(beacon: Beacon) -> None:
    await _open_with_nominations(beacon)
    await _awards(beacon, DAVE, "close")
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.panel_review.decide_candidate(session=session, user_id=DAVE, award="values", key=HEIDI,
                                                        winner=True)
    await _awards(beacon, DAVE, "decide")
    await deliver(beacon)
    heidi = beacon.slack.person(HEIDI)
    await heidi.click(ActionId.WINNER_CONSENT_DECLINE, message=heidi.dms()[-1])
    await settle()
    await _awards(beacon, DAVE, "announce")
    await deliver(beacon)
    announcement = json.dumps(beacon.ws.messages(RECOGNITION)[-1].blocks)
    assert "<@U0HEIDI>" not in announcement and "1 more winner, not named here" in announcement
    assert "preferred not" not in announcement, "why a winner is not named is nobody's business"


async def test_export_arrives_as_a_csv_in_direct_messages_and_is_recorded(beacon: Beacon) -> None:
    await _open_with_nominations(beacon)
    await _awards(beacon, DAVE, "close")
    async with beacon.deps.db.transaction() as session:
        page = await beacon.deps.panel_review.review(session=session, user_id=DAVE, award="values")
        alice = next(c for c in page.candidates if c.key == ALICE)
        await beacon.deps.panel_review.score(session=session, user_id=DAVE, nomination_id=alice.nomination_ids[0],
                                             score=4, level=None, note="=HYPERLINK(x) sneaky")
    told = await _awards(beacon, DAVE, "export")
    assert "(3 nominations) is in your direct messages" in told
    [message] = [m for m in beacon.slack.person(DAVE).dms() if m.files]
    file = beacon.ws.files[message.files[0]["id"]]
    rows = list(csv.DictReader(io.StringIO(file.content.decode("utf-8-sig"))))  # type: ignore[union-attr]
    assert len(rows) == 3 and {r["award"] for r in rows} == {"Delivering Excellence through Values"}
    assert any(r["scores"] == f"{DAVE}: 4" for r in rows)
    assert any(r["notes"].startswith(f"{DAVE}: =HYPERLINK") for r in rows), "notes are not cells that compute"
    await _awards(beacon, ERIN, "export")
    [erins] = [m for m in beacon.slack.person(ERIN).dms() if m.files]
    erin_rows = list(csv.DictReader(io.StringIO(beacon.ws.files[erins.files[0]["id"]].content.decode("utf-8-sig"))))  # type: ignore[union-attr]
    assert {r["scores"] for r in erin_rows if ALICE in r["nominees"]} == {"withheld (conflict of interest)"}
    async with beacon.deps.db.transaction() as session:
        exports = (await session.scalars(select(RoundExport))).all()
    assert [(e.user_id, e.rows) for e in exports] == [(DAVE, 3), (ERIN, 3)]


async def test_insight_counts_and_suppresses_small_groups(beacon: Beacon) -> None:
    await _awards(beacon, DAVE, 'open "2027 Staff Awards" closes 2027-03-31')
    bob = beacon.slack.person(BOB)
    crews = "\n".join(f"Crew Member {i}, Paramedic, Bedford" for i in range(6))
    await nominate(bob, colleagues=[], not_on_slack=crews, values=["teamwork"])
    await nominate(bob, colleagues=[ALICE], values=["care"])
    told = await _awards(beacon, BOB, "insight")  # comms may see insight
    shown = json.dumps(beacon.slack.person(BOB).last_ephemeral().blocks)
    assert told == "Award insight"
    assert "2* nominations recognised *7* colleagues" in shown
    # Care (1 person) is too small, and Teamwork (6) is hidden too: 7 colleagues minus 6 would give Care away.
    assert "Teamwork: not shown" in shown and "Care: not shown" in shown
    assert "Bedfordshire: 1 nominations, 6 people" in shown


PANEL_COMMANDS = ["open \"X\" closes 2027-03-31", "status", "close", "review", "decide", "announce", "export",
                  "insight", "archive"]


@pytest.mark.parametrize("text", PANEL_COMMANDS)
async def test_staff_are_refused_every_panel_command(beacon: Beacon, text: str) -> None:
    await _open_with_nominations(beacon)
    outsider = beacon.slack.person(GRACE)
    before = (await _round(beacon)).status
    told = await _awards(beacon, GRACE, text)
    assert "needs the *awards panel*" in told
    assert outsider.modal is None and not [m for m in outsider.dms() if m.files]
    assert (await _round(beacon)).status == before
    assert STORY[:40] not in json.dumps([e.blocks for e in outsider.ephemerals()])


@pytest.mark.parametrize("action", [ActionId.AWARDS_CANDIDATE_OPEN, ActionId.AWARDS_SHORTLIST, ActionId.AWARDS_WINNER,
                                    ActionId.AWARDS_CONFLICT, ActionId.AWARDS_SCORE_OPEN, ActionId.AWARDS_PAGE])
async def test_staff_are_refused_every_panel_action_even_when_forged(beacon: Beacon, action: str) -> None:
    await _open_with_nominations(beacon)
    await _awards(beacon, DAVE, "close")
    ws = beacon.ws
    [(nomination, _), *_] = await nominations(beacon)
    value = {ActionId.AWARDS_SCORE_OPEN: str(nomination.id), ActionId.AWARDS_PAGE: "0"}.get(
        action, json.dumps({"a": "values", "k": ALICE, "on": True}))
    dave = beacon.slack.person(DAVE)
    await dave.command("/awards", "review")
    await settle()
    view = dave.modal  # Grace forges a click on a copy of the panel's own modal
    forged = payloads.block_actions_on_view(ws, user=ws.users[GRACE], view=view, trigger_id=ws.issue_trigger(GRACE),  # type: ignore[arg-type]
                                            actions=[{"type": "button", "action_id": action, "block_id": "x",
                                                      "value": value, "action_ts": "1"}])
    reply = await beacon.slack.send_interaction(forged)
    await settle()
    assert reply.status == 200
    told = beacon.slack.person(GRACE).dms()[-1].text
    assert "needs the *awards panel* role" in told
    assert STORY[:40] not in json.dumps([m.blocks for m in beacon.slack.person(GRACE).dms()])
    async with beacon.deps.db.transaction() as session:
        assert (await session.scalars(select(CandidateDecision))).all() == []
        assert (await session.scalars(select(Score))).all() == []


async def test_a_round_can_be_opened_from_the_app_home(beacon: Beacon) -> None:

    dave = beacon.slack.person(DAVE)
    await dave.open_home()
    await settle()
    await dave.click(ActionId.AWARDS_ROUND_NEW, in_home=True)
    await settle()
    reply = await dave.submit({BlockId.AWARDS_ROUND_NAME: "Spring Awards", BlockId.AWARDS_ROUND_CLOSES: "2026-11-23"})
    assert "too soon" in reply.json["errors"][BlockId.AWARDS_ROUND_CLOSES]
    await dave.submit({BlockId.AWARDS_ROUND_CLOSES: "2027-02-28"})
    await settle()
    assert (await _round(beacon)).name == "Spring Awards"
    assert "*Spring Awards* is open for nominations" in json.dumps(dave.home.blocks)  # type: ignore[union-attr]
    assert "A round is already open" in await _awards(beacon, FRANK, 'open "Another" closes 2027-05-01')


async def test_a_large_crew_not_on_slack_can_be_reviewed_and_decided(beacon: Beacon) -> None:
    """Twenty colleagues not on Slack, named in one nomination (the form's 1,000 characters): their candidate's key
    would outgrow the 400-character column, so the panel could not decide it on PostgreSQL."""
    await _awards(beacon, DAVE, 'open "2027 Staff Awards" closes 2027-03-31')
    crew = "\n".join(f"Colleague Number {n:02d} Longname, Paramedic" for n in range(20))
    await nominate(beacon.slack.person(BOB), colleagues=[], not_on_slack=crew, values=["teamwork"])
    await deliver(beacon)
    await _awards(beacon, DAVE, "close")
    dave = beacon.slack.person(DAVE)
    await dave.command("/awards", "review")
    await settle()
    await dave.click(ActionId.AWARDS_CANDIDATE_OPEN)
    await settle()
    assert dave.modal is not None and dave.modal.callback_id == CallbackId.AWARDS_CANDIDATE
    assert "Colleague Number 19" in json.dumps(dave.modal.blocks)
    await dave.click(ActionId.AWARDS_SHORTLIST)
    await settle()
    async with beacon.deps.db.transaction() as session:
        [decision] = (await session.scalars(select(CandidateDecision))).all()
    assert decision.shortlisted and decision.candidate.startswith("team:") and len(decision.candidate) <= 400
    assert "Shortlisted" in json.dumps(dave.modal.blocks) or "shortlist" in json.dumps(dave.modal.blocks).lower()

"""Pulse polls end to end: build, answer once each, change by token, close, results with suppression,
and anonymity shown by inspecting what is stored."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from beacon.bot.blocks.pulses import slot_blocks
from beacon.bot.ids import ActionId, BlockId
from beacon.bot.local_slack import payloads
from beacon.bot.local_slack.workspace import Message
from beacon.bot.models import Pulse, PulseAnswer, PulseParticipation
from beacon.bot.organisation import Organisation
from beacon.bot.services.job_runs import claim_period
from beacon.bot.services.pulse_results import breakdown
from tests.harness import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    ERIN,
    FORUM,
    FRANK,
    GRACE,
    HEIDI,
    SECRET_KEY,
    Beacon,
    connections_in_use,
    organisation_for,
    settle,
    slack_answered,
)

STAFF = [ALICE, BOB, CAROL, DAVE, FRANK, GRACE, HEIDI]


@pytest.fixture
def organisation(slack) -> Organisation:  # type: ignore[no-untyped-def]
    return organisation_for(slack.workspace, pulse={"reporting_minimum": 3},
                            sites=[{"name": "Chelmsford Ambulance Station", "area": "Essex"},
                                   {"name": "Bedford Ambulance Station", "area": "Bedfordshire"}])


async def _deliver(beacon: Beacon) -> None:
    await beacon.deps.dispatcher.run_once()
    await settle()


async def _create(beacon: Beacon, *, title: str = "Winter pressures", question: str = "How was your last shift?",
                  options: str = "Good\nOK\nHard", kind: str = "single", anonymous: bool = True,
                  bank: list[str] | None = None, slots: int = 1, reminder: str | None = None) -> Pulse:
    erin = beacon.slack.person(ERIN)
    await erin.command("/pulse", channel=FORUM)
    await settle()
    for _ in range(slots - 1):
        await erin.click(ActionId.PULSE_ADD_QUESTION)
        await settle()
    if slots == 0:
        await erin.click(ActionId.PULSE_REMOVE_QUESTION)
        await settle()
    values: dict = {BlockId.PULSE_TITLE: title, BlockId.PULSE_SETTINGS: ["anonymous"] if anonymous else [],
                    BlockId.PULSE_CLOSES_DAY: "2026-11-30", BlockId.PULSE_CLOSES_TIME: "17:00"}
    for slot in range(1, slots + 1):
        kind_block, text_block, options_block = slot_blocks(slot)
        values |= {kind_block: kind, text_block: f"{question} ({slot})" if slots > 1 else question,
                   options_block: options}
    if bank:
        values[BlockId.PULSE_BANK] = bank
    if reminder:
        values[BlockId.PULSE_REMINDER] = reminder
    reply = await erin.submit(values)
    assert reply.json == {}, reply.json
    await _deliver(beacon)
    async with beacon.deps.db.transaction() as session:
        return (await session.scalars(select(Pulse).order_by(Pulse.id.desc()))).first()  # type: ignore[return-value]


def _pulse_message(beacon: Beacon) -> Message:
    return next(m for m in beacon.ws.messages(FORUM) if m.blocks and m.blocks[0]["type"] == "header")


async def _choose(beacon: Beacon, user: str, index: int) -> None:
    await beacon.slack.person(user).click(f"{ActionId.PULSE_CHOOSE}_{index}", message=_pulse_message(beacon))
    await settle()


async def test_a_moderator_builds_a_pulse_and_staff_answer_in_the_message(beacon: Beacon) -> None:
    alice = beacon.slack.person(ALICE)
    await alice.command("/pulse", channel=FORUM)
    await settle()
    refusal = alice.last_ephemeral().text
    assert "needs the *staff forum moderator* or *communications team* role" in refusal
    assert "<@U0ERIN>, <@U0GRACE> and members of @comms-team" in refusal
    pulse = await _create(beacon)
    message = _pulse_message(beacon)
    shown = json.dumps(message.blocks)
    assert "How was your last shift?" in shown and "*Anonymous.* Nobody, not its creator" in shown
    assert [e["text"]["text"] for e in message.blocks[2]["elements"]] == ["Good", "OK", "Hard"]
    assert f"opens now in <#{FORUM}>" in beacon.slack.person(ERIN).dms()[-1].text

    await _choose(beacon, ALICE, 2)
    held = alice.last_ephemeral().blocks[0]["text"]["text"]
    assert "Beacon stores answers in groups (of 5 or more whenever enough people answer)" in held
    assert "at the latest when “Winter pressures” closes (Mon 30 Nov, 17:00 GMT)" in held
    await _choose(beacon, ALICE, 0)
    assert "waiting to be stored with other people's" in alice.last_ephemeral().text
    async with beacon.deps.db.transaction() as session:
        assert (await session.scalars(select(PulseAnswer))).all() == [], "one answer alone is never stored"
        await beacon.deps.pulses.counts_due(session=session)
    await _deliver(beacon)
    assert "0 responses" in json.dumps(_pulse_message(beacon).blocks), "the count does not move by one"

    await beacon.slack.person(ERIN).command("/pulse", f"close {pulse.id}", channel=FORUM)
    await settle()
    confirmation = alice.last_ephemeral()
    assert "Thank you, your answer is in." in confirmation.blocks[0]["text"]["text"]
    assert "*Hard*" in confirmation.blocks[0]["text"]["text"], "the first answer counts, the second did not"
    async with beacon.deps.db.transaction() as session:
        rows = (await session.scalars(select(PulseAnswer))).all()
    assert [r.answers for r in rows] == [{"q1": "Hard"}]
    await alice.click(ActionId.PULSE_CHANGE, message=confirmation)
    await settle()
    assert "has closed" in alice.last_ephemeral().text


async def test_two_clicks_at_the_same_moment_store_one_answer(beacon: Beacon) -> None:
    await _create(beacon)
    ws, message = beacon.ws, _pulse_message(beacon)
    block, element = message.blocks[2], message.blocks[2]["elements"][0]

    def click() -> dict:
        return payloads.block_actions_on_message(
            ws, user=ws.users[HEIDI], channel=ws.channels[FORUM], message=message, is_ephemeral=False,
            actions=[payloads.action(block, element, {})], trigger_id=ws.issue_trigger(HEIDI),
            response_url=f"{beacon.slack.url}/respond/x", state={})

    await asyncio.gather(beacon.slack.send_interaction(click()), beacon.slack.send_interaction(click()))
    await settle()
    await beacon.deps.pulse_answering.close(user_id=None, pulse_id=1)
    async with beacon.deps.db.transaction() as session:
        assert len((await session.scalars(select(PulseAnswer))).all()) == 1
        assert len((await session.scalars(select(PulseParticipation))).all()) == 1
        assert (await session.scalars(select(Pulse))).one().responses == 1


async def test_stored_anonymous_answers_cannot_be_tied_to_anyone(beacon: Beacon, database_url: str) -> None:
    await _create(beacon)
    for n, user in enumerate(STAFF):
        await _choose(beacon, user, n % 3)
    await beacon.slack.person(ERIN).command("/pulse", "close 1", channel=FORUM)
    await settle()
    async with beacon.deps.db.transaction() as session:
        answers = (await session.execute(text("SELECT * FROM pulse_answer"))).mappings().all()
        taking_part = (await session.execute(text("SELECT * FROM pulse_participation"))).mappings().all()
    assert set(answers[0].keys()) == {"id", "pulse_id", "answers", "answered_on", "change_hash"}
    assert set(taking_part[0].keys()) == {"pulse_id", "user_id"}, "participation holds no answer and no time"
    traces = set(STAFF)
    for user in STAFF:
        traces |= {hashlib.sha256(user.encode()).hexdigest(), hashlib.md5(user.encode()).hexdigest(),  # noqa: S324
                   hmac.new(SECRET_KEY.encode(), user.encode(), hashlib.sha256).hexdigest()}
    stored = json.dumps([dict(r) for r in answers], default=str)
    assert not [t for t in traces if t in stored], "no user id, hash or keyed hash of one is stored with answers"
    assert {str(r["answered_on"])[:10] for r in answers} == {"2026-11-23"}, "only the day is kept"
    ids = [r["id"] for r in answers]
    assert ids == sorted(ids), "rows sit in random-id order, not the order they were written"
    assert len({len(i) for i in ids}) == 1 and all(int(i, 16) for i in ids)
    assert [r["user_id"] for r in taking_part] == sorted(r["user_id"] for r in taking_part)


async def test_results_are_suppressed_below_the_minimum_and_posted_on_close(beacon: Beacon) -> None:
    await _create(beacon, slots=2, question="Rate", kind="agreement", options="")
    erin, alice = beacon.slack.person(ERIN), beacon.slack.person(ALICE)
    for user, answer in ((ALICE, "Agree"), (BOB, "Agree")):
        person = beacon.slack.person(user)
        await person.click(ActionId.PULSE_ANSWER, message=_pulse_message(beacon))
        await settle()
        await person.submit({"answer_q1": answer, "answer_q2": "Disagree"})
        await settle()
    await alice.command("/pulse", "close 1", channel=FORUM)
    await settle()
    assert "needs the *staff forum moderator*" in alice.last_ephemeral().text
    await erin.command("/pulse", "close 1", channel=FORUM)
    await settle()
    await _deliver(beacon)
    message = _pulse_message(beacon)
    thread = [m for m in beacon.ws.messages(FORUM) if m.thread_ts == message.ts]
    results = next(m for m in thread if m.text.startswith(":bar_chart: Results"))
    shown = json.dumps(results.blocks)
    assert results.broadcast, "posted in the thread and the channel"
    assert "Not enough responses to report (2)" in shown and "Agree:" not in shown
    assert any(m.files and m.files[0]["name"] == "pulse-results.png" for m in thread), "a chart in the thread"
    closed = json.dumps(message.blocks, ensure_ascii=False)
    assert "Closed · 2 responses" in closed and "Answer" not in closed
    await alice.click(ActionId.PULSE_ANSWER, message=Message(channel=FORUM, ts=message.ts, user="x", blocks=[
        {"type": "actions", "elements": [{"type": "button", "action_id": "pulse_answer", "value": "1",
                                          "text": {"type": "plain_text", "text": "Answer"}}]}]))
    await settle()
    assert "has closed" in alice.last_ephemeral().text


async def test_enough_answers_show_figures_but_comments_stay_with_moderators(beacon: Beacon) -> None:
    pulse = await _create(beacon, slots=2, question="Tell us", kind="text", options="")
    for user in (ALICE, BOB, CAROL):
        person = beacon.slack.person(user)
        await person.click(ActionId.PULSE_ANSWER, message=_pulse_message(beacon))
        await settle()
        await person.submit({"answer_q1": f"Comment from someone <!here> {user[-2:]}", "answer_q2": "More"})
        await settle()
    erin = beacon.slack.person(ERIN)
    await erin.command("/pulse", f"close {pulse.id}", channel=FORUM)
    await settle()
    await _deliver(beacon)
    channel_text = json.dumps([m.blocks for m in beacon.ws.messages(FORUM)]) + json.dumps(
        [m.text for m in beacon.ws.messages(FORUM)])
    assert "Comment from someone" not in channel_text, "comments never go to a channel"
    await erin.command("/pulse", f"results {pulse.id}", channel=FORUM)
    await settle()
    seen = json.dumps(erin.last_ephemeral().blocks)
    assert "Comment from someone &lt;!here&gt;" in seen and "for forum moderators only" in seen
    alice = beacon.slack.person(ALICE)
    await alice.command("/pulse", f"results {pulse.id}", channel=FORUM)
    await settle()
    assert "needs the *staff forum moderator*" in alice.last_ephemeral().text


async def test_bank_questions_use_the_published_wording_and_get_theme_scores(beacon: Beacon) -> None:
    await _create(beacon, slots=0, bank=["nqps_look_forward", "nqps_enthusiastic", "nqps_recommend_work"])
    stored = (await _latest(beacon)).questions
    assert stored[0]["text"] == "I often/always look forward to going to work."
    assert stored[0]["options"] == ["Never", "Rarely", "Sometimes", "Often", "Always"]
    for user, answer in ((ALICE, "Always"), (BOB, "Often"), (CAROL, "Sometimes")):
        person = beacon.slack.person(user)
        await person.click(ActionId.PULSE_ANSWER, message=_pulse_message(beacon))
        await settle()
        await person.submit({"answer_q1": answer, "answer_q2": answer, "answer_q3": "Agree"})
        await settle()
    await beacon.slack.person(ERIN).command("/pulse", "close 1", channel=FORUM)
    await settle()
    await _deliver(beacon)
    results = json.dumps(next(m for m in beacon.ws.messages(FORUM) if m.text.startswith(":bar_chart: Results")).blocks)
    assert "Motivation 7.5" in results and "Advocacy 7.5" in results
    assert "Always: 1 (33%)" in results


async def _latest(beacon: Beacon) -> Pulse:
    async with beacon.deps.db.transaction() as session:
        return (await session.scalars(select(Pulse).order_by(Pulse.id.desc()))).first()  # type: ignore[return-value]


async def test_reminders_go_to_those_who_have_not_answered(beacon: Beacon) -> None:
    await _create(beacon, reminder="24")
    await _choose(beacon, ALICE, 0)
    beacon.clock.set(datetime(2026, 11, 29, 18, 0, tzinfo=UTC))
    await beacon.deps.people.refresh_all()
    await beacon.deps.pulses.remind_due(db=beacon.deps.db, worker="w")
    await _deliver(beacon)
    reminded = {u for u in [*STAFF, ERIN] if any("you have not answered yet" in m.text
                                                 for m in beacon.slack.person(u).dms())}
    assert reminded == set([*STAFF, ERIN]) - {ALICE}


def _reminded(beacon: Beacon, title: str) -> list[str]:
    return sorted(u for u in [*STAFF, ERIN] for m in beacon.slack.person(u).dms()
                  if "you have not answered yet" in m.text and f"“{title}”" in m.text)


async def test_no_connection_is_held_while_slack_says_who_to_remind(beacon: Beacon) -> None:
    """Slack is slow to list the channel: meanwhile Beacon holds no database connection (on SQLite, no write
    lock), so another writer commits at once rather than queueing behind Slack."""
    await _create(beacon, reminder="24")
    await beacon.deps.people.refresh_all()
    beacon.clock.set(datetime(2026, 11, 29, 18, 0, tzinfo=UTC))
    db = beacon.deps.db
    with connections_in_use(db) as in_use:
        beacon.slack.faults.add("conversations.members", delay_after=3.0)  # Slack answers, three seconds late
        reminding = asyncio.create_task(beacon.deps.pulses.remind_due(db=db, worker="w"))
        await slack_answered(beacon.ws, "conversations.members")
        assert in_use() == 0, "no connection is checked out while Slack is asked"
        async with asyncio.timeout(1), db.transaction() as session:  # another writer is not kept waiting
            assert await claim_period(session=session, job="another.writer", period="1", worker="other",
                                      now=beacon.clock.now())
        assert not reminding.done(), "Slack was still answering when the other writer committed"
        assert await reminding == len(STAFF) + 1
    await _deliver(beacon)
    assert _reminded(beacon, "Winter pressures") == sorted([*STAFF, ERIN])


async def test_a_channel_slack_cannot_list_does_not_stop_another_pulses_reminders(beacon: Beacon) -> None:
    """One pulse's members cannot be read: the other pulse's reminders still go, and the first is not lost but
    tried again on the next run (nothing was claimed for it); nobody is reminded twice."""
    await _create(beacon, title="First pulse", reminder="24")
    await _create(beacon, title="Second pulse", reminder="24")
    await beacon.deps.people.refresh_all()
    beacon.clock.set(datetime(2026, 11, 29, 18, 0, tzinfo=UTC))
    beacon.slack.faults.add("conversations.members", error="internal_error")  # the first pulse's call fails
    everyone = sorted([*STAFF, ERIN])
    assert await beacon.deps.pulses.remind_due(db=beacon.deps.db, worker="w") == len(everyone)
    await _deliver(beacon)
    first, second = _reminded(beacon, "First pulse"), _reminded(beacon, "Second pulse")
    assert sorted([first, second]) == [[], everyone], "one pulse's reminders went despite the other's failure"
    assert await beacon.deps.pulses.remind_due(db=beacon.deps.db, worker="w") == len(everyone), "retried"
    assert await beacon.deps.pulses.remind_due(db=beacon.deps.db, worker="w") == 0, "and then done"
    await _deliver(beacon)
    assert _reminded(beacon, "First pulse") == _reminded(beacon, "Second pulse") == everyone, "once each"


async def test_a_repeating_pulse_runs_again_and_shows_the_change(beacon: Beacon) -> None:
    erin = beacon.slack.person(ERIN)
    await erin.command("/pulse", channel=FORUM)
    await settle()
    kind, question, options = slot_blocks(1)
    await erin.submit({BlockId.PULSE_TITLE: "Monthly check-in", kind: "scale", question: "How likely would you "
                       "recommend working here?", options: "", BlockId.PULSE_CLOSES_DAY: "2026-11-25",
                       BlockId.PULSE_CLOSES_TIME: "17:00", BlockId.PULSE_REPEAT: "first_monday_monthly",
                       BlockId.PULSE_SETTINGS: ["anonymous"]})
    await _deliver(beacon)
    for user, score in ((ALICE, 10), (BOB, 9), (CAROL, 4)):
        await _choose(beacon, user, score)
    beacon.clock.set(datetime(2026, 11, 25, 17, 0, tzinfo=UTC))
    assert await beacon.deps.pulse_answering.close_due() == 1
    beacon.clock.set(datetime(2026, 12, 7, 9, 5, tzinfo=UTC))
    async with beacon.deps.db.transaction() as session:
        assert await beacon.deps.pulses.run_series_due(session=session, worker="w") == 1
        assert await beacon.deps.pulses.run_series_due(session=session, worker="w") == 0, "once a period"
    await _deliver(beacon)
    second = await _latest(beacon)
    assert second.id == 2 and second.closes_at == datetime(2026, 12, 9, 17, 5, tzinfo=UTC), "open as long as before"
    messages = [m for m in beacon.ws.messages(FORUM) if m.blocks and m.blocks[0]["type"] == "header"]
    for user, score in ((ALICE, 10), (BOB, 10), (CAROL, 10)):
        await beacon.slack.person(user).click(f"{ActionId.PULSE_CHOOSE}_{score}", message=messages[-1])
    await settle()
    second = (await beacon.deps.pulse_answering.close(user_id=None, pulse_id=second.id or 0)).pulse
    async with beacon.deps.db.transaction() as session:
        results = await beacon.deps.pulses.results(session=session, pulse=second, for_moderators=False)
    [q] = results.questions
    assert q.mean == 10 and q.change == pytest.approx(10 - 23 / 3, abs=0.01) and q.net_score == 100


def test_breakdown_cells_below_the_minimum_and_their_complement_are_hidden() -> None:
    question = {"key": "q1", "type": "agreement", "options": ["a", "b", "c", "d", "e"]}
    rows = [("Essex", "a")] * 12 + [("Norfolk", "b")] * 15 + [("Bedfordshire", "c")] * 3
    cells = {c.group: c.responses for c in breakdown(question, rows, minimum=11)}
    assert cells == {"Bedfordshire": None, "Essex": None, "Norfolk": 15}, (
        "Bedfordshire is too small, and Essex is hidden too, or the total would give Bedfordshire away")
    rows += [("Suffolk", "d")] * 4
    cells = {c.group: c.responses for c in breakdown(question, rows, minimum=11)}
    assert cells == {"Bedfordshire": None, "Essex": None, "Norfolk": 15, "Suffolk": None}, (
        "3 + 4 hidden is still under 11: the total minus the shown cells would be a 7-person mean")


async def test_a_named_pulse_says_so_and_can_be_exported_with_names(beacon: Beacon) -> None:
    pulse = await _create(beacon, anonymous=False)
    shown = json.dumps(_pulse_message(beacon).blocks, ensure_ascii=False)
    assert "*Named.* Your answers are recorded with your name" in shown
    await _choose(beacon, ALICE, 1)
    await _choose(beacon, ALICE, 2)
    assert "Your answer is changed" in json.dumps(beacon.slack.person(ALICE).last_ephemeral().blocks)
    erin = beacon.slack.person(ERIN)
    await erin.command("/pulse", f"export {pulse.id}", channel=FORUM)
    await settle()
    [message] = [m for m in erin.dms() if m.files]
    content = beacon.ws.files[message.files[0]["id"]].content.decode("utf-8-sig")  # type: ignore[union-attr]
    assert "U0ALICE" in content and "Hard" in content


async def test_a_pulse_can_open_later(beacon: Beacon) -> None:
    erin = beacon.slack.person(ERIN)
    await erin.command("/pulse", channel=FORUM)
    await settle()
    kind, question, options = slot_blocks(1)
    await erin.submit({BlockId.PULSE_TITLE: "Later", kind: "single", question: "Which?", options: "A\nB",
                       BlockId.PULSE_OPENS_DAY: "2026-11-24", BlockId.PULSE_OPENS_TIME: "09:00",
                       BlockId.PULSE_CLOSES_DAY: "2026-11-26", BlockId.PULSE_CLOSES_TIME: "17:00"})
    await _deliver(beacon)
    assert not any(m.blocks and m.blocks[0]["type"] == "header" for m in beacon.ws.messages(FORUM))
    beacon.clock.advance(timedelta(days=1))
    async with beacon.deps.db.transaction() as session:
        assert await beacon.deps.pulses.open_due(session=session) == 1
    await _deliver(beacon)
    assert "Which?" in json.dumps(_pulse_message(beacon).blocks, ensure_ascii=False)


async def test_the_builder_points_at_each_mistake_in_place(beacon: Beacon) -> None:
    erin = beacon.slack.person(ERIN)
    await erin.command("/pulse", channel=FORUM)
    await settle()
    await erin.click(ActionId.PULSE_ADD_QUESTION)
    await settle()
    assert sum(1 for b in erin.modal.blocks if b["block_id"].endswith("_type")) == 2  # type: ignore[union-attr]
    first, second = slot_blocks(1), slot_blocks(2)
    reply = await erin.submit({BlockId.PULSE_TITLE: " ", first[0]: "single", first[1]: "Which station?",
                               first[2]: "Only one", second[0]: "multiple", second[1]: "Pick",
                               second[2]: "A\na", BlockId.PULSE_CLOSES_DAY: "2026-11-23",
                               BlockId.PULSE_CLOSES_TIME: "09:05"})
    errors = reply.json["errors"]
    assert errors == {
        BlockId.PULSE_TITLE: "Give the pulse a title.",
        first[2]: "Give 2 to 10 options, one a line.",
        second[1]: "Write the question.",
        second[2]: "Each option must be different.",
        BlockId.PULSE_CLOSES_TIME: "Close it at least ten minutes after it opens.",
    }
    async with beacon.deps.db.transaction() as session:
        assert (await session.scalars(select(Pulse))).all() == [], "nothing stored from a refused form"


async def test_multiple_choice_and_0_to_10_results_with_the_net_score(beacon: Beacon) -> None:
    erin = beacon.slack.person(ERIN)
    await erin.command("/pulse", channel=FORUM)
    await settle()
    await erin.click(ActionId.PULSE_ADD_QUESTION)
    await settle()
    first, second = slot_blocks(1), slot_blocks(2)
    await erin.submit({BlockId.PULSE_TITLE: "Rest breaks", first[0]: "multiple",
                       first[1]: "Where did you take a break this week?", first[2]: "Station\nHospital\nVehicle",
                       second[0]: "scale", second[1]: "How likely are you to recommend your station?",
                       second[2]: "", BlockId.PULSE_SETTINGS: ["anonymous"],
                       BlockId.PULSE_CLOSES_DAY: "2026-11-30", BlockId.PULSE_CLOSES_TIME: "17:00"})
    await _deliver(beacon)
    for user, places, score in ((ALICE, ["Station", "Hospital"], "10"), (BOB, ["Station"], "9"),
                                (CAROL, ["Vehicle"], "6"), (DAVE, ["Station"], "8")):
        person = beacon.slack.person(user)
        await person.click(ActionId.PULSE_ANSWER, message=_pulse_message(beacon))
        await settle()
        assert person.modal is not None and "Anonymous: nothing links" in json.dumps(person.modal.blocks)
        reply = await person.submit({"answer_q1": places, "answer_q2": score})
        assert reply.json.get("response_action") == "update", reply.json
        await settle()
    await erin.command("/pulse", "close 1", channel=FORUM)
    await settle()
    await _deliver(beacon)
    results = json.dumps(next(m for m in beacon.ws.messages(FORUM) if m.text.startswith(":bar_chart: Results")).blocks)
    assert "Station: 3 (75%)" in results and "Hospital: 1 (25%)" in results and "Vehicle: 1 (25%)" in results
    assert "mean 8.25" in results and "net score +25" in results, "2 promoters, 1 detractor of 4"


async def test_moderators_see_every_pulse_in_the_app_home(beacon: Beacon) -> None:
    await _create(beacon, title="Winter pressures")
    await _create(beacon, title="Named check", anonymous=False)
    erin, alice = beacon.slack.person(ERIN), beacon.slack.person(ALICE)
    await erin.open_home()
    await settle()
    home = json.dumps(erin.home.blocks, ensure_ascii=False)  # type: ignore[union-attr]
    assert "Staff forum pulses" in home
    assert "*Named check* (#2) · 0 responses · closes Mon 30 Nov, 17:00 GMT · named" in home
    assert "*Winter pressures* (#1) · 0 responses · closes Mon 30 Nov, 17:00 GMT · anonymous" in home
    await erin.click(ActionId.PULSE_CLOSE, block_id="pulse_admin_1", in_home=True)
    await settle()
    await _deliver(beacon)
    assert "*Winter pressures* (#1) · 0 responses · closed · anonymous" in json.dumps(
        erin.home.blocks, ensure_ascii=False)  # type: ignore[union-attr]
    await alice.open_home()
    await settle()
    assert "Staff forum pulses" not in json.dumps(alice.home.blocks)  # type: ignore[union-attr]


async def test_the_creators_confirmation_shows_the_title_as_typed_and_pings_nobody(beacon: Beacon) -> None:
    await _create(beacon, title="<!channel> Rota & breaks <@U0ALICE>")
    dm = beacon.slack.person(ERIN).dms()[-1].text
    assert "“&lt;!channel&gt; Rota &amp; breaks &lt;@U0ALICE&gt;”" in dm, dm
    assert "<!channel>" not in dm and "<@U0ALICE>" not in dm

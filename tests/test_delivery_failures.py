"""Nothing Beacon accepted fails silently: a message that can never be built or sent stops, is marked failed with a
plain reason, and its author (or, for a message with no author, the admins channel) is told once. And a thread
reply whose answer was lost is found in the thread, not posted twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from beacon.bot.models import OutboxStatus
from beacon.bot.services import outbox
from beacon.bot.services.delivery import FAILURE_SOURCE
from tests.harness import ADMIN, ALICE, BOB, GENERAL, Beacon
from tests.nominating import deliver, nominate
from tests.scheduling import outbox_rows, tick


async def _enqueue(beacon: Beacon, *, channel: str, content: dict[str, Any], key: str = "row",
                   thread_ts: str | None = None, source: str = "notice") -> None:
    now = beacon.clock.now()
    async with beacon.deps.db.transaction() as session:
        await outbox.enqueue(session=session, now=now, promises=[outbox.Promise(
            dedupe_key=key, source=source, channel=channel, content=content, due_at=now,
            expires_at=now + timedelta(days=1), thread_ts=thread_ts)])


def _admins_hear(beacon: Beacon) -> None:
    beacon.ws.channels[ADMIN].members.add(beacon.ws.bot_user_id)


async def _run_for_a_day(beacon: Beacon) -> None:
    """Every retry the backoff allows in a day: before the fix this kept calling Slack until the row expired."""
    start = beacon.clock.now()
    for minutes in range(1, 60 * 24, 37):
        await tick(beacon, start + timedelta(minutes=minutes))


async def test_a_story_at_the_form_limit_full_of_ampersands_reaches_the_nominee_who_is_asked(beacon: Beacon) -> None:
    """The reported case: 2,901 characters with `&` and line breaks made the receipt and the nominee's DM over
    Slack's 3,000 after escaping and quoting; the outbox retried forever and the nominee was never asked."""
    story = ("Sam & Alex kept the crew going & calm\n" * 100)[:2901]
    bob, alice = beacon.slack.person(BOB), beacon.slack.person(ALICE)
    reply = await nominate(bob, colleagues=[ALICE], story=story)
    assert reply.json == {}, reply.json
    await deliver(beacon)
    assert {r.status for r in await outbox_rows(beacon)} == {OutboxStatus.SENT}
    told = alice.dms()[-1]
    shown = "\n".join(b["text"]["text"] for b in told.blocks if b["type"] == "section")
    assert shown.count("&amp;") == story.count("&"), "the whole story, escaped, over two sections"
    assert any(b.get("block_id") == "consent" for b in told.blocks), "the nominee is asked for consent"
    assert "&amp;" in "".join(b.get("text", {}).get("text", "") for b in bob.dms()[-1].blocks)


async def test_a_message_that_cannot_be_built_fails_once_and_the_admins_are_told(beacon: Beacon) -> None:
    _admins_hear(beacon)
    # A header over Slack's 150 characters: slack_sdk raises SlackObjectFormationError while building it.
    await _enqueue(beacon, channel=GENERAL, source="calendar_post",
                   content={"template": "leaders_this_week", "params": {"week_of": "x" * 200, "engagements": [
                       {"day": "2026-11-24", "when": "Tue, 10:00", "leader": "Carol", "title": "Visit"}]}})
    await _run_for_a_day(beacon)
    rows = await outbox_rows(beacon)
    [broken] = [r for r in rows if r.source == "calendar_post"]
    assert broken.status == OutboxStatus.FAILED and broken.attempts == 1, "stopped at once, not retried"
    assert broken.last_error == "could_not_build: SlackObjectFormationError"
    [told] = [m for m in beacon.ws.messages(ADMIN) if "could not deliver" in m.text]
    assert "Beacon could not put the message together" in told.text and f"outbox #{broken.id}" in told.text
    assert beacon.ws.messages(GENERAL) == []


async def test_a_row_naming_a_message_this_release_does_not_know_fails_once_and_is_told(beacon: Beacon) -> None:
    """A row written by a newer release (or a fault) names a template this one cannot build: stopped, not retried
    until it expires, and the admins are told which row."""
    _admins_hear(beacon)
    await _enqueue(beacon, channel=GENERAL, source="calendar_post",
                   content={"template": "leaders_next_month", "params": {}})
    await _run_for_a_day(beacon)
    [unknown] = [r for r in await outbox_rows(beacon) if r.source == "calendar_post"]
    assert unknown.status == OutboxStatus.FAILED and unknown.attempts == 1
    assert unknown.last_error == "could_not_build: UnknownTemplate"
    [told] = [m for m in beacon.ws.messages(ADMIN) if "could not deliver" in m.text]
    assert f"outbox #{unknown.id}" in told.text
    assert beacon.ws.messages(GENERAL) == []


async def test_a_message_slack_refuses_tells_its_author_in_plain_words(beacon: Beacon) -> None:
    await _enqueue(beacon, channel=ALICE, content={"template": "nominee_recognised", "params": {
        "nomination_id": 5, "award": "thanks", "nominator": BOB, "story": "Thank you", "values": []}})
    beacon.slack.faults.add("chat.postMessage", error="invalid_blocks", channel=ALICE)
    await _run_for_a_day(beacon)
    [refused] = [r for r in await outbox_rows(beacon) if r.source == "notice"]
    assert refused.status == OutboxStatus.FAILED and refused.attempts == 1
    [told] = beacon.slack.person(BOB).dms()
    assert told.text == (":warning: Beacon could not deliver your recognition to <@U0ALICE>, so they have not seen "
                         "it or been asked about sharing it: Slack could not display it.")
    assert beacon.slack.person(ALICE).dms() == []


async def test_when_the_author_cannot_be_told_the_admins_are_told_once_and_nothing_loops(beacon: Beacon) -> None:
    _admins_hear(beacon)
    beacon.ws.users[BOB].deleted = True  # the author has left: telling them fails too
    await _enqueue(beacon, channel=ALICE, content={"template": "nominee_recognised", "params": {
        "nomination_id": 5, "award": "thanks", "nominator": BOB, "story": "Thank you", "values": []}})
    beacon.slack.faults.add("chat.postMessage", error="invalid_blocks", channel=ALICE)
    await _run_for_a_day(beacon)
    rows = await outbox_rows(beacon)
    assert all(r.status in (OutboxStatus.SENT, OutboxStatus.FAILED) for r in rows), "everything has ended"
    assert len([r for r in rows if r.source == FAILURE_SOURCE]) == 2, "the author's notice, then the admins'"
    [told] = beacon.ws.messages(ADMIN)
    assert "Its author could not be told either (`user_disabled`)" in str(told.blocks)
    # The admins channel itself failing is only logged: a failure notice never begets another without end.
    beacon.ws.channels[ADMIN].is_archived = True
    await _enqueue(beacon, channel=GENERAL, key="second", source="digest", content={"text": "digest"})
    beacon.slack.faults.add("chat.postMessage", error="msg_too_long", channel=GENERAL)
    await _run_for_a_day(beacon)
    assert all(r.status in (OutboxStatus.SENT, OutboxStatus.FAILED) for r in await outbox_rows(beacon))
    assert len(await outbox_rows(beacon)) == 5


async def test_a_thread_reply_whose_answer_was_lost_is_not_posted_twice(beacon: Beacon) -> None:
    parent = beacon.ws.post(GENERAL, user=beacon.ws.bot_user_id, text="The visit", as_bot=True)
    for i in range(3):  # other replies in the thread, so the search has something to look through
        beacon.ws.post(GENERAL, user=ALICE, text=f"reply {i}", thread_ts=parent.ts)
    await _enqueue(beacon, channel=GENERAL, thread_ts=parent.ts, source="calendar_post",
                   content={"text": "Change: it is now at 11:00"})
    beacon.slack.faults.add("chat.postMessage", disconnect_after=True)  # posted, but the answer never came back
    await beacon.deps.dispatcher.run_once()
    await tick(beacon, beacon.clock.now() + timedelta(minutes=5))
    [row] = await outbox_rows(beacon)
    replies = [m for m in beacon.ws.messages(GENERAL) if m.thread_ts == parent.ts and m.text.startswith("Change")]
    assert len(replies) == 1, "found in the thread's replies, not posted again"
    assert row.status == OutboxStatus.SENT and row.sent_ts == replies[0].ts
    assert beacon.ws.calls_to("conversations.replies"), "looked in the thread"
    assert len(beacon.ws.calls_to("chat.postMessage")) == 1

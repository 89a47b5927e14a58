"""Scheduled posts, end to end through Slack: write, preview, schedule, deliver, manage."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

from beacon.bot.ids import ActionId, BlockId, CallbackId
from beacon.bot.local_slack.forms import rich_text
from beacon.bot.models import OutboxStatus, PostStatus
from tests.harness import ALICE, BOB, CHELMSFORD, DIGEST, GENERAL, GRACE, RECOGNITION, Beacon, settle
from tests.scheduling import compose, confirm, fill_compose, outbox_rows, schedule, scheduled_posts, tick

TOMORROW = date(2026, 11, 24)  # the test clock starts on Monday 23 November 2026, 09:00 GMT


async def _deliver_at(beacon: Beacon, when_utc_hour: int, day: date = TOMORROW, minute: int = 0) -> None:
    await tick(beacon, datetime(day.year, day.month, day.day, when_utc_hour, minute, tzinfo=UTC))


async def test_a_comms_member_schedules_a_post_and_it_goes_out_at_its_time(beacon: Beacon) -> None:
    grace = beacon.slack.person(GRACE)
    submitted = await compose(grace, channels=[GENERAL, DIGEST], message="Staff briefing at 10:00 in the hall",
                              day=TOMORROW, at=time(9, 0))
    assert submitted.latency_ms < 3000
    preview = grace.modal
    assert preview is not None and preview.callback_id == CallbackId.SCHEDULE_PREVIEW
    shown = json.dumps(preview.blocks)
    assert "Staff briefing at 10:00 in the hall" in shown, "the preview shows exactly what will be posted"
    assert "Tue 24 Nov 2026, 09:00 GMT" in shown
    assert "members" in shown, "the preview says how many people will see it"

    await confirm(grace)
    assert grace.modal is None, "confirming closes the modals"
    rows = await outbox_rows(beacon)
    assert [(r.channel, r.status) for r in rows] == [(GENERAL, OutboxStatus.PENDING), (DIGEST, OutboxStatus.PENDING)]
    receipt = grace.dms()[-1].text
    assert "scheduled for Tue 24 Nov 2026, 09:00 GMT" in receipt

    await _deliver_at(beacon, 8, minute=59)
    assert beacon.ws.messages(GENERAL) == [], "nothing goes out early"
    await _deliver_at(beacon, 9)
    posted = beacon.ws.messages(GENERAL)
    assert len(posted) == 1 and len(beacon.ws.messages(DIGEST)) == 1
    assert posted[0].blocks[0]["type"] == "rich_text"
    assert posted[0].text == "Staff briefing at 10:00 in the hall"
    assert posted[0].metadata == {"event_type": "beacon_outbox", "event_payload": {"outbox_id": rows[0].id}}
    assert {r.status for r in await outbox_rows(beacon)} == {OutboxStatus.SENT}


async def test_the_post_is_in_the_database_before_anyone_is_told_it_is_scheduled(beacon: Beacon) -> None:
    grace = beacon.slack.person(GRACE)
    await compose(grace, channels=[GENERAL], message="Hello", day=TOMORROW, at=time(9, 0))
    beacon.slack.faults.add("chat.postMessage", error="channel_not_found")  # the receipt DM itself fails
    await confirm(grace)
    assert grace.dms() == []
    rows = await outbox_rows(beacon)
    assert len(rows) == 1 and rows[0].status == OutboxStatus.PENDING, "the promise is kept even so"


async def test_staff_are_refused_with_who_can_help(beacon: Beacon) -> None:
    alice = beacon.slack.person(ALICE)
    reply = await alice.command("/schedule", channel=GENERAL)
    assert reply.status == 200 and reply.latency_ms < 1000, "a refusal right after the ack keeps the ack"
    await settle()
    assert alice.modal is None
    refusal = alice.last_ephemeral().text
    assert "needs the *communications team* role" in refusal
    assert "<@U0GRACE>" in refusal and "members of @comms-team" in refusal
    await alice.command("/schedule", "list", channel=GENERAL)
    await settle()
    assert "needs the *communications team* role" in alice.last_ephemeral().text


async def test_bad_times_get_inline_errors(beacon: Beacon) -> None:
    bob = beacon.slack.person(BOB)
    reply = await compose(bob, channels=[GENERAL], message="Hi", day=date(2026, 11, 23), at=time(8, 0))
    assert reply.json["response_action"] == "errors"
    assert "That time has passed" in reply.json["errors"][BlockId.SCHEDULE_TIME]
    reply = await fill_compose(bob, day=date(2027, 3, 28), at=time(1, 30))
    assert "does not exist on 28 March: the clocks go forward" in reply.json["errors"][BlockId.SCHEDULE_TIME]
    reply = await fill_compose(bob, day=TOMORROW, at=time(9, 0), repeat="daily", until=date(2026, 11, 20))
    assert "on or after the first" in reply.json["errors"][BlockId.SCHEDULE_UNTIL]
    assert await scheduled_posts(beacon) == [], "nothing is saved until the draft is valid"


async def test_typed_markup_is_inert_and_deliberate_mentions_are_kept(beacon: Beacon) -> None:
    grace = beacon.slack.person(GRACE)
    message = rich_text("<!channel> shout-out to <@U0BOB> ")
    message["elements"][0]["elements"].append({"type": "user", "user_id": ALICE})
    await schedule(grace, channels=[GENERAL], message=message, day=TOMORROW, at=time(9, 0))
    await _deliver_at(beacon, 9)
    posted = beacon.ws.messages(GENERAL)[0]
    assert posted.text == "&lt;!channel&gt; shout-out to &lt;@U0BOB&gt; <@U0ALICE>"
    elements = posted.blocks[0]["elements"][0]["elements"]
    assert elements[0] == {"type": "text", "text": "<!channel> shout-out to <@U0BOB> "}
    assert elements[1] == {"type": "user", "user_id": ALICE}


async def test_a_large_audience_must_be_confirmed(beacon: Beacon) -> None:
    beacon.ws.channels[GENERAL].members.update(f"U9{i:05d}" for i in range(1200))
    grace = beacon.slack.person(GRACE)
    await compose(grace, channels=[GENERAL, DIGEST], message="Everyone!", day=TOMORROW, at=time(9, 0))
    assert "all 1,209 people in <#C0GENERAL>" in json.dumps(grace.modal.blocks)  # type: ignore[union-attr]
    reply = await confirm(grace)
    assert reply.json["response_action"] == "errors"
    assert "confirm you mean to post to this many people" in reply.json["errors"][BlockId.SCHEDULE_AUDIENCE]
    assert await outbox_rows(beacon) == []
    await confirm(grace, large_audience=[GENERAL])
    assert len(await outbox_rows(beacon)) == 2


async def test_a_refused_post_is_marked_failed_and_its_author_told_how_to_fix_it(beacon: Beacon) -> None:
    grace = beacon.slack.person(GRACE)
    await schedule(grace, channels=[CHELMSFORD], message="Station news", day=TOMORROW, at=time(9, 0),
                   repeat="daily")
    beacon.ws.channels[CHELMSFORD].is_archived = True
    await _deliver_at(beacon, 9)
    await beacon.deps.dispatcher.run_once()  # the notice to the author goes out
    [post] = await scheduled_posts(beacon)
    assert post.status == PostStatus.FAILED and post.next_run_at is None
    notice = grace.dms()[-1]
    assert "could not be sent: the channel is archived" in notice.text
    assert "Unarchive the channel" in json.dumps(notice.blocks)
    calls = len(beacon.ws.calls_to("chat.postMessage"))
    await _deliver_at(beacon, 9, day=TOMORROW + timedelta(days=1))
    assert len(beacon.ws.calls_to("chat.postMessage")) == calls, "a refused post is not retried"


async def test_not_in_channel_is_explained(beacon: Beacon) -> None:
    grace = beacon.slack.person(GRACE)
    await schedule(grace, channels=[RECOGNITION], message="Thanks all", day=TOMORROW, at=time(9, 0))
    beacon.ws.channels[RECOGNITION].members.discard(beacon.ws.bot_user_id)
    await _deliver_at(beacon, 9)
    await beacon.deps.dispatcher.run_once()
    assert "Type `/invite @Beacon` in <#C0RECOG>" in json.dumps(grace.dms()[-1].blocks)


async def test_list_edit_pause_resume_and_cancel(beacon: Beacon) -> None:
    grace, bob = beacon.slack.person(GRACE), beacon.slack.person(BOB)
    await schedule(grace, channels=[GENERAL], message="Weekly update", day=TOMORROW, at=time(9, 0),
                   repeat="weekly")
    await bob.command("/schedule", "list", channel=GENERAL)
    await settle()
    listing = bob.last_ephemeral()
    text = json.dumps(listing.blocks)
    assert "Weekly update" in text and "Next: Tue 24 Nov 2026, 09:00 GMT" in text and "Not run yet" in text

    await bob.click(ActionId.SCHEDULE_PAUSE, message=listing)
    await settle()
    [post] = await scheduled_posts(beacon)
    assert post.status == PostStatus.PAUSED
    assert {r.status for r in await outbox_rows(beacon)} == {OutboxStatus.CANCELLED}
    assert "Paused" in json.dumps(bob.last_ephemeral().blocks)

    await bob.click(ActionId.SCHEDULE_RESUME, message=bob.last_ephemeral())
    await settle()
    [post] = await scheduled_posts(beacon)
    assert post.status == PostStatus.SCHEDULED
    assert [r.status for r in await outbox_rows(beacon)][-1] == OutboxStatus.PENDING

    await bob.click(ActionId.SCHEDULE_EDIT, message=bob.last_ephemeral())
    await settle()
    assert bob.modal is not None and "Weekly update" in json.dumps(bob.modal.blocks), "the modal is filled in"
    await fill_compose(bob, at=time(11, 30), message="Weekly update (moved)")
    await confirm(bob)
    assert "is updated for Tue 24 Nov 2026, 11:30 GMT" in bob.dms()[-1].text
    [post] = await scheduled_posts(beacon)
    assert post.revision == 3 and post.fallback_text == "Weekly update (moved)"
    pending = [r for r in await outbox_rows(beacon) if r.status == OutboxStatus.PENDING]
    assert [(r.due_at.hour, r.due_at.minute) for r in pending] == [(11, 30)]

    await _deliver_at(beacon, 11, minute=30)
    await bob.command("/schedule", "list", channel=GENERAL)
    await settle()
    assert "Last run: sent Tue 24 Nov 2026, 11:30 GMT" in json.dumps(bob.last_ephemeral().blocks)
    await bob.click(ActionId.SCHEDULE_CANCEL, message=bob.last_ephemeral())
    await settle()
    [post] = await scheduled_posts(beacon)
    assert post.status == PostStatus.CANCELLED
    await _deliver_at(beacon, 11, minute=30, day=date(2026, 12, 1))
    assert len(beacon.ws.messages(GENERAL)) == 1, "a cancelled post does not run again"


async def test_the_app_home_lists_posts_for_comms_only(beacon: Beacon) -> None:
    grace, alice = beacon.slack.person(GRACE), beacon.slack.person(ALICE)
    await schedule(grace, channels=[GENERAL], message="Home test", day=TOMORROW, at=time(9, 0))
    await grace.open_home()
    await alice.open_home()
    await settle()
    assert "Home test" in json.dumps(grace.home.blocks)  # type: ignore[union-attr]
    assert "Home test" not in json.dumps(alice.home.blocks)  # type: ignore[union-attr]
    await grace.click(ActionId.SCHEDULE_PAUSE, in_home=True)
    await settle()
    assert "Paused" in json.dumps(grace.home.blocks)  # type: ignore[union-attr]
    await grace.click(ActionId.SCHEDULE_NEW, in_home=True)
    await settle()
    assert grace.modal is not None and grace.modal.callback_id == CallbackId.SCHEDULE_COMPOSE


async def test_unknown_arguments_get_usage(beacon: Beacon) -> None:
    grace = beacon.slack.person(GRACE)
    await grace.command("/schedule", "tomorrow please", channel=GENERAL)
    await settle()
    assert "/schedule list" in json.dumps(grace.last_ephemeral().blocks)


async def test_a_slack_error_is_logged_and_explained_in_plain_words(beacon: Beacon, caplog) -> None:  # type: ignore[no-untyped-def]
    beacon.slack.faults.add("views.open", error="view_too_large")
    grace = beacon.slack.person(GRACE)
    await grace.command("/schedule", channel=GENERAL)
    await settle()
    assert grace.last_ephemeral().text == ("Slack did not accept that (`view_too_large`), so your request did not "
                                           "happen.")
    logged = [r for r in caplog.records if getattr(r, "slack_method", None) == "views.open"]
    assert logged and logged[0].slack_error == "view_too_large"  # type: ignore[attr-defined]


async def test_an_unexpected_failure_gets_a_reference_to_quote(beacon: Beacon, caplog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    async def broken(**_: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(beacon.deps.scheduled_posts, "listing", broken)
    grace = beacon.slack.person(GRACE)
    await grace.command("/schedule", "list", channel=GENERAL)
    await settle()
    told = grace.last_ephemeral().text
    assert told.startswith("Sorry, something went wrong and your request did not happen.")
    assert "database on fire" not in told, "internal details stay in the log"
    [record] = [r for r in caplog.records if r.getMessage() == "unexpected error handling a Slack request"]
    assert f"(reference {record.reference})" in told  # type: ignore[attr-defined]

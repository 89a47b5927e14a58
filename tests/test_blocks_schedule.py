"""Builders for scheduled posts and notices: stable, valid Block Kit, with user text escaped."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from beacon.bot.blocks.notices import render
from beacon.bot.blocks.schedule import build_compose_modal, build_posts_list, build_preview_modal, build_scheduled_text
from beacon.bot.local_slack.forms import rich_text
from beacon.bot.models import OutboxMessage, OutboxStatus, PostStatus, ScheduledPost
from beacon.bot.services.scheduled_posts import ListedPost
from tests.snapshots import assert_snapshot

LONDON = ZoneInfo("Europe/London")
WHEN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _post(**overrides: object) -> ScheduledPost:
    values: dict = dict(id=7, author_id="U0GRACE", channels=["C0GENERAL", "C0DIGEST"],
                        message=rich_text("Briefing <!channel> at 10"), fallback_text="Briefing &lt;!channel&gt; at 10",
                        starts_local=datetime(2026, 11, 24, 9, 0), timezone="Europe/London", repeat="weekdays",
                        until_local=date(2026, 12, 18), status=PostStatus.SCHEDULED, next_run_at=WHEN,
                        audience={"C0GENERAL": 1500, "C0DIGEST": 40}, created_at=WHEN, updated_at=WHEN)
    values.update(overrides)
    return ScheduledPost(**values)


def test_compose_modal_new_and_for_an_edit() -> None:
    assert_snapshot("schedule_compose_new", build_compose_modal(tz=LONDON, today=date(2026, 11, 23),
                                                                channel="C0GENERAL"))
    edit = build_compose_modal(tz=LONDON, today=date(2026, 11, 23), post=_post())
    assert edit["blocks"][1]["element"]["initial_value"] == rich_text("Briefing <!channel> at 10")
    assert_snapshot("schedule_compose_edit", edit)


def test_preview_shows_the_exact_message_when_and_who() -> None:
    view = build_preview_modal(post=_post(), external_id="x", runs=[WHEN, WHEN.replace(day=25)], tz=LONDON,
                               large={"C0GENERAL": 1500}, approval=True)
    assert view["blocks"][2] == rich_text("Briefing <!channel> at 10"), "the message block itself, unchanged"
    assert_snapshot("schedule_preview", view)


def test_the_list_shows_next_run_last_outcome_and_actions() -> None:
    sent = OutboxMessage(dedupe_key="k", source="scheduled_post", channel="C0GENERAL", content={},
                         status=OutboxStatus.SENT, due_at=WHEN, available_at=WHEN, expires_at=WHEN, created_at=WHEN,
                         sent_at=WHEN)
    items = [ListedPost(post=_post(), last=sent), ListedPost(post=_post(id=8, status=PostStatus.PAUSED,
                                                                        next_run_at=None), last=None)]
    blocks = [b.to_dict() for b in build_posts_list(items, tz=LONDON)]
    assert "&lt;!channel&gt;" in blocks[1]["text"]["text"] and "<!channel>" not in blocks[1]["text"]["text"]
    assert_snapshot("schedule_list", blocks)


def test_receipt_and_notices() -> None:
    assert build_scheduled_text(post=_post(), first_run=WHEN, awaiting_approval=True, edited=False, tz=LONDON) == (
        ":white_check_mark: Your post to <#C0GENERAL> and <#C0DIGEST> is scheduled for Tue 24 Nov 2026, 09:00 GMT "
        "(every weekday (Monday to Friday)). It goes out once a second member of the communications team approves "
        "it; they have been asked. See or change it with `/schedule list`.")
    params = {"post_id": 7, "channels": ["C0GENERAL"], "channel": "C0GENERAL", "summary": "<!here> hi",
              "when": "Tue 24 Nov 2026, 09:00 GMT", "repeat": "once", "author": "U0GRACE", "decided_by": "U0BOB",
              "error": "is_archived", "grace_hours": 6, "skipped": 2}
    for template in ("post_failed", "post_missed", "post_runs_skipped", "post_approval_request", "post_approved",
                     "post_rejected"):
        text, blocks = render({"template": template, "params": params})
        assert "<!here>" not in text + str(blocks), f"{template} must not ping"
        assert_snapshot(f"notice_{template}", {"text": text, "blocks": blocks})

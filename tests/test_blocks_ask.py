"""Ask the leaders' builders, as stored JSON: the form, the anonymous receipt, the moderators' queue, the post."""

from __future__ import annotations

from datetime import date

from beacon.bot.blocks.ask import build_ask_modal, build_moderator_queue, build_receipt_blocks
from beacon.bot.blocks.notices.ask import forum_question
from beacon.bot.services.forum_questions import QuestionView
from tests.snapshots import assert_snapshot

ASKED = QuestionView(id="0" * 32, text="Can the <night> crews have hot food & drinks?", asker_id=None,
                     anonymous=True, status="pending", asked_on=date(2026, 11, 23), supporters=0)
WAITING = QuestionView(id="1" * 32, text="Why was the Clacton rest room closed?", asker_id="U0ALICE",
                       anonymous=False, status="published", asked_on=date(2026, 11, 1), supporters=12,
                       leader_id="U0CAROL", published_on=date(2026, 11, 2), overdue=True)


def test_the_form_says_the_limit_and_what_anonymous_means() -> None:
    assert_snapshot("ask_modal", build_ask_modal(intro="Ask the leadership team anything."))


def test_the_anonymous_receipt_gives_the_token_and_escapes_the_question() -> None:
    blocks = [b.to_dict() for b in build_receipt_blocks(token="ask-" + "A" * 24, text=ASKED.text)]
    assert "&lt;night&gt;" in str(blocks)
    assert_snapshot("ask_receipt_anonymous", blocks)


def test_the_queue_names_named_askers_only_and_flags_old_questions() -> None:
    blocks = [b.to_dict() for b in build_moderator_queue(pending=[ASKED], waiting=[WAITING], unanswered_days=14)]
    assert "Anonymous" in str(blocks) and "Unanswered for more than 14 days" in str(blocks)
    assert_snapshot("ask_queue", blocks)


def test_the_post_shows_the_count_and_never_who() -> None:
    text, blocks = forum_question({"question_id": "1" * 32, "question": WAITING.text, "asker": None,
                                   "supporters": 1, "leader": "U0CAROL", "answered": False})
    assert "1 colleague supports this" in text
    assert_snapshot("ask_forum_question", [b.to_dict() for b in blocks])

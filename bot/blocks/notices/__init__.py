"""Direct messages and posts the outbox sends from a template: services name the message (bot/templates.py),
these modules build it, one module per feature. `render` refuses a name it does not know (the sender fails the row
and tells its author); every Template is here but the chart, which is uploaded as a file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import Block

from beacon.bot.blocks.digests import personal_digest, weekly_digest
from beacon.bot.blocks.notices.ask import forum_answer, forum_leader_asked, forum_outcome, forum_question
from beacon.bot.blocks.notices.delivery import delivery_failed
from beacon.bot.blocks.notices.engagements import (
    calendar_source_failing,
    calendar_source_recovered,
    calendar_unmatched,
    engagement_announcement,
    engagement_changed,
    engagements_added,
    leader_briefing,
    leader_follow_up,
    leader_questions,
    leaders_this_week,
    question_answered,
    visit_reminder,
    you_said_we_did,
)
from beacon.bot.blocks.notices.posts import (
    post_approval_request,
    post_approved,
    post_failed,
    post_missed,
    post_rejected,
    post_runs_skipped,
)
from beacon.bot.blocks.notices.pulses import pulse_message, pulse_reminder, pulse_results
from beacon.bot.blocks.notices.recognition import (
    awards_announcement,
    nomination_outcome,
    nomination_receipt,
    nominee_recognised,
    recognition_post,
    recognition_removed,
    round_closed,
    round_opened,
    round_reminder,
    winner_consent_request,
)
from beacon.bot.blocks.notices.work import work_failed
from beacon.bot.blocks.pulse_chart import render_chart
from beacon.bot.blocks.visit_requests import build_request_decided, build_request_post, build_request_received
from beacon.bot.templates import Template

Rendered = tuple[str, list[dict[str, Any]]]


TEMPLATES: dict[Template, Callable[[dict[str, Any]], tuple[str, list[Block]]]] = {
    Template.POST_FAILED: post_failed,
    Template.POST_MISSED: post_missed,
    Template.POST_RUNS_SKIPPED: post_runs_skipped,
    Template.POST_APPROVAL_REQUEST: post_approval_request,
    Template.POST_APPROVED: post_approved,
    Template.POST_REJECTED: post_rejected,
    Template.NOMINATION_RECEIPT: nomination_receipt,
    Template.NOMINEE_RECOGNISED: nominee_recognised,
    Template.RECOGNITION_POST: recognition_post,
    Template.RECOGNITION_REMOVED: recognition_removed,
    Template.ROUND_OPENED: round_opened,
    Template.ROUND_REMINDER: round_reminder,
    Template.ROUND_CLOSED: round_closed,
    Template.WINNER_CONSENT_REQUEST: winner_consent_request,
    Template.AWARDS_ANNOUNCEMENT: awards_announcement,
    Template.NOMINATION_OUTCOME: nomination_outcome,
    Template.ENGAGEMENT_ANNOUNCEMENT: engagement_announcement,
    Template.ENGAGEMENTS_ADDED: engagements_added,
    Template.ENGAGEMENT_CHANGED: engagement_changed,
    Template.VISIT_REMINDER: visit_reminder,
    Template.LEADERS_THIS_WEEK: leaders_this_week,
    Template.LEADER_BRIEFING: leader_briefing,
    Template.LEADER_FOLLOW_UP: leader_follow_up,
    Template.LEADER_QUESTIONS: leader_questions,
    Template.YOU_SAID_WE_DID: you_said_we_did,
    Template.QUESTION_ANSWERED: question_answered,
    Template.CALENDAR_SOURCE_FAILING: calendar_source_failing,
    Template.CALENDAR_SOURCE_RECOVERED: calendar_source_recovered,
    Template.CALENDAR_UNMATCHED: calendar_unmatched,
    Template.PULSE_MESSAGE: pulse_message,
    Template.PULSE_RESULTS: pulse_results,
    Template.PULSE_REMINDER: pulse_reminder,
    Template.WEEKLY_DIGEST: weekly_digest,
    Template.PERSONAL_DIGEST: personal_digest,
    Template.DELIVERY_FAILED: delivery_failed,
    Template.WORK_FAILED: work_failed,
    Template.FORUM_QUESTION: forum_question,
    Template.FORUM_ANSWER: forum_answer,
    Template.FORUM_OUTCOME: forum_outcome,
    Template.FORUM_LEADER_ASKED: forum_leader_asked,
    Template.VISIT_REQUEST_POST: build_request_post,
    Template.VISIT_REQUEST_RECEIVED: build_request_received,
    Template.VISIT_REQUEST_OUTCOME: build_request_decided,
}


def render(content: dict[str, Any]) -> Rendered:
    """The text and blocks of an outbox row: given as they are, or made from their template (a name this release
    does not know raises UnknownTemplate, which the sender treats as a permanent failure)."""
    if "template" in content:
        try:
            build = TEMPLATES[Template(content["template"])]
        except (ValueError, KeyError):
            raise UnknownTemplate(str(content["template"])) from None
        text, blocks = build(content.get("params") or {})
        return text, [b.to_dict() for b in blocks]
    return str(content.get("text") or ""), list(content.get("blocks") or [])


class UnknownTemplate(LookupError):
    """An outbox row names a message this release cannot build (written by another release, or a fault)."""



@dataclass(frozen=True)
class Outgoing:
    """Everything the sender needs for one outbox row."""

    text: str
    blocks: list[dict[str, Any]]
    broadcast: bool = False                      # a thread reply also shown in the channel
    file: tuple[str, str, bytes] | None = None   # (filename, title, content): uploaded instead of posted


def outgoing(content: dict[str, Any]) -> Outgoing:
    if content.get("template") == Template.PULSE_CHART:
        params = content.get("params") or {}
        return Outgoing(text=f"Results of {params.get('title', 'the pulse')} as a chart", blocks=[],
                        file=("pulse-results.png", f"Results: {params.get('title', '')}", render_chart(params)))
    text, blocks = render(content)
    return Outgoing(text=text, blocks=blocks, broadcast=bool(content.get("broadcast")))


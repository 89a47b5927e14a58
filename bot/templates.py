"""The names of the messages the outbox builds at send time.

A service queues `{"template": Template.X, "params": {...}}` and knows nothing of how it looks; bot/blocks/notices
builds it when it is sent. The names are stored in outbox rows, so a member's value never changes once released.
An outbox row naming a template this release does not know is a permanent failure (told, never retried).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Template(StrEnum):
    # scheduled posts
    POST_FAILED = "post_failed"
    POST_MISSED = "post_missed"
    POST_RUNS_SKIPPED = "post_runs_skipped"
    POST_APPROVAL_REQUEST = "post_approval_request"
    POST_APPROVED = "post_approved"
    POST_REJECTED = "post_rejected"
    # nominations and award rounds
    NOMINATION_RECEIPT = "nomination_receipt"
    NOMINEE_RECOGNISED = "nominee_recognised"
    RECOGNITION_POST = "recognition_post"
    RECOGNITION_REMOVED = "recognition_removed"
    ROUND_OPENED = "round_opened"
    ROUND_REMINDER = "round_reminder"
    ROUND_CLOSED = "round_closed"
    WINNER_CONSENT_REQUEST = "winner_consent_request"
    AWARDS_ANNOUNCEMENT = "awards_announcement"
    NOMINATION_OUTCOME = "nomination_outcome"
    # the leader engagement calendar
    ENGAGEMENT_ANNOUNCEMENT = "engagement_announcement"
    ENGAGEMENTS_ADDED = "engagements_added"  # many at once (a calendar imported): one post, not one each
    ENGAGEMENT_CHANGED = "engagement_changed"
    VISIT_REMINDER = "visit_reminder"
    LEADERS_THIS_WEEK = "leaders_this_week"
    LEADER_BRIEFING = "leader_briefing"
    LEADER_FOLLOW_UP = "leader_follow_up"
    LEADER_QUESTIONS = "leader_questions"  # asked after the briefing went: sent within minutes, batched
    YOU_SAID_WE_DID = "you_said_we_did"  # a leader's answer to a question, in the thread and the site's channel
    QUESTION_ANSWERED = "question_answered"  # to a named asker: your question has its answer
    CALENDAR_SOURCE_FAILING = "calendar_source_failing"
    CALENDAR_SOURCE_RECOVERED = "calendar_source_recovered"
    CALENDAR_UNMATCHED = "calendar_unmatched"
    # pulses
    PULSE_MESSAGE = "pulse_message"
    PULSE_RESULTS = "pulse_results"
    PULSE_REMINDER = "pulse_reminder"
    PULSE_CHART = "pulse_chart"  # uploaded as a PNG file, not posted as blocks
    # digests
    WEEKLY_DIGEST = "weekly_digest"
    PERSONAL_DIGEST = "personal_digest"
    # delivery
    DELIVERY_FAILED = "delivery_failed"
    # heavy work run by `beacon worker`
    WORK_FAILED = "work_failed"
    # ask the leaders (/ask)
    FORUM_QUESTION = "forum_question"          # a published question in the forum channel: support count and button
    FORUM_ANSWER = "forum_answer"              # the leader's answer, in the question's thread
    FORUM_OUTCOME = "forum_outcome"            # to a named asker: published, merged, declined or answered
    FORUM_LEADER_ASKED = "forum_leader_asked"  # to the leader assigned a question, with the Answer button
    # staff asking for a visit (/calendar request)
    VISIT_REQUEST_POST = "visit_request_post"          # in the coordinator channel; edited once it is decided
    VISIT_REQUEST_RECEIVED = "visit_request_received"  # to the person who asked: it is with the coordinator
    VISIT_REQUEST_OUTCOME = "visit_request_outcome"    # to the person who asked: accepted, or declined and why


def templated(template: Template, params: dict[str, Any], **options: Any) -> dict[str, Any]:
    """An outbox row's content: which message, with what. `options` are sender flags such as broadcast=True."""
    return {"template": template, "params": params, **options}

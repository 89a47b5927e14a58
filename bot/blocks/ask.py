"""Block Kit for Ask the leaders (`/ask`): the question form, the asker's receipt and status, the moderators'
queue and their decline, merge and assign forms, and the leader's answer form."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.blocks.basic_components import MarkdownTextObject
from slack_sdk.models.views import View

from beacon.bot.blocks.limits import SECTION_TEXT
from beacon.bot.blocks.mrkdwn import mention, quoted, shorten, truncate
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.ids import ActionId, BlockId, CallbackId
from beacon.bot.services.forum_questions import ANSWER_MAX_LENGTH, MAX_LENGTH, REASON_MAX_LENGTH, QuestionView

ANONYMOUS = "anonymous"
QUEUE_SHOWN = 12  # per list in the Home tab and `/ask queue`; each question takes about three blocks
# Slack's own cap on a plain text input; Beacon's limit is lower and checked on submission, so that going over it
# gets an inline error that says the limit rather than a form that silently stops taking characters.
FORM_MAX = 3000
STATUS_WORDS = {"pending": "waiting for the forum moderators", "published": "published in the staff forum",
                "answered": "answered", "merged": "merged into a question already asked",
                "declined": "not published"}


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=shorten(text, SECTION_TEXT)))


def _quote(text: str) -> str:
    return quoted(text, 1500)


def build_ask_modal(*, intro: str) -> dict[str, Any]:
    return View(type="modal", callback_id=CallbackId.ASK_COMPOSE, title="Ask the leaders", submit="Send",
                close="Cancel", blocks=[
                    _section(intro),
                    InputBlock(block_id=BlockId.ASK_TEXT, label="Your question or suggestion",
                               hint=f"Up to {MAX_LENGTH:,} characters.",
                               element=PlainTextInputElement(action_id=BlockId.ASK_TEXT, multiline=True,
                                                             max_length=FORM_MAX)),
                    InputBlock(block_id=BlockId.ASK_ANONYMOUS, label="Your name", optional=True,
                               element=CheckboxesElement(action_id=BlockId.ASK_ANONYMOUS, options=[Option(
                                   value=ANONYMOUS, label="Ask anonymously: Beacon keeps no record of who asked")])),
                ]).to_dict()


def build_ask_receipt(*, token: str | None, text: str) -> dict[str, Any]:
    """What the asker sees once the form is sent (and, for an anonymous question, what the DM says)."""
    return View(type="modal", title="Ask the leaders", close="Done",
                blocks=build_receipt_blocks(token=token, text=text)).to_dict()


def build_receipt_blocks(*, token: str | None, text: str) -> list[Block]:
    if token is None:
        told = ("Thank you. The forum moderators will look at it soon; Beacon will tell you here whether it is "
                "published and when a leader answers.")
    else:
        told = ("Thank you. Your question is anonymous: Beacon has no record of who asked, so it cannot tell you "
                "what happens to it. Keep this token; `/ask status` with it shows whether it was published, merged "
                f"or declined (and why), and the answer:\n`{token}`")
    return [_section(told), _section(_quote(text))]


def build_status_blocks(question: QuestionView) -> list[Block]:
    lines = [f"*Your question* ({question.asked_on:%-d %B %Y}): {STATUS_WORDS.get(question.status, question.status)}."]
    if question.reason:
        lines.append(f"The moderators said: {escape_mrkdwn(question.reason)}")
    if question.supporters:
        lines.append(f"{question.supporters} colleague{'s' if question.supporters != 1 else ''} support it.")
    blocks: list[Block] = [_section("\n".join(lines)), _section(_quote(question.text))]
    if question.answer:
        blocks.append(_section(f"*Answer from {mention(question.leader_id or '')}*\n{_quote(question.answer)}"))
    return blocks


def build_ask_button() -> ActionsBlock:
    return ActionsBlock(elements=[ButtonElement(text="Ask the leaders", action_id=ActionId.ASK_OPEN,
                                                style="primary")])


def _pending_item(q: QuestionView) -> list[Block]:
    who = "Anonymous" if q.anonymous else mention(q.asker_id or "")
    return [_section(f"{who}, {q.asked_on:%-d %b}:\n{_quote(q.text)}"),
            ActionsBlock(elements=[
                ButtonElement(text="Publish", action_id=ActionId.ASK_PUBLISH, value=q.id, style="primary"),
                ButtonElement(text="Merge", action_id=ActionId.ASK_MERGE, value=q.id),
                ButtonElement(text="Decline", action_id=ActionId.ASK_DECLINE, value=q.id)])]


def _waiting_item(q: QuestionView, *, unanswered_days: int) -> list[Block]:
    flag = f":warning: *Unanswered for more than {unanswered_days} days.* " if q.overdue else ""
    leader = f"Asked of {mention(q.leader_id)}." if q.leader_id else "No leader asked yet."
    when = f"{q.published_on:%-d %b}" if q.published_on else ""
    return [_section(f"{flag}Published {when}, {q.supporters} support. {leader}\n{_quote(q.text)}"),
            ActionsBlock(elements=[ButtonElement(text="Ask a leader to answer", action_id=ActionId.ASK_ASSIGN,
                                                 value=q.id)])]


def build_moderator_queue(*, pending: Sequence[QuestionView], waiting: Sequence[QuestionView],
                          unanswered_days: int) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text="Ask the leaders: the moderators' queue")]
    if not pending:
        blocks.append(_section("No questions are waiting for a decision."))
    for q in pending[:QUEUE_SHOWN]:
        blocks.extend(_pending_item(q))
    if len(pending) > QUEUE_SHOWN:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"And {len(pending) - QUEUE_SHOWN} more waiting; decide these first.")]))
    if waiting:
        blocks.append(DividerBlock())
        blocks.append(_section("*Published, waiting for an answer*"))
        for q in waiting[:QUEUE_SHOWN]:
            blocks.extend(_waiting_item(q, unanswered_days=unanswered_days))
        if len(waiting) > QUEUE_SHOWN:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"And {len(waiting) - QUEUE_SHOWN} more.")]))
    return blocks


def _question_modal(*, callback_id: str, title: str, submit: str, question: QuestionView,
                    inputs: list[Block]) -> dict[str, Any]:
    return View(type="modal", callback_id=callback_id, title=title, submit=submit, close="Cancel",
                private_metadata=json.dumps({"question": question.id}),
                blocks=[_section(_quote(question.text)), *inputs]).to_dict()


def build_decline_modal(*, question: QuestionView) -> dict[str, Any]:
    return _question_modal(callback_id=CallbackId.ASK_DECLINE, title="Decline", submit="Decline", question=question,
                           inputs=[InputBlock(
                               block_id=BlockId.ASK_REASON, label="Why (the person who asked is told)",
                               element=PlainTextInputElement(action_id=BlockId.ASK_REASON, multiline=True,
                                                             max_length=REASON_MAX_LENGTH))])


def build_merge_modal(*, question: QuestionView, candidates: Sequence[QuestionView]) -> dict[str, Any]:
    options = [Option(value=c.id, label=truncate(c.text.replace("\n", " "), 75)) for c in candidates[:100]
               if c.id != question.id]
    if not options:
        inputs: list[Block] = [_section("No question has been published yet, so there is nothing to merge into.")]
    else:
        inputs = [InputBlock(block_id=BlockId.ASK_MERGE_INTO, label="Merge into",
                             element=StaticSelectElement(action_id=BlockId.ASK_MERGE_INTO, options=options))]
    return _question_modal(callback_id=CallbackId.ASK_MERGE, title="Merge", submit="Merge", question=question,
                           inputs=inputs)


def build_assign_modal(*, question: QuestionView) -> dict[str, Any]:
    return _question_modal(callback_id=CallbackId.ASK_ASSIGN, title="Ask a leader", submit="Ask", question=question,
                           inputs=[InputBlock(block_id=BlockId.ASK_LEADER, label="The leader who will answer",
                                              element=UserSelectElement(action_id=BlockId.ASK_LEADER))])


def build_answer_modal(*, question: QuestionView) -> dict[str, Any]:
    return _question_modal(callback_id=CallbackId.ASK_ANSWER, title="Answer", submit="Post answer",
                           question=question, inputs=[InputBlock(
                               block_id=BlockId.ASK_ANSWER_TEXT, label="Your answer (posted in the forum thread)",
                               hint=f"Up to {ANSWER_MAX_LENGTH:,} characters.",
                               element=PlainTextInputElement(action_id=BlockId.ASK_ANSWER_TEXT, multiline=True,
                                                             max_length=FORM_MAX))])


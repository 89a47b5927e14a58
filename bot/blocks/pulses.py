"""Block Kit for pulses: the builder modal (questions added and removed in place), answering, confirmations
and the moderators' list."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    ConversationSelectElement,
    DatePickerElement,
    HeaderBlock,
    InputBlock,
    Option,
    OptionGroup,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    TimePickerElement,
)
from slack_sdk.models.blocks.basic_components import MarkdownTextObject
from slack_sdk.models.views import View

from beacon.bot.blocks.mrkdwn import escaped, truncate
from beacon.bot.content import PulseBank
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.ids import ActionId, BlockId, CallbackId
from beacon.bot.models import Pulse, PulseStatus
from beacon.bot.services.pulses import REPEATS

TYPE_LABELS = {"single": "Single choice", "multiple": "Multiple choice", "agreement": "Agreement (5 points)",
               "frequency": "How often (5 points)", "scale": "0 to 10", "text": "Comment"}
ANONYMOUS, LIVE = "anonymous", "live"
REMINDERS = {"": "No reminder", "24": "24 hours before it closes", "4": "4 hours before it closes"}


def slot_blocks(slot: int) -> tuple[str, str, str]:
    return f"pulse_q{slot}_type", f"pulse_q{slot}_text", f"pulse_q{slot}_options"


def _select(action: str, labels: dict[str, str], initial: str | None = None, **extra: Any) -> StaticSelectElement:
    options = [Option(value=k or "none", label=v) for k, v in labels.items()]
    chosen = next((o for o in options if o.value == (initial or "none")), None)
    return StaticSelectElement(action_id=action, options=options, initial_option=chosen, **extra)


def build_pulse_builder(*, bank: PulseBank, slots: int, forum: str, today: date, tz: str) -> dict[str, Any]:
    groups = []
    for theme, label in bank.themes.items():
        options = [Option(value=q.key, label=truncate(q.text, 75)) for q in bank.questions if q.theme == theme]
        if options:
            groups.append(OptionGroup(label=label, options=options))
    blocks: list[Block] = [
        InputBlock(block_id=BlockId.PULSE_TITLE, label="Title",
                   element=PlainTextInputElement(action_id=BlockId.PULSE_TITLE, max_length=150,
                                                 placeholder="Staff forum pulse: winter pressures")),
        InputBlock(block_id=BlockId.PULSE_BANK, label="Ready questions", optional=True,
                   hint="The NHS engagement questions (worded as the National Quarterly Pulse Survey asks them) and "
                        "wellbeing questions; each theme gets a score.",
                   element=StaticMultiSelectElement(action_id=BlockId.PULSE_BANK, option_groups=groups,
                                                    max_selected_items=5, placeholder="Choose up to five")),
    ]
    for slot in range(1, slots + 1):
        kind, text, options_id = slot_blocks(slot)
        blocks += [
            InputBlock(block_id=kind, label=f"Your question {slot}: kind",
                       element=_select(kind, TYPE_LABELS, "single")),
            InputBlock(block_id=text, label=f"Your question {slot}",
                       element=PlainTextInputElement(action_id=text, max_length=150)),
            InputBlock(block_id=options_id, label=f"Options for question {slot}", optional=True,
                       hint="For single and multiple choice: one option a line, 2 to 10.",
                       element=PlainTextInputElement(action_id=options_id, multiline=True, max_length=1000)),
        ]
    buttons = []
    if slots < 5:
        buttons.append(ButtonElement(text="Add a question", action_id=ActionId.PULSE_ADD_QUESTION, value="add"))
    if slots > 0:
        buttons.append(ButtonElement(text="Remove the last question", action_id=ActionId.PULSE_REMOVE_QUESTION,
                                     value="remove"))
    blocks.append(ActionsBlock(block_id="pulse_questions", elements=buttons))
    anonymous = Option(value=ANONYMOUS, label="Anonymous (nobody can see who answered what)")
    live = Option(value=LIVE, label="Show results while it is open",
                  description="Anonymous: figures move only in groups of answers, never one by one")
    blocks += [
        InputBlock(block_id=BlockId.PULSE_CHANNEL, label="Post in",
                   element=ConversationSelectElement(action_id=BlockId.PULSE_CHANNEL, initial_conversation=forum)),
        InputBlock(block_id=BlockId.PULSE_SETTINGS, label="Settings", optional=True,
                   element=CheckboxesElement(action_id=BlockId.PULSE_SETTINGS, options=[anonymous, live],
                                             initial_options=[anonymous])),
        InputBlock(block_id=BlockId.PULSE_OPENS_DAY, label="Opens (leave empty to open now)", optional=True,
                   element=DatePickerElement(action_id=BlockId.PULSE_OPENS_DAY)),
        InputBlock(block_id=BlockId.PULSE_OPENS_TIME, label=f"Opening time ({tz})", optional=True,
                   element=TimePickerElement(action_id=BlockId.PULSE_OPENS_TIME, timezone=tz)),
        InputBlock(block_id=BlockId.PULSE_CLOSES_DAY, label="Closes",
                   element=DatePickerElement(action_id=BlockId.PULSE_CLOSES_DAY, initial_date=today.isoformat())),
        InputBlock(block_id=BlockId.PULSE_CLOSES_TIME, label=f"Closing time ({tz})",
                   element=TimePickerElement(action_id=BlockId.PULSE_CLOSES_TIME, timezone=tz, initial_time="17:00")),
        InputBlock(block_id=BlockId.PULSE_REMINDER, label="Reminder", optional=True,
                   element=_select(BlockId.PULSE_REMINDER, REMINDERS, "")),
        InputBlock(block_id=BlockId.PULSE_REPEAT, label="Repeat", optional=True,
                   element=_select(BlockId.PULSE_REPEAT, REPEATS, "none")),
    ]
    return View(type="modal", callback_id=CallbackId.PULSE_CREATE, title="New pulse", submit="Open the pulse",
                close="Cancel", private_metadata=json.dumps({"slots": slots}), blocks=blocks).to_dict()


def option_value(index: int) -> str:
    """An option's value in the answer form is its place, not its text (Slack holds 150 characters in a value)."""
    return f"o{index}"


def chosen_option(question: dict[str, Any], value: object) -> object:
    """What `option_value` stands for in `question`: the option's text; anything else is returned as it came."""
    if isinstance(value, str) and value[:1] == "o" and value[1:].isascii() and value[1:].isdigit() and \
            int(value[1:]) < len(question.get("options") or []):
        return question["options"][int(value[1:])]
    return value


def build_answer_modal(*, pulse: Pulse, current: dict[str, Any], token: str | None) -> dict[str, Any]:
    blocks: list[Block] = []
    for q in pulse.questions:
        block, label = f"answer_{q['key']}", truncate(q["text"], 150)
        now = current.get(q["key"])
        if q["type"] == "text":
            element: Any = PlainTextInputElement(action_id=block, multiline=True, max_length=2000,
                                                 initial_value=now or None)
        elif q["type"] == "multiple":
            options = [Option(value=option_value(i), label=truncate(o, 75)) for i, o in enumerate(q["options"])]
            element = CheckboxesElement(action_id=block, options=options, initial_options=[
                options[i] for i, o in enumerate(q["options"]) if now and o in now] or None)
        else:
            labels = [str(n) for n in range(11)] if q["type"] == "scale" else q["options"]
            options = [Option(value=str(n) if q["type"] == "scale" else option_value(n), label=truncate(o, 75))
                       for n, o in enumerate(labels)]
            chosen = next((options[n] for n, o in enumerate(labels) if now is not None and o == str(now)), None)
            element = (StaticSelectElement(action_id=block, options=options, initial_option=chosen)
                       if q["type"] == "scale" else
                       RadioButtonsElement(action_id=block, options=options, initial_option=chosen))
        blocks.append(InputBlock(block_id=block, label=label, element=element, optional=q["type"] == "text"))
    privacy = ("Anonymous: nothing links your answer to you." if pulse.anonymous
               else "Named: your answers are recorded with your name.")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=privacy)]))
    return View(type="modal", callback_id=CallbackId.PULSE_ANSWER, title="Answer the pulse", submit="Send",
                close="Cancel", private_metadata=json.dumps({"pulse": pulse.id, "token": token}),
                blocks=blocks).to_dict()


def _shown(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def build_confirmation(*, pulse: Pulse, answers: dict[str, Any], token: str | None,
                       changed: bool) -> list[dict[str, Any]]:
    lines = "\n".join(f"• {escape_mrkdwn(q['text'])} *{escape_mrkdwn(truncate(_shown(answers[q['key']]), 300))}*"
                      for q in pulse.questions if q["key"] in answers)
    head = ":white_check_mark: " + ("Your answer is changed." if changed else "Thank you, your answer is in.")
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=truncate(f"{head}\n{lines}", 3000)))]
    value = f"{pulse.id}:{token or ''}"
    blocks.append(ActionsBlock(block_id="pulse_change", elements=[ButtonElement(
        text="Change my answer", action_id=ActionId.PULSE_CHANGE, value=value)]))
    if token:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text="Only you can see this message, and only it can change your answer: Beacon keeps nothing that "
                 "links you to it. Once this message is gone, your answer stands.")]))
    return [b.to_dict() for b in blocks]


def build_held(*, pulse: Pulse, batch: int, closes: str, by_message: bool) -> tuple[str, list[dict[str, Any]]]:
    """What a person sees the moment they answer an anonymous pulse: thanks, and why the confirmation waits."""
    where = "in a direct message from Beacon" if by_message else "here"
    text = (f":hourglass_flowing_sand: Thank you. So that nobody can tell which answer is yours, Beacon stores "
            f"answers in groups (of {batch} or more whenever enough people answer), never one at a time. You will see "
            f"“your answer is in” {where} once it is stored: as more people answer, and at the latest when "
            f"“{escape_mrkdwn(truncate(pulse.title, 150))}” closes ({closes}).")
    return "Thank you: your answer will be stored with others'.", [
        SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]


def build_outcome(*, pulse_title: str, receipt_blocks: list[dict[str, Any]] | None,
                  refusal: str | None) -> tuple[str, list[dict[str, Any]]]:
    """The later message that tells a person what became of their held answer."""
    if receipt_blocks is not None:
        return f"Your answer to “{truncate(pulse_title, 150)}” is in.", receipt_blocks
    text = f":warning: {escaped(refusal or '', 2900)}"
    return f"About your answer to “{truncate(pulse_title, 150)}”", [
        SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]


def build_moderator_section(pulses: list[Pulse], *, when: Any) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text="Staff forum pulses")]
    if not pulses:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="No pulses yet.")))
    for pulse in pulses:
        state = {PulseStatus.SCHEDULED: f"opens {when(pulse.opens_at)}",
                 PulseStatus.OPEN: f"closes {when(pulse.closes_at)}", PulseStatus.CLOSED: "closed"}[
            PulseStatus(pulse.status)]
        blocks.append(SectionBlock(text=MarkdownTextObject(text=(
            f"*{escape_mrkdwn(pulse.title)}* (#{pulse.id}) · {pulse.responses} responses · {state} · "
            f"{'anonymous' if pulse.anonymous else 'named'}"))))
        buttons = []
        if pulse.status != PulseStatus.CLOSED:
            buttons.append(ButtonElement(text="Close now", action_id=ActionId.PULSE_CLOSE, value=str(pulse.id)))
        if pulse.status == PulseStatus.CLOSED or not pulse.anonymous:
            buttons += [ButtonElement(text="Results and comments", action_id=ActionId.PULSE_COMMENTS,
                                      value=str(pulse.id)),
                        ButtonElement(text="Export CSV", action_id=ActionId.PULSE_EXPORT, value=str(pulse.id))]
        if buttons:
            blocks.append(ActionsBlock(block_id=f"pulse_admin_{pulse.id}", elements=buttons))
    blocks.append(ActionsBlock(elements=[ButtonElement(text="New pulse", action_id=ActionId.PULSE_NEW, value="new",
                                                       style="primary")]))
    return blocks


def build_comments_blocks(pulse: Pulse, comments: dict[str, list[str]], minimum: int) -> list[Block]:
    """Free-text comments, for moderators only, and only where enough people answered."""
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(
        text=f"*Comments on “{escape_mrkdwn(pulse.title)}”* (for forum moderators only; do not share them on)"))]
    for question, texts in comments.items():
        body = "\n".join(f"> {escape_mrkdwn(truncate(t, 500))}" for t in texts) if texts else (
            f"Fewer than {minimum} comments, so none are shown.")
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(f"*{escape_mrkdwn(question)}*\n{body}",
                                                                        3000))))
    return blocks[:50]

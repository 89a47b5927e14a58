"""Block Kit for scheduled posts: the compose and preview modals, the list, and confirmations."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
    ContextBlock,
    ConversationFilter,
    ConversationMultiSelectElement,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    Option,
    RichTextInputElement,
    SectionBlock,
    StaticSelectElement,
    TimePickerElement,
)
from slack_sdk.models.blocks.basic_components import MarkdownTextObject
from slack_sdk.models.views import View

from beacon.bot.blocks.mrkdwn import listing, mention, quote, truncate
from beacon.bot.ids import ActionId, BlockId, CallbackId
from beacon.bot.models import OutboxStatus, PostStatus, ScheduledPost
from beacon.bot.rich_text import plain_text
from beacon.bot.services.recurrence import Repeat
from beacon.bot.services.scheduled_posts import ListedPost
from beacon.bot.when import moment

_STATUS = {PostStatus.SCHEDULED: "Scheduled", PostStatus.PENDING_APPROVAL: "Waiting for approval",
           PostStatus.PAUSED: "Paused", PostStatus.FAILED: "Failed", PostStatus.COMPLETED: "Ended",
           PostStatus.REJECTED: "Rejected", PostStatus.CANCELLED: "Cancelled"}
MESSAGE_HINT = ("Mention people, user groups or @here with the editor and they are notified. Anything typed "
                "that looks like Slack markup is shown as text. @channel and @everyone are shown, not sent.")


def _channels(channels: list[str]) -> str:
    return listing([f"<#{c}>" for c in channels])


def _section(text: str, **extra: Any) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text), **extra)


def build_compose_modal(*, tz: ZoneInfo, today: date, post: ScheduledPost | None = None,
                        channel: str | None = None) -> dict[str, Any]:
    """Write a post: where, what, when, how often. `post` fills it in for an edit."""
    start = post.starts_local if post else None
    repeat = Repeat(post.repeat) if post else Repeat.NONE
    repeat_options = [Option(value=r.value, label=r.label) for r in Repeat]
    channels = ConversationMultiSelectElement(
        action_id=BlockId.SCHEDULE_CHANNELS, placeholder="Choose channels", max_selected_items=10,
        filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True,
                                  exclude_external_shared_channels=True),
        initial_conversations=list(post.channels) if post else ([channel] if channel else None))
    blocks: list[Block] = [
        InputBlock(block_id=BlockId.SCHEDULE_CHANNELS, label="Post in", element=channels),
        InputBlock(block_id=BlockId.SCHEDULE_MESSAGE, label="Message", hint=MESSAGE_HINT,
                   element=RichTextInputElement(action_id=BlockId.SCHEDULE_MESSAGE,
                                                initial_value=post.message if post else None)),
        InputBlock(block_id=BlockId.SCHEDULE_DAY, label="Day",
                   element=DatePickerElement(action_id=BlockId.SCHEDULE_DAY,
                                             initial_date=(start.date() if start else today).isoformat())),
        InputBlock(block_id=BlockId.SCHEDULE_TIME, label=f"Time ({tz.key})",
                   hint=f"Beacon posts at this time in {tz.key}, whatever the time zone of your device.",
                   element=TimePickerElement(action_id=BlockId.SCHEDULE_TIME, timezone=tz.key,
                                             initial_time=(start.time() if start else time(9, 0)).strftime("%H:%M"))),
        InputBlock(block_id=BlockId.SCHEDULE_REPEAT, label="Repeat",
                   element=StaticSelectElement(action_id=BlockId.SCHEDULE_REPEAT, options=repeat_options,
                                               initial_option=repeat_options[list(Repeat).index(repeat)])),
        InputBlock(block_id=BlockId.SCHEDULE_UNTIL, label="Last day (for a repeating post)", optional=True,
                   element=DatePickerElement(action_id=BlockId.SCHEDULE_UNTIL,
                                             initial_date=post.until_local.isoformat() if post and post.until_local
                                             else None)),
    ]
    return View(type="modal", callback_id=CallbackId.SCHEDULE_COMPOSE,
                title="Edit scheduled post" if post else "Schedule a post", submit="Preview", close="Cancel",
                private_metadata=json.dumps({"edit_of": post.id if post else None}), blocks=blocks).to_dict()


def build_preview_loading(*, external_id: str) -> dict[str, Any]:
    """Shown for the moment it takes to count who is in the channels; it cannot be submitted yet."""
    return View(type="modal", title="Preview", close="Back", external_id=external_id,
                blocks=[_section(":hourglass_flowing_sand: Checking who will see this post…")]).to_dict()


def build_preview_modal(*, post: ScheduledPost, external_id: str, runs: list[datetime], tz: ZoneInfo,
                        large: dict[str, int | None], approval: bool) -> dict[str, Any]:
    """Exactly what will be posted, where and when; confirms a large audience before it can be scheduled."""
    repeat = Repeat(post.repeat)
    when = moment(runs[0], tz, year=True) if runs else "no future run"
    schedule = f"*When:* {when}" + ("" if repeat is Repeat.NONE else f" · {repeat.label}")
    if post.until_local:
        schedule += f", until {post.until_local:%-d %b %Y}"
    if len(runs) > 1:
        schedule += "\n*Then:* " + ", ".join(moment(r, tz, year=True) for r in runs[1:])
    sizes = post.audience or {}
    audience = " · ".join(f"<#{c}>: {sizes[c]:,} members" if sizes.get(c, -1) >= 0 else f"<#{c}>: size unknown"
                          for c in post.channels)
    blocks: list[Block | dict[str, Any]] = [
        _section(f"This is exactly what will be posted in {_channels(post.channels)}:"),
        DividerBlock(), post.message, DividerBlock(),
        ContextBlock(elements=[MarkdownTextObject(text=schedule)]),
        ContextBlock(elements=[MarkdownTextObject(text=f"*Who will see it:* {audience}")]),
    ]
    if approval:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text="A second member of the communications team must approve it before it goes out.")]))
    if large:
        options = [Option(value=c, text=MarkdownTextObject(
            text=f"Yes, post to {'everyone' if n is None else f'all {n:,} people'} in <#{c}>"))
            for c, n in large.items()]
        blocks.append(InputBlock(block_id=BlockId.SCHEDULE_AUDIENCE, label="This reaches a large audience",
                                 optional=True,  # so that Beacon, not Slack, says what is missing
                                 element=CheckboxesElement(action_id=BlockId.SCHEDULE_AUDIENCE, options=options)))
    return View(type="modal", callback_id=CallbackId.SCHEDULE_PREVIEW, title="Preview", submit="Schedule",
                close="Back", external_id=external_id, private_metadata=json.dumps({"post_id": post.id}),
                blocks=blocks).to_dict()


def build_problem_modal(message: str) -> dict[str, Any]:
    return View(type="modal", title="Cannot schedule this", close="Back",
                blocks=[_section(f":warning: {message}")]).to_dict()


def _last_outcome(item: ListedPost, tz: ZoneInfo) -> str:
    last = item.last
    if last is None:
        return "Not run yet"
    if last.status == OutboxStatus.SENT and last.sent_at:
        return f"Last run: sent {moment(last.sent_at, tz, year=True)}"
    if last.status == OutboxStatus.FAILED:
        return f"Last run: failed (`{last.last_error}`)"
    return f"Last run: not sent ({last.last_error or 'missed'})"


def _post_buttons(post: ScheduledPost) -> ActionsBlock | None:
    value = str(post.id)
    buttons = []
    if post.status in (PostStatus.SCHEDULED, PostStatus.PENDING_APPROVAL, PostStatus.PAUSED, PostStatus.FAILED):
        buttons.append(ButtonElement(text="Edit", action_id=ActionId.SCHEDULE_EDIT, value=value))
    if post.status in (PostStatus.SCHEDULED, PostStatus.PENDING_APPROVAL):
        buttons.append(ButtonElement(text="Pause", action_id=ActionId.SCHEDULE_PAUSE, value=value))
    if post.status == PostStatus.PAUSED:
        buttons.append(ButtonElement(text="Resume", action_id=ActionId.SCHEDULE_RESUME, value=value))
    if post.status in (PostStatus.SCHEDULED, PostStatus.PENDING_APPROVAL, PostStatus.PAUSED, PostStatus.FAILED):
        buttons.append(ButtonElement(
            text="Cancel", action_id=ActionId.SCHEDULE_CANCEL, value=value, style="danger",
            confirm=ConfirmObject(title="Cancel this post?", text="It will not be posted again.",
                                  confirm="Cancel the post", deny="Keep it")))
    return ActionsBlock(block_id=f"post_{post.id}", elements=buttons) if buttons else None


def build_posts_list(items: list[ListedPost], *, tz: ZoneInfo, heading: bool = True) -> list[Block]:
    """Scheduled posts with their next run, last outcome and what can be done with each."""
    blocks: list[Block] = [HeaderBlock(text="Scheduled posts")] if heading else []
    if not items:
        blocks.append(_section("Nothing is scheduled. Use `/schedule` to write a post."))
    for item in items:
        post = item.post
        next_run = f"Next: {moment(post.next_run_at, tz, year=True)}" if post.next_run_at else "No more runs"
        text = (f"*{_channels(post.channels)}* · {Repeat(post.repeat).label} · *{_STATUS[PostStatus(post.status)]}*"
                f" · by {mention(post.author_id)}\n{quote(truncate(plain_text(post.message), 200))}\n"
                f"{next_run} · {_last_outcome(item, tz)}")
        blocks.append(_section(text))
        buttons = _post_buttons(post)
        if buttons:
            blocks.append(buttons)
    return blocks


def build_new_post_button() -> ActionsBlock:
    return ActionsBlock(elements=[ButtonElement(text="Schedule a post", action_id=ActionId.SCHEDULE_NEW,
                                                value="new", style="primary")])


def build_scheduled_text(*, post: ScheduledPost, first_run: datetime | None, awaiting_approval: bool,
                         edited: bool, tz: ZoneInfo) -> str:
    verb = "updated" if edited else "scheduled"
    when = moment(first_run, tz, year=True) if first_run else "no future run"
    text = f":white_check_mark: Your post to {_channels(post.channels)} is {verb} for {when}"
    if Repeat(post.repeat) is not Repeat.NONE:
        text += f" ({Repeat(post.repeat).phrase})"
    if awaiting_approval:
        text += ". It goes out once a second member of the communications team approves it; they have been asked"
    return text + ". See or change it with `/schedule list`."


def build_decision_blocks(*, approve: bool, decided_by: str, summary: str) -> list[Block]:
    """What an approval request turns into once someone has decided."""
    verdict = "approved" if approve else "rejected"
    icon = ":white_check_mark:" if approve else ":no_entry:"
    return [_section(f"{icon} {mention(decided_by)} {verdict} this post."), _section(quote(truncate(summary, 300)))]

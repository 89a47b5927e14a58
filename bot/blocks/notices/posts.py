"""Scheduled posts: failures, missed runs, and the two-person approval."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
)
from slack_sdk.models.blocks.basic_components import MarkdownTextObject

from beacon.bot.blocks.mrkdwn import mention
from beacon.bot.blocks.notices.common import channels, section, summary
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.ids import ActionId

# Why Slack refused a post, and what the author can do about it.
_REFUSALS = {
    "channel_not_found": ("the channel no longer exists, or it is private and Beacon is not in it",
                          "Check the channel and invite Beacon with `/invite @Beacon`, then edit the post "
                          "(`/schedule list`) to schedule it again."),
    "not_in_channel": ("Beacon is not a member of the channel",
                       "Type `/invite @Beacon` in {channel}, then edit the post (`/schedule list`) to schedule "
                       "it again."),
    "is_archived": ("the channel is archived",
                    "Unarchive the channel, or edit the post (`/schedule list`) and choose another channel."),
    "restricted_action": ("only some people may post in that channel",
                          "Ask the channel's managers to let Beacon post, then edit the post to schedule it again."),
    "invalid_blocks": ("Slack could not display the message",
                       "Edit the post (`/schedule list`) and simplify its formatting."),
    "msg_too_long": ("the message is too long for Slack", "Edit the post (`/schedule list`) and shorten it."),
    "could_not_build": ("Beacon could not put the message together (a fault in Beacon)",
                        "Tell your Beacon administrator; editing the post (`/schedule list`) may get round it."),
}


def post_failed(params: dict[str, Any]) -> tuple[str, list[Block]]:
    channel = f"<#{params['channel']}>"
    code = str(params.get("error") or "")
    reason, fix = _REFUSALS.get(code.split(":", 1)[0], (f"Slack refused it (`{escape_mrkdwn(code)}`)",
                                       "Edit the post (`/schedule list`) to fix it, or ask your Beacon administrator."))
    text = f":warning: Your scheduled post to {channel} for {params['when']} could not be sent: {reason}."
    return text, [section(text), summary(params), section(fix.format(channel=channel)),
                  ContextBlock(elements=[MarkdownTextObject(
                      text="The post is marked failed and will not run again until you edit it.")])]


def post_missed(params: dict[str, Any]) -> tuple[str, list[Block]]:
    channel = f"<#{params['channel']}>"
    if params.get("error") == "not approved in time":
        why = "nobody from the communications team approved it before its time"
    else:
        why = (f"Beacon could not post it within {params.get('grace_hours')} hours of its time "
               "(Beacon or Slack was unavailable)")
    text = f":hourglass: Your scheduled post to {channel} for {params['when']} was not sent: {why}."
    return text, [section(text), summary(params)]


def post_runs_skipped(params: dict[str, Any]) -> tuple[str, list[Block]]:
    count = int(params.get("skipped") or 0)
    runs = "1 run" if count == 1 else f"{count} runs"
    next_run = f" Its next run is {params['when']}." if params.get("when") else " It has no more runs."
    text = (f":hourglass: Beacon was not running for a while, so {runs} of your scheduled post to "
            f"{channels(params)} did not go out (more than {params.get('grace_hours')} hours late).{next_run}")
    return text, [section(text), summary(params)]


def post_approval_request(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = (f"{mention(params['author'])} scheduled a post to {channels(params)} for {params['when']} "
            f"({escape_mrkdwn(str(params['repeat']))}). It needs a second member of the communications "
            "team to approve it.")
    post_id = str(params["post_id"])
    buttons = ActionsBlock(block_id="approval", elements=[
        ButtonElement(text="Approve", action_id=ActionId.SCHEDULE_APPROVE, value=post_id, style="primary"),
        ButtonElement(text="Reject", action_id=ActionId.SCHEDULE_REJECT, value=post_id, style="danger",
                      confirm=ConfirmObject(title="Reject this post?", text="It will not be posted. "
                                            "The author is told who rejected it.", confirm="Reject", deny="Back")),
    ])
    return text, [section(text), summary(params), buttons]


def post_approved(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = (f":white_check_mark: {mention(params['decided_by'])} approved your post to {channels(params)}. "
            f"It will go out {params['when']}.")
    return text, [section(text), summary(params)]


def post_rejected(params: dict[str, Any]) -> tuple[str, list[Block]]:
    text = (f":no_entry: {mention(params['decided_by'])} rejected your post to {channels(params)}; "
            "it will not be posted. Talk to them, then schedule it again if needed.")
    return text, [section(text), summary(params)]



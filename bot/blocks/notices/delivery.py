"""A message Beacon accepted could not be delivered: told to its author or the admins."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    Block,
)

from beacon.bot.blocks.mrkdwn import mention
from beacon.bot.blocks.notices.common import context, section
from beacon.bot.escaping import escape_mrkdwn

# Why a message could not be delivered, in plain words (Slack's error codes are kept for the admins).
_UNDELIVERED = {
    "could_not_build": "Beacon could not put the message together (a fault in Beacon)",
    "invalid_blocks": "Slack could not display it",
    "msg_too_long": "it was too long for Slack",
    "msg_blocks_too_long": "it was too long for Slack",
    "invalid_arguments": "Slack refused it as it was written",
    "channel_not_found": "the conversation no longer exists, or Beacon is not in it",
    "not_in_channel": "Beacon is not a member of the channel",
    "is_archived": "the channel is archived",
    "user_disabled": "the person's Slack account has been deactivated",
    "user_not_found": "the person is no longer in Slack",
    "cannot_dm_bot": "it was addressed to a bot",
    "restricted_action": "only some people may post in that channel",
}
_WHAT = {
    "nomination_receipt": "the receipt for your nomination",
    "nominee_recognised": "your recognition to {to}, so they have not seen it or been asked about sharing it",
    "recognition_post": "the public celebration of your nomination",
    "post_approval_request": "the request to approve your scheduled post, to {to}",
}


def _where(channel: str) -> str:
    return mention(channel) if channel[:1] in ("U", "W") else f"<#{channel}>"


def delivery_failed(params: dict[str, Any]) -> tuple[str, list[Block]]:
    """A message Beacon accepted will never be delivered: told to its author, or to the admins channel."""
    error = str(params.get("error") or "")
    code = error.split(":", 1)[0].strip()
    if params.get("status") == "missed":
        reason = "it could not be sent in time (Beacon or Slack was unavailable)"
    else:
        reason = _UNDELIVERED.get(code, "Slack refused it")
    channel = str(params.get("channel") or "")
    reference = f"outbox #{params.get('outbox_id')}"
    if params.get("for_admins"):
        kind = escape_mrkdwn(str(params.get("template") or params.get("source") or "message"))
        # A direct message's recipient is not named to the admins: a failed pulse reminder would say who had
        # not answered yet. The outbox id finds it in the log for whoever must look.
        where = "one person's direct messages" if channel[:1] in ("U", "W", "D") else _where(channel)
        text = (f":warning: Beacon could not deliver a message ({kind}) to {where}: {reason} "
                f"(`{escape_mrkdwn(error[:200]) or 'no error'}`, {reference}).")
        extra = []
        if params.get("told_author_failed"):
            told = escape_mrkdwn(str(params["told_author_failed"])[:200])
            extra.append(f"Its author could not be told either (`{told}`).")
        extra.append("It will not be retried. Other failures of the same kind within the hour are only in the log.")
        return text, [section(text), context(" ".join(extra))]
    what = _WHAT.get(str(params.get("template") or ""), "a message from Beacon").format(to=_where(channel))
    text = f":warning: Beacon could not deliver {what}: {reason}."
    follow = (f"It will not be retried. If you need help, ask your Beacon administrator and mention {reference}.")
    return text, [section(text), context(follow)]

"""What a person is told when their action did not happen."""

from __future__ import annotations

from beacon.bot.blocks.mrkdwn import listing, mention
from beacon.bot.content import Messages
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.services.authorisation import RoleRequired


def build_not_permitted_text(error: RoleRequired, messages: Messages) -> str:
    every = (error.holders, *error.also)
    users = list(dict.fromkeys(u for h in every for u in h.user_ids))
    groups = list(dict.fromkeys(g for h in every for g in h.group_handles))
    names = [mention(u) for u in users] + [f"members of {escape_mrkdwn(handle)}" for handle in groups]
    who = (messages.not_permitted_holders.format(names=listing(names)) if names
           else messages.not_permitted_nobody.format(role_key=error.holders.role.value))
    role = "* or *".join(h.role.label for h in every)
    return messages.not_permitted.format(action=escape_mrkdwn(error.action), role=role, holders=who)


def build_went_wrong_text(*, what: str, reference: str, messages: Messages) -> str:
    return messages.something_went_wrong.format(what=what, reference=escape_mrkdwn(reference))


def build_slack_refused_text(*, error_code: str, what: str, messages: Messages) -> str:
    return messages.slack_refused.format(error=f"`{escape_mrkdwn(error_code)}`", what=what)

"""Who you are to Beacon and what you can do: shown in the App Home and by `/beacon`."""

from __future__ import annotations

from collections.abc import Iterable

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, SectionBlock
from slack_sdk.models.blocks.basic_components import MarkdownTextObject

from beacon.bot.blocks.mrkdwn import escaped, listing, mention
from beacon.bot.content import CommandAction, CommandSpec, Messages
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.organisation import Role


def available_actions(commands: Iterable[CommandSpec], roles: frozenset[Role]) -> list[CommandAction]:
    return [a for spec in commands for a in spec.actions if not a.roles or roles.intersection(a.roles)]


def build_actions_list(actions: Iterable[CommandAction]) -> str:
    return "\n".join(f"• `{escape_mrkdwn(a.usage)}`: {escape_mrkdwn(a.summary)}" for a in actions)


def build_about_blocks(*, user_id: str, roles: frozenset[Role], commands: Iterable[CommandSpec],
                       messages: Messages, organisation_name: str) -> list[Block]:
    role_names = [f"*{role.label}*" for role in Role if role in roles]
    roles_line = (messages.home_roles.format(roles=listing(role_names)) if role_names
                  else messages.home_no_roles)
    return [
        HeaderBlock(text=messages.home_heading),
        SectionBlock(text=MarkdownTextObject(
            text=messages.home_intro.format(organisation=escape_mrkdwn(organisation_name)))),
        SectionBlock(text=MarkdownTextObject(
            text=messages.home_you_are.format(user=mention(user_id)) + " " + roles_line)),
        SectionBlock(text=MarkdownTextObject(
            text=f"*{messages.home_can_do}*\n" + build_actions_list(available_actions(commands, roles)))),
        ContextBlock(elements=[MarkdownTextObject(text=messages.home_footer)]),
    ]


def build_usage_blocks(*, command: str, text: str, spec: CommandSpec, roles: frozenset[Role],
                       messages: Messages) -> list[Block]:
    """The reply to arguments a command does not understand: what was typed, and what works."""
    # What was typed is echoed back, escaped and then shortened: a command's text can be thousands of characters.
    intro = messages.unknown_arguments.format(command=escape_mrkdwn(command), text=escaped(text, 300))
    actions = available_actions([spec], roles) or spec.actions
    return [SectionBlock(text=MarkdownTextObject(text=intro + "\n" + build_actions_list(actions)))]

"""Replies that every command handler gives the same way."""

from __future__ import annotations

from slack_bolt.context.respond.async_respond import AsyncRespond

from beacon.bot.blocks.about import build_usage_blocks
from beacon.bot.deps import Deps


async def reply_usage(respond: AsyncRespond, deps: Deps, *, command: str, text: str, user_id: str) -> None:
    """Answer arguments a command does not understand with what the person can type instead."""
    roles = await deps.authorisation.roles_of(user_id)
    blocks = build_usage_blocks(command=command, text=text, spec=deps.content.commands[command],
                                roles=roles, messages=deps.content.messages)
    await respond(response_type="ephemeral", text=f"Usage of {command}",
                  blocks=[b.to_dict() for b in blocks])

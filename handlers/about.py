"""`/beacon`: who you are to Beacon and what you can do."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from beacon.bot.blocks.about import build_about_blocks
from beacon.bot.deps import Deps
from beacon.bot.ids import Command
from beacon.handlers.errors import guarded
from beacon.handlers.replies import reply_usage


def register(app: AsyncApp, deps: Deps) -> None:
    guard = guarded(deps)
    @app.command(Command.BEACON)
    @guard
    async def handle_beacon(ack: AsyncAck, command: dict, respond: AsyncRespond) -> None:
        await ack()
        user_id, text = command["user_id"], command.get("text", "").strip()
        if text not in ("", "help"):
            await reply_usage(respond, deps, command=Command.BEACON, text=text, user_id=user_id)
            return
        blocks = build_about_blocks(
            user_id=user_id, roles=await deps.authorisation.roles_of(user_id),
            commands=deps.content.commands.values(), messages=deps.content.messages,
            organisation_name=deps.organisation.name,
        )
        await respond(response_type="ephemeral", text="What Beacon can do for you",
                      blocks=[b.to_dict() for b in blocks])

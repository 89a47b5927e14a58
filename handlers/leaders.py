"""`/leaders` and the App Home's leader directory: who the leaders are, and each leader's own commitment."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from beacon.bot.blocks.leaders import (
    build_directory_blocks,
    build_directory_modal,
    build_leaders_home,
    build_statement_modal,
)
from beacon.bot.deps import Deps
from beacon.bot.errors import InvalidInput
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.ids import ActionId, BlockId, CallbackId, Command
from beacon.bot.organisation import Role
from beacon.bot.services.leaders import STATEMENT_LIMIT
from beacon.handlers.errors import guarded
from beacon.handlers.home import HomeTab
from beacon.handlers.modal_state import ModalState


def register(app: AsyncApp, deps: Deps, home_tab: HomeTab) -> None:
    guard = guarded(deps)
    leaders = deps.leaders

    async def directory_blocks(user_id: str, query: str | None) -> list[Block]:
        async with deps.db.transaction() as session:
            directory = await leaders.directory(session=session, query=query)
        return build_directory_blocks(directory, may_write=await leaders.may_write(user_id))

    async def home_section(_user_id: str, roles: frozenset[Role]) -> list[Block]:
        return build_leaders_home(count=await leaders.count(),
                                  may_write=bool(roles & {Role.EXECUTIVES, Role.LEADERS}))

    home_tab.add_section(home_section)

    @app.command(Command.LEADERS)
    @guard
    async def handle_leaders(ack: AsyncAck, command: dict, respond: AsyncRespond) -> None:
        await ack()
        query = command.get("text", "").strip() or None
        heading = f"Your leaders: {escape_mrkdwn(query)}" if query else "Your leaders"
        await respond(response_type="ephemeral", text=heading,
                      blocks=[b.to_dict() for b in await directory_blocks(command["user_id"], query)])

    @app.action(ActionId.LEADERS_OPEN)
    @guard
    async def handle_open_directory(ack: AsyncAck, body: dict, client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"],
                                view=build_directory_modal(await directory_blocks(body["user"]["id"], None)))

    @app.action(ActionId.LEADER_STATEMENT_OPEN)
    @guard
    async def handle_open_statement(ack: AsyncAck, body: dict, client: AsyncWebClient) -> None:
        await ack()
        async with deps.db.transaction() as session:
            current = await leaders.statement_of(session=session, user_id=body["user"]["id"])
        view = build_statement_modal(current=current, limit=STATEMENT_LIMIT)
        if (body.get("view") or {}).get("type") == "modal":  # from the directory's own modal: stack on it
            await client.views_push(trigger_id=body["trigger_id"], view=view)
        else:
            await client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(CallbackId.LEADER_STATEMENT)
    @guard
    async def handle_statement(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient) -> None:
        user_id = body["user"]["id"]
        try:
            async with deps.db.transaction() as session:
                statement = await leaders.set_statement(session=session, user_id=user_id,
                                                        text=ModalState(view).text(BlockId.LEADER_STATEMENT))
        except InvalidInput as problem:
            await ack(response_action="errors", errors={BlockId.LEADER_STATEMENT: problem.user_message})
            return
        await ack()
        await client.chat_postMessage(channel=user_id, text=(
            ":handshake: Your commitment is in the leader directory (`/leaders`)." if statement else
            "Your commitment is removed from the leader directory."))
        await home_tab.publish(client, user_id)

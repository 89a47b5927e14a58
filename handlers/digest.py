"""`/digest`: preview the weekly digest (comms), and each person's choice of a personal digest."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.digest_home import build_digest_choice, digest_preview_note
from bot.blocks.notices import render
from bot.deps import Deps
from bot.ids import ActionId, Command
from bot.organisation import Role
from handlers.errors import guarded
from handlers.home import HomeTab
from handlers.parsing import one_of
from handlers.replies import reply_usage


def register(app: AsyncApp, deps: Deps, home_tab: HomeTab) -> None:
    guard = guarded(deps)
    digests = deps.digests

    async def home_section(user_id: str, _roles: frozenset[Role]) -> list[Block]:
        async with deps.db.transaction() as session:
            wanted = await digests.wants_personal(session=session, user_id=user_id)
        return build_digest_choice(wanted=wanted)

    home_tab.add_section(home_section)

    async def choose(user_id: str, wanted: bool) -> None:
        async with deps.db.transaction() as session:
            await digests.set_personal(session=session, user_id=user_id, wanted=wanted)

    @app.command(Command.DIGEST)
    @guard
    async def handle_digest(ack: AsyncAck, command: dict, client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        user_id, text = command["user_id"], command.get("text", "").strip().lower()
        if text == "preview":
            week, params = await digests.preview(db=deps.db, user_id=user_id)
            _, blocks = render({"template": "weekly_digest", "params": params})
            note = digest_preview_note(when=digests.when(week.fired_at), channels=deps.organisation.channels.digest)
            await respond(response_type="ephemeral", text="A preview of the next weekly digest",
                          blocks=[note.to_dict(), *blocks][:50])
        elif text in ("on", "off"):
            await choose(user_id, text == "on")
            await respond(response_type="ephemeral", text=(
                ":white_check_mark: You will get your own digest by direct message each week, when there is "
                "something for you." if text == "on" else "Your weekly digest is off."))
            await home_tab.publish(client, user_id)
        else:
            await reply_usage(respond, deps, command=Command.DIGEST, text=text, user_id=user_id)

    @app.action(ActionId.DIGEST_PERSONAL)
    @guard
    async def handle_choice(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        user_id = body["user"]["id"]
        await choose(user_id, one_of(action.get("value"), ("on", "off")) == "on")
        await home_tab.publish(client, user_id)

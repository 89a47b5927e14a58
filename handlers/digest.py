"""`/digest`: preview the weekly digest (comms), and each person's choice of a personal digest."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from beacon.bot.blocks.digest_home import build_digest_choice, digest_preview_note
from beacon.bot.blocks.notices import render
from beacon.bot.deps import Deps
from beacon.bot.ids import ActionId, Command
from beacon.bot.organisation import Role
from beacon.bot.templates import Template
from beacon.handlers.errors import guarded
from beacon.handlers.home import HomeTab
from beacon.handlers.parsing import one_of
from beacon.handlers.verbs import Said, Verbs

VERBS = Verbs(Command.DIGEST, {"preview": "preview", "on": "on", "off": "off"}, lowercase=True)


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

    async def preview(said: Said) -> None:
        week, params = await digests.preview(db=deps.db, user_id=said.user_id)
        _, blocks = render({"template": Template.WEEKLY_DIGEST, "params": params})
        note = digest_preview_note(when=digests.when(week.fired_at), channels=deps.organisation.channels.digest)
        await said.reply("A preview of the next weekly digest", [note.to_dict(), *blocks][:50])

    async def on(said: Said) -> None:
        await choose(said.user_id, True)
        await said.reply(":white_check_mark: You will get your own digest by direct message each week, when there "
                         "is something for you.")
        await home_tab.publish(said.client, said.user_id)

    async def off(said: Said) -> None:
        await choose(said.user_id, False)
        await said.reply("Your weekly digest is off.")
        await home_tab.publish(said.client, said.user_id)

    route = VERBS.router(deps, {"preview": preview, "on": on, "off": off})

    @app.command(Command.DIGEST)
    @guard
    async def handle_digest(ack: AsyncAck, command: dict, client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        await route(command, client, respond)

    @app.action(ActionId.DIGEST_PERSONAL)
    @guard
    async def handle_choice(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        user_id = body["user"]["id"]
        await choose(user_id, one_of(action.get("value"), ("on", "off")) == "on")
        await home_tab.publish(client, user_id)

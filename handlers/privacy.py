"""The privacy notice, from the App Home."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from beacon.bot.blocks.privacy import build_privacy_link, build_privacy_modal
from beacon.bot.deps import Deps
from beacon.bot.ids import ActionId
from beacon.bot.organisation import Role
from beacon.handlers.errors import guarded
from beacon.handlers.home import HomeTab


def register(app: AsyncApp, deps: Deps, home_tab: HomeTab) -> None:
    guard = guarded(deps)
    notice = deps.content.privacy

    async def home_section(_user_id: str, _roles: frozenset[Role]) -> list[Block]:
        return build_privacy_link(notice)

    home_tab.add_section(home_section)

    @app.action(ActionId.PRIVACY_NOTICE)
    @guard
    async def handle_notice(ack: AsyncAck, body: dict, client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=build_privacy_modal(notice))

"""The App Home tab: published when a person opens it, and again when what it shows changes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncApp
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from beacon.bot.after_ack import Coalesced
from beacon.bot.blocks.about import build_about_blocks
from beacon.bot.blocks.home import build_home
from beacon.bot.deps import Deps
from beacon.bot.organisation import Role
from beacon.handlers.errors import guarded

HomeSection = Callable[[str, frozenset[Role]], Awaitable[list[Block]]]


class HomeTab:
    """The home tab's sections, in order; each feature adds the section it owns."""

    def __init__(self, deps: Deps):
        self._deps = deps
        self._sections: list[HomeSection] = [self._about]
        self._client: AsyncWebClient | None = None
        self._refresh: Coalesced[str] = Coalesced(self._publish_latest,
                                                  window=deps.settings.beacon_home_refresh_seconds)

    def add_section(self, section: HomeSection) -> None:
        self._sections.append(section)

    async def publish(self, client: AsyncWebClient, user_id: str) -> None:
        """What the Home shows has changed: refresh it once the person's changes of the next few seconds are in,
        after every other request's work (bot/after_ack.py: Coalesced)."""
        self._client = client  # the app's one client: the same for every request
        self._refresh.request(user_id)

    async def _publish_latest(self, user_id: str) -> None:
        assert self._client is not None
        await self.publish_now(self._client, user_id)

    async def publish_now(self, client: AsyncWebClient, user_id: str) -> None:
        """The person has opened the Home: publish it as it is now."""
        roles = await self._deps.authorisation.roles_of(user_id)
        sections = [await section(user_id, roles) for section in self._sections]
        await client.views_publish(user_id=user_id, view=build_home(sections=sections))

    async def _about(self, user_id: str, roles: frozenset[Role]) -> list[Block]:
        return build_about_blocks(
            user_id=user_id, roles=roles, commands=self._deps.content.commands.values(),
            messages=self._deps.content.messages, organisation_name=self._deps.organisation.name,
        )


def register(app: AsyncApp, deps: Deps) -> HomeTab:
    guard = guarded(deps)
    home_tab = HomeTab(deps)

    @app.event("app_home_opened")
    @guard
    async def handle_home_opened(event: dict, client: AsyncWebClient) -> None:
        if event.get("tab", "home") == "home":
            await home_tab.publish_now(client, event["user"])

    return home_tab

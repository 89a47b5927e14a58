"""Who Beacon is in Slack (its workspace and app IDs), for links into Slack: the App Home and message links."""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


class SlackWorkspaceLinks:
    """Asks Slack once (auth.test, then bots.info for the app ID) and remembers; gives no link if Slack would
    not say, so a digest goes out without the link rather than not at all."""

    def __init__(self, client: AsyncWebClient):
        self._client = client
        self._ids: dict[str, str] | None = None
        self._lock = asyncio.Lock()

    async def _identity(self) -> dict[str, str] | None:
        async with self._lock:
            if self._ids is None:
                try:
                    auth = await self._client.auth_test()
                    bot = await self._client.bots_info(bot=auth["bot_id"])
                    self._ids = {"team": auth["team_id"], "url": auth["url"], "app": bot["bot"]["app_id"]}
                except (SlackApiError, KeyError) as error:
                    log.warning("could not learn Beacon's app ID for links", extra={"error": str(error)})
                    return None
            return self._ids

    async def app_home(self) -> str | None:
        ids = await self._identity()
        return f"slack://app?team={ids['team']}&id={ids['app']}&tab=home" if ids else None

    async def workspace_url(self) -> str | None:
        ids = await self._identity()
        return ids["url"] if ids else None

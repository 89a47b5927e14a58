"""Facts about Slack channels that Beacon needs before posting (how many people will see a post)."""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from beacon.bot.services.people import PeopleDirectory

log = logging.getLogger(__name__)


async def member_counts(client: AsyncWebClient, channels: list[str]) -> dict[str, int | None]:
    """Members of each channel; None where Slack would not say (the author is then asked to confirm)."""

    async def count(channel: str) -> int | None:
        try:
            info = await client.conversations_info(channel=channel, include_num_members=True)
        except SlackApiError as error:
            log.warning("could not count channel members", extra={"channel": channel,
                                                                   "slack_error": error.response.get("error")})
            return None
        members: int | None = info["channel"].get("num_members")
        return members

    sizes = await asyncio.gather(*(count(c) for c in channels))
    return dict(zip(channels, sizes, strict=True))


class SlackChannelMembers:
    """Who is in a channel (people only), for pulse reminders."""

    def __init__(self, client: AsyncWebClient, people: PeopleDirectory):
        self._client = client
        self._people = people

    async def members(self, channel: str) -> list[str]:
        found: list[str] = []
        async for page in await self._client.conversations_members(channel=channel, limit=1000):
            found += page.get("members", [])
        known = await self._people.colleagues(found)
        return [u for u in found if u in known and not known[u].is_bot and not known[u].deactivated]

"""Slack users, cached: answers "is this a person, and still active?" without a Web API call each time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from beacon.bot.clock import Clock
from beacon.bot.services.people import Colleague

log = logging.getLogger(__name__)


def _colleague(user: dict[str, Any]) -> Colleague:
    profile = user.get("profile") or {}
    name = profile.get("real_name") or user.get("real_name") or user.get("name", "")
    image = str(profile.get("image_72") or "")
    return Colleague(id=user["id"], name=name, is_bot=bool(user.get("is_bot") or user.get("id") == "USLACKBOT"),
                     deactivated=bool(user.get("deleted")), title=str(profile.get("title") or ""),
                     image=image if image.startswith("https://") else "",
                     guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")))


class SlackUserDirectory:
    def __init__(self, client: AsyncWebClient, clock: Clock, *, keep_for: timedelta = timedelta(hours=6)):
        self._client = client
        self._clock = clock
        self._keep_for = keep_for
        self._known: dict[str, tuple[Colleague, datetime]] = {}

    async def colleagues(self, user_ids: Iterable[str]) -> dict[str, Colleague]:
        now = self._clock.now()
        wanted = list(dict.fromkeys(user_ids))
        missing = [u for u in wanted if u not in self._known or now - self._known[u][1] > self._keep_for]
        looked_up = await asyncio.gather(*(self._look_up(u) for u in missing))
        for colleague in looked_up:
            if colleague is not None:
                self._known[colleague.id] = (colleague, now)
        return {u: self._known[u][0] for u in wanted if u in self._known}

    async def _look_up(self, user_id: str) -> Colleague | None:
        try:
            return _colleague((await self._client.users_info(user=user_id))["user"])
        except SlackApiError as error:
            if error.response.get("error") != "user_not_found":
                raise
            return None

    async def refresh_all(self) -> int:
        """Load everyone in the workspace (users.list, 200 a page) so that lookups need no call."""
        now, count = self._clock.now(), 0
        async for page in await self._client.users_list(limit=200):  # slack_sdk follows next_cursor
            for user in page.get("members", []):
                self._known[user["id"]] = (_colleague(user), now)
                count += 1
        return count

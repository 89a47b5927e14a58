"""Slack user groups, for resolving `@handle` entries in `roles:`."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient


class SlackGroupDirectory:
    def __init__(self, client: AsyncWebClient):
        self._client = client

    async def members_by_handle(self) -> dict[str, frozenset[str]]:
        response = await self._client.usergroups_list(include_users=True, include_disabled=False)
        groups: list[dict[str, Any]] = response.get("usergroups", [])
        return {"@" + group["handle"]: frozenset(group.get("users") or ()) for group in groups}

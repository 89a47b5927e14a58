"""Who someone is on Slack, as far as Beacon's rules need to know (bots and deactivated users)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Colleague:
    id: str
    name: str
    is_bot: bool = False
    deactivated: bool = False
    title: str = ""   # the profile's job title, as they wrote it
    image: str = ""   # the profile's 72-pixel photo (https), for the leader directory
    guest: bool = False  # a single- or multi-channel guest: not staff (a join link is never given to one)


class PeopleDirectory(Protocol):
    async def colleagues(self, user_ids: Iterable[str]) -> dict[str, Colleague]:
        """Those of `user_ids` that exist; an unknown ID is simply absent."""
        ...

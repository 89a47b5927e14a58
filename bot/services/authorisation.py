"""Who holds which role: the one place every surface asks before doing something privileged."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from beacon.bot.clock import Clock
from beacon.bot.errors import NotPermitted
from beacon.bot.organisation import Role, Roles

log = logging.getLogger(__name__)


class GroupDirectory(Protocol):
    """Where user-group handles (`@comms-team`) are resolved to their members."""

    async def members_by_handle(self) -> dict[str, frozenset[str]]: ...


@dataclass(frozen=True)
class RoleHolders:
    role: Role
    user_ids: tuple[str, ...]
    group_handles: tuple[str, ...]


class RoleRequired(NotPermitted):
    """Raised when someone lacks a role; carries what the refusal must tell them."""

    def __init__(self, *, action: str, holders: RoleHolders, also: tuple[RoleHolders, ...] = ()):
        super().__init__(f"{action} needs the {holders.role.label} role")
        self.action = action
        self.holders = holders
        self.also = also  # other roles that would do as well


class Authorisation:
    def __init__(self, roles: Roles, directory: GroupDirectory, clock: Clock, *,
                 refresh_after: timedelta = timedelta(minutes=10)):
        self._roles = roles
        self._directory = directory
        self._clock = clock
        self._refresh_after = refresh_after
        self._groups: dict[str, frozenset[str]] = {}
        self._loaded_at: datetime | None = None
        self._lock = asyncio.Lock()

    def replace_roles(self, roles: Roles) -> None:
        """New role lists from a reloaded organisation file; user groups are looked up again on next use."""
        self._roles = roles
        self._loaded_at = None

    async def refresh(self) -> None:
        """Reload user-group membership; on failure the last good membership is kept."""
        async with self._lock:
            await self._load()

    async def _load(self) -> None:
        try:
            self._groups = await self._directory.members_by_handle()
        except Exception:
            log.exception("could not load Slack user groups; keeping the last membership seen")
            if self._loaded_at is not None:
                return
        self._loaded_at = self._clock.now()

    def _stale(self) -> bool:
        return self._loaded_at is None or self._clock.now() - self._loaded_at >= self._refresh_after

    async def _fresh_groups(self) -> dict[str, frozenset[str]]:
        uses_groups = any(m.startswith("@") for role in Role for m in self._roles.members(role))
        if uses_groups and self._stale():
            async with self._lock:
                # Many requests find membership stale at once (the first burst, each ten minutes): the first loads
                # it, the rest wait for that load instead of calling usergroups.list again one after another.
                if self._stale():
                    await self._load()
        return self._groups

    async def roles_of(self, user_id: str) -> frozenset[Role]:
        groups = await self._fresh_groups()
        held = set()
        for role in Role:
            for member in self._roles.members(role):
                if member == user_id or (member.startswith("@") and user_id in groups.get(member, ())):
                    held.add(role)
                    break
        return frozenset(held)

    async def has(self, user_id: str, role: Role) -> bool:
        return role in await self.roles_of(user_id)

    async def require(self, user_id: str, role: Role, *, action: str) -> None:
        """Return quietly when `user_id` holds `role`; otherwise raise RoleRequired."""
        if not await self.has(user_id, role):
            raise RoleRequired(action=action, holders=self.holders(role))

    async def require_any(self, user_id: str, roles: tuple[Role, ...], *, action: str) -> None:
        """Like `require`, for an action open to any of several roles; the refusal names the first."""
        held = await self.roles_of(user_id)
        if not held.intersection(roles):
            raise RoleRequired(action=action, holders=self.holders(roles[0]),
                               also=tuple(self.holders(r) for r in roles[1:]))

    async def granted_by(self, user_id: str, role: Role) -> list[str]:
        """The entries of `roles.<role>` (the person's own ID, user-group handles) through which `user_id` holds it."""
        groups = await self._fresh_groups()
        return [m for m in self._roles.members(role)
                if m == user_id or (m.startswith("@") and user_id in groups.get(m, ()))]

    async def grants(self, role: Role) -> dict[str, list[str]]:
        """`granted_by` for every holder of `role` at once: user ID -> the entries that give it to them."""
        groups = await self._fresh_groups()
        held: dict[str, list[str]] = {}
        for member in self._roles.members(role):
            for user_id in groups.get(member, ()) if member.startswith("@") else (member,):
                held.setdefault(user_id, []).append(member)
        return held

    async def members(self, role: Role) -> frozenset[str]:
        """Every user ID holding `role`, with groups expanded."""
        groups = await self._fresh_groups()
        users: set[str] = set()
        for member in self._roles.members(role):
            users.update(groups.get(member, ()) if member.startswith("@") else (member,))
        return frozenset(users)

    def holders(self, role: Role) -> RoleHolders:
        members = self._roles.members(role)
        return RoleHolders(
            role=role,
            user_ids=tuple(m for m in members if not m.startswith("@")),
            group_handles=tuple(m for m in members if m.startswith("@")),
        )

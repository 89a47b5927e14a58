"""Roles from beacon.yaml, user groups resolved through Slack and cached; refusals say who can help."""

import asyncio
from datetime import timedelta

import pytest

from beacon.bot.clock import ManualClock
from beacon.bot.organisation import Role, Roles
from beacon.bot.services.authorisation import Authorisation, RoleRequired
from tests.harness import start_of_test_time


class Directory:
    """A stand-in for Slack's user groups that counts how often it is asked and can fail."""

    def __init__(self, groups: dict[str, frozenset[str]]):
        self.groups, self.calls, self.failing = groups, 0, False

    async def members_by_handle(self) -> dict[str, frozenset[str]]:
        self.calls += 1
        if self.failing:
            raise ConnectionError("Slack is unreachable")
        return dict(self.groups)


ROLES = Roles(comms=["U0GRACE", "@comms-team"], panel=["U0DAVE"], admins=["U0FRANK"])


async def test_direct_and_group_membership_both_count() -> None:
    auth = Authorisation(ROLES, Directory({"@comms-team": frozenset({"U0BOB"})}), ManualClock(start_of_test_time()))
    assert await auth.roles_of("U0BOB") == {Role.COMMS}
    assert await auth.roles_of("U0GRACE") == {Role.COMMS}
    assert await auth.roles_of("U0ALICE") == frozenset()
    assert await auth.members(Role.COMMS) == {"U0BOB", "U0GRACE"}


async def test_groups_are_cached_and_refreshed_when_stale() -> None:
    clock = ManualClock(start_of_test_time())
    directory = Directory({"@comms-team": frozenset({"U0BOB"})})
    auth = Authorisation(ROLES, directory, clock, refresh_after=timedelta(minutes=10))
    await auth.roles_of("U0BOB")
    await auth.roles_of("U0ALICE")
    assert directory.calls == 1
    directory.groups = {"@comms-team": frozenset({"U0ALICE"})}
    clock.advance(timedelta(minutes=11))
    assert await auth.has("U0ALICE", Role.COMMS)
    assert not await auth.has("U0BOB", Role.COMMS), "someone removed from the group loses the role"


async def test_a_crowd_finding_membership_stale_loads_it_once() -> None:
    """Twenty requests at once (the first burst, or each ten minutes) make one usergroups.list, not twenty in turn."""
    clock = ManualClock(start_of_test_time())

    class Slow(Directory):
        async def members_by_handle(self) -> dict[str, frozenset[str]]:
            await asyncio.sleep(0.05)
            return await super().members_by_handle()

    directory = Slow({"@comms-team": frozenset({"U0BOB"})})
    auth = Authorisation(ROLES, directory, clock, refresh_after=timedelta(minutes=10))
    held = await asyncio.gather(*(auth.roles_of("U0BOB") for _ in range(20)))
    assert held == [{Role.COMMS}] * 20 and directory.calls == 1
    clock.advance(timedelta(minutes=11))
    await asyncio.gather(*(auth.roles_of("U0ALICE") for _ in range(20)))
    assert directory.calls == 2


async def test_a_failed_refresh_keeps_the_last_membership() -> None:
    clock = ManualClock(start_of_test_time())
    directory = Directory({"@comms-team": frozenset({"U0BOB"})})
    auth = Authorisation(ROLES, directory, clock)
    assert await auth.has("U0BOB", Role.COMMS)
    directory.failing = True
    clock.advance(timedelta(hours=1))
    assert await auth.has("U0BOB", Role.COMMS)


async def test_require_refuses_with_who_holds_the_role() -> None:
    auth = Authorisation(ROLES, Directory({}), ManualClock(start_of_test_time()))
    with pytest.raises(RoleRequired) as caught:
        await auth.require("U0ALICE", Role.PANEL, action="Scoring a nomination")
    assert caught.value.holders.user_ids == ("U0DAVE",)
    await auth.require("U0DAVE", Role.PANEL, action="Scoring a nomination")

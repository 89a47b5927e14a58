from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
from hypothesis import HealthCheck, Phase, settings

from beacon.bot.clock import ManualClock
from beacon.bot.local_slack import LocalSlack
from beacon.bot.organisation import Organisation
from beacon.bot.settings import Settings
from tests.harness import (
    Beacon,
    BeaconServer,
    TestDatabases,
    organisation_for,
    seed_workspace,
    settings_for,
    start_of_test_time,
)

# Property tests (Hypothesis), one profile for the whole suite. "ci": quick and repeatable, no shrinking (a failure
# prints the drawn input as it was); HYPOTHESIS_PROFILE=dev shrinks failures and tries more examples.
settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True, print_blob=True,
                          phases=[Phase.explicit, Phase.reuse, Phase.generate],
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                 HealthCheck.filter_too_much])
settings.register_profile("dev", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def databases() -> Iterator[TestDatabases]:
    dbs = TestDatabases()
    yield dbs
    dbs.cleanup()


@pytest.fixture
async def database_url(databases: TestDatabases, request: pytest.FixtureRequest) -> str:
    return await databases.fresh_url(request.node.name.replace("/", "_")[:80])


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    local = LocalSlack(seed_workspace())
    await local.start()
    yield local
    await local.stop()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start_of_test_time())


@pytest.fixture
def organisation(slack: LocalSlack) -> Organisation:
    return organisation_for(slack.workspace)


@pytest.fixture
def settings(slack: LocalSlack, database_url: str) -> Settings:
    return settings_for(slack, database_url)


@pytest.fixture
async def server(slack: LocalSlack, settings: Settings, organisation: Organisation,
                 clock: ManualClock) -> AsyncIterator[BeaconServer]:
    beacon_server = BeaconServer(slack, settings, organisation, clock)
    yield beacon_server
    await beacon_server.stop()


@pytest.fixture
async def beacon(server: BeaconServer) -> Beacon:
    """Beacon serving HTTP on 127.0.0.1, with the local Slack sending it signed requests."""
    return await server.start()

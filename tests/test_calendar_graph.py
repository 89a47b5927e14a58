"""Microsoft 365 calendars through a local Graph over HTTPS: token, paging, Retry-After, and what is dropped."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from beacon.bot.local_slack import LocalSlack
from beacon.bot.models import Engagement
from beacon.bot.organisation import Organisation
from beacon.bot.settings import Settings
from tests.fakes.graph import CLIENT_ID, CLIENT_SECRET, TENANT, FakeGraph, graph_event
from tests.fakes.tls import make_certificates
from tests.harness import ADMIN, ENGAGEMENT, Beacon, organisation_for, settings_for, settle

MAILBOX = "leadership-engagement@trust.example"


@pytest.fixture
async def graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeGraph]:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    fake = await FakeGraph(certificates=make_certificates(tmp_path)).start()
    fake.events[MAILBOX] = [
        graph_event("e1", "Listening session with the night shift", "2026-11-25T10:00:00", "2026-11-25T12:00:00",
                    location="Chelmsford Ambulance Station"),
        graph_event("e2", "Budget meeting", "2026-11-25T13:00:00", "2026-11-25T14:00:00", categories=("Finance",)),
        graph_event("e3", "One-to-one", "2026-11-26T09:00:00", "2026-11-26T10:00:00", sensitivity="private"),
        graph_event("e4", "Disciplinary panel", "2026-11-26T11:00:00", "2026-11-26T12:00:00",
                    sensitivity="confidential"),
        graph_event("e5", "Cancelled visit", "2026-11-27T10:00:00", "2026-11-27T11:00:00", cancelled=True),
        graph_event("o1", "Weekly station visit", "2026-11-30T09:00:00", "2026-11-30T10:00:00", series="s1",
                    original_start="2026-11-30T09:00:00Z", location="Bedford"),
        graph_event("o2", "Weekly station visit", "2026-12-07T09:00:00", "2026-12-07T10:00:00", series="s1",
                    original_start="2026-12-07T09:00:00Z", location="Bedford"),
    ]
    yield fake
    await fake.stop()


@pytest.fixture
def settings(slack: LocalSlack, database_url: str, graph: FakeGraph) -> Settings:
    return settings_for(slack, database_url, graph_tenant_id=TENANT, graph_client_id=CLIENT_ID,
                        graph_client_secret=CLIENT_SECRET, graph_authority_url=graph.authority_url,
                        graph_api_url=graph.api_url, graph_ca_bundle=graph.certificates.ca_file)


@pytest.fixture
def organisation(slack: LocalSlack) -> Organisation:
    return organisation_for(slack.workspace, sites=[
        {"name": "Chelmsford Ambulance Station", "area": "Essex"},
        {"name": "Bedford Ambulance Station", "area": "Bedfordshire", "aliases": ["Bedford"]}],
        calendar={"sources": [{"type": "graph", "mailbox": MAILBOX}]})


async def _engagements(beacon: Beacon) -> list[Engagement]:
    async with beacon.deps.db.transaction() as session:
        return list((await session.scalars(select(Engagement).order_by(Engagement.starts_at))).all())


async def test_graph_calendar_view_is_read_page_by_page_and_filtered(beacon: Beacon, graph: FakeGraph) -> None:
    graph.faults = [(429, 1), (503, 0)]
    started = time.monotonic()
    await beacon.deps.calendar_sync.run()
    assert time.monotonic() - started >= 1, "Retry-After was honoured"
    rows = await _engagements(beacon)
    assert [(e.title, e.site, e.leader) for e in rows] == [
        ("Listening session with the night shift", "Chelmsford Ambulance Station", "Carol Chen"),
        ("Weekly station visit", "Bedford Ambulance Station", "Carol Chen"),
        ("Weekly station visit", "Bedford Ambulance Station", "Carol Chen")]
    assert {e.occurrence for e in rows[1:]} == {"20261130T090000Z", "20261207T090000Z"}
    calls = [r for r in graph.requests if "calendarView" in r["path"]]
    assert len(calls) == 6, "two refused, then four pages of two events"
    assert calls[0]["prefer"] == 'outlook.timezone="Europe/London"'
    assert "startDateTime" in calls[0]["query"] and "body" not in calls[0]["query"]["$select"]

    await beacon.deps.calendar_sync.run()
    assert graph.tokens_issued == 1, "the app-only token is cached between syncs"
    await beacon.deps.dispatcher.run_once()
    await settle()
    everything = json.dumps([m.blocks for c in beacon.ws.channels.values() for m in c.messages]) + json.dumps(
        [vars(e) for e in rows], default=str)
    for never in ("SECRET agenda", "teams.example", "someone@trust.example", "One-to-one", "Disciplinary",
                  "Budget meeting", "Cancelled visit"):
        assert never not in everything
    assert any("Listening session" in json.dumps(m.blocks) for m in beacon.ws.messages(ENGAGEMENT))


async def test_a_refused_secret_keeps_the_calendar_and_tells_the_admins(beacon: Beacon, graph: FakeGraph) -> None:
    await beacon.deps.calendar_sync.run()
    graph.events[MAILBOX] = []
    graph.revoke_client()  # the secret was rotated in Entra ID but not in Beacon
    for _ in range(3):
        await beacon.deps.calendar_sync.run()
    assert len(await _engagements(beacon)) == 3, "the last good data stays"
    await beacon.deps.dispatcher.run_once()
    [alert] = [m for m in beacon.ws.messages(ADMIN) if "has failed" in m.text]
    assert "invalid_client" in alert.text

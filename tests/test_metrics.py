"""`GET /metrics` and `/healthz` as an operator's Prometheus and load balancer see them, from the real server."""

from __future__ import annotations

import asyncio
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from beacon.bot.clock import ManualClock
from beacon.bot.db import Database
from beacon.bot.http_server import EVENTS_PATH
from beacon.bot.ids import CallbackId
from beacon.bot.local_slack import LocalSlack, payloads
from beacon.bot.metrics import CONTENT_TYPE
from beacon.bot.organisation import Organisation
from beacon.bot.services import outbox
from beacon.bot.settings import Settings
from beacon.scheduler import calendar as calendar_jobs
from beacon.scheduler import delivery as delivery_job
from tests.fakes.feeds import FeedServer
from tests.harness import (
    ADMIN,
    ALICE,
    CHELMSFORD,
    FORUM,
    GENERAL,
    HEIDI,
    Beacon,
    BeaconServer,
    organisation_for,
    settings_for,
    settle,
)
from tests.test_pulses import _choose, _create

ICS = Path(__file__).parent / "data" / "ics"


class Scrape:
    """One answer of `GET /metrics`, parsed as Prometheus parses it."""

    def __init__(self, text: str):
        self.text = text
        self.samples = [s for family in text_string_to_metric_families(text) for s in family.samples]

    def value(self, name: str, **labels: str) -> float | None:
        found = [s.value for s in self.samples if s.name == name and s.labels == labels]
        assert len(found) <= 1, f"{name}{labels} appears {len(found)} times"
        return found[0] if found else None

    def label_values(self, name: str, label: str) -> set[str]:
        return {s.labels[label] for s in self.samples if s.name == name and label in s.labels}


async def _get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, response.headers["Content-Type"], await response.text()


def _url(beacon: Beacon, path: str) -> str:
    return beacon.slack.app_url.replace(EVENTS_PATH, path)  # type: ignore[union-attr]


async def _scrape(beacon: Beacon) -> Scrape:
    status, content_type, text = await _get(_url(beacon, "/metrics"))
    assert status == 200 and content_type == CONTENT_TYPE
    return Scrape(text)


async def _healthz(beacon: Beacon) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http, http.get(_url(beacon, "/healthz")) as response:
        return response.status, await response.json()


async def _enqueue(beacon: Beacon, *rows: tuple[str, str], held: bool = False, due_in: timedelta = timedelta()) -> None:
    """Rows of (key, channel), due `due_in` from now on the manual clock, through the outbox as features write."""
    now = beacon.clock.now()
    async with beacon.deps.db.transaction() as session:
        await outbox.enqueue(session=session, now=now, promises=[outbox.Promise(
            dedupe_key=f"metrics:{key}", source="test", channel=channel, content={"text": f"message {key}"},
            due_at=now + due_in, expires_at=now + due_in + timedelta(hours=1), held=held) for key, channel in rows])


async def test_a_slash_command_is_counted_once_with_its_ack_time(beacon: Beacon) -> None:
    before = await _scrape(beacon)
    assert before.value("beacon_slack_requests_total", type="command /beacon", outcome="ok") is None
    reply = await beacon.slack.person(ALICE).command("/beacon")
    await settle()
    assert reply.status == 200
    after = await _scrape(beacon)
    assert after.value("beacon_slack_requests_total", type="command /beacon", outcome="ok") == 1
    assert after.value("beacon_slack_ack_seconds_count", type="command /beacon") == 1
    assert after.value("beacon_slack_ack_seconds_bucket", type="command /beacon", le="+Inf") == 1
    assert after.label_values("beacon_slack_ack_seconds_bucket", "le") == {
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "3.0", "+Inf"}


async def test_an_event_and_a_refused_command_are_counted_by_their_type(beacon: Beacon) -> None:
    alice = beacon.slack.person(ALICE)
    await alice.open_home()
    await settle()
    await alice.command("/pulse", channel=FORUM)  # refused politely: Alice is no moderator, but the ack is ok
    await settle()
    scrape = await _scrape(beacon)
    assert scrape.value("beacon_slack_requests_total", type="event app_home_opened", outcome="ok") == 1
    assert scrape.value("beacon_slack_requests_total", type="command /pulse", outcome="ok") == 1
    assert scrape.value("beacon_slack_ack_seconds_count", type="event app_home_opened") == 1


async def test_pulse_answers_share_one_label_whatever_was_chosen(beacon: Beacon) -> None:
    """A label per option would let whoever scrapes /metrics watch which option was chosen when."""
    await _create(beacon)  # a moderator fills the pulse modal and submits it
    await _choose(beacon, ALICE, 1)  # pulse_choose_1
    await _choose(beacon, HEIDI, 2)  # pulse_choose_2
    scrape = await _scrape(beacon)
    assert scrape.value("beacon_slack_requests_total", type="pulse answer", outcome="ok") == 2
    assert scrape.value("beacon_slack_ack_seconds_count", type="pulse answer") == 2
    types = scrape.label_values("beacon_slack_requests_total", "type")
    assert not [t for t in types if t.startswith("action pulse_choose")], types
    assert scrape.value("beacon_slack_requests_total", type=f"view_submission {CallbackId.PULSE_CREATE}",
                        outcome="ok") == 1


async def test_unsigned_requests_cannot_name_new_series(beacon: Beacon) -> None:
    ws = beacon.ws
    form = payloads.slash_command(ws, user=ws.users[ALICE], channel=ws.dm_channel(ALICE),
                                  command="/anything-an-attacker-likes-12345", text="", trigger_id="none",
                                  response_url=f"{beacon.slack.url}/respond/none")
    body = urllib.parse.urlencode(form)
    unsigned = {"Content-Type": "application/x-www-form-urlencoded"}
    for _ in range(3):
        assert (await beacon.slack.post_to_app(body, unsigned)).status == 401
    scrape = await _scrape(beacon)
    assert scrape.value("beacon_slack_requests_total", type="unverified", outcome="unauthorised") == 3
    assert "anything-an-attacker-likes" not in scrape.text


async def test_outbox_backlog_follows_the_rows_and_healthz_turns_503_until_they_are_sent(beacon: Beacon) -> None:
    await _enqueue(beacon, ("a", GENERAL), ("b", ALICE))
    await _enqueue(beacon, ("held", GENERAL), held=True)                       # waits for approval: not due
    await _enqueue(beacon, ("later", GENERAL), due_in=timedelta(hours=2))      # not due yet
    status, report = await _healthz(beacon)
    assert status == 200 and report["outbox_due"] == 2 and report["outbox_oldest_due_seconds"] == 0

    beacon.clock.advance(timedelta(minutes=10))  # under delivery.unhealthy_after_minutes (15)
    scrape = await _scrape(beacon)
    assert scrape.value("beacon_outbox_due") == 2
    assert scrape.value("beacon_outbox_oldest_due_age_seconds") == 600
    status, report = await _healthz(beacon)
    assert status == 200 and report["ok"] is True and report["reasons"] == []

    beacon.clock.advance(timedelta(minutes=10))
    assert (await _scrape(beacon)).value("beacon_outbox_oldest_due_age_seconds") == 1200
    status, report = await _healthz(beacon)
    assert status == 503 and report["ok"] is False
    assert report["database"] == "reachable" and report["outbox_oldest_due_seconds"] == 1200
    assert report["reasons"] == ["the oldest due outbox message has waited 20.0 minutes "
                                 "(delivery.unhealthy_after_minutes is 15)"]

    await beacon.deps.dispatcher.run_once()
    status, report = await _healthz(beacon)
    assert status == 200 and report["outbox_due"] == 0 and report["outbox_oldest_due_seconds"] is None
    scrape = await _scrape(beacon)
    assert scrape.value("beacon_outbox_due") == 0
    assert scrape.value("beacon_outbox_oldest_due_age_seconds") == 0
    assert scrape.value("beacon_outbox_sends_total", outcome="sent", source="test") == 2
    assert scrape.value("beacon_outbox_sends_total", outcome="missed", source="test") == 1, "the held row expired"


async def test_the_unhealthy_threshold_comes_from_beacon_yaml(slack: LocalSlack, settings: Settings,
                                                              clock: ManualClock) -> None:
    organisation = organisation_for(slack.workspace, delivery={"posts_per_minute": 60000, "per_channel_seconds": 0,
                                                               "unhealthy_after_minutes": 2})
    server = BeaconServer(slack, settings, organisation, clock)
    try:
        beacon = await server.start()
        await _enqueue(beacon, ("a", GENERAL))
        beacon.clock.advance(timedelta(minutes=3))
        status, report = await _healthz(beacon)
        assert status == 503 and report["outbox_oldest_due_seconds"] == 180
        assert "(delivery.unhealthy_after_minutes is 2)" in report["reasons"][0]
    finally:
        await server.stop()


async def test_sends_are_counted_by_outcome(beacon: Beacon) -> None:
    await _enqueue(beacon, ("sent", GENERAL), ("refused", "C0NOWHERE"), ("busy", FORUM), ("lost", CHELMSFORD))
    await _enqueue(beacon, ("never-approved", GENERAL), held=True)
    beacon.slack.faults.add("chat.postMessage", status=503, channel=FORUM)
    beacon.slack.faults.add("chat.postMessage", disconnect_after=True, channel=CHELMSFORD)
    first = await beacon.deps.dispatcher.run_once()
    beacon.clock.advance(timedelta(minutes=10))
    second = await beacon.deps.dispatcher.run_once()
    scrape = await _scrape(beacon)

    def sends(outcome: str) -> float | None:
        return scrape.value("beacon_outbox_sends_total", outcome=outcome, source="test")

    assert sends("failed") == 1, "channel_not_found is permanent"
    assert sends("missed") == 1, "a held row whose time came"
    assert sends("retried") == 2, "a 503, and an answer lost after Slack posted"
    assert sends("sent") == 2, "the first row, then the 503'd one on its retry"
    assert sends("recovered") == 1, "the lost answer's message was found in Slack, not sent again"
    assert sends("skipped") is None
    assert (first.sent, first.failed, first.missed, first.retried) == (3, 1, 1, 2), (
        "the first row, and the admins told of the row that failed and the row that was missed")
    assert len([m for m in beacon.ws.messages(ADMIN) if "test" in m.text]) == 2
    assert (second.sent, second.recovered) == (2, 1), "the report counts a recovered row as sent too"


async def test_calendar_source_failures_and_last_success_are_read_at_each_scrape(
        slack: LocalSlack, settings: Settings, clock: ManualClock) -> None:
    feeds = await FeedServer(feeds={"ceo": (ICS / "outlook.ics").read_text(),
                                    "ops": (ICS / "google.ics").read_text()}).start()
    organisation = organisation_for(slack.workspace, calendar={"allow_hosts": ["127.0.0.1"], "sources": [
        {"type": "ics", "name": "Chief Executive", "url": feeds.url("ceo")},
        {"type": "ics", "name": "Director of Operations", "url": feeds.url("ops")}]})
    server = BeaconServer(slack, settings, organisation, clock)
    try:
        beacon = await server.start()
        never = await _scrape(beacon)
        assert never.value("beacon_calendar_source_consecutive_failures", source="Chief Executive", kind="ics") == 0
        assert never.value("beacon_calendar_source_last_success_timestamp_seconds",
                           source="Chief Executive", kind="ics") is None, "never synced: no time to report"

        feeds.failing.add("ops")
        first_sync = clock.now()
        await beacon.deps.calendar_sync.run()
        clock.advance(timedelta(minutes=15))
        await beacon.deps.calendar_sync.run()
        scrape = await _scrape(beacon)
        assert scrape.value("beacon_calendar_source_consecutive_failures",
                            source="Director of Operations", kind="ics") == 2
        assert scrape.value("beacon_calendar_source_last_success_timestamp_seconds",
                            source="Director of Operations", kind="ics") is None
        assert scrape.value("beacon_calendar_source_consecutive_failures", source="Chief Executive", kind="ics") == 0
        assert scrape.value("beacon_calendar_source_last_success_timestamp_seconds", source="Chief Executive",
                            kind="ics") == (first_sync + timedelta(minutes=15)).timestamp()
        assert feeds.url("ops") not in scrape.text, "a feed's URL may carry its secret: sources are named"

        feeds.failing.clear()
        await beacon.deps.calendar_sync.run()
        recovered = await _scrape(beacon)
        assert recovered.value("beacon_calendar_source_consecutive_failures",
                               source="Director of Operations", kind="ics") == 0
        assert recovered.value("beacon_calendar_source_last_success_timestamp_seconds",
                               source="Director of Operations", kind="ics") == clock.now().timestamp()
    finally:
        await server.stop()
        await feeds.stop()


async def _broken_job() -> None:
    raise RuntimeError("a job that fails")


async def test_scheduler_job_runs_are_counted_by_job_and_outcome(beacon: Beacon) -> None:
    scheduler = beacon.runtime.scheduler
    for job in scheduler.get_jobs():
        scheduler.pause_job(job.id)  # only the runs this test schedules happen
    assert (await _scrape(beacon)).value("beacon_scheduler_job_runs_total", job=calendar_jobs.SYNC, outcome="ok") == 0
    await _enqueue(beacon, ("by-the-job", GENERAL))
    now = datetime.now(UTC)  # APScheduler keeps real time, not the manual clock
    # The real delivery job, run once, as its interval trigger would run it; one job that fails; one that is
    # 10 minutes late, beyond the scheduler's 5-minute misfire grace time.
    scheduler.add_job(delivery_job.run, "date", run_date=now, id=delivery_job.JOB_ID, replace_existing=True,
                      kwargs={"deps": beacon.deps})
    scheduler.add_job(_broken_job, "date", run_date=now, id="test.broken")
    scheduler.add_job(_broken_job, "date", run_date=now - timedelta(minutes=10), id="test.late")
    runs = beacon.runtime.metrics.registry

    def finished() -> bool:
        return all(runs.get_sample_value("beacon_scheduler_job_runs_total", {"job": job, "outcome": outcome})
                   for job, outcome in ((delivery_job.JOB_ID, "ok"), ("test.broken", "error"),
                                        ("test.late", "missed")))

    scheduler.resume()
    try:
        for _ in range(500):
            if finished():
                break
            await asyncio.sleep(0.01)
    finally:
        scheduler.pause()
    await settle()

    scrape = await _scrape(beacon)
    assert scrape.value("beacon_scheduler_job_runs_total", job=delivery_job.JOB_ID, outcome="ok") == 1
    assert scrape.value("beacon_scheduler_job_runs_total", job=delivery_job.JOB_ID, outcome="error") == 0
    assert scrape.value("beacon_scheduler_job_runs_total", job="test.broken", outcome="error") == 1
    assert scrape.value("beacon_scheduler_job_runs_total", job="test.late", outcome="missed") == 1
    assert scrape.value("beacon_scheduler_job_runs_total", job="test.late", outcome="ok") is None, "not run late"
    assert scrape.value("beacon_scheduler_job_runs_total", job=calendar_jobs.SYNC, outcome="ok") == 0
    assert scrape.value("beacon_outbox_sends_total", outcome="sent", source="test") == 1, "the job delivered"


async def test_a_scrape_while_the_database_is_down_still_serves_the_counters(server: BeaconServer) -> None:
    beacon = await server.start(db=Database("postgresql+asyncpg://nobody@127.0.0.1:1/none"))
    reply = await beacon.slack.person(ALICE).command("/beacon")
    await settle()
    scrape = await _scrape(beacon)
    # Without the database Beacon cannot tell a replay from a first delivery: it acks, does nothing, says so, and
    # counts it.
    assert reply.status == 200
    told = beacon.slack.person(ALICE).last_ephemeral().text
    assert "could not check this request just now, so it did nothing" in told
    assert scrape.value("beacon_slack_requests_total", type="unavailable", outcome="unavailable") == 1
    assert scrape.value("beacon_outbox_due") is None, "unknown, not 0: a down database is not an empty outbox"
    status, report = await _healthz(beacon)
    assert status == 503 and report["reasons"] == ["the database is unreachable"]
    assert report["outbox_oldest_due_seconds"] is None


async def test_socket_mode_serves_metrics_and_health_on_beacon_metrics_port(
        slack: LocalSlack, database_url: str, organisation: Organisation, clock: ManualClock) -> None:
    server = BeaconServer(slack, settings_for(slack, database_url, beacon_metrics_port=0), organisation, clock)
    try:
        beacon = await server.start(socket_mode=True)
        port = beacon.runtime.operations_port
        assert port
        reply = await beacon.slack.person(ALICE).command("/beacon")
        await settle()
        assert reply.status == 200
        status, content_type, text = await _get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200 and content_type == CONTENT_TYPE
        assert Scrape(text).value("beacon_slack_requests_total", type="command /beacon", outcome="ok") == 1
        status, _, health = await _get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and '"database": "reachable"' in health
    finally:
        await server.stop()


async def test_without_beacon_metrics_port_no_extra_port_is_opened(beacon: Beacon) -> None:
    assert beacon.runtime.operations_port is None
    status, _, _ = await _get(_url(beacon, "/metrics"))
    assert status == 200, "HTTP mode serves /metrics next to /slack/events"

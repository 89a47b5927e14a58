"""The delivery engine: DST, missed runs, 429 storms, 5xx, lost answers, crashes and two dispatchers."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

from beacon.bot.db import Database
from beacon.bot.models import OutboxMessage, OutboxStatus
from beacon.bot.services import outbox
from beacon.bot.services.delivery import Dispatcher, SendResult
from beacon.bot.services.job_runs import claim_period
from tests.harness import ALICE, GENERAL, GRACE, Beacon
from tests.scheduling import outbox_rows, schedule, tick


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


async def _enqueue(beacon: Beacon, count: int, *, channel: str | None = None, prefix: str = "fanout") -> None:
    now = beacon.clock.now()
    async with beacon.deps.db.transaction() as session:
        await outbox.enqueue(session=session, now=now, promises=[outbox.Promise(
            dedupe_key=f"{prefix}:{i}", source="test", channel=channel or f"U9{i:05d}",
            content={"text": f"message {i}"}, due_at=now, expires_at=now + timedelta(hours=1))
            for i in range(count)])


def _outbox_ids_posted(beacon: Beacon) -> list[int]:
    return [m.metadata["event_payload"]["outbox_id"] for c in beacon.ws.channels.values() for m in c.messages
            if m.metadata and m.metadata.get("event_type") == "beacon_outbox"]


async def test_a_daily_post_keeps_its_local_time_through_the_october_change(beacon: Beacon) -> None:
    beacon.clock.set(_utc(2027, 10, 29, 12, 0))
    await schedule(beacon.slack.person(GRACE), channels=[GENERAL], message="Morning", day=date(2027, 10, 30),
                   at=time(9, 0), repeat="daily")
    for moment in (_utc(2027, 10, 30, 8, 0), _utc(2027, 10, 31, 8, 0), _utc(2027, 10, 31, 9, 0),
                   _utc(2027, 11, 1, 9, 0)):
        await tick(beacon, moment)
    sent = [r.sent_at for r in await outbox_rows(beacon)
            if r.status == OutboxStatus.SENT and r.source == "scheduled_post"]
    assert sent == [_utc(2027, 10, 30, 8, 0), _utc(2027, 10, 31, 9, 0), _utc(2027, 11, 1, 9, 0)]
    assert len(beacon.ws.messages(GENERAL)) == 3, "09:00 BST, then 09:00 GMT: nothing early, nothing twice"


async def test_a_post_at_a_time_the_march_change_skips_goes_out_after_the_gap(beacon: Beacon) -> None:
    beacon.clock.set(_utc(2027, 3, 26, 12, 0))
    await schedule(beacon.slack.person(GRACE), channels=[GENERAL], message="Night shift", day=date(2027, 3, 27),
                   at=time(1, 30), repeat="daily")
    await tick(beacon, _utc(2027, 3, 27, 1, 30))
    await tick(beacon, _utc(2027, 3, 28, 0, 45))
    assert len(beacon.ws.messages(GENERAL)) == 1, "not before 02:30 BST (01:30 UTC) on the day of the change"
    await tick(beacon, _utc(2027, 3, 28, 1, 30))
    assert len(beacon.ws.messages(GENERAL)) == 2


async def test_a_late_run_is_sent_within_the_grace_period_and_missed_after_it(beacon: Beacon) -> None:
    grace = beacon.slack.person(GRACE)
    await schedule(grace, channels=[GENERAL], message="Daily", day=date(2026, 11, 24), at=time(9, 0), repeat="daily")
    await tick(beacon, _utc(2026, 11, 24, 14, 0))  # Beacon was down from 08:00 to 14:00: 5 hours late
    assert len(beacon.ws.messages(GENERAL)) == 1
    await tick(beacon, _utc(2026, 11, 27, 20, 0))  # down for three days
    await beacon.deps.dispatcher.run_once()
    assert len(beacon.ws.messages(GENERAL)) == 1, "runs more than 6 hours late are not sent"
    told = [m.text for m in grace.dms()]
    assert any("for Wed 25 Nov 2026, 09:00 GMT was not sent: Beacon could not post it within 6" in t for t in told)
    assert any("2 runs of your scheduled post" in t and "Sat 28 Nov 2026, 09:00 GMT" in t for t in told)
    await tick(beacon, _utc(2026, 11, 28, 9, 0))
    assert len(beacon.ws.messages(GENERAL)) == 2, "the series carries on"


async def test_a_429_storm_is_ridden_out_honouring_retry_after(beacon: Beacon) -> None:
    await _enqueue(beacon, 1, channel=GENERAL)
    beacon.slack.faults.add("chat.postMessage", status=429, retry_after=30, times=3)
    start = beacon.clock.now()
    await beacon.deps.dispatcher.run_once()
    [row] = await outbox_rows(beacon)
    assert row.status == OutboxStatus.PENDING and row.available_at >= start + timedelta(seconds=30)
    await tick(beacon, start + timedelta(seconds=10))
    assert len(beacon.ws.calls_to("chat.postMessage")) == 1, "nothing is sent before Retry-After has passed"
    for step in range(1, 4):
        await tick(beacon, start + timedelta(minutes=5 * step))
    assert [c.status for c in beacon.ws.calls_to("chat.postMessage")] == [429, 429, 429, 200]
    assert _outbox_ids_posted(beacon) == [row.id]


async def test_a_5xx_is_retried_and_checked_for_before_resending(beacon: Beacon) -> None:
    await _enqueue(beacon, 1, channel=GENERAL)
    beacon.slack.faults.add("chat.postMessage", status=503)
    await beacon.deps.dispatcher.run_once()
    await tick(beacon, beacon.clock.now() + timedelta(minutes=1))
    assert beacon.ws.calls_to("conversations.history"), "a 5xx may have posted: Slack is asked first"
    assert len(_outbox_ids_posted(beacon)) == 1


async def test_a_token_refused_mid_rotation_holds_posts_until_it_works_again(beacon: Beacon) -> None:
    await _enqueue(beacon, 1, channel=GENERAL)
    beacon.slack.faults.add("chat.postMessage", error="invalid_auth", times=2)
    await beacon.deps.dispatcher.run_once()
    await tick(beacon, beacon.clock.now() + timedelta(seconds=30))
    assert _outbox_ids_posted(beacon) == [], "not sent while Slack refuses the token"
    await tick(beacon, beacon.clock.now() + timedelta(minutes=5))
    assert len(_outbox_ids_posted(beacon)) == 1, "sent once the token works, not marked failed"


async def test_an_answer_lost_after_slack_posted_does_not_duplicate(beacon: Beacon) -> None:
    await _enqueue(beacon, 1, channel=ALICE)  # a direct message: found through conversations.open
    beacon.slack.faults.add("chat.postMessage", disconnect_after=True)
    await beacon.deps.dispatcher.run_once()
    assert len(_outbox_ids_posted(beacon)) == 1, "Slack posted it; Beacon did not hear back"
    await tick(beacon, beacon.clock.now() + timedelta(minutes=1))
    [row] = await outbox_rows(beacon)
    assert row.status == OutboxStatus.SENT and row.sent_ts == beacon.ws.dms(ALICE)[0].ts
    assert len(_outbox_ids_posted(beacon)) == 1
    assert len(beacon.ws.calls_to("chat.postMessage")) == 1


async def test_a_claim_abandoned_by_a_crashed_dispatcher_is_recovered_once(beacon: Beacon) -> None:
    await _enqueue(beacon, 3, channel=GENERAL)
    crashed = Dispatcher(db=beacon.deps.db, sender=beacon.deps.dispatcher.sender, clock=beacon.clock,
                         worker="crashed")
    async with beacon.deps.db.transaction() as session:
        claimed = await outbox.claim(session=session, worker="crashed", now=beacon.clock.now(),
                                     lease=timedelta(seconds=60), limit=10)
    await crashed.sender.send(claimed[0])  # sent, then the process died before marking it
    await beacon.deps.dispatcher.run_once()
    assert len(_outbox_ids_posted(beacon)) == 1, "nothing is taken from a live lease"
    await tick(beacon, beacon.clock.now() + timedelta(seconds=61))
    assert sorted(_outbox_ids_posted(beacon)) == sorted(r.id for r in claimed), "each exactly once"
    assert {r.status for r in await outbox_rows(beacon)} == {OutboxStatus.SENT}


async def test_two_dispatchers_on_one_database_send_each_row_once(beacon: Beacon, database_url: str) -> None:
    await _enqueue(beacon, 120)
    for i in range(120):
        beacon.ws.add_user(f"U9{i:05d}", f"user{i}", f"User {i}")
    other_db = Database(database_url)
    replica = Dispatcher(db=other_db, sender=beacon.deps.dispatcher.sender, clock=beacon.clock, worker="replica-b")
    first = Dispatcher(db=beacon.deps.db, sender=beacon.deps.dispatcher.sender, clock=beacon.clock,
                       worker="replica-a")
    reports = await asyncio.gather(first.run_once(), replica.run_once())
    await other_db.dispose()
    assert sum(r.sent for r in reports) == 120
    posted = _outbox_ids_posted(beacon)
    assert len(posted) == 120 and len(set(posted)) == 120


async def test_replicas_claiming_at_once_each_take_at_most_their_limit_and_never_the_same_row(
        beacon: Beacon, database_url: str) -> None:
    """Six replicas, each its own connection pool, claim batches of 7 from 100 due rows at the same moment, three
    times over: no batch is larger than asked for (the in-flight cap depends on it) and no row is claimed twice."""
    await _enqueue(beacon, 100, channel=GENERAL)
    databases = [Database(database_url) for _ in range(6)]

    async def claim_batch(db: Database, worker: str) -> list[int]:
        async with db.transaction() as session:
            rows = await outbox.claim(session=session, worker=worker, now=beacon.clock.now(),
                                      lease=timedelta(seconds=60), limit=7)
        return [r.id or 0 for r in rows]

    try:
        batches: list[list[int]] = []
        for _ in range(3):
            batches += await asyncio.gather(*(claim_batch(db, f"replica-{n}") for n, db in enumerate(databases)))
    finally:
        for db in databases:
            await db.dispose()
    assert max(len(b) for b in batches) <= 7
    claimed = [i for b in batches for i in b]
    assert len(claimed) == len(set(claimed)), "no row claimed twice"
    assert len(claimed) >= 7, "the claims were not all refused"


async def test_a_row_whose_lease_lapsed_while_it_waited_its_turn_is_sent_once(beacon: Beacon,
                                                                              database_url: str) -> None:
    """A fan-out far beyond the pace holds a claimed row back for longer than its lease: another replica takes it
    over and sends it meanwhile, and the first, its turn come at last, must not send it again."""
    await _enqueue(beacon, 1, channel=GENERAL)
    real = beacon.deps.dispatcher.sender
    other_db = Database(database_url)
    replica = Dispatcher(db=other_db, sender=real, clock=beacon.clock, worker="replica-b")

    class HeldBack:
        """The sender, except that the first turn comes only after the lease has lapsed and the replica has run."""

        def __init__(self) -> None:
            self.waited = False

        async def wait_turn(self, channel: str) -> None:
            if not self.waited:
                self.waited = True
                beacon.clock.advance(timedelta(seconds=61))
                assert (await replica.run_once()).sent == 1, "the replica took the lapsed claim and sent it"
            await real.wait_turn(channel)

        async def send(self, message: OutboxMessage) -> SendResult:
            return await real.send(message)

        async def find_sent(self, message: OutboxMessage) -> SendResult | None:
            return await real.find_sent(message)

    first = Dispatcher(db=beacon.deps.db, sender=HeldBack(), clock=beacon.clock, worker="replica-a")
    report = await first.run_once()
    await other_db.dispose()
    assert report.sent == 0 and report.skipped == 1
    assert len(_outbox_ids_posted(beacon)) == 1, "sent once, by the replica"
    assert len(beacon.ws.calls_to("chat.postMessage")) == 1


async def test_a_periodic_job_runs_once_per_period_across_replicas(beacon: Beacon, database_url: str) -> None:
    other_db = Database(database_url)

    async def attempt(db: Database, worker: str) -> bool:
        async with db.transaction() as session:
            return await claim_period(session=session, job="digest", period="2026-W48", worker=worker,
                                      now=beacon.clock.now())

    results = await asyncio.gather(attempt(beacon.deps.db, "a"), attempt(other_db, "b"))
    assert sorted(results) == [False, True]
    assert await attempt(beacon.deps.db, "a") is False
    assert await attempt(other_db, "b") is False
    assert await attempt(beacon.deps.db, "a") is False
    async with beacon.deps.db.transaction() as session:
        assert await claim_period(session=session, job="digest", period="2026-W49", worker="a",
                                  now=beacon.clock.now())
    await other_db.dispose()


async def test_one_slow_answer_from_slack_holds_no_other_message_back(beacon: Beacon) -> None:
    """The dispatcher is a pipeline: while Slack takes its time over one post, the next batch is claimed and sent.
    (Batches that waited for their slowest send ran 27% over the limits' minimum at 150 ms a call, 120% at 300.)"""
    await _enqueue(beacon, 1, channel=GENERAL, prefix="slow")
    await _enqueue(beacon, 120)  # more than two batches of direct messages
    for i in range(120):
        beacon.ws.add_user(f"U9{i:05d}", f"user{i}", f"User {i}")
    answer = asyncio.Event()
    beacon.slack.faults.add("chat.postMessage", channel=GENERAL, hold=answer)

    async def answer_once_the_rest_are_in() -> None:
        for _ in range(400):  # at most 20 s: batches that wait for the slow one never get there
            if len(beacon.ws.calls_to("chat.postMessage")) >= 120:
                break
            await asyncio.sleep(0.05)
        answer.set()

    report, _ = await asyncio.gather(beacon.deps.dispatcher.run_once(), answer_once_the_rest_are_in())
    assert report.sent == 121
    answered = [call.args["channel"] for call in beacon.ws.calls_to("chat.postMessage")]  # in the order answered
    assert answered.index(GENERAL) == 120, "every other message went while the slow one was on its way"
    assert len(set(_outbox_ids_posted(beacon))) == 121


async def test_a_channels_messages_go_in_the_order_written_while_other_channels_run_alongside(beacon: Beacon) -> None:
    await _enqueue(beacon, 8, channel=GENERAL, prefix="general")
    await _enqueue(beacon, 30)
    for i in range(30):
        beacon.ws.add_user(f"U9{i:05d}", f"user{i}", f"User {i}")
    beacon.slack.faults.add("chat.postMessage", channel=GENERAL, delay=0.2, times=3)  # early ones answer slowly
    await beacon.deps.dispatcher.run_once()
    texts = [m.text for m in beacon.ws.messages(GENERAL)]
    assert texts == [f"message {i}" for i in range(8)]

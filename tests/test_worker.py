"""Heavy work leaves the serving process: `/awards export` is queued by `beacon serve` and done by a `beacon worker`
(its child, or a process of its own), a worker killed mid-job is replaced without the file arriving twice, a job
that fails for good tells the person who asked, and two workers claiming at once never take the same job."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from sqlalchemy import select, text

from beacon.bot.db import Database
from beacon.bot.local_slack import LocalSlack
from beacon.bot.local_slack.person import Person
from beacon.bot.models import WorkItem, WorkStatus
from beacon.bot.services import work_queue
from beacon.bot.services.work_queue import RetryPolicy, WorkKind
from beacon.bot.worker import Worker
from beacon.scheduler import calendar as calendar_jobs
from tests.harness import ADMIN, DAVE, DIGEST, Beacon, settle
from tests.nominating import deliver
from tests.processes import beacon_process, eventually, free_port, slack_env, wait_healthy
from tests.test_digests import DIGEST_TIME

ROUND = 'open "2027 Staff Awards" closes 2027-03-31'


def _config(path: Path, *, lease_seconds: float = 60) -> Path:
    path.write_text(yaml.safe_dump({
        "channels": {"recognition": "C0RECOG", "engagement": "C0ENGAGE", "forum": "C0FORUM", "admin": "C0ADMIN"},
        "roles": {"comms": ["U0GRACE"], "admins": ["U0FRANK"], "panel": [DAVE]},
        "delivery": {"posts_per_minute": 1200, "per_channel_seconds": 0, "lease_seconds": lease_seconds}}))
    return path


async def _items(database_url: str) -> list[WorkItem]:
    """The exports queued (the calendar sync each start queues is left out)."""
    db = Database(database_url)
    async with db.transaction() as session:
        rows = list((await session.scalars(select(WorkItem).where(WorkItem.kind == WorkKind.AWARDS_EXPORT)
                                           .order_by(WorkItem.id))).all())
    await db.dispose()
    return rows


def _exports(slack: LocalSlack) -> list[list[dict[str, str]]]:
    """Every CSV file uploaded to Dave's direct messages, read back."""
    ws = slack.workspace
    return [list(csv.DictReader(io.StringIO(ws.files[f["id"]].content.decode("utf-8-sig"))))  # type: ignore[union-attr]
            for m in slack.person(DAVE).dms() for f in m.files or []]


def _children(pid: int) -> list[str]:
    """The command lines of a process's children (Linux)."""
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return []
    return [Path(f"/proc/{kid}/cmdline").read_bytes().replace(b"\0", b" ").decode() for kid in kids
            if Path(f"/proc/{kid}/cmdline").exists()]


async def test_serve_queues_the_export_and_its_worker_child_uploads_it(slack: LocalSlack, tmp_path: Path,
                                                                      database_url: str) -> None:
    env = slack_env(slack, _config(tmp_path / "beacon.yaml"), database_url) | {"LOG_LEVEL": "WARNING"}
    port = free_port()
    async with beacon_process("serve", "--port", str(port), env=env, cwd=tmp_path) as serve:
        await wait_healthy(port)
        slack.app_url = f"http://127.0.0.1:{port}/slack/events"
        dave = slack.person(DAVE)
        await _open_round(dave)
        await dave.command("/awards", "export")
        await eventually(lambda: _exports(slack), seconds=60)
        await eventually(lambda: any("is in your direct messages" in e.text for e in dave.ephemerals()))
        assert any("beacon.bot worker" in line for line in _children(serve.pid)), "one worker child by default"
        serve.terminate()  # a graceful stop ends the child with it
        assert await serve.wait() == 0
    [export] = _exports(slack)
    assert export == [], "the open round has no nominations yet: a header and no rows"
    [item] = await _items(database_url)
    assert (item.kind, item.status, item.attempts, item.requested_by) == (WorkKind.AWARDS_EXPORT, WorkStatus.DONE,
                                                                          1, None)


async def test_with_no_worker_children_the_export_waits_for_a_beacon_worker(slack: LocalSlack, tmp_path: Path,
                                                                           database_url: str) -> None:
    env = slack_env(slack, _config(tmp_path / "beacon.yaml"), database_url) | {"LOG_LEVEL": "WARNING",
                                                                               "BEACON_WORKERS": "0"}
    port = free_port()
    async with beacon_process("serve", "--port", str(port), env=env, cwd=tmp_path) as serve:
        await wait_healthy(port)
        slack.app_url = f"http://127.0.0.1:{port}/slack/events"
        dave = slack.person(DAVE)
        await _open_round(dave)
        reply = await dave.command("/awards", "export")
        await asyncio.sleep(1.5)
        assert not _exports(slack), "the serving process never runs the export itself"
        assert not _children(serve.pid)
        assert [i.status for i in await _items(database_url)] == [WorkStatus.PENDING]
        async with beacon_process("worker", env=env, cwd=tmp_path):
            await eventually(lambda: _exports(slack), seconds=60)

            async def done() -> bool:  # the file arrives a moment before the worker marks the job done
                return [i.status for i in await _items(database_url)] == [WorkStatus.DONE]
            await eventually(done)
            assert not _children(serve.pid)
    assert reply is not None
    assert len(_exports(slack)) == 1


async def test_a_worker_killed_mid_job_is_replaced_and_the_file_arrives_once(slack: LocalSlack, tmp_path: Path,
                                                                            database_url: str) -> None:
    env = slack_env(slack, _config(tmp_path / "beacon.yaml", lease_seconds=1), database_url) | {
        "LOG_LEVEL": "WARNING", "BEACON_WORKERS": "0"}
    port = free_port()
    async with beacon_process("serve", "--port", str(port), env=env, cwd=tmp_path):
        await wait_healthy(port)
        slack.app_url = f"http://127.0.0.1:{port}/slack/events"
        dave = slack.person(DAVE)
        await _open_round(dave)
        slack.faults.add("files.getUploadURLExternal", delay_after=60)  # the first worker is stuck in the upload
        await dave.command("/awards", "export")
        async with beacon_process("worker", env=env, cwd=tmp_path) as first:
            await eventually(lambda: slack.workspace.calls_to("files.getUploadURLExternal"), seconds=60)
            first.kill()  # SIGKILL mid-job: its lease is never given back
            await first.wait()
        [item] = await _items(database_url)
        assert (item.status, item.attempts) == (WorkStatus.RUNNING, 1), "claimed by the dead worker"
        slack.faults.clear()
        async with beacon_process("worker", env=env, cwd=tmp_path):
            await eventually(lambda: _exports(slack), seconds=60)
            await asyncio.sleep(2)  # long enough for a second upload, were one to happen
    assert len(_exports(slack)) == 1, "the file arrives exactly once"
    [item] = await _items(database_url)
    assert (item.status, item.attempts) == (WorkStatus.DONE, 2)


async def test_an_export_that_fails_for_good_tells_the_person_who_asked(beacon: Beacon) -> None:
    dave = beacon.slack.person(DAVE)
    await dave.command("/awards", ROUND)
    await settle()  # the round is open before the export is asked for, as Dave would see it was
    beacon.slack.faults.add("files.getUploadURLExternal", error="internal_error", times=10)
    await dave.command("/awards", "export")
    await settle()
    for attempt in range(1, 3):  # the retries wait 5 s, then 10 s
        [item] = await _work(beacon)
        assert (item.status, item.attempts) == (WorkStatus.PENDING, attempt)
        beacon.clock.advance(timedelta(seconds=5 * 2 ** (attempt - 1)))
        await beacon.runtime.run_queued_work()
    [item] = await _work(beacon)
    assert (item.status, item.attempts) == (WorkStatus.FAILED, 3)
    assert "internal_error" in (item.last_error or "")
    await deliver(beacon)
    told = [m.text for m in dave.dms() if "could not finish" in m.text]
    assert told == [":warning: Beacon could not finish the export of the award round you asked for, after 3 "
                    "attempt(s). Nothing was sent."]
    assert not _exports(beacon.slack)


async def _open_round(dave: Person) -> None:
    """Open the round and wait for Dave to be told it is open: the command is acked before the round is stored, so
    an export asked for sooner could find no round (as it would for a person who did not wait)."""
    await dave.command("/awards", ROUND)
    await eventually(lambda: any(e.text.startswith(":white_check_mark:") for e in dave.ephemerals()))


async def _work(beacon: Beacon) -> list[WorkItem]:
    async with beacon.deps.db.transaction() as session:
        return list((await session.scalars(select(WorkItem).order_by(WorkItem.id))).all())


async def test_each_calendar_sync_period_is_queued_once_whichever_replica_asks(beacon: Beacon) -> None:
    await calendar_jobs.sync(beacon.deps)
    await calendar_jobs.sync(beacon.deps)  # a second replica's timer, the same period
    await settle()
    beacon.clock.advance(timedelta(minutes=beacon.deps.organisation.calendar.sync_every_minutes))
    await calendar_jobs.sync(beacon.deps)
    await settle()
    items = await _work(beacon)
    assert [(i.kind, i.status) for i in items] == [(WorkKind.CALENDAR_SYNC, WorkStatus.DONE)] * 2


async def test_two_workers_claiming_at_once_never_take_the_same_job(database_url: str) -> None:
    now = datetime.now(UTC)
    db = Database(database_url)
    async with db.transaction() as session:
        for i in range(120):
            await work_queue.enqueue(session=session, kind=WorkKind.CALENDAR_SYNC, params={"i": i}, now=now)
    replicas = [Database(database_url), Database(database_url)]

    async def claim_all(replica: Database, name: str) -> list[int]:
        got: list[int] = []
        while True:
            async with replica.transaction() as session:
                item = await work_queue.claim(session=session, worker=name, now=now, lease=timedelta(minutes=5))
            if item is None:
                return got
            got.append(item.id or 0)
            await asyncio.sleep(0)

    a, b = await asyncio.gather(claim_all(replicas[0], "a"), claim_all(replicas[1], "b"))
    for replica in (*replicas, db):
        await replica.dispose()
    assert not set(a) & set(b), "no job claimed by both"
    assert sorted(a + b) == sorted(set(a + b)) and len(a + b) == 120
    if not database_url.startswith("sqlite"):  # SQLite has one writer: one worker may well take them all
        assert a and b, "both workers took a share"


async def test_a_worker_told_to_stop_starts_no_further_job(database_url: str) -> None:
    """SIGTERM finishes the job under way and starts no other, however many wait: a worker that went on would be
    killed mid-job at the end of the grace, and each such kill counts against the job's attempts."""
    db = Database(database_url)
    now = datetime.now(UTC)
    async with db.transaction() as session:
        for i in range(3):
            await work_queue.enqueue(session=session, kind=WorkKind.CALENDAR_SYNC, params={"i": i}, now=now)
    stop = asyncio.Event()
    ran: list[int] = []

    async def job(_deps: object, work: work_queue.Work) -> None:
        ran.append(work.params["i"])
        stop.set()  # the stop signal arrives while the first job runs

    deps = SimpleNamespace(db=db, clock=SimpleNamespace(now=lambda: datetime.now(UTC)))
    worker = Worker(deps, name="stopping", policy=RetryPolicy(), table={WorkKind.CALENDAR_SYNC: job})  # type: ignore[arg-type]
    try:
        await asyncio.wait_for(worker.run_forever(stop), 10)
    finally:
        await db.dispose()
    assert ran == [0], f"a worker told to stop went on to start jobs {ran[1:]}"


async def test_a_job_holding_one_long_transaction_keeps_its_lease(database_url: str) -> None:
    """The export reads a whole round inside one transaction: on SQLite the lease renewal must not queue behind it,
    or another worker takes the job over while it runs and the file arrives twice."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the transaction queue is SQLite's")
    first, second = Database(database_url), Database(database_url)  # two worker processes

    def now() -> datetime:
        return datetime.now(UTC)

    async with first.transaction() as session:
        await work_queue.enqueue(session=session, kind=WorkKind.AWARDS_EXPORT, params={}, now=now())

    async def export(deps: SimpleNamespace, _work: work_queue.Work) -> None:
        async with deps.db.transaction() as session:  # read only, as export_csv's
            await session.execute(text("SELECT 1"))
            await asyncio.sleep(1.2)

    lease = timedelta(seconds=0.6)
    worker = Worker(SimpleNamespace(db=first, clock=SimpleNamespace(now=now)), name="first",  # type: ignore[arg-type]
                    policy=RetryPolicy(lease=lease), table={WorkKind.AWARDS_EXPORT: export})
    running = asyncio.create_task(worker.run_one())
    try:
        await asyncio.sleep(0.9)  # renewals were due at 0.2, 0.4, 0.6 and 0.8 s
        async with second.transaction() as session:
            taken = await work_queue.claim(session=session, worker="second", now=now(), lease=lease)
        assert taken is None, "a job still running, its worker alive, was claimed by another worker"
    finally:
        await running
        await first.dispose()
        await second.dispose()


async def test_a_timed_job_that_fails_for_good_tells_the_admins_and_is_queued_again_while_due(beacon: Beacon) -> None:
    """A database outage longer than the retries must not cost the trust its week's digest: the period's key is
    given up, the administrators hear of it once, and the timer's next check queues the digest again."""
    from beacon.scheduler import digests as digest_jobs

    outage = 3  # as many failures as a job has attempts

    async def through_an_outage(deps: Any, work: Any) -> None:
        nonlocal outage
        if outage:
            outage -= 1
            raise OSError("could not connect to the database")
        await digest_jobs.digest_job(deps, work)

    worker = Worker(beacon.deps, name="through-outage", policy=RetryPolicy(backoff=timedelta(0)),
                    table={WorkKind.WEEKLY_DIGEST: through_an_outage})
    beacon.clock.set(DIGEST_TIME)
    await digest_jobs.run(beacon.deps)
    await worker.drain()
    [failed] = await _work(beacon)
    assert (failed.status, failed.attempts, failed.dedupe_key) == (WorkStatus.FAILED, 3, None)
    await deliver(beacon)
    for _ in range(2):  # the timer checks every minute; once it has succeeded, the period is not queued again
        beacon.clock.advance(timedelta(minutes=1))
        await digest_jobs.run(beacon.deps)
        await worker.drain()
        await deliver(beacon)
    warnings = [m.text for m in beacon.slack.workspace.messages(ADMIN) if "could not finish" in m.text]
    assert warnings == [":warning: Beacon could not finish the weekly digest after 3 attempt(s). Its timer queues it "
                        "again at its next check while it is still due."]
    assert [i.status for i in await _work(beacon)] == [WorkStatus.FAILED, WorkStatus.DONE]
    assert len(beacon.slack.workspace.messages(DIGEST)) == 1, "the week's digest, once"

"""Real processes: kill -9 between send and mark, and two replicas (one killed mid-batch) on one database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from beacon.bot.db import Database
from beacon.bot.local_slack import LocalSlack
from beacon.bot.models import OutboxMessage, OutboxStatus
from beacon.bot.services import outbox
from tests.harness import GENERAL
from tests.processes import beacon_process, eventually, free_port, slack_env, wait_healthy, write_config

FAST = {"posts_per_minute": 1200, "per_channel_seconds": 0, "lease_seconds": 1}


async def _enqueue(database_url: str, promises: list[outbox.Promise]) -> None:
    db = Database(database_url)
    async with db.transaction() as session:
        await outbox.enqueue(session=session, promises=promises, now=datetime.now(UTC))
    await db.dispose()


async def _rows(database_url: str) -> list[OutboxMessage]:
    db = Database(database_url)
    async with db.transaction() as session:
        rows = list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())
    await db.dispose()
    return rows


def _promise(key: str, channel: str) -> outbox.Promise:
    now = datetime.now(UTC)
    return outbox.Promise(dedupe_key=key, source="test", channel=channel, content={"text": key}, due_at=now,
                          expires_at=now + timedelta(hours=1))


async def _fan_out(slack: LocalSlack, tmp_path: Path, database_url: str, *, prefix: str,
                   count: int) -> dict[str, str]:
    """`count` direct messages waiting in the outbox, to people in the workspace; returns Beacon's environment."""
    for i in range(count):
        slack.workspace.add_user(f"{prefix}{i:05d}", f"person{i}", f"Person {i}")
    env = slack_env(slack, write_config(tmp_path / "beacon.yaml", delivery=FAST | {"posts_per_minute": 600}),
                    database_url)
    env["LOG_LEVEL"] = "WARNING"
    await _enqueue(database_url, [_promise(f"dm:{prefix}:{i}", f"{prefix}{i:05d}") for i in range(count)])
    return env


async def _all_sent(database_url: str) -> bool:
    return all(r.status == OutboxStatus.SENT for r in await _rows(database_url))


def _posted_ids(slack: LocalSlack) -> list[int]:
    return [m.metadata["event_payload"]["outbox_id"] for c in slack.workspace.channels.values() for m in c.messages
            if m.metadata and m.metadata.get("event_type") == "beacon_outbox"]


async def test_kill_9_between_send_and_mark_does_not_duplicate(slack: LocalSlack, tmp_path: Path,
                                                               database_url: str) -> None:
    env = slack_env(slack, write_config(tmp_path / "beacon.yaml", delivery=FAST), database_url)
    env["LOG_LEVEL"] = "WARNING"
    await _enqueue(database_url, [_promise("announcement", GENERAL)])
    slack.faults.add("chat.postMessage", delay_after=60)  # Slack posts it, then Beacon never hears back

    port = free_port()
    async with beacon_process("serve", "--port", str(port), env=env, cwd=tmp_path) as first:
        await eventually(lambda: slack.workspace.messages(GENERAL))
        first.kill()  # SIGKILL: no chance to mark the row
        await first.wait()
    [row] = await _rows(database_url)
    assert row.status == OutboxStatus.SENDING, "the crash left the row claimed but not marked"

    slack.faults.clear()
    async with beacon_process("serve", "--port", str(port), env=env, cwd=tmp_path):
        await wait_healthy(port)

        async def marked() -> bool:
            return (await _rows(database_url))[0].status == OutboxStatus.SENT
        await eventually(marked)
    [row] = await _rows(database_url)
    [message] = slack.workspace.messages(GENERAL)
    assert row.sent_ts == message.ts, "recognised from the message metadata"
    assert len(slack.workspace.calls_to("chat.postMessage")) == 1
    assert slack.workspace.calls_to("conversations.history")


async def test_two_replicas_one_killed_mid_batch_deliver_each_message_once(slack: LocalSlack, tmp_path: Path,
                                                                           database_url: str) -> None:
    count = 60
    env = await _fan_out(slack, tmp_path, database_url, prefix="U8", count=count)
    port_a, port_b = free_port(), free_port()
    async with beacon_process("serve", "--port", str(port_a), env=env, cwd=tmp_path) as replica_a, \
            beacon_process("serve", "--port", str(port_b), env=env, cwd=tmp_path):
        await eventually(lambda: len(_posted_ids(slack)) >= count // 4)
        replica_a.kill()
        await replica_a.wait()
        await eventually(lambda: _all_sent(database_url), seconds=40)

    posted = _posted_ids(slack)
    assert len(posted) == count, f"{len(posted) - len(set(posted))} duplicates, {count - len(set(posted))} lost"
    assert len(set(posted)) == count


async def test_a_restart_in_the_middle_of_a_batch_loses_and_repeats_nothing(slack: LocalSlack, tmp_path: Path,
                                                                           database_url: str) -> None:
    count = 30
    env = await _fan_out(slack, tmp_path, database_url, prefix="U7", count=count)
    port = free_port()
    async with beacon_process("serve", "--port", str(port), env=env, cwd=tmp_path) as first:
        await eventually(lambda: len(_posted_ids(slack)) >= count // 3)
        first.kill()
        await first.wait()
    assert len(_posted_ids(slack)) < count, "the batch was interrupted"
    async with beacon_process("serve", "--port", str(port), env=env, cwd=tmp_path):
        await eventually(lambda: _all_sent(database_url), seconds=40)
    posted = _posted_ids(slack)
    assert sorted(posted) == sorted(set(posted)) and len(posted) == count

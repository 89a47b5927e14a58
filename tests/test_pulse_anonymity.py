"""Anonymous pulses attacked as an information governance lead would attack them.

The promise: nobody (a moderator, an admin, whoever holds the database files, their write-ahead log, backups or
the logs) can link an anonymous answer to a person better than chance within a group of at least
`pulse.answer_batch` (5) people who answered the same pulse. These tests answer pulses through signed requests,
then act as the attacker: they replay SQLite's write-ahead log commit by commit, group PostgreSQL's rows and dead
tuples by the transaction that wrote them (`xmin`, `pageinspect`), watch the live count, and read every line a
`beacon serve` at DEBUG wrote. On the code before answers were stored in groups, each of them links every answer.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from beacon.bot.blocks.pulses import slot_blocks
from beacon.bot.clock import SystemClock
from beacon.bot.ids import ActionId, BlockId
from beacon.bot.local_slack import LocalSlack
from beacon.bot.local_slack.workspace import Message
from beacon.bot.models import Pulse, PulseAnswer, PulseHeld, PulseParticipation
from beacon.bot.organisation import Organisation
from beacon.bot.services.pulse_batches import HeldAnswers
from tests.harness import ERIN, FORUM, Beacon, organisation_for, seed_workspace, settle

STAFF = [f"U0STAFF{n:02d}" for n in range(1, 15)]
BATCH = 5


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    """The test workspace with fourteen more members of staff in the staff forum."""
    ws = seed_workspace()
    for user in STAFF:
        ws.add_user(user, user.lower(), f"Staff Member {user[-2:]}", title="Paramedic")
        ws.channels[FORUM].members.add(user)
    local = LocalSlack(ws)
    await local.start()
    yield local
    await local.stop()


@pytest.fixture
def organisation(slack: LocalSlack) -> Organisation:
    return organisation_for(slack.workspace, pulse={"reporting_minimum": 3})


async def _deliver(beacon: Beacon) -> None:
    await beacon.deps.dispatcher.run_once()
    await settle()


async def _create(beacon: Beacon, *, live: bool = False, title: str = "Rest breaks") -> Pulse:
    erin = beacon.slack.person(ERIN)
    await erin.command("/pulse", channel=FORUM)
    await settle()
    kind, question, options = slot_blocks(1)
    await erin.submit({BlockId.PULSE_TITLE: title, kind: "scale", question: "How likely are you to recommend "
                       "your station?", options: "", BlockId.PULSE_SETTINGS: ["anonymous", *(["live"] if live else [])],
                       BlockId.PULSE_CLOSES_DAY: "2026-11-30", BlockId.PULSE_CLOSES_TIME: "17:00"})
    await _deliver(beacon)
    async with beacon.deps.db.transaction() as session:
        return (await session.scalars(select(Pulse).order_by(Pulse.id.desc()))).first()  # type: ignore[return-value]


def _message(ws_messages: list[Message], title: str) -> Message:
    return next(m for m in ws_messages if m.blocks and m.blocks[0]["type"] == "header" and title in json.dumps(
        m.blocks[0]))


async def _choose(beacon: Beacon, user: str, score: int, title: str = "Rest breaks") -> None:
    await beacon.slack.person(user).click(f"{ActionId.PULSE_CHOOSE}_{score}",
                                          message=_message(beacon.ws.messages(FORUM), title))
    await settle()


def _told_in(beacon: Beacon, user: str) -> list[str]:
    person = beacon.slack.person(user)
    return [json.dumps(m.blocks) + (m.text or "") for m in [*person.ephemerals(), *person.dms()]]


async def _stored(beacon: Beacon, pulse_id: int) -> tuple[int, int, int, int]:
    async with beacon.deps.db.transaction() as session:
        answers = len((await session.scalars(select(PulseAnswer.id).where(PulseAnswer.pulse_id == pulse_id))).all())
        people = len((await session.scalars(select(PulseParticipation.user_id).where(
            PulseParticipation.pulse_id == pulse_id))).all())
        held = len((await session.scalars(select(PulseHeld.user_id).where(PulseHeld.pulse_id == pulse_id))).all())
        pulse = await session.get(Pulse, pulse_id)
    return answers, people, held, pulse.responses if pulse else -1


async def test_answers_are_stored_and_counted_only_in_groups(beacon: Beacon) -> None:
    pulse = await _create(beacon, live=True)
    pid = pulse.id or 0
    for n, user in enumerate(STAFF[:9]):
        await _choose(beacon, user, n)
        assert "Thank you, your answer is in." not in _told_in(beacon, user)[-1], "not told before it is stored"
    assert await _stored(beacon, pid) == (0, 0, 9, 0), "nine held, none stored: the 10th makes two groups"
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.pulses.counts_due(session=session)
    await _deliver(beacon)
    assert "0 responses" in json.dumps(_message(beacon.ws.messages(FORUM), "Rest breaks").blocks)

    await _choose(beacon, STAFF[9], 9)
    assert await _stored(beacon, pid) == (5, 5, 5, 5), "the five oldest stored together; five wait for the next"
    for user in STAFF[:5]:
        assert any("Thank you, your answer is in." in m for m in _told_in(beacon, user)), user
    for user in STAFF[5:10]:
        assert not any("your answer is in." in m for m in _told_in(beacon, user)), user
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.pulses.counts_due(session=session)
    await _deliver(beacon)
    shown = json.dumps(_message(beacon.ws.messages(FORUM), "Rest breaks").blocks)
    assert "5 responses" in shown and "mean 2" in shown, "the count and live figures moved by the group"

    # One of the first five changes their answer: held too, applied with a group, never alone.
    first = beacon.slack.person(STAFF[0])
    confirmation = next(e for e in reversed(first.ephemerals())
                        if "Thank you, your answer is in." in json.dumps(e.blocks))
    await first.click(ActionId.PULSE_CHANGE, message=confirmation)
    await settle()
    reply = await first.submit({"answer_q1": "10"})
    assert "in a direct message from Beacon once it is stored" in json.dumps(reply.json)
    await settle()
    async with beacon.deps.db.transaction() as session:
        assert sorted(int(a["q1"]) for a in (await session.scalars(select(PulseAnswer.answers))).all()) == [
            0, 1, 2, 3, 4], "the change waits for a group"
    for n, user in enumerate(STAFF[10:13], start=10):
        await _choose(beacon, user, n % 11)
    assert (await _stored(beacon, pid))[0] == 5, "eight held, one of them a change: not yet two groups"

    await beacon.slack.person(ERIN).command("/pulse", f"close {pid}", channel=FORUM)
    await settle()
    assert await _stored(beacon, pid) == (13, 13, 0, 13)
    async with beacon.deps.db.transaction() as session:
        scores = sorted(int(a["q1"]) for a in (await session.scalars(select(PulseAnswer.answers))).all())
    assert scores == sorted([10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1]), "every answer and the change counted"
    assert any("Your answer is changed." in m for m in _told_in(beacon, STAFF[0]))
    for user in STAFF[:13]:
        assert sum("Thank you, your answer is in." in m for m in _told_in(beacon, user)) == 1, user


async def test_a_crash_loses_held_answers_and_tells_their_people(beacon: Beacon) -> None:
    pulse = await _create(beacon)
    await _choose(beacon, STAFF[0], 3)
    answering = beacon.deps.pulse_answering
    answering.held, answering.worker = HeldAnswers(), "restarted:1"  # the process that held it died; a new one runs
    beacon.clock.advance(timedelta(minutes=6))
    await beacon.deps.pulse_answering.tick()
    await _deliver(beacon)
    told = beacon.slack.person(STAFF[0]).dms()[-1].text
    assert "Beacon restarted before your answer to “Rest breaks” could be stored" in told
    assert "Please answer again before it closes" in told
    await _choose(beacon, STAFF[0], 4)
    assert "waiting" not in _told_in(beacon, STAFF[0])[-1] and (await _stored(beacon, pulse.id or 0))[2] == 1, (
        "free to answer again")


async def test_shutdown_stores_a_group_and_lets_too_few_go(beacon: Beacon) -> None:
    big = await _create(beacon, title="Rest breaks")
    small = await _create(beacon, title="Canteen")
    for n, user in enumerate(STAFF[:5]):
        await _choose(beacon, user, n, title="Rest breaks")
    for n, user in enumerate(STAFF[5:7]):
        await _choose(beacon, user, n, title="Canteen")
    await beacon.deps.pulse_answering.shutdown()
    await settle()
    assert await _stored(beacon, big.id or 0) == (5, 5, 0, 5), "five can hide among each other: stored"
    assert await _stored(beacon, small.id or 0) == (0, 0, 0, 0), "two cannot: let go, nothing kept"
    for user in STAFF[5:7]:
        assert "Please answer again." in _told_in(beacon, user)[-1]


async def test_a_second_answer_from_another_replica_is_refused(beacon: Beacon, server, settings,  # type: ignore[no-untyped-def]
                                                                 organisation, clock) -> None:
    from tests.harness import BeaconServer

    await _create(beacon)
    first_url = beacon.slack.app_url
    other = BeaconServer(beacon.slack, settings, organisation, clock)
    try:
        await other.start()
        await _choose(beacon, STAFF[0], 1)  # answered on the other replica (the local Slack now calls it)
        beacon.slack.app_url = first_url
        await _choose(beacon, STAFF[0], 2)
        assert "waiting to be stored with other people's" in _told_in(beacon, STAFF[0])[-1]
    finally:
        await other.stop()


async def _change(beacon: Beacon, user: str, score: int) -> None:
    person = beacon.slack.person(user)
    confirmation = next(e for e in reversed([*person.ephemerals(), *person.dms()])
                        if "Thank you, your answer is in." in json.dumps(e.blocks))
    await person.click(ActionId.PULSE_CHANGE, message=confirmation)
    await settle()
    await person.submit({"answer_q1": str(score)})
    await settle()


async def test_changing_an_answer_again_and_again_cannot_isolate_a_colleagues_answer(beacon: Beacon) -> None:
    """An attacker presses "Change my answer" over and over to fill the group around a colleague's new answer, so
    that it would be the only new answer stored in its commit. Changes never make a group; only new answers do."""
    pulse = await _create(beacon, live=True)
    pid = pulse.id or 0
    for n, user in enumerate(STAFF[:10]):
        await _choose(beacon, user, n)
    attacker, victim = STAFF[0], STAFF[10]
    await _change(beacon, attacker, 0)
    await _choose(beacon, victim, 7)
    for _ in range(12):
        before = await _stored(beacon, pid)
        await _change(beacon, attacker, 1)
        after = await _stored(beacon, pid)
        assert after[3] - before[3] in (0,) or after[3] - before[3] >= BATCH, "the count moved by fewer than five"
    assert beacon.deps.pulse_answering.held.change_count(pid) == 1, "one change per token waits, the latest"
    assert await _stored(beacon, pid) == (5, 5, 6, 5), "the victim's answer still waits for four more new ones"
    for n, user in enumerate(STAFF[11:14]):
        await _choose(beacon, user, n)
    assert await _stored(beacon, pid) == (5, 5, 9, 5)
    await _choose(beacon, STAFF[4], 0)  # already stored: refused at once, adds nothing
    await beacon.deps.pulse_answering.close(user_id=None, pulse_id=pid)
    assert await _stored(beacon, pid) == (14, 14, 0, 14)
    async with beacon.deps.db.transaction() as session:
        scores = sorted(int(a["q1"]) for a in (await session.scalars(select(PulseAnswer.answers))).all())
    assert scores == sorted([1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 7, 0, 1, 2]), (
        "the attacker's latest change (0 to 1) and the victim's 7 both count, once each")


async def test_closing_on_one_replica_waits_for_answers_held_on_another(beacon: Beacon, settings,  # type: ignore[no-untyped-def]
                                                                        organisation, clock) -> None:
    from tests.harness import BeaconServer

    pulse = await _create(beacon)
    pid = pulse.id or 0
    first_url = beacon.slack.app_url
    other = BeaconServer(beacon.slack, settings, organisation, clock)
    try:
        other_beacon = await other.start()
        other_beacon.deps.pulse_answering.worker = "replica-b"
        for n, user in enumerate(STAFF[:8]):
            await _choose(beacon, user, n)  # the local Slack now sends to the other replica: held there
        beacon.slack.app_url = first_url
        await beacon.slack.person(ERIN).command("/pulse", f"close {pid}", channel=FORUM)
        await settle()
        assert "takes no more answers" in beacon.slack.person(ERIN).last_ephemeral().text
        await _choose(beacon, STAFF[9], 1)
        assert "closed" in _told_in(beacon, STAFF[9])[-1], "no answers while it is closing"
        assert (await _stored(beacon, pid))[0] == 0
        await other_beacon.deps.pulse_answering.tick()  # the other replica stores what it holds
        await settle()
        assert await beacon.deps.pulse_answering.close_due() == 1, "then the close finishes"
        await _deliver(beacon)
        assert await _stored(beacon, pid) == (8, 8, 0, 8), "nothing given while it was open is lost"
        for user in STAFF[:8]:
            assert any("Thank you, your answer is in." in m for m in _told_in(beacon, user)), user
        assert any(m.text.startswith(":bar_chart: Results") for m in beacon.ws.messages(FORUM))
    finally:
        await other.stop()


async def test_a_lapsed_hold_is_never_counted_after_its_person_was_told_it_was_lost(beacon: Beacon) -> None:
    """The holding process stalled past its lease; another told the person their answer was lost. When the
    stalled process wakes, it must not count it after all."""
    pulse = await _create(beacon)
    await _choose(beacon, STAFF[0], 3)
    answering = beacon.deps.pulse_answering
    real, answering.worker = answering.worker, "another-replica"
    beacon.clock.advance(timedelta(minutes=6))
    await answering.tick()
    answering.worker = real
    await _deliver(beacon)
    assert "could be stored, so it was not counted" in beacon.slack.person(STAFF[0]).dms()[-1].text
    for n, user in enumerate(STAFF[1:10]):
        await _choose(beacon, user, n)
    await answering.close(user_id=None, pulse_id=pulse.id or 0)
    async with beacon.deps.db.transaction() as session:
        people = set((await session.scalars(select(PulseParticipation.user_id))).all())
    assert STAFF[0] not in people and len(people) == 9
    assert sum("not counted" in m.text for m in beacon.slack.person(STAFF[0]).dms()) == 1, "told once"


async def test_erasing_a_person_whose_answer_is_held_drops_it(beacon: Beacon) -> None:
    pulse = await _create(beacon)
    await _choose(beacon, STAFF[0], 3)
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.privacy.erase(session=session, user_id=STAFF[0], actor="cli:ig-officer")
    for n, user in enumerate(STAFF[1:10]):
        await _choose(beacon, user, n)
    await beacon.deps.pulse_answering.close(user_id=None, pulse_id=pulse.id or 0)
    async with beacon.deps.db.transaction() as session:
        people = set((await session.scalars(select(PulseParticipation.user_id))).all())
        held = (await session.scalars(select(PulseHeld.user_id))).all()
    assert STAFF[0] not in people and held == [], "the erased person's real ID is never written back"


async def test_a_small_anonymous_pulse_cannot_be_exported(beacon: Beacon) -> None:
    """Results hide anything under the reporting minimum; the raw answers must not give it away either."""
    pulse = await _create(beacon)
    await _choose(beacon, STAFF[0], 3)
    await _choose(beacon, STAFF[1], 4)
    erin = beacon.slack.person(ERIN)
    await erin.command("/pulse", f"close {pulse.id}", channel=FORUM)
    await settle()
    await erin.command("/pulse", f"export {pulse.id}", channel=FORUM)
    await settle()
    assert "exported only when at least 3 people answered" in erin.last_ephemeral().text
    assert not [m for m in erin.dms() if m.files]


# -- the attacker's tools ------------------------------------------------------------------------------------------
def sqlite_commits(db: Path, wal: Path) -> list[bytes]:
    """Every state the database passed through: the main file, then each commit in its write-ahead log applied in
    order (the WAL's frames carry whole pages; a frame with a non-zero size field ends a transaction)."""
    base = db.read_bytes()
    states = [base]
    data = wal.read_bytes() if wal.exists() else b""
    if len(data) < 32:
        return states
    page_size, salt = int.from_bytes(data[8:12], "big"), data[16:24]
    pages: dict[int, bytes] = {}
    pending: dict[int, bytes] = {}
    offset = 32
    while offset + 24 + page_size <= len(data):
        header = data[offset:offset + 24]
        if header[8:16] != salt:
            break
        pending[int.from_bytes(header[:4], "big")] = data[offset + 24:offset + 24 + page_size]
        offset += 24 + page_size
        size = int.from_bytes(header[4:8], "big")
        if size:
            pages.update(pending)
            pending = {}
            image = bytearray(base[:size * page_size].ljust(size * page_size, b"\0"))
            for number, content in pages.items():
                if number <= size:
                    image[(number - 1) * page_size:number * page_size] = content
            states.append(bytes(image))
    return states


def read_state(image: bytes, folder: Path) -> tuple[set[str], dict[str, str]]:
    """(people who took part, answers by id) in one state of the database, read with sqlite3 as anyone could."""
    path = folder / "state.db"
    copy = bytearray(image)
    copy[18:20] = b"\x01\x01"  # an ordinary rollback-journal file: no WAL to look for
    path.write_bytes(bytes(copy))
    with sqlite3.connect(path) as connection:
        people = {r[0] for r in connection.execute("SELECT user_id FROM pulse_participation")}
        answers = dict(connection.execute("SELECT id, answers FROM pulse_answer").fetchall())
    connection.close()
    path.unlink()
    return people, answers


def linked_in_sqlite(states: list[bytes], folder: Path) -> list[str]:
    """Diff consecutive commits: an answer written in a commit that added fewer than five people (or changed
    fewer than five answers) is linked to those people better than chance."""
    found, touched_any = [], False
    before: tuple[set[str], dict[str, str]] = (set(), {})
    for image in states:
        try:
            now = read_state(image, folder)
        except sqlite3.DatabaseError:
            continue  # a state before the tables existed
        people = now[0] - before[0]
        touched = {i for i, a in now[1].items() if before[1].get(i) != a}
        if touched:
            touched_any = True
            if len(touched) < BATCH or (people and len(people) < BATCH):
                found.append(f"a commit wrote {len(touched)} answers beside {len(people)} people")
        before = now
    assert touched_any, "the attacker saw answers being written (the attack ran)"
    return found


async def linked_in_postgres(url: str) -> list[str]:
    """Group every tuple of both tables, live and dead, by the transaction that wrote it (`t_xmin`)."""
    engine = create_async_engine(url)
    found = []
    async with engine.begin() as connection:
        await connection.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        groups: dict[str, Counter[str]] = {}
        for table in ("pulse_answer", "pulse_participation"):
            pages = (await connection.execute(text("SELECT pg_relation_size(:t) / 8192"), {"t": table})).scalar_one()
            counts: Counter[str] = Counter()
            for page in range(int(pages)):
                rows = await connection.execute(text(
                    "SELECT t_xmin::text FROM heap_page_items(get_raw_page(:t, :p)) WHERE t_xmin IS NOT NULL"),
                    {"t": table, "p": page})
                counts.update(r[0] for r in rows)
            groups[table] = counts
        live = (await connection.execute(text(
            "SELECT xmin::text, count(*) FROM pulse_answer GROUP BY 1"))).all()
    await engine.dispose()
    assert groups["pulse_answer"], "the attacker saw answer tuples (the attack ran)"
    for xmin, count in groups["pulse_answer"].items():
        people = groups["pulse_participation"].get(xmin, 0)
        if count < BATCH or (people and people < BATCH):
            found.append(f"transaction {xmin} wrote {count} answers beside {people} people")
    assert live, "live rows were read too"
    return found


def _copy_database_files(db: Path, folder: Path) -> Path:
    """What a backup of a running Beacon holds: the database file and its write-ahead log, copied as they are."""
    folder.mkdir()
    shutil.copyfile(db, folder / "beacon.db")
    if os.path.exists(f"{db}-wal"):
        shutil.copyfile(f"{db}-wal", folder / "beacon.db-wal")
    return folder


async def test_the_database_files_link_no_answer_to_anyone(beacon: Beacon, database_url: str,
                                                            tmp_path: Path) -> None:
    """A DBA with a copy of the files mid-pulse and after close, or PostgreSQL's xmin and dead tuples."""
    pulse = await _create(beacon)
    for n, user in enumerate(STAFF[:12]):
        await _choose(beacon, user, n % 11)
    copies = []
    if database_url.startswith("sqlite"):
        db = Path(database_url.split("///", 1)[1])
        for name in ("mid", "after"):
            if name == "after":
                await beacon.slack.person(ERIN).command("/pulse", f"close {pulse.id}", channel=FORUM)
                await settle()
            copies.append(_copy_database_files(db, tmp_path / name))
        for folder in copies:
            states = sqlite_commits(folder / "beacon.db", folder / "beacon.db-wal")
            assert linked_in_sqlite(states, folder) == [], folder.name
    else:
        assert await linked_in_postgres(database_url) == [], "mid-pulse"
        await beacon.slack.person(ERIN).command("/pulse", f"close {pulse.id}", channel=FORUM)
        await settle()
        assert await linked_in_postgres(database_url) == [], "after close, dead tuples included"
    assert (await _stored(beacon, pulse.id or 0))[0] == 12


# -- the logs, from a real `beacon serve` at DEBUG ------------------------------------------------------------------
USER_ID = re.compile(r"\bU0[A-Z0-9]{3,}\b")


async def test_no_log_line_at_any_level_pairs_a_person_with_their_answer(slack: LocalSlack, tmp_path: Path,
                                                                          database_url: str) -> None:
    from tests.processes import beacon_process, eventually, free_port, slack_env, wait_healthy, write_config

    config = write_config(tmp_path / "beacon.yaml")
    data = __import__("yaml").safe_load(config.read_text())
    data["roles"]["forum_moderators"] = [ERIN]
    data["pulse"] = {"reporting_minimum": 3}
    config.write_text(__import__("yaml").safe_dump(data))
    env = slack_env(slack, config, database_url) | {"LOG_LEVEL": "DEBUG"}
    port = free_port()
    tomorrow = (SystemClock().now() + timedelta(days=2)).date().isoformat()
    async with beacon_process("serve", "--port", str(port), env=env, cwd=tmp_path) as process:
        await wait_healthy(port)
        slack.app_url = f"http://127.0.0.1:{port}/slack/events"
        erin = slack.person(ERIN)
        await erin.command("/pulse", channel=FORUM)
        await eventually(lambda: erin.modal is not None)
        kind, question, options = slot_blocks(1)
        reply = await erin.submit({BlockId.PULSE_TITLE: "Rest breaks", kind: "scale", question: "How likely are you "
                                   "to recommend your station?", options: "", BlockId.PULSE_SETTINGS: ["anonymous"],
                                   BlockId.PULSE_CLOSES_DAY: tomorrow, BlockId.PULSE_CLOSES_TIME: "17:00"})
        assert reply.json == {}, reply.json
        await eventually(lambda: any(m.blocks and m.blocks[0]["type"] == "header"
                                     for m in slack.workspace.messages(FORUM)))
        message = _message(slack.workspace.messages(FORUM), "Rest breaks")
        chosen = {}
        for n, user in enumerate(STAFF[:12]):
            chosen[user] = n % 11
            await slack.person(user).click(f"{ActionId.PULSE_CHOOSE}_{chosen[user]}", message=message)
        await eventually(lambda: sum(bool(slack.person(u).ephemerals()) for u in STAFF[:12]) == 12)
        await erin.command("/pulse", "close 1", channel=FORUM)
        await eventually(lambda: all(any("Thank you, your answer is in." in json.dumps(e.blocks)
                                         for e in slack.person(u).ephemerals()) for u in STAFF[:12]))
        process.terminate()
        _, stderr = await process.communicate()
    lines = stderr.decode().splitlines()
    assert any('"level": "debug"' in line for line in lines), "the process really logged at DEBUG"
    tokens = set()
    for user in STAFF[:12]:
        for e in slack.person(user).ephemerals():
            tokens |= set(re.findall(r'"value": "1:([A-Za-z0-9_-]{20,})"', json.dumps(e.blocks)))
    assert len(tokens) == 12, "each person holds a change token"
    for line in lines:
        assert not any(t in line for t in tokens), f"a change token was logged: {line[:200]}"
        if USER_ID.search(line):
            for clue in ("pulse_choose", "answer_q", '"q1"', "1:q1:", "Thank you, your answer"):
                assert clue not in line, f"a log line names a person beside their answer: {line[:300]}"
    answered = [json.loads(line) for line in lines if '"pulse answer"' in line]
    assert len(answered) >= 12 and all(entry.get("user") is None for entry in answered), (
        "an anonymous answer is logged as one kind of request, with nobody named")


async def test_an_option_longer_than_slack_shows_is_refused_in_place(beacon: Beacon) -> None:
    """Slack holds 75 characters in a button's or an option's text: a longer option is refused where it was typed,
    instead of being accepted and then breaking every "Answer" click."""
    erin = beacon.slack.person(ERIN)
    await erin.command("/pulse", channel=FORUM)
    await settle()
    kind, question, options = slot_blocks(1)
    long = "A" * 76
    reply = await erin.submit({BlockId.PULSE_TITLE: "Breaks", kind: "single", question: "Which is best?",
                               options: f"Short\n{long}", BlockId.PULSE_CLOSES_DAY: "2026-11-30",
                               BlockId.PULSE_CLOSES_TIME: "17:00"})
    assert reply.json["errors"] == {options: "Keep each option to 75 characters (Slack shows no more on a button); "
                                             f"“{'A' * 30}…” has 76."}
    reply = await erin.submit({BlockId.PULSE_TITLE: "Breaks", kind: "single", question: "Which is best?",
                               options: f"Short\n{'B' * 75}", BlockId.PULSE_CLOSES_DAY: "2026-11-30",
                               BlockId.PULSE_CLOSES_TIME: "17:00"})
    assert reply.json == {}, "75 characters is within the limit"
    await _deliver(beacon)
    await _choose(beacon, STAFF[0], 1, title="Breaks")
    assert "Beacon stores answers in groups" in _told_in(beacon, STAFF[0])[-1], "the longest option can be chosen"

"""Questions for a leader are never lost (asked before or after the briefing went, they reach the leader once), and
an anonymous one leaves nothing that points to its asker: not in the database files, nor in any log line."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from beacon.bot.ids import ActionId, BlockId
from beacon.bot.local_slack.workspace import Message
from beacon.bot.logs import PAYLOAD_LOGGERS
from beacon.bot.models import EngagementQuestion
from beacon.scheduler.calendar import LATE_QUESTIONS
from tests.harness import ALICE, CAROL, CHELMSFORD, ENGAGEMENT, HEIDI, Beacon, settle
from tests.test_calendar import _sync, _utc, feeds, organisation  # noqa: F401  (the calendar's fixtures)

ASKED_AFTER = "What happens to the night shift's breaks?"


async def _announcement(beacon: Beacon) -> Message:
    await _sync(beacon)
    return next(m for m in beacon.ws.messages(ENGAGEMENT) if "Listening session" in json.dumps(m.blocks))


async def _ask(beacon: Beacon, user: str, announcement: Message, question: str, *, anonymous: bool = False) -> None:
    person = beacon.slack.person(user)
    await person.click(ActionId.CALENDAR_ASK, message=announcement)
    await settle()
    reply = await person.submit({BlockId.QUESTION_TEXT: question,
                                 **({BlockId.QUESTION_ANONYMOUS: ["anonymous"]} if anonymous else {})})
    assert reply.json in ({}, None), reply.json
    await settle()


async def _run(beacon: Beacon, job: str) -> None:
    async with beacon.deps.db.transaction() as session:
        if job == "late":
            await beacon.deps.engagements.deliver_late_questions(session=session)
        else:
            await getattr(beacon.deps.engagements, job)(session=session, worker="test")
    await beacon.deps.dispatcher.run_once()
    await settle()


def _question_dms(beacon: Beacon) -> list[Message]:
    return [m for m in beacon.slack.person(CAROL).dms() if "new question" in m.text]


async def test_a_question_asked_after_the_briefing_reaches_the_leader_within_minutes(beacon: Beacon) -> None:
    """Alice asks at 16:05 the day before, after the 16:00 briefing went: she is told the truth, and the questions
    of those few minutes reach Carol in one DM, once; the follow-up lists every question still unanswered."""
    announcement = await _announcement(beacon)
    beacon.clock.set(_utc(2026, 11, 24, 10, 0))
    await _ask(beacon, HEIDI, announcement, "Can we talk about breaks?")
    assert "in their briefing on Tue 24 Nov at 16:00" in beacon.slack.person(HEIDI).dms()[-1].text
    beacon.clock.set(_utc(2026, 11, 24, 16, 0))
    await _run(beacon, "day_before")
    briefing = json.dumps(beacon.slack.person(CAROL).dms()[-1].blocks)
    assert "Can we talk about breaks?" in briefing
    beacon.clock.set(_utc(2026, 11, 24, 16, 5))
    await _ask(beacon, ALICE, announcement, ASKED_AFTER + " <!channel>")
    told = beacon.slack.person(ALICE).dms()[-1].text
    assert "within 5 minutes" in told and "day before" not in told, told
    beacon.clock.set(_utc(2026, 11, 24, 16, 7))
    await _ask(beacon, HEIDI, announcement, "Will the new ambulances come to Chelmsford?")
    beacon.clock.set(_utc(2026, 11, 24, 16, 10))
    await _run(beacon, "late")
    [dm] = _question_dms(beacon)
    shown = json.dumps(dm.blocks)
    assert "2 new questions" in dm.text and ASKED_AFTER in shown and "new ambulances" in shown
    assert "&lt;!channel&gt;" in shown and "<!channel>" not in shown, "the asker's words are escaped"
    assert "Can we talk about breaks?" not in shown, "a question already briefed is not sent again"
    assert "_from <@U0ALICE>_" in shown and "_from <@U0HEIDI>_" in shown
    beacon.clock.set(_utc(2026, 11, 24, 16, 15))
    await _run(beacon, "late")
    assert len(_question_dms(beacon)) == 1, "each question reaches the leader once"
    beacon.clock.set(_utc(2026, 11, 26, 10, 0))
    await _run(beacon, "day_after")
    follow_up = beacon.slack.person(CAROL).dms()[-1]
    listed = json.dumps(follow_up.blocks)
    assert "3 questions still to answer" in listed
    assert all(q in listed for q in ("Can we talk about breaks?", ASKED_AFTER, "new ambulances"))


async def test_replicas_ticking_together_send_the_late_questions_once(beacon: Beacon) -> None:
    """Every replica's scheduler fires on the same five-minute mark: the questions go in one DM all the same."""
    announcement = await _announcement(beacon)
    beacon.clock.set(_utc(2026, 11, 24, 16, 5))
    for n in range(3):
        await _ask(beacon, ALICE, announcement, f"Question number {n} for Carol", anonymous=n % 2 == 0)
    beacon.clock.set(_utc(2026, 11, 24, 16, 10))

    async def tick() -> None:
        async with beacon.deps.db.transaction() as session:
            await beacon.deps.engagements.deliver_late_questions(session=session)

    await asyncio.gather(tick(), tick(), tick())
    await beacon.deps.dispatcher.run_once()
    await settle()
    [dm] = _question_dms(beacon)
    assert "3 new questions" in dm.text
    job = beacon.runtime.scheduler.get_job(LATE_QUESTIONS)
    assert job is not None and "*/5" in str(job.trigger), "the scheduler runs it on the five-minute marks"


async def test_a_question_before_the_briefing_goes_in_it_and_nowhere_else(beacon: Beacon) -> None:
    announcement = await _announcement(beacon)
    beacon.clock.set(_utc(2026, 11, 24, 15, 58))
    await _ask(beacon, ALICE, announcement, "Is the rota changing?", anonymous=True)
    told = beacon.slack.person(ALICE).dms()[-1]
    assert "in their briefing on Tue 24 Nov at 16:00" in told.text and "without your name" in told.text
    # The scheduler's tick at 16:00 may come before the briefing's own run: it leaves the question to the briefing.
    beacon.clock.set(_utc(2026, 11, 24, 16, 0))
    await _run(beacon, "late")
    await _run(beacon, "day_before")
    assert "Is the rota changing?" in json.dumps(beacon.slack.person(CAROL).dms()[-1].blocks)
    assert "_from a colleague_" in json.dumps(beacon.slack.person(CAROL).dms()[-1].blocks)
    beacon.clock.set(_utc(2026, 11, 24, 16, 5))
    await _run(beacon, "late")
    assert _question_dms(beacon) == []


async def test_an_engagement_announced_after_its_briefing_time_still_gets_its_questions(beacon: Beacon) -> None:
    """No briefing ever comes (it was announced too late for one): a question still reaches the leader."""
    announcement = await _announcement(beacon)
    beacon.clock.set(_utc(2026, 11, 25, 8, 0))  # the morning of the visit; the day_before job never ran
    await _ask(beacon, ALICE, announcement, "Can I bring a colleague from Bedford?")
    assert "within 5 minutes" in beacon.slack.person(ALICE).dms()[-1].text
    beacon.clock.set(_utc(2026, 11, 25, 8, 5))
    await _run(beacon, "late")
    [dm] = _question_dms(beacon)
    assert "colleague from Bedford" in json.dumps(dm.blocks)


async def test_a_question_over_the_limit_gets_an_inline_error_saying_how_much_to_cut(beacon: Beacon) -> None:
    announcement = await _announcement(beacon)
    alice = beacon.slack.person(ALICE)
    await alice.click(ActionId.CALENDAR_ASK, message=announcement)
    await settle()
    # The form's max_length stops this in Slack; a forged or scripted submission reaches Beacon anyway.
    alice.modal.blocks[1]["element"].pop("max_length", None)  # type: ignore[union-attr]
    reply = await alice.submit({BlockId.QUESTION_TEXT: "x" * 1012})
    assert reply.json["response_action"] == "errors"
    assert "1,012 characters; the limit is 1,000. Shorten it by 12" in reply.json["errors"][BlockId.QUESTION_TEXT]


async def test_the_anonymous_asker_alone_can_come_back_to_their_question(beacon: Beacon) -> None:
    announcement = await _announcement(beacon)
    await _ask(beacon, ALICE, announcement, "Is the rota changing?", anonymous=True)
    alice = beacon.slack.person(ALICE)
    receipt = alice.dms()[-1]
    await alice.click(ActionId.CALENDAR_QUESTION_CHECK, message=receipt)
    await settle()
    assert "No answer yet" in alice.last_ephemeral().text
    assert "Is the rota changing?" in json.dumps(alice.last_ephemeral().blocks)
    forged = dict(receipt.blocks[-1]["elements"][0], value="guessed-token")
    receipt.blocks[-1]["elements"][0] = forged
    await alice.click(ActionId.CALENDAR_QUESTION_CHECK, message=receipt)
    await settle()
    assert "no longer kept" in alice.last_ephemeral().text


# -- the attacker's view: the database files and every log line ------------------------------------------------------

def _sqlite_backup(db: Path, folder: Path) -> bytes:
    """A backup of a running Beacon: the database file and its write-ahead log, copied as they are."""
    folder.mkdir()
    shutil.copyfile(db, folder / "beacon.db")
    if os.path.exists(f"{db}-wal"):
        shutil.copyfile(f"{db}-wal", folder / "beacon.db-wal")
    return b"".join(p.read_bytes() for p in folder.iterdir())


async def _everything_stored(database_url: str, folder: Path) -> bytes:
    """What a DBA holds: the SQLite file and its WAL as copied by a backup, or every PostgreSQL row, live and dead."""
    if database_url.startswith("sqlite"):
        return _sqlite_backup(Path(database_url.split("///", 1)[1]), folder)
    engine = create_async_engine(database_url)
    found: list[bytes] = []
    async with engine.connect() as connection:
        await connection.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        tables = (await connection.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))).scalars().all()
        for table in tables:
            every_row = text(f'SELECT t::text FROM "{table}" t')  # noqa: S608 (the names come from pg_tables)
            rows = (await connection.execute(every_row)).scalars().all()
            found += [r.encode() for r in rows]
            pages = (await connection.execute(text("SELECT pg_relation_size(:t) / 8192"), {"t": table})).scalar_one()
            for page in range(pages):
                raw = (await connection.execute(text(
                    "SELECT t_data FROM heap_page_items(get_raw_page(:t, :p)) WHERE t_data IS NOT NULL"),
                    {"t": table, "p": page})).scalars().all()
                found += [bytes(r) for r in raw]
    await engine.dispose()
    return b"\n".join(found)


async def test_an_anonymous_question_leaves_its_asker_nowhere_in_the_database_or_the_logs(
        beacon: Beacon, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A DBA with the files, backups (the WAL) or PostgreSQL's dead tuples, and whoever reads every log line at
    DEBUG (with the payload-printing libraries held where `beacon serve` holds them), cannot find who asked."""
    announcement = await _announcement(beacon)
    for name, floor in PAYLOAD_LOGGERS.items():
        logging.getLogger(name).setLevel(floor)
    caplog.set_level(logging.DEBUG)
    beacon.clock.set(_utc(2026, 11, 24, 16, 5))  # after the briefing time: a DM of its own, through the outbox
    await _ask(beacon, ALICE, announcement, "Why was the Chelmsford rest room closed?", anonymous=True)
    token = beacon.slack.person(ALICE).dms()[-1].blocks[-1]["elements"][0]["value"]
    beacon.clock.set(_utc(2026, 11, 24, 16, 10))
    await _run(beacon, "late")
    alice = beacon.slack.person(ALICE)
    await alice.click(ActionId.CALENDAR_QUESTION_CHECK, message=alice.dms()[-1])
    await settle()
    [dm] = _question_dms(beacon)
    assert "rest room closed" in json.dumps(dm.blocks) and "_from a colleague_" in json.dumps(dm.blocks)
    async with beacon.deps.db.transaction() as session:
        [row] = (await session.scalars(select(EngagementQuestion))).all()
    assert row.asker_id is None and row.token_hash and token not in row.token_hash
    assert (row.created_at.hour, row.created_at.minute) == (0, 0), "only the day it was asked is kept"
    stored = await _everything_stored(database_url, tmp_path / "copy")
    assert b"rest room closed" in stored, "the copy really holds the question"
    assert ALICE.encode() not in stored, "the asker's ID is nowhere in what the DBA holds"
    assert token.encode() not in stored, "nor the token only the asker holds"
    lines = [f"{r.name} {r.getMessage()} {json.dumps(r.__dict__, default=str)}" for r in caplog.records]
    assert any("leader question" in line for line in lines), "the requests were logged"
    leaks = [line for line in lines if ALICE in line or token in line]
    assert leaks == [], f"a log line names the asker of an anonymous question: {leaks[0][:300]}"


# -- "you said, we did": the leader answers, and the answer goes where the askers are --------------------------------

def _answer_button(message: Message, question: str) -> Message:
    """The briefing with only the Answer button beside `question` (the person clicks the first one found)."""
    blocks = [b for b in message.blocks if b.get("accessory", {}).get("action_id") != ActionId.CALENDAR_ANSWER
              or question in b["text"]["text"]]
    return Message(channel=message.channel, ts=message.ts, user=message.user, text=message.text, blocks=blocks)


async def test_a_leader_answers_and_the_answer_goes_where_the_askers_are(beacon: Beacon) -> None:
    announcement = await _announcement(beacon)
    beacon.clock.set(_utc(2026, 11, 24, 10, 0))
    await _ask(beacon, HEIDI, announcement, "Can we talk about breaks?")
    await _ask(beacon, ALICE, announcement, "Is the rota changing?", anonymous=True)
    beacon.clock.set(_utc(2026, 11, 24, 16, 0))
    await _run(beacon, "day_before")
    carol, heidi, alice = (beacon.slack.person(u) for u in (CAROL, HEIDI, ALICE))
    briefing = carol.dms()[-1]
    await heidi.click(ActionId.CALENDAR_ANSWER, message=_answer_button(briefing, "breaks"))
    await settle()
    assert "Only the leader" in heidi.last_ephemeral().text, "nobody else answers for the leader"
    await carol.click(ActionId.CALENDAR_ANSWER, message=_answer_button(briefing, "breaks"))
    await settle()
    carol.modal.blocks[1]["element"].pop("max_length", None)  # type: ignore[union-attr]  (a scripted submission)
    too_long = await carol.submit({BlockId.ANSWER_TEXT: "y" * 2005})
    assert "2,005 characters; the limit is 2,000. Shorten it by 5" in too_long.json["errors"][BlockId.ANSWER_TEXT]
    reply = await carol.submit({BlockId.ANSWER_TEXT: "From January every shift gets a protected break <!here>."})
    assert reply.json in ({}, None), reply.json
    await beacon.deps.dispatcher.run_once()
    await settle()
    [in_thread] = [m for m in beacon.ws.messages(ENGAGEMENT) if m.thread_ts == announcement.ts]
    at_site = beacon.ws.messages(CHELMSFORD)[-1]
    for post in (in_thread, at_site):
        shown = json.dumps(post.blocks)
        assert "You said, we did" in post.text and "<@U0CAROL>" in post.text
        assert "Can we talk about breaks?" in shown and "protected break &lt;!here&gt;" in shown
        assert "<!here>" not in shown, "the leader's words are escaped"
    told = heidi.dms()[-1]
    assert "answered your question" in told.text and "protected break" in json.dumps(told.blocks)
    # Alice asked without her name: she alone finds the answer, with her token.
    await carol.click(ActionId.CALENDAR_ANSWER, message=_answer_button(briefing, "rota"))
    await settle()
    await carol.submit({BlockId.ANSWER_TEXT: "Not this year: we heard you and it stays as it is."})
    await beacon.deps.dispatcher.run_once()
    await settle()
    receipt = next(m for m in alice.dms() if "See the answer" in json.dumps(m.blocks))
    await alice.click(ActionId.CALENDAR_QUESTION_CHECK, message=receipt)
    await settle()
    assert "answered your question on Tue 24 Nov 2026" in alice.last_ephemeral().text
    assert "stays as it is" in json.dumps(alice.last_ephemeral().blocks), alice.last_ephemeral()
    await carol.click(ActionId.CALENDAR_ANSWER, message=_answer_button(briefing, "rota"))
    await settle()
    assert "was answered on Tue 24 Nov" in carol.last_ephemeral().text, "an answer is given once"
    # The log: in /calendar and the App Home, with dates and who answered; searchable.
    await heidi.command("/calendar", "answers rota")
    await settle()
    log = json.dumps(heidi.last_ephemeral().blocks)
    assert "stays as it is" in log and "protected break" not in log
    assert "Tue 24 Nov 2026" in log and "<@U0CAROL>" in log
    await heidi.command("/calendar", "answers")
    await settle()
    assert "protected break" in json.dumps(heidi.last_ephemeral().blocks)
    await heidi.open_home()
    await settle()
    assert "You said, we did" in json.dumps(heidi.home.blocks) and "protected break" in json.dumps(heidi.home.blocks)
    # The day after, nothing is left to answer.
    beacon.clock.set(_utc(2026, 11, 26, 10, 0))
    await _run(beacon, "day_after")
    assert "still to answer" not in json.dumps(carol.dms()[-1].blocks)
    # The next weekly digest says what was answered the week before.
    beacon.clock.set(_utc(2026, 11, 30, 8, 0))
    await beacon.deps.digests.send_now(db=beacon.deps.db)
    await beacon.deps.dispatcher.run_once()
    await settle()
    [digest] = [m for c in beacon.deps.organisation.channels.digest for m in beacon.ws.messages(c)
                if "weekly digest" in m.text]
    shown = json.dumps(digest.blocks)
    assert "You said, we did" in shown and "Can we talk about breaks?" in shown and "protected break" in shown
    assert "Is the rota changing?" in shown and "*Carol Chen, Chief Executive*" in shown


async def test_upgrading_takes_the_asker_off_questions_already_asked_without_a_name(tmp_path: Path) -> None:
    """Migration 0017 on a database that holds anonymous questions stored the old way (with the asker's ID)."""
    from beacon.bot.db import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await upgrade(url, "0015")
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text(
            "INSERT INTO engagement (id, source_key, external_id, occurrence, title, leader, starts_at, ends_at, "
            "all_day, status, announcement_queued, first_seen_at, updated_at) VALUES (1, 's', 'e', 'single', 'Visit', "
            "'Carol', '2026-11-25 10:00:00', '2026-11-25 12:00:00', 0, 'scheduled', 0, '2026-11-20 09:00:00', "
            "'2026-11-20 09:00:00')"))
        await connection.execute(text(
            "INSERT INTO engagement_question (engagement_id, asker_id, hide_name, question, created_at) VALUES "
            "(1, 'U0ALICE', 1, 'Anonymous?', '2026-11-23 16:05:00'), (1, 'U0HEIDI', 0, 'Named', "
            "'2026-11-23 16:06:00')"))
    await upgrade(url)
    async with engine.connect() as connection:
        rows = (await connection.execute(text(
            "SELECT question, asker_id, created_at FROM engagement_question ORDER BY id"))).all()
    await engine.dispose()
    assert [tuple(r)[:2] for r in rows] == [("Anonymous?", None), ("Named", "U0HEIDI")]
    assert str(rows[0][2]).startswith("2026-11-23 00:00:00"), "only the day an anonymous question was asked is kept"
    assert str(rows[1][2]).startswith("2026-11-23 16:06:00")

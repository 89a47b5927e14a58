"""Ask the leaders (`/ask`), end to end through signed requests against the local Slack: a member of staff asks,
named or anonymous; the forum moderators publish, merge or decline; colleagues support once each; the leader asked
answers in the thread; the asker is told (named: by DM; anonymous: by their token only). And the attacker's view:
the database files and every log line hold nothing that links an anonymous question to its asker."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from beacon.bot.ids import ActionId, BlockId
from beacon.bot.local_slack.workspace import Message
from beacon.bot.logs import PAYLOAD_LOGGERS
from beacon.bot.models import ForumQuestion, ForumSupport, OutboxMessage
from beacon.bot.organisation import Organisation
from tests.harness import ALICE, CAROL, ERIN, FORUM, GRACE, HEIDI, Beacon, organisation_for, settle
from tests.nominating import deliver

QUESTION = "Why do night shifts at Bedford still have no hot food after 22:00?"
TOKEN = re.compile(r"ask-[A-Za-z0-9_-]{24}")


@pytest.fixture
def organisation(slack) -> Organisation:  # type: ignore[no-untyped-def]
    return organisation_for(slack.workspace, ask={"unanswered_days": 14})


def _said(blocks: list[dict]) -> str:
    return json.dumps(blocks)


async def _ask(beacon: Beacon, user: str, text: str = QUESTION, *, anonymous: bool = False,
               from_home: bool = False) -> None:
    person = beacon.slack.person(user)
    if from_home:
        await person.open_home()
        await settle()
        await person.click(ActionId.ASK_OPEN, in_home=True)
    else:
        await person.command("/ask")
    await settle()
    assert person.modal is not None and person.modal.callback_id == "ask_compose"
    reply = await person.submit({BlockId.ASK_TEXT: text, BlockId.ASK_ANONYMOUS: ["anonymous"] if anonymous else []})
    assert reply.json.get("response_action") == "update", reply.json
    await settle()


async def _questions(beacon: Beacon) -> list[ForumQuestion]:
    async with beacon.deps.db.transaction() as session:
        return list((await session.scalars(select(ForumQuestion))).all())


def _forum_post(beacon: Beacon) -> Message:
    posts = [m for m in beacon.ws.messages(FORUM) if m.thread_ts is None and "Ask the leaders" in _said(m.blocks)]
    assert len(posts) == 1, [m.text for m in beacon.ws.messages(FORUM)]
    return posts[0]


async def test_a_named_question_is_published_supported_once_each_answered_and_its_asker_told(beacon: Beacon) -> None:
    await _ask(beacon, ALICE, from_home=True)
    alice = beacon.slack.person(ALICE)
    assert "The forum moderators will look at it" in _said(alice.modal.blocks)  # type: ignore[union-attr]

    # Erin, a forum moderator, sees the question in her App Home queue and publishes it.
    erin = beacon.slack.person(ERIN)
    await erin.open_home()
    await settle()
    assert QUESTION.replace("\n", " ")[:40] in _said(erin.home.blocks)  # type: ignore[union-attr]
    assert f"<@{ALICE}>" in _said(erin.home.blocks)  # type: ignore[union-attr]
    await erin.click(ActionId.ASK_PUBLISH, in_home=True)
    await deliver(beacon)
    post = _forum_post(beacon)
    assert "0 colleagues support this" in _said(post.blocks)
    assert any("is published in" in m.text for m in alice.dms()), [m.text for m in alice.dms()]

    # Heidi supports it twice, Grace once: the post shows 2, and never who.
    heidi, grace = beacon.slack.person(HEIDI), beacon.slack.person(GRACE)
    for person in (heidi, heidi, grace):
        await person.click(ActionId.ASK_SUPPORT, message=_forum_post(beacon))
        await deliver(beacon)
    assert "each person counts once" in heidi.last_ephemeral().text
    post = _forum_post(beacon)
    assert "2 colleagues support this" in _said(post.blocks)
    assert HEIDI not in _said(post.blocks) and GRACE not in _said(post.blocks)

    # Erin asks Carol to answer, from `/ask queue`.
    await erin.command("/ask", "queue")
    await settle()
    await erin.click(ActionId.ASK_ASSIGN, message=erin.last_ephemeral())
    await settle()
    assert (await erin.submit({BlockId.ASK_LEADER: CAROL})).json == {}
    await deliver(beacon)
    assert f"<@{CAROL}> will answer in the thread" in _said(_forum_post(beacon).blocks)
    carol = beacon.slack.person(CAROL)
    asked = [m for m in carol.dms() if "ask you to answer" in m.text]
    assert asked, [m.text for m in carol.dms()]

    await carol.click(ActionId.ASK_ANSWER, message=asked[-1])
    await settle()
    answer = "From Monday the Bedford canteen opens until 02:00."
    assert (await carol.submit({BlockId.ASK_ANSWER_TEXT: answer})).json == {}
    await deliver(beacon)
    replies = [m for m in beacon.ws.messages(FORUM) if m.thread_ts == post.ts]
    assert replies and "canteen opens until 02:00" in _said(replies[0].blocks)
    assert "Answered in the thread" in _said(_forum_post(beacon).blocks)
    assert any("answered your question" in m.text for m in alice.dms())


async def test_a_forged_support_click_edits_only_the_questions_own_forum_post(beacon: Beacon) -> None:
    """The post to edit is the one Beacon published, never the channel and ts a click claims: a forged
    block_actions naming another message of the bot's (here, Alice's DM) must not have it overwritten."""
    await _ask(beacon, ALICE)
    erin = beacon.slack.person(ERIN)
    await erin.open_home()
    await settle()
    await erin.click(ActionId.ASK_PUBLISH, in_home=True)
    await deliver(beacon)
    post = _forum_post(beacon)
    alice = beacon.slack.person(ALICE)
    target = next(m for m in alice.dms() if "is published in" in m.text)
    before = (target.text, _said(target.blocks))
    forged = Message(channel=target.channel, ts=target.ts, user=target.user, text=post.text, blocks=post.blocks)
    await beacon.slack.person(HEIDI).click(ActionId.ASK_SUPPORT, message=forged)
    await deliver(beacon)
    target = next(m for m in alice.dms() if m.ts == target.ts)
    assert (target.text, _said(target.blocks)) == before, "a forged click rewrote another message of the bot's"
    assert "1 colleague" in _said(_forum_post(beacon).blocks)


async def test_a_question_over_the_limit_gets_an_inline_error_that_says_the_limit(beacon: Beacon) -> None:
    alice = beacon.slack.person(ALICE)
    await alice.command("/ask")
    await settle()
    reply = await alice.submit({BlockId.ASK_TEXT: "x" * 1001})
    assert reply.json["response_action"] == "errors"
    assert "1,000 characters" in alice.modal_errors[BlockId.ASK_TEXT]
    assert "Shorten it by 1" in alice.modal_errors[BlockId.ASK_TEXT]
    assert await _questions(beacon) == []
    await _ask(beacon, ALICE, "y" * 1000)  # exactly at the limit is fine
    assert len(await _questions(beacon)) == 1


async def test_an_anonymous_asker_follows_a_decline_by_token_only_and_their_words_are_escaped(beacon: Beacon) -> None:
    hostile = "<!channel> *urgent* & <@U0BOB> please"
    await _ask(beacon, ALICE, hostile, anonymous=True)
    alice = beacon.slack.person(ALICE)
    shown = _said(alice.modal.blocks)  # type: ignore[union-attr]
    token = TOKEN.search(shown)
    assert token, shown
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown
    assert any(token[0] in _said(m.blocks) for m in alice.dms()), "the token is also in the asker's DM"

    erin = beacon.slack.person(ERIN)
    await erin.open_home()
    await settle()
    assert "Anonymous" in _said(erin.home.blocks) and ALICE not in _said(erin.home.blocks)  # type: ignore[union-attr]
    await erin.click(ActionId.ASK_DECLINE, in_home=True)
    await settle()
    assert (await erin.submit({BlockId.ASK_REASON: "This is for the <local> manager & rota team."})).json == {}
    await deliver(beacon)
    dms_before = len(alice.dms())
    async with beacon.deps.db.transaction() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
    assert all(r.channel != ALICE for r in rows), "nothing is ever queued to an anonymous asker"

    await alice.command("/ask", f"status {token[0]}")
    await settle()
    status = alice.last_ephemeral()
    said = _said(status.blocks)
    assert "not published" in said and "rota team" in said and "&lt;local&gt;" in said
    assert "<!channel>" not in said
    assert len(alice.dms()) == dms_before

    await alice.command("/ask", "status ask-not-a-real-token")
    await settle()
    assert "No question has that token" in alice.last_ephemeral().text


async def test_a_waiting_question_merged_into_a_published_one_counts_as_support(beacon: Beacon) -> None:
    await _ask(beacon, ALICE)
    erin = beacon.slack.person(ERIN)
    await erin.open_home()
    await settle()
    await erin.click(ActionId.ASK_PUBLISH, in_home=True)
    await deliver(beacon)
    await _ask(beacon, HEIDI, "Can we have hot food on nights at Bedford?")
    await erin.open_home()
    await settle()
    await erin.click(ActionId.ASK_MERGE, in_home=True)
    await settle()
    published = next(q for q in await _questions(beacon) if q.status == "published")
    assert (await erin.submit({BlockId.ASK_MERGE_INTO: published.id})).json == {}
    await deliver(beacon)
    heidi = beacon.slack.person(HEIDI)
    assert any("merged into one a colleague already asked" in m.text for m in heidi.dms())
    statuses = sorted(q.status for q in await _questions(beacon))
    assert statuses == ["merged", "published"]
    assert next(q for q in await _questions(beacon) if q.status == "published").supporters == 1


async def test_only_forum_moderators_see_the_queue_or_decide(beacon: Beacon) -> None:
    await _ask(beacon, ALICE)
    heidi = beacon.slack.person(HEIDI)
    await heidi.command("/ask", "queue")
    await settle()
    assert "forum moderator" in heidi.last_ephemeral().text
    await heidi.open_home()
    await settle()
    assert "moderators' queue" not in _said(heidi.home.blocks)  # type: ignore[union-attr]
    assert [q.status for q in await _questions(beacon)] == ["pending"]


async def test_questions_unanswered_for_longer_than_the_setting_are_flagged_to_moderators(beacon: Beacon) -> None:
    await _ask(beacon, ALICE)
    erin = beacon.slack.person(ERIN)
    await erin.open_home()
    await settle()
    await erin.click(ActionId.ASK_PUBLISH, in_home=True)
    await deliver(beacon)
    await erin.open_home()
    await settle()
    assert "Unanswered for more than" not in _said(erin.home.blocks)  # type: ignore[union-attr]
    beacon.clock.advance(timedelta(days=15))
    await erin.open_home()
    await settle()
    assert "Unanswered for more than 14 days" in _said(erin.home.blocks)  # type: ignore[union-attr]


# -- the attacker: the database files and the logs -------------------------------------------------------------
async def _every_stored_value(beacon: Beacon) -> str:
    """Every row of every table, as text: what a DBA with a backup reads."""
    from sqlmodel import SQLModel

    dumped = []
    async with beacon.deps.db.transaction() as session:
        for table in SQLModel.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                dumped.append(f"{table.name}: {tuple(row)}")
    return "\n".join(dumped)


async def test_nothing_stored_or_logged_links_an_anonymous_question_to_its_asker(beacon: Beacon, database_url: str,
                                                                                 caplog: pytest.LogCaptureFixture
                                                                                 ) -> None:
    caplog.set_level(logging.DEBUG)  # as `beacon serve` at DEBUG: everything but the payload printers' bodies
    for name, floor in PAYLOAD_LOGGERS.items():
        caplog.set_level(floor, logger=name)
    beacon.clock.advance(timedelta(hours=5, minutes=17, seconds=42))  # a moment that is not midnight nor the hour
    await _ask(beacon, ALICE, "Who decided to close the Clacton rest room?", anonymous=True)
    token = TOKEN.search(_said(beacon.slack.person(ALICE).modal.blocks))  # type: ignore[union-attr]
    assert token
    await beacon.slack.person(ALICE).command("/ask", f"status {token[0]}")
    await settle()
    erin = beacon.slack.person(ERIN)
    await erin.open_home()
    await settle()
    await erin.click(ActionId.ASK_PUBLISH, in_home=True)
    await deliver(beacon)
    [question] = await _questions(beacon)
    assert question.asker_id is None and question.status_hash and token[0] not in question.status_hash

    stored = await _every_stored_value(beacon)
    assert "Clacton rest room" in stored, "the dump reads the question"
    assert ALICE not in stored, "the asker's id is stored somewhere"
    assert token[0] not in stored
    moment = beacon.clock.now()
    for shown in (moment.strftime("%H:%M"), moment.isoformat()[:16], moment.strftime("%H:%M:%S")):
        assert shown not in next(line for line in stored.splitlines() if line.startswith("forum_question"))
    if database_url.startswith("sqlite"):
        path = Path(database_url.split("///", 1)[1])
        raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        assert b"Clacton rest room" in raw, "the file holds the question (the test reads the right file)"
        assert ALICE.encode() not in raw, "the asker's id is in the database file's bytes"

    lines = [f"{r.name} {r.levelname} {r.getMessage()} {json.dumps(vars(r), default=str)}" for r in caplog.records]
    assert any("ask question" in line for line in lines), "the asking requests were logged (without a name)"
    assert not [line for line in lines if ALICE in line], "a log line names the asker"
    assert not [line for line in lines if token[0] in line], "a log line holds the token"


async def test_an_anonymous_question_is_published_escaped_and_its_answer_reaches_the_token_holder(
        beacon: Beacon) -> None:
    await _ask(beacon, ALICE, "<!channel> Is the *new rota* fair & final? <@U0BOB>", anonymous=True)
    alice = beacon.slack.person(ALICE)
    token = TOKEN.search(_said(alice.modal.blocks))  # type: ignore[union-attr]
    assert token
    erin = beacon.slack.person(ERIN)
    await erin.open_home()
    await settle()
    await erin.click(ActionId.ASK_PUBLISH, in_home=True)
    await deliver(beacon)
    post = _forum_post(beacon)
    said = _said(post.blocks)
    assert "anonymously" in said and ALICE not in said
    assert "<!channel>" not in said and "&lt;!channel&gt;" in said and "<@U0BOB>" not in said
    await erin.open_home()
    await settle()
    await erin.click(ActionId.ASK_ASSIGN, in_home=True)
    await settle()
    await erin.submit({BlockId.ASK_LEADER: CAROL})
    await deliver(beacon)
    carol = beacon.slack.person(CAROL)
    await carol.click(ActionId.ASK_ANSWER, message=[m for m in carol.dms() if "ask you to answer" in m.text][-1])
    await settle()
    await carol.submit({BlockId.ASK_ANSWER_TEXT: "The rota is a draft <until> staff have had their say."})
    await deliver(beacon)
    dms = len(alice.dms())
    await alice.command("/ask", f"status {token[0]}")
    await settle()
    status = _said(alice.last_ephemeral().blocks)
    assert "answered" in status and "staff have had their say" in status and "&lt;until&gt;" in status
    assert len(alice.dms()) == dms, "Beacon cannot DM an anonymous asker: it does not know who they are"


async def test_a_named_asker_supporter_and_leader_are_exported_and_erased_keeping_the_count(beacon: Beacon) -> None:
    await _ask(beacon, ALICE)
    erin = beacon.slack.person(ERIN)
    await erin.open_home()
    await settle()
    await erin.click(ActionId.ASK_PUBLISH, in_home=True)
    await deliver(beacon)
    await beacon.slack.person(HEIDI).click(ActionId.ASK_SUPPORT, message=_forum_post(beacon))
    await deliver(beacon)
    async with beacon.deps.db.transaction() as session:
        exported = await beacon.deps.privacy.export(session=session, user_id=ALICE, actor="cli:ig-officer")
        heidi = await beacon.deps.privacy.export(session=session, user_id=HEIDI, actor="cli:ig-officer")
    assert exported["questions_for_the_leaders"]["asked"][0]["question"] == QUESTION
    assert heidi["questions_for_the_leaders"]["supported"] == 1
    async with beacon.deps.db.transaction() as session:
        for person in (ALICE, HEIDI):
            await beacon.deps.privacy.erase(session=session, user_id=person, actor="cli:ig-officer")
    [question] = await _questions(beacon)
    assert question.asker_id != ALICE and question.text != QUESTION and question.supporters == 1
    async with beacon.deps.db.transaction() as session:
        supporters = [s.user_id for s in (await session.scalars(select(ForumSupport))).all()]
    assert supporters and HEIDI not in supporters

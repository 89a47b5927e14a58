"""Consent means consent, tried as a careless or hurried nominator would try it, through Slack.

A public post only ever shows the exact words and the people that everyone it names said yes to. Every test
drives the real app with signed requests against the local Slack and asserts on what Slack recorded: every
chat.postMessage and chat.update Beacon ever made in the recognition channel (not only the message as it is
at the end), every DM, every view.
"""

from __future__ import annotations

import copy
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import make_url, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from beacon.bot.db import Database, upgrade
from beacon.bot.ids import ActionId
from beacon.bot.local_slack import Person
from beacon.bot.local_slack.workspace import Message
from beacon.bot.models import Consent, Nomination, Nominee, OutboxMessage, OutboxStatus
from beacon.bot.services import outbox
from beacon.bot.services.nominations import content_hash
from tests.harness import ALICE, BOB, CAROL, DAVE, DIGEST, ERIN, HEIDI, POSTGRES_URL, RECOGNITION, Beacon, settle
from tests.nominating import deliver, fill_and_send, nominate, nominations

AGREED = ("Alice stayed two hours after her shift ended to talk a newly qualified colleague through a very hard "
          "call. ORIGINAL-WORDS, calm and kind.")
EDITED = ("Alice and Heidi stayed two hours after their shift to talk a newly qualified colleague through a hard "
          "call. EDITED-WORDS, and Heidi drove them home.")
NEVER_SAY = ("declin", "preferred not", "said no", "refused", "turned down", "did not want", "didn't want")


def _blocks(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def public_versions(beacon: Beacon) -> list[str]:
    """Everything Beacon ever showed in the recognition channel: each post and each edit of a post, in order."""
    shown = []
    for call in beacon.ws.calls:
        if call.method in ("chat.postMessage", "chat.update") and call.ok and \
                call.args.get("channel") == RECOGNITION:
            shown.append(str(call.args.get("text") or "") + json.dumps(_blocks(call.args.get("blocks"))))
    return shown


def _words(value: Any) -> list[str]:
    """Every piece of text a person can read in Slack payloads (text objects, titles, labels), not ids."""
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return []
        return _words(decoded) if isinstance(decoded, dict | list) else []
    if isinstance(value, list):
        return [w for item in value for w in _words(item)]
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            if key in ("text", "title", "label", "placeholder", "hint", "initial_comment") and isinstance(item, str):
                found.append(item)
            else:
                found += _words(item)
        return found
    return []


def everything_recorded(beacon: Beacon) -> str:
    """Every word Beacon showed anyone: Web API calls (messages, edits, views, Home tabs), every message in
    every channel and DM as it stands (answers by response_url included), every ephemeral reply."""
    parts = [w for call in beacon.ws.calls for w in _words(call.args)]
    parts += [m.text + "\n" + "\n".join(_words(m.blocks)) for c in beacon.ws.channels.values() for m in c.messages]
    parts += [e.text + "\n" + "\n".join(_words(e.blocks)) for e in beacon.ws.ephemerals]
    # What a forum moderator may do with a question for the leaders (their Home and /beacon list it) is about
    # questions, not people: not a description of anyone's answer.
    return "\n".join(parts).replace("Publish, merge or decline questions", "")


def consent_requests(beacon: Beacon, user: str) -> list[Message]:
    person = beacon.slack.person(user)
    return [m for m in person.dms() if any(b.get("block_id") in ("consent", "consent_answer") for b in m.blocks)]


async def edit(beacon: Beacon, user: str, **fields: Any) -> None:
    """The nominator opens their Home tab, presses Edit on the nomination and saves the form."""
    person = beacon.slack.person(user)
    await person.open_home()
    await settle()
    await person.click(ActionId.NOMINATION_EDIT, in_home=True)
    await settle()
    reply = await fill_and_send(person, **fields)
    assert reply.status == 200 and reply.json == {}, f"the edit was saved: {reply.json}"


async def recognition_rows(beacon: Beacon) -> list[OutboxMessage]:
    async with beacon.deps.db.transaction() as session:
        return list((await session.scalars(select(OutboxMessage).where(
            OutboxMessage.source.in_(["recognition_post", "recognition_update"])).order_by(OutboxMessage.id))).all())



async def agreed_nomination(beacon: Beacon) -> tuple[Person, Person]:
    """Bob nominates Alice with the AGREED story, to be shared, and Alice says yes: the post is queued."""
    bob, alice = beacon.slack.person(BOB), beacon.slack.person(ALICE)
    await nominate(bob, colleagues=[ALICE], story=AGREED)
    await deliver(beacon)
    await alice.click(ActionId.CONSENT_GIVE, message=consent_requests(beacon, ALICE)[-1])
    await deliver(beacon)
    return bob, alice


async def test_an_edit_after_consent_stops_the_old_post_and_asks_again_with_the_new_words(beacon: Beacon) -> None:
    bob, alice = beacon.slack.person(BOB), beacon.slack.person(ALICE)
    await nominate(bob, colleagues=[ALICE], story=AGREED)
    await deliver(beacon)
    [first_request] = consent_requests(beacon, ALICE)
    await alice.click(ActionId.CONSENT_GIVE, message=first_request)
    await settle()  # her yes has queued the celebration; it has not gone yet

    await edit(beacon, BOB, story=EDITED)
    await deliver(beacon)
    assert public_versions(beacon) == [], "the post Alice agreed to is not made once the words have changed"
    assert [r.status for r in await recognition_rows(beacon)] == [OutboxStatus.CANCELLED]
    requests = consent_requests(beacon, ALICE)
    assert len(requests) == 2, "Alice is asked again"
    asked_again = json.dumps(requests[-1].blocks)
    assert "EDITED-WORDS" in asked_again and "ORIGINAL-WORDS" not in asked_again, "she is shown the new words"
    assert "changed what they wrote" in requests[-1].text
    [(_, [nominee])] = await nominations(beacon)
    assert nominee.consent == Consent.PENDING

    # Her old yes (the "Take it down" message, or a replay of the first request) is a yes to the old words only.
    stale = copy.deepcopy(requests[0])
    for block in stale.blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == ActionId.CONSENT_DECLINE:
                element["action_id"] = ActionId.CONSENT_GIVE
    await alice.click(ActionId.CONSENT_GIVE, message=stale)
    await deliver(beacon)
    assert public_versions(beacon) == [], "a yes to the old words does not publish the new ones"
    [(_, [nominee])] = await nominations(beacon)
    assert nominee.consent == Consent.PENDING

    await alice.click(ActionId.CONSENT_GIVE, message=consent_requests(beacon, ALICE)[-1])
    await deliver(beacon)
    [post] = public_versions(beacon)
    assert "EDITED-WORDS" in post and "ORIGINAL-WORDS" not in post, "the post goes once she agrees, with her words"


async def test_an_edit_after_posting_never_shows_unagreed_words_or_an_unasked_colleague(beacon: Beacon) -> None:
    bob, alice, heidi, carol = (beacon.slack.person(u) for u in (BOB, ALICE, HEIDI, CAROL))
    await nominate(bob, colleagues=[ALICE], story=AGREED)
    await deliver(beacon)
    await alice.click(ActionId.CONSENT_GIVE, message=consent_requests(beacon, ALICE)[-1])
    await deliver(beacon)
    [post] = beacon.ws.messages(RECOGNITION)
    assert "ORIGINAL-WORDS" in json.dumps(post.blocks)

    await edit(beacon, BOB, colleagues=[ALICE, HEIDI], story=EDITED)
    await deliver(beacon)
    await carol.click(ActionId.ENDORSE, message=beacon.ws.messages(RECOGNITION)[0])  # rebuilds the post
    await deliver(beacon)
    [post] = beacon.ws.messages(RECOGNITION)
    assert "1 colleague has endorsed this" in json.dumps(post.blocks), "the endorsement rebuilt the post"
    for shown in public_versions(beacon):
        assert "ORIGINAL-WORDS" in shown and "EDITED-WORDS" not in shown, "only the agreed words, ever"
        assert HEIDI not in shown, "Heidi was never asked, so she is never named"
    assert "EDITED-WORDS" in json.dumps(consent_requests(beacon, HEIDI)[-1].blocks), "Heidi is asked"
    assert "EDITED-WORDS" in json.dumps(consent_requests(beacon, ALICE)[-1].blocks), "Alice is asked again"

    await alice.click(ActionId.CONSENT_GIVE, message=consent_requests(beacon, ALICE)[-1])
    await deliver(beacon)
    assert all(HEIDI not in shown and "EDITED-WORDS" not in shown for shown in public_versions(beacon)), (
        "Alice's yes alone does not publish words that also name Heidi")

    await heidi.click(ActionId.CONSENT_GIVE, message=consent_requests(beacon, HEIDI)[-1])
    await deliver(beacon)
    [post] = beacon.ws.messages(RECOGNITION)
    shown = json.dumps(post.blocks) + post.text
    assert "EDITED-WORDS" in shown and "<@U0HEIDI>" in shown, "once both agree, the post shows the new words"
    assert "1 colleague has endorsed this" in shown, "the same post, updated, keeps its endorsements"
    assert beacon.ws.calls_to("chat.update")[-1].args["ts"] == post.ts


async def test_a_colleague_added_by_an_edit_who_never_answers_is_never_named(beacon: Beacon) -> None:
    bob, alice, carol = (beacon.slack.person(u) for u in (BOB, ALICE, CAROL))
    await nominate(bob, colleagues=[ALICE], story=AGREED)
    await deliver(beacon)
    await alice.click(ActionId.CONSENT_GIVE, message=consent_requests(beacon, ALICE)[-1])
    await deliver(beacon)
    await edit(beacon, BOB, colleagues=[ALICE, HEIDI], story=EDITED)
    await deliver(beacon)
    await alice.click(ActionId.CONSENT_GIVE, message=consent_requests(beacon, ALICE)[-1])
    for endorser in (carol, beacon.slack.person(DAVE), beacon.slack.person(ERIN)):
        await endorser.click(ActionId.ENDORSE, message=beacon.ws.messages(RECOGNITION)[0])
        await deliver(beacon)
    beacon.clock.advance(timedelta(days=3))
    await deliver(beacon)
    assert len(public_versions(beacon)) >= 4, "posted, then rebuilt by each endorsement"
    assert all(HEIDI not in v and "EDITED-WORDS" not in v for v in public_versions(beacon))
    await bob.open_home()
    await settle()
    assert "your changes wait for their yes" in json.dumps(bob.home.blocks)  # type: ignore[union-attr]


async def test_a_no_from_someone_named_takes_the_post_down_whatever_version_they_answer(beacon: Beacon) -> None:
    _bob, alice = await agreed_nomination(beacon)
    await edit(beacon, BOB, story=EDITED)
    await deliver(beacon)
    assert len(beacon.ws.messages(RECOGNITION)) == 1
    await alice.click(ActionId.CONSENT_DECLINE, message=consent_requests(beacon, ALICE)[-1])
    await deliver(beacon)
    assert beacon.ws.messages(RECOGNITION) == [], "her no to the new words takes down the old ones too"
    [(nomination, _)] = await nominations(beacon)
    assert nomination.consented_snapshot is None and nomination.public_ts is None


async def test_turning_sharing_off_in_an_edit_takes_the_post_down(beacon: Beacon) -> None:
    await agreed_nomination(beacon)
    assert len(beacon.ws.messages(RECOGNITION)) == 1
    await edit(beacon, BOB, share=False)
    await deliver(beacon)
    assert beacon.ws.messages(RECOGNITION) == []


async def test_resubmitting_the_same_nomination_is_an_edit_too(beacon: Beacon) -> None:
    """The duplicate rule folds a second nomination of the same colleague into the first: that is an edit."""
    bob, _alice = await agreed_nomination(beacon)
    await nominate(bob, colleagues=[ALICE], story=EDITED)
    await deliver(beacon)
    await beacon.slack.person(CAROL).click(ActionId.ENDORSE, message=beacon.ws.messages(RECOGNITION)[0])
    await deliver(beacon)
    assert all("EDITED-WORDS" not in v for v in public_versions(beacon))
    assert "EDITED-WORDS" in json.dumps(consent_requests(beacon, ALICE)[-1].blocks)
    assert "asked again about the new words" in json.dumps(bob.dms()[-1].blocks)


async def test_an_unchanged_resubmission_asks_nobody_again(beacon: Beacon) -> None:
    await agreed_nomination(beacon)
    await edit(beacon, BOB, story=AGREED)
    await deliver(beacon)
    assert len(consent_requests(beacon, ALICE)) == 1
    [(nomination, [nominee])] = await nominations(beacon)
    assert nominee.consent == Consent.GIVEN and nomination.content_version == 1


async def test_a_forged_yes_to_another_version_counts_for_nothing(beacon: Beacon) -> None:
    bob, alice = beacon.slack.person(BOB), beacon.slack.person(ALICE)
    await nominate(bob, colleagues=[ALICE], story=AGREED)
    await deliver(beacon)
    request = copy.deepcopy(consent_requests(beacon, ALICE)[0])
    [(nomination, _)] = await nominations(beacon)
    for value in (f"{nomination.id}:2", f"{nomination.id}:0", f"{nomination.id}:x", f"{nomination.id}:99999999999"):
        forged = copy.deepcopy(request)
        for block in forged.blocks:
            for element in block.get("elements", []):
                if element.get("action_id") == ActionId.CONSENT_GIVE:
                    element["value"] = value
        await alice.click(ActionId.CONSENT_GIVE, message=forged)
        await deliver(beacon)
    assert public_versions(beacon) == []
    [(_, [nominee])] = await nominations(beacon)
    assert nominee.consent == Consent.PENDING


async def test_colleagues_not_on_slack_are_never_named_and_nobody_is_asked_in_vain(beacon: Beacon) -> None:
    bob, alice = beacon.slack.person(BOB), beacon.slack.person(ALICE)
    await nominate(bob, award="thanks", colleagues=[ALICE], not_on_slack="Sam Jones, Emergency Care Assistant")
    await deliver(beacon)
    assert consent_requests(beacon, ALICE) == [], "Alice is not asked about a post that can never be made"
    assert "not on Slack, so Beacon cannot ask" in json.dumps(bob.dms()[-1].blocks)
    [(_, nominees)] = await nominations(beacon)
    assert all(n.consent == Consent.NOT_ASKED for n in nominees)
    # Even a forged yes from Alice cannot publish it.
    told = alice.dms()[-1]
    forged = Message(channel=told.channel, ts=told.ts, user=told.user, text=told.text, blocks=[
        *told.blocks, {"type": "actions", "block_id": "consent", "elements": [
            {"type": "button", "action_id": ActionId.CONSENT_GIVE, "text": {"type": "plain_text", "text": "Yes"},
             "value": f"{nominees[0].nomination_id}:1"}]}])
    await alice.click(ActionId.CONSENT_GIVE, message=forged)
    await deliver(beacon)
    assert public_versions(beacon) == []
    assert "Sam Jones" not in "".join(public_versions(beacon))


async def test_a_paper_nomination_entered_by_comms_never_names_its_writer_publicly(beacon: Beacon) -> None:
    bob, alice = beacon.slack.person(BOB), beacon.slack.person(ALICE)  # Bob is in comms
    await nominate(bob, colleagues=[ALICE], story=AGREED, on_behalf="Pat Smith (paper form)")
    await deliver(beacon)
    await alice.click(ActionId.CONSENT_GIVE, message=consent_requests(beacon, ALICE)[-1])
    await deliver(beacon)
    [post] = public_versions(beacon)
    assert "Pat Smith" not in post and "U0BOB" not in post and "ORIGINAL-WORDS" in post


async def test_someone_who_never_answered_is_never_described_as_declining(beacon: Beacon) -> None:
    bob, alice = beacon.slack.person(BOB), beacon.slack.person(ALICE)
    await nominate(bob, award="thanks", colleagues=[ALICE, HEIDI], story=AGREED)
    await deliver(beacon)
    await alice.click(ActionId.CONSENT_GIVE, message=consent_requests(beacon, ALICE)[-1])
    beacon.clock.advance(timedelta(days=10))
    await deliver(beacon)
    for person in (bob, alice, beacon.slack.person(HEIDI)):
        await person.open_home()
    await settle()
    assert public_versions(beacon) == [], "silence is not a yes"
    recorded = everything_recorded(beacon).lower()
    for words in NEVER_SAY:
        assert words not in recorded, f"someone who has not answered is described with {words!r}"
    assert "waiting for their yes" in json.dumps(bob.home.blocks)  # type: ignore[union-attr]


async def _awards(beacon: Beacon, user: str, text: str) -> str:
    person = beacon.slack.person(user)
    await person.command("/awards", text)
    await settle()
    return person.last_ephemeral().text if person.ephemerals() else ""


async def test_a_winner_who_never_answered_is_not_named_nor_said_to_have_declined(beacon: Beacon) -> None:
    await _awards(beacon, DAVE, 'open "2027 Staff Awards" closes 2027-03-31')
    await nominate(beacon.slack.person(BOB), colleagues=[ALICE], values=["care"])
    await nominate(beacon.slack.person(CAROL), colleagues=[HEIDI], values=["quality"])
    await nominate(beacon.slack.person(ERIN), colleagues=[], not_on_slack="Sam Jones, Emergency Care Assistant",
                   values=["care"])
    await deliver(beacon)
    await _awards(beacon, DAVE, "close")
    async with beacon.deps.db.transaction() as session:
        for key in (ALICE, HEIDI, "name:sam jones"):
            await beacon.deps.panel_review.decide_candidate(session=session, user_id=DAVE, award="values", key=key,
                                                            winner=True)
    assert "3 winner(s)" in await _awards(beacon, DAVE, "decide")
    await deliver(beacon)
    alice = beacon.slack.person(ALICE)
    await alice.click(ActionId.WINNER_CONSENT_GIVE, message=alice.dms()[-1])
    await settle()  # Heidi never answers; Sam is not on Slack and cannot be asked

    told = await _awards(beacon, DAVE, "announce")
    assert "1 winner named" in told and "not yet answered: <@U0HEIDI>" in told, told
    assert "not on Slack" in told and "Sam Jones" in told
    await deliver(beacon)
    announcement = beacon.ws.messages(RECOGNITION)[-1]
    shown = announcement.text + json.dumps(announcement.blocks)
    assert "<@U0ALICE>" in shown and "<@U0HEIDI>" not in shown and "Sam Jones" not in shown
    assert "2 more winners, not named here" in shown
    recorded = everything_recorded(beacon).lower()
    for words in NEVER_SAY:
        assert words not in recorded, f"a winner who has not answered is described with {words!r}"


async def test_the_panel_export_says_not_yet_answered(beacon: Beacon) -> None:
    await _awards(beacon, DAVE, 'open "2027 Staff Awards" closes 2027-03-31')
    await nominate(beacon.slack.person(BOB), colleagues=[ALICE], values=["care"])
    await deliver(beacon)
    out = io.BytesIO()
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.panel_review.export_csv(session=session, user_id=DAVE, out=out)
    text = out.getvalue().decode("utf-8-sig")
    assert "U0ALICE: not yet answered" in text and "pending" not in text and "declin" not in text


async def test_the_agreed_words_survive_in_the_database_as_agreed(beacon: Beacon) -> None:
    await agreed_nomination(beacon)
    await edit(beacon, BOB, story=EDITED)
    async with beacon.deps.db.transaction() as session:
        nomination = (await session.scalars(select(Nomination))).one()
    assert nomination.content_version == 2 and nomination.consented_version == 1
    assert "ORIGINAL-WORDS" in nomination.consented_snapshot["story"]  # type: ignore[index]
    assert "EDITED-WORDS" in nomination.story


async def _migration_database(tmp_path: Path) -> tuple[str, Any]:
    """A database of its own (the shared test database is already at head): SQLite, or PostgreSQL when the
    suite runs there. Returns its URL and a function that drops it."""
    if not POSTGRES_URL:
        return f"sqlite+aiosqlite:///{tmp_path / 'migration.db'}", None
    url = make_url(POSTGRES_URL)
    name = f"{url.database}_0012"
    admin = create_async_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await connection.execute(text(f'CREATE DATABASE "{name}"'))

    async def drop() -> None:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False), drop


async def test_the_migration_snapshots_only_what_everyone_already_agreed_to(tmp_path: Path) -> None:
    url, drop = await _migration_database(tmp_path)
    try:
        await upgrade(url, "0011")
        engine = create_async_engine(url)
        now = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
        async with engine.begin() as connection:
            for id_, share in ((1, True), (2, True), (3, True), (4, False)):
                await connection.execute(text(
                    "INSERT INTO nomination (id, nominator_id, award, story, \"values\", behaviours, share_publicly, "
                    "hide_nominator, status, created_at, updated_at) VALUES (:id, 'U0BOB', 'thanks', :story, "
                    "'[\"care\"]', '[]', :share, false, 'active', :now, :now)"),
                    {"id": id_, "story": f"Story {id_} " + "x" * 60, "share": share, "now": now})
            people = [(1, "U0ALICE", None, "given"), (2, "U0ALICE", None, "given"), (2, "U0HEIDI", None, "pending"),
                      (3, "U0ALICE", None, "given"), (3, None, "Sam Jones", "not_asked"),
                      (4, "U0ALICE", None, "not_asked")]
            for nomination_id, user_id, name, consent in people:
                await connection.execute(text(
                    "INSERT INTO nominee (nomination_id, user_id, name, consent) VALUES (:n, :u, :name, :c)"),
                    {"n": nomination_id, "u": user_id, "name": name, "c": consent})
        await engine.dispose()
        await upgrade(url)
        db = Database(url)
        async with db.transaction() as session:
            rows = {n.id: n for n in (await session.scalars(select(Nomination))).all()}
            nominees = (await session.scalars(select(Nominee).order_by(Nominee.id))).all()
        await db.dispose()
        assert rows[1].consented_snapshot is not None and rows[1].consented_version == 1
        assert rows[1].consented_snapshot["story"].startswith("Story 1")
        assert rows[1].consented_snapshot["nominees"] == [
            {"user_id": "U0ALICE", "name": None, "role": None, "site": None}]
        assert rows[1].content_hash == rows[1].consented_hash == content_hash(rows[1].consented_snapshot)
        assert rows[2].consented_snapshot is None, "Heidi never answered, so nothing was agreed"
        assert rows[3].consented_snapshot is None, "Sam is not on Slack and could never agree"
        assert rows[4].consented_snapshot is None, "never meant to be public"
        assert all(n.content_version == 1 and n.content_hash for n in rows.values())
        assert [n.consented_version for n in nominees] == [1, None, None, None, None, None]
    finally:
        if drop is not None:
            await drop()


async def test_a_celebration_already_being_sent_when_she_says_no_is_blanked_as_soon_as_it_is_out(
        beacon: Beacon) -> None:
    bob, alice = beacon.slack.person(BOB), beacon.slack.person(ALICE)
    await nominate(bob, colleagues=[ALICE], story=AGREED)
    await deliver(beacon)
    await alice.click(ActionId.CONSENT_GIVE, message=consent_requests(beacon, ALICE)[-1])
    await settle()
    async with beacon.deps.db.transaction() as session:  # a replica claims the post, then stalls mid-send
        claimed = await outbox.claim(session=session, worker="stalled", now=beacon.clock.now(),
                                     lease=timedelta(seconds=60), limit=10)
    assert [r.source for r in claimed] == ["recognition_post"]
    await alice.click(ActionId.CONSENT_DECLINE, message=consent_requests(beacon, ALICE)[-1])
    await settle()
    beacon.clock.advance(timedelta(minutes=2))  # the stalled claim runs out and the send completes
    await deliver(beacon)
    await deliver(beacon)
    [post] = beacon.ws.messages(RECOGNITION)
    assert "ORIGINAL-WORDS" not in json.dumps(post.blocks) + post.text and ALICE not in post.text, (
        "the post that slipped out after her no no longer shows her or the words")
    assert "no longer shared" in post.text
    [(nomination, _)] = await nominations(beacon)
    assert nomination.public_ts is None, "an unagreed post is never taken as the celebration (no endorsing it)"


async def test_a_winning_team_with_someone_not_on_slack_is_told_but_never_asked_nor_named(beacon: Beacon) -> None:
    await _awards(beacon, DAVE, 'open "2027 Staff Awards" closes 2027-03-31')
    await nominate(beacon.slack.person(CAROL), colleagues=[HEIDI], not_on_slack="Sam Jones, Emergency Care Assistant",
                   values=["quality"])
    await deliver(beacon)
    await _awards(beacon, DAVE, "close")
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.panel_review.decide_candidate(session=session, user_id=DAVE, award="values",
                                                        key=f"{HEIDI}+name:sam jones", winner=True)
    await _awards(beacon, DAVE, "decide")
    await deliver(beacon)
    heidi = beacon.slack.person(HEIDI)
    told = heidi.dms()[-1]
    assert "chosen you as a winner" in told.text
    assert ActionId.WINNER_CONSENT_GIVE not in json.dumps(told.blocks), "she is not asked about what cannot happen"
    assert "Sam Jones" in await _awards(beacon, DAVE, "announce")
    await deliver(beacon)
    shown = beacon.ws.messages(RECOGNITION)[-1].text + json.dumps(beacon.ws.messages(RECOGNITION)[-1].blocks)
    assert "<@U0HEIDI>" not in shown and "Sam Jones" not in shown and "1 more winner, not named here" in shown


async def test_a_double_yes_or_a_replayed_yes_posts_once(beacon: Beacon) -> None:
    bob, alice = beacon.slack.person(BOB), beacon.slack.person(ALICE)
    await nominate(bob, colleagues=[ALICE], story=AGREED)
    await deliver(beacon)
    request = copy.deepcopy(consent_requests(beacon, ALICE)[-1])
    await alice.click(ActionId.CONSENT_GIVE, message=request)
    await alice.click(ActionId.CONSENT_GIVE, message=request)
    await deliver(beacon)
    await alice.click(ActionId.CONSENT_GIVE, message=request)
    await deliver(beacon)
    assert len(beacon.ws.messages(RECOGNITION)) == 1
    assert len([c for c in beacon.ws.calls_to("chat.postMessage") if c.args.get("channel") == RECOGNITION]) == 1


async def test_the_weekly_digest_names_only_those_who_agreed(beacon: Beacon) -> None:
    await agreed_nomination(beacon)
    await edit(beacon, BOB, colleagues=[ALICE, HEIDI], story=EDITED, values=["care", "teamwork"])
    await deliver(beacon)
    beacon.clock.set(datetime(2026, 11, 30, 8, 0, 20, tzinfo=UTC))  # the next Monday's digest
    assert await beacon.deps.digests.run_due(db=beacon.deps.db, worker="replica-a") is not None
    await deliver(beacon)
    [digest] = beacon.ws.messages(DIGEST)
    shown = digest.text + json.dumps(digest.blocks)
    assert "Alice Ambrose" in shown, "the agreed celebration is in the digest"
    assert "Heidi Hart" not in shown, "only the people who agreed"
    assert "*Alice Ambrose* (Delivering Excellence through Values): Care \\u00b7" in shown, "and only the agreed tags"


async def test_the_agreed_snapshot_is_exported_and_erased_with_the_person(beacon: Beacon) -> None:
    await agreed_nomination(beacon)
    async with beacon.deps.db.transaction() as session:
        document = await beacon.deps.privacy.export(session=session, user_id=ALICE, actor="cli:ig-officer")
    [received] = [row for key, rows in document.items() if isinstance(rows, list) for row in rows
                  if isinstance(row, dict) and "your_consent" in row]
    assert received["your_consent_to_version"] == 1 and "ORIGINAL-WORDS" in received["agreed_public_version"]
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.privacy.erase(session=session, user_id=ALICE, actor="cli:ig-officer")
    [(nomination, _)] = await nominations(beacon)
    agreed = json.dumps(nomination.consented_snapshot)
    assert ALICE not in agreed and "ORIGINAL-WORDS" not in agreed, "her ID and the story about her alone are gone"


async def test_a_nominator_who_asks_to_be_hidden_after_posting_is_hidden_at_once(beacon: Beacon) -> None:
    await agreed_nomination(beacon)
    assert BOB in beacon.ws.messages(RECOGNITION)[0].text
    await edit(beacon, BOB, story=AGREED, hide=True)
    await deliver(beacon)
    [post] = beacon.ws.messages(RECOGNITION)
    assert BOB not in post.text + json.dumps(post.blocks) and "ORIGINAL-WORDS" in json.dumps(post.blocks)
    assert "<@U0BOB>" not in json.dumps(consent_requests(beacon, ALICE)[-1].blocks), "nor in her new request"

"""A nomination form is acked once what was sent is stored, without waiting for the nomination's own writes, and
what was acked is never lost: a process that stops between the ack and the nomination leaves it to a worker, which
stores it once. A replay of the form stores nothing more."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select, text
from sqlmodel import col

from beacon.bot.blocks.nominations import NO_PATIENT_DETAILS, SHARE
from beacon.bot.blocks.notices import render
from beacon.bot.db import Database
from beacon.bot.ids import ActionId, BlockId, CallbackId
from beacon.bot.local_slack import LocalSlack
from beacon.bot.local_slack.server import Reply
from beacon.bot.models import Nomination, OutboxMessage, WorkItem, WorkStatus
from beacon.bot.services import work_queue
from beacon.bot.services.nomination_intake import accepted_params
from beacon.bot.services.nominations import NominationDraft, NomineeInput
from beacon.bot.services.work_queue import WorkKind
from beacon.handlers.nominations import intake_for
from tests.harness import ALICE, BOB, DAVE, Beacon, settle
from tests.nominating import STORY, choose_award, fill_and_send, nominations, open_modal
from tests.processes import beacon_process, eventually, free_port, slack_env, wait_healthy
from tests.test_request_forgery import FORM, post, sign

ENTRIES: dict[str, Any] = {BlockId.NOMINATE_STORY: STORY, BlockId.NOMINATE_VALUES: ["care"],
                           BlockId.NOMINATE_COLLEAGUES: [ALICE], BlockId.NOMINATE_OPTIONS: [SHARE],
                           BlockId.NOMINATE_NO_PATIENT_DETAILS: [NO_PATIENT_DETAILS]}


async def _forms(db: Database) -> list[WorkItem]:
    async with db.transaction() as session:
        return list((await session.scalars(select(WorkItem).where(
            WorkItem.kind == WorkKind.NOMINATION_SUBMIT).order_by(WorkItem.id))).all())


async def test_the_ack_does_not_wait_behind_other_requests_work(beacon: Beacon) -> None:
    """Twenty requests' work queued on the database (SQLite: this process's queue of transactions; PostgreSQL:
    the nomination table locked by a long report) does not hold up the form's ack; the nomination follows."""
    bob = beacon.slack.person(BOB)
    await open_modal(bob)
    await choose_award(bob, "values")
    db = beacon.deps.db
    locked = asyncio.Event()

    async def work(seconds: float) -> None:
        async with db.transaction() as session:
            if not db.is_sqlite:
                await session.execute(text("LOCK TABLE nomination IN SHARE MODE"))
            locked.set()
            await asyncio.sleep(seconds)

    # SQLite: three seconds of work, one transaction at a time; PostgreSQL: one long report.
    busy = [asyncio.create_task(work(0.15)) for _ in range(20)] if db.is_sqlite else [asyncio.create_task(work(3))]
    await locked.wait()
    started = time.monotonic()
    reply = await bob.submit(ENTRIES)
    acked_in = time.monotonic() - started
    assert reply.status == 200 and reply.json == {}
    assert acked_in < 1.0, f"acked in {acked_in:.2f} s, behind the other work"
    await asyncio.gather(*busy)
    await settle()
    [(nomination, nominees)] = await nominations(beacon)
    assert nomination.nominator_id == BOB and [n.user_id for n in nominees] == [ALICE]
    [form] = await _forms(db)
    assert (form.status, form.params, form.requested_by) == (WorkStatus.DONE, {}, None), \
        "the row keeps nothing of the form once it is a nomination"


async def test_a_form_with_a_problem_is_still_answered_in_its_ack_and_nothing_is_stored(beacon: Beacon) -> None:
    bob = beacon.slack.person(BOB)
    await open_modal(bob)
    await choose_award(bob, "values")
    reply = await fill_and_send(bob, colleagues=[ALICE], story="Too short.")
    assert reply.json["response_action"] == "errors"
    assert BlockId.NOMINATE_STORY in reply.json["errors"]
    assert await nominations(beacon) == [] and await _forms(beacon.deps.db) == []


async def _signed_form(slack: LocalSlack, person: Any) -> bytes:
    """The form a person's send would post, captured unsent (the test sends it, as often as it likes)."""
    seen: dict[str, bytes] = {}

    async def record(kind: str, payload: dict[str, Any], *, retry_num: int = 0) -> Reply:
        seen["body"] = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        return Reply(status=200, body={}, latency_ms=0.0)

    deliver = slack._deliver
    slack._deliver = record  # type: ignore[method-assign]
    try:
        await person.submit(ENTRIES)
    finally:
        slack._deliver = deliver  # type: ignore[method-assign]
    return seen["body"]


async def test_a_replayed_form_stores_one_nomination(beacon: Beacon) -> None:
    bob = beacon.slack.person(BOB)
    await open_modal(bob)
    await choose_award(bob, "values")
    body = await _signed_form(beacon.slack, bob)
    headers = [*FORM.items(), *sign(beacon.ws.signing_secret, body).items()]
    url = beacon.slack.app_url or ""
    together = await asyncio.gather(*(post(url, body, headers) for _ in range(3)))  # in one batch
    await settle()
    later = await post(url, body, headers)
    await settle()
    assert [status for status, _ in [*together, later]] == [200] * 4
    assert len(await nominations(beacon)) == 1, "stored once"
    assert len(await _forms(beacon.deps.db)) == 1


def _config(path: Path) -> Path:
    path.write_text(yaml.safe_dump({
        "channels": {"recognition": "C0RECOG", "engagement": "C0ENGAGE", "forum": "C0FORUM", "admin": "C0ADMIN"},
        "roles": {"comms": ["U0GRACE"], "admins": ["U0FRANK"], "panel": [DAVE]},
        "delivery": {"posts_per_minute": 1200, "per_channel_seconds": 0, "lease_seconds": 1}}))
    return path


async def _stored(database_url: str) -> tuple[list[Nomination], list[WorkItem], list[OutboxMessage]]:
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            found = list((await session.scalars(select(Nomination))).all())
            receipts = list((await session.scalars(select(OutboxMessage).where(
                col(OutboxMessage.dedupe_key).startswith("notice:nomination-receipt:")))).all())
        return found, await _forms(db), receipts
    finally:
        await db.dispose()


async def test_a_form_acked_just_before_a_crash_is_stored_once_by_a_worker(slack: LocalSlack, tmp_path: Path,
                                                                           database_url: str) -> None:
    env = slack_env(slack, _config(tmp_path / "beacon.yaml"), database_url) | {
        "LOG_LEVEL": "WARNING", "BEACON_WORKERS": "0", "BEACON_WORK_IN_FLIGHT": "1"}
    port = free_port()
    bob, dave = slack.person(BOB), slack.person(DAVE)
    async with beacon_process("serve", "--port", str(port), env=env, cwd=tmp_path) as serve:
        await wait_healthy(port)
        slack.app_url = f"http://127.0.0.1:{port}/slack/events"
        await bob.command("/nominate")
        await eventually(lambda: bob.modal is not None and bob.modal.callback_id == CallbackId.NOMINATE)
        await bob.click(ActionId.NOMINATE_AWARD, value="values")
        await eventually(lambda: slack.workspace.calls_to("views.update"))
        slack.faults.add("views.open", delay_after=60)  # Dave's /nominate holds the one place for work after acks
        await dave.command("/nominate")
        await eventually(lambda: slack.workspace.calls_to("views.open")[1:])
        reply = await bob.submit(ENTRIES)
        assert reply.status == 200 and reply.json == {}, "Bob is told his nomination is in"
        stored, [form], _ = await _stored(database_url)
        assert stored == [] and form.status == WorkStatus.RUNNING, "acked, not yet a nomination"
        serve.kill()  # SIGKILL before the work after Bob's ack could run
        await serve.wait()
    slack.faults.clear()
    async with beacon_process("worker", env=env, cwd=tmp_path):
        await eventually(lambda: _has_nomination(database_url), seconds=30)
        await asyncio.sleep(1.5)  # long enough for a second copy, were one to be made
    stored, [form], receipts = await _stored(database_url)
    assert [(n.nominator_id, n.story) for n in stored] == [(BOB, STORY)], "stored exactly once"
    assert (form.status, form.params) == (WorkStatus.DONE, {})
    assert len(receipts) == 1, "Bob's receipt is on its way, once"


async def _has_nomination(database_url: str) -> bool:
    stored, _, _ = await _stored(database_url)
    return bool(stored)


def _draft(story: str = STORY) -> NominationDraft:
    return NominationDraft(nominees=(NomineeInput(user_id=ALICE),), award="values", values=("care",), behaviours=(),
                           story=story, share_publicly=True, hide_nominator=False, no_patient_details=True)


async def test_a_form_that_fails_for_good_gives_its_words_back_and_keeps_none(beacon: Beacon) -> None:
    """A database that keeps failing the nomination's writes: after the last attempt the form's row keeps nothing
    of what was written, and the nominator gets their words back with the failure, to send again."""
    story = STORY + " She stayed <!channel> & *calm*."
    async with beacon.deps.db.transaction() as session:
        await work_queue.enqueue(session=session, kind=WorkKind.NOMINATION_SUBMIT, requested_by=BOB,
                                 params=accepted_params(BOB, _draft(story), None), now=beacon.clock.now())
    async with beacon.deps.db.transaction() as session:
        item = await work_queue.claim(session=session, worker="w1", now=beacon.clock.now(),
                                      lease=timedelta(seconds=60))
        assert item is not None
        item.attempts = 3
        assert await work_queue.mark_failed(session=session, item=item, worker="w1", now=beacon.clock.now(),
                                            error="OperationalError: the database system is shutting down")
    [row] = await _forms(beacon.deps.db)
    assert row.status == WorkStatus.FAILED and row.params == {}, "nothing of the form is kept once it failed"
    async with beacon.deps.db.transaction() as session:
        [notice] = (await session.scalars(select(OutboxMessage).where(OutboxMessage.channel == BOB))).all()
    text, blocks = render(notice.content)
    shown = json.dumps(blocks)
    assert "could not finish storing the nomination you sent" in text
    assert "Here is what you wrote, to send again" in shown and "She stayed &lt;!channel&gt; &amp; *calm*." in shown


async def test_erasure_drops_a_form_about_the_person_still_on_its_way(beacon: Beacon) -> None:
    """Alice is erased while a form naming her is between its ack and its nomination: nothing of her comes back a
    moment later, neither by the process finishing it nor by a worker taking it over."""
    intake = intake_for(beacon.deps)
    held = await intake.accept(nominator=BOB, draft=_draft())  # acked, held by this process
    queued = await intake.accept(nominator=DAVE, draft=_draft())
    assert held is not None and queued is not None
    async with beacon.deps.db.transaction() as session:
        report = await beacon.deps.privacy.erase(session=session, user_id=ALICE, actor="cli:ig-officer")
    assert report.changed["nomination forms by or about them not yet stored, dropped"] == 2
    assert await intake.finish(held, owner=intake.owner) is None, "no longer this process's to store"
    beacon.clock.advance(timedelta(minutes=10))  # the other's lease lapses: a worker looks for work
    await beacon.runtime.run_queued_work()
    assert await nominations(beacon) == []
    forms = await _forms(beacon.deps.db)
    assert [(f.status, f.params, f.requested_by) for f in forms] == [(WorkStatus.FAILED, {}, None)] * 2
    async with beacon.deps.db.transaction() as session:
        raw = " ".join(str(r) for r in (await session.execute(text("SELECT * FROM work_item"))).all())
    assert ALICE not in raw and "Alice" not in raw and STORY[:30] not in raw

"""Round trips a nomination form costs before its ack, under a crowd the largest part of its time: SQL statements
and Slack calls, counted, so that one added by accident shows."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any

import pytest
from sqlalchemy import event

from beacon.bot.blocks.nominations import NO_PATIENT_DETAILS, SHARE
from beacon.bot.http_server import AFTER_ACK_KEY
from beacon.bot.ids import BlockId
from beacon.bot.local_slack import LocalSlack
from beacon.bot.settings import Settings as BeaconSettings
from tests.harness import ALICE, ERIN, Beacon, BeaconServer, settings_for, settle
from tests.nominating import STORY, choose_award, fill_and_send, nominations, open_modal


@pytest.fixture
def settings(slack: LocalSlack, database_url: str) -> BeaconSettings:
    # The Home refresh a form asks for waits a second, so what the form itself runs can be counted alone.
    return settings_for(slack, database_url, beacon_home_refresh_seconds=1)


async def test_a_nomination_form_runs_few_statements_before_its_ack(server: BeaconServer, beacon: Beacon) -> None:
    alice, erin = beacon.slack.person(ALICE), beacon.slack.person(ERIN)
    await open_modal(alice)  # the first /nominate and form: every cache warm
    await choose_award(alice, "values")
    await fill_and_send(alice, colleagues=[ERIN])
    await settle()

    calls_before = len(beacon.ws.calls)
    await open_modal(erin)
    await choose_award(erin, "values")
    assert [c.method for c in beacon.ws.calls[calls_before:]] == ["views.open", "views.update"], \
        "a /nominate asks Slack nothing but to show the modal (role membership is cached)"

    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()[:3]))

    engine = beacon.deps.db.engine.sync_engine
    assert server._runner is not None
    after_ack = server._runner.app[AFTER_ACK_KEY]
    async with AsyncExitStack() as every_place:  # the work after the ack waits: what is counted came before it
        for _ in range(after_ack.most):
            await every_place.enter_async_context(after_ack.slot())
        event.listen(engine, "before_cursor_execute", count)
        try:
            reply = await erin.submit({BlockId.NOMINATE_STORY: STORY, BlockId.NOMINATE_VALUES: ["care"],
                                       BlockId.NOMINATE_COLLEAGUES: [ALICE], BlockId.NOMINATE_OPTIONS: [SHARE],
                                       BlockId.NOMINATE_NO_PATIENT_DETAILS: [NO_PATIENT_DETAILS]})
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert reply.status == 200 and reply.json == {}
    # Before its ack, the form is stored as one row (bot/services/nomination_intake.py), beside the replay check's
    # insert; the nomination itself is stored after the ack.
    assert statements == ["INSERT INTO slack_request_seen", "INSERT INTO work_item"] or \
        statements == ["INSERT INTO work_item", "INSERT INTO slack_request_seen"], statements

    statements.clear()
    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(100):  # the nomination stored (the Home refresh it asks for waits a second more)
            if "INSERT INTO outbox_message" in statements:
                break
            await asyncio.sleep(0.01)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # After it: the row taken, the open round, an earlier copy of the same nomination, then the three inserts:
    # nomination (with its content version), nominee, outbox. Nothing updated after insert but the row; a
    # nomination outside a round has no panel totals to refresh.
    assert len(statements) <= 7, statements
    assert [s for s in statements if s.startswith("UPDATE")] == ["UPDATE work_item SET"], statements
    assert not any("review_nomination" in s for s in statements), statements
    await settle()
    assert len(await nominations(beacon)) == 2
    assert erin.home is not None, "the Home is refreshed after the form"

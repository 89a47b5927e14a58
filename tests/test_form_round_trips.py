"""Round trips a nomination form costs before its ack, under a crowd the largest part of its time: SQL statements
and Slack calls, counted, so that one added by accident shows."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from beacon.bot.blocks.nominations import NO_PATIENT_DETAILS, SHARE
from beacon.bot.ids import BlockId
from beacon.bot.local_slack import LocalSlack
from beacon.bot.settings import Settings as BeaconSettings
from tests.harness import ALICE, ERIN, Beacon, settings_for, settle
from tests.nominating import STORY, choose_award, fill_and_send, open_modal


@pytest.fixture
def settings(slack: LocalSlack, database_url: str) -> BeaconSettings:
    # The Home refresh a form asks for waits a second, so what the form itself runs can be counted alone.
    return settings_for(slack, database_url, beacon_home_refresh_seconds=1)


async def test_a_nomination_form_runs_few_statements_before_its_ack(beacon: Beacon) -> None:
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
    event.listen(engine, "before_cursor_execute", count)
    try:
        reply = await erin.submit({BlockId.NOMINATE_STORY: STORY, BlockId.NOMINATE_VALUES: ["care"],
                                   BlockId.NOMINATE_COLLEAGUES: [ALICE], BlockId.NOMINATE_OPTIONS: [SHARE],
                                   BlockId.NOMINATE_NO_PATIENT_DETAILS: [NO_PATIENT_DETAILS]})
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert reply.status == 200
    # The replay check's insert, the open round, an earlier copy of the same nomination, then the three inserts:
    # nomination (with its content version), nominee, outbox. Nothing updated after insert; a nomination outside
    # a round has no panel totals to refresh.
    assert len(statements) <= 6, statements
    assert not any(s.startswith("UPDATE") for s in statements), statements
    assert not any("review_nomination" in s for s in statements), statements
    await settle()
    assert erin.home is not None, "the Home is refreshed after the form"

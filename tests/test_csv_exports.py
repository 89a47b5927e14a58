"""CSV exports, tried as a colleague who types a formula where a name, a story or an answer goes, hoping that a
panel member or moderator opens the export in a spreadsheet: every cell of every export comes out inert."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from beacon.bot.blocks.pulses import slot_blocks
from beacon.bot.csv_export import FORMULA_STARTS, safe_cell, write_csv
from beacon.bot.ids import ActionId, BlockId
from beacon.bot.models import Pulse
from beacon.bot.organisation import Organisation
from tests.harness import ALICE, BOB, CAROL, DAVE, ERIN, FORUM, Beacon, organisation_for, settle
from tests.nominating import deliver, nominate

ATTACKS = ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(1)", "\t=1", " =1", "\r=1", "  \t@cmd|' /C calc'!A0",
           "=1+1\n", "\u00a0=1"]


def inert(cell: str) -> bool:
    """What a spreadsheet will not run: starts with the guard's quote, or starts, even after whitespace, with
    nothing that begins a formula."""
    return cell.startswith("'") or (cell[:1] not in FORMULA_STARTS
                                    and cell.lstrip(" \t\r\n\v\f\u00a0")[:1] not in FORMULA_STARTS)


def parse(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_every_attack_comes_out_inert_and_keeps_its_text() -> None:
    data = write_csv(ATTACKS, [ATTACKS, [[a, "x"] for a in ATTACKS], [None, 3, -4.5, True, ""]])
    rows = parse(data)
    assert all(inert(cell) for row in rows for cell in row), rows
    assert rows[0] == ["'" + a for a in ATTACKS], "headers are guarded too, and nothing is lost but a quote"
    assert rows[2][0] == "'=HYPERLINK(\"http://x\"); x"
    assert rows[3] == ["", "3", "'-4.5", "True", ""]
    assert safe_cell("Good shift") == "Good shift" and safe_cell("a=b") == "a=b"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.text(alphabet=st.sampled_from(list("=+-@\t\r\n \u00a0aZ1|!;,\"'")), max_size=12),
                         min_size=1, max_size=5), min_size=1, max_size=5))
def test_no_text_at_all_makes_a_cell_that_computes(rows: list[list[str]]) -> None:
    parsed = parse(write_csv(rows[0], rows[1:]))
    assert len(parsed) == len(rows)
    assert all(inert(cell) for row in parsed for cell in row)


@pytest.fixture
def organisation(slack) -> Organisation:  # type: ignore[no-untyped-def]
    return organisation_for(slack.workspace, roles={"panel": [DAVE], "comms": [BOB], "forum_moderators": [ERIN]},
                            pulse={"reporting_minimum": 3},
                            sites=[{"name": "Bedford Ambulance Station", "area": "Bedfordshire"}])


def _export(beacon: Beacon, user: str) -> list[list[str]]:
    [message] = [m for m in beacon.slack.person(user).dms() if m.files][-1:]
    return parse(beacon.ws.files[message.files[0]["id"]].content)  # type: ignore[arg-type]


async def test_the_award_round_export_is_inert_in_every_column(beacon: Beacon) -> None:
    dave = beacon.slack.person(DAVE)
    await dave.command("/awards", 'open "2027 Staff Awards" closes 2027-03-31')
    await settle()
    # Names, roles and sites of colleagues not on Slack, the paper nominator's name and the story are all typed
    # by whoever nominates; consent is shown beside each name.
    await nominate(beacon.slack.person(BOB), colleagues=[], on_behalf="@SUM(1)",
                   not_on_slack='=HYPERLINK("http://x")\n+1, -2+3, @SUM(1)\n-cmd, =1, +1',
                   story='=HYPERLINK("http://x") ' + "She stayed late to help. " * 10)
    await nominate(beacon.slack.person(CAROL), colleagues=[ALICE], story="-2+3 " + "Calm under pressure. " * 10)
    await deliver(beacon)
    await dave.command("/awards", "close")
    await settle()
    async with beacon.deps.db.transaction() as session:
        page = await beacon.deps.panel_review.review(session=session, user_id=DAVE, award="values")
        for candidate in page.candidates:
            await beacon.deps.panel_review.score(session=session, user_id=DAVE, score=3, level=None,
                                                 nomination_id=candidate.nomination_ids[0], note="@SUM(1) -2+3")
    await dave.command("/awards", "export")
    await settle()
    rows = _export(beacon, DAVE)
    assert len(rows) == 3, rows
    assert [c for row in rows for c in row if not inert(c)] == []
    cells = {c for row in rows[1:] for c in row}
    assert "'@SUM(1)" in cells and "'=HYPERLINK(\"http://x\"); +1, -2+3, @SUM(1); -cmd, =1, +1" in cells
    assert any(c.startswith("'=HYPERLINK(\"http://x\"): ") for c in cells), "the consent column is guarded"
    assert any(c.startswith("'-2+3 Calm") for c in cells) and any(c.startswith(f"{DAVE}: @SUM(1)") for c in cells)


async def test_the_pulse_export_is_inert_in_every_column(beacon: Beacon) -> None:
    erin = beacon.slack.person(ERIN)
    await erin.command("/pulse", channel=FORUM)
    await settle()
    await erin.click(ActionId.PULSE_ADD_QUESTION)
    await settle()
    values = {BlockId.PULSE_TITLE: "Shift check", BlockId.PULSE_SETTINGS: [],
              BlockId.PULSE_CLOSES_DAY: "2026-11-30", BlockId.PULSE_CLOSES_TIME: "17:00"}
    for slot, question in ((1, '=HYPERLINK("http://x")'), (2, "+1 what else?")):
        kind, text, options = slot_blocks(slot)
        values |= {kind: "text", text: question, options: ""}
    assert (await erin.submit(values)).json == {}
    await beacon.deps.dispatcher.run_once()
    await settle()
    async with beacon.deps.db.transaction() as session:
        pulse = (await session.scalars(select(Pulse).order_by(Pulse.id.desc()))).first()
    assert pulse is not None and not pulse.anonymous
    message = next(m for m in beacon.ws.messages(FORUM) if m.blocks and m.blocks[0]["type"] == "header")
    for user, answers in ((ALICE, ("@SUM(1)", "-2+3")), (BOB, ("\t=1", " =1")), (CAROL, ("\r=1", "+1"))):
        person = beacon.slack.person(user)
        await person.click(ActionId.PULSE_ANSWER, message=message)
        await settle()
        await person.submit({"answer_q1": answers[0], "answer_q2": answers[1]})
        await settle()
    await erin.command("/pulse", f"export {pulse.id}", channel=FORUM)
    await settle()
    rows = _export(beacon, ERIN)
    assert rows[0] == ["person", "area", "'=HYPERLINK(\"http://x\")", "'+1 what else?"]
    assert len(rows) == 4, rows
    assert [c for row in rows for c in row if not inert(c)] == []
    assert {c for row in rows[1:] for c in row[2:]} >= {"'@SUM(1)", "'-2+3", "'+1"}

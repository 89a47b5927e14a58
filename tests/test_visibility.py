"""The visibility report (issue 18, "Visibility you can show the board"): `/calendar report` through signed requests,
its chart and CSV by DM, the App Home section, and `beacon report visibility` as a process."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import delete, event
from sqlmodel import col

from beacon.bot.local_slack import LocalSlack
from beacon.bot.models import Engagement, EngagementAttendee, EngagementQuestion, EngagementStatus
from beacon.bot.organisation import Organisation
from beacon.bot.services import visibility
from beacon.bot.services.visibility import period_named
from tests.harness import ALICE, CAROL, CHELMSFORD, FRANK, GRACE, Beacon, organisation_for, settle
from tests.processes import run_beacon, slack_env

SITES = [{"name": "Chelmsford Ambulance Station", "area": "Essex", "channel": CHELMSFORD},
         {"name": "Colchester Ambulance Station", "area": "Essex"},
         {"name": "Bedford Ambulance Station", "area": "Bedfordshire"},
         {"name": "Luton Ambulance Station", "area": "Bedfordshire"},
         {"name": "Chelmsford EOC", "area": "Essex"}]
NOVEMBER = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def organisation(slack: LocalSlack) -> Organisation:
    return organisation_for(slack.workspace, sites=SITES, staff_groups=[
        {"name": "Control room", "aliases": ["EOC"]}, {"name": "NHS 111"}])


def _engagement(n: int, *, leader: str, site: str | None, starts: datetime, hours: float = 1.5,
                status: str = EngagementStatus.SCHEDULED, source: str = "ics:ops", mode: str = "in_person",
                group: str | None = None) -> Engagement:
    return Engagement(source_key=source, external_id=f"e{n}", occurrence="", title=f"Visit {n}", leader=leader,
                      site=site, location=site, starts_at=starts, ends_at=starts + timedelta(hours=hours),
                      mode=mode, staff_group=group,
                      status=status, first_seen_at=starts - timedelta(days=7), updated_at=starts - timedelta(days=7))


async def _a_month_of_visits(beacon: Beacon) -> None:
    async with beacon.deps.db.transaction() as session:
        session.add_all([
            _engagement(1, leader="Carol Chen", site="Chelmsford Ambulance Station",
                        starts=NOVEMBER + timedelta(days=2)),
            _engagement(2, leader="Carol Chen", site="Bedford Ambulance Station", starts=NOVEMBER + timedelta(days=9)),
            _engagement(3, leader="Omar Shah", site="Chelmsford Ambulance Station",
                        starts=NOVEMBER + timedelta(days=15)),
            _engagement(4, leader="Omar Shah", site=None, starts=NOVEMBER + timedelta(days=16)),  # a meeting room
            _engagement(5, leader="Omar Shah", site="Luton Ambulance Station", starts=NOVEMBER + timedelta(days=18),
                        status=EngagementStatus.CANCELLED),  # cancelled: Luton was not visited
            _engagement(6, leader="Carol Chen", site="Colchester Ambulance Station",
                        starts=datetime(2026, 12, 2, 10, tzinfo=UTC)),  # December: outside November
            _engagement(7, leader="Carol Chen", site="Luton Ambulance Station",
                        starts=datetime(2026, 3, 4, 10, tzinfo=UTC)),  # last spring: Luton's last visit
        ])


async def test_an_executive_sees_where_leaders_have_been_and_where_nobody_went(beacon: Beacon) -> None:
    await _a_month_of_visits(beacon)
    carol = beacon.slack.person(CAROL)
    await carol.command("/calendar", "report 2026-11-01 2026-11-30")
    await settle()
    [answer] = [e for e in carol.ephemerals() if e.text.startswith("Leader visibility")]
    text = "\n".join(block.get("text", {}).get("text", "") for block in answer.blocks or [])
    assert "4 engagements held and 0 planned; 2 of 5 sites visited." in text
    assert "Not visited by a leader in this period (3)" in text
    # Longest without a leader first: never visited, then Luton (last there in March; November's was cancelled).
    assert text.index("*Chelmsford EOC* (Essex): no leader visit on record") \
        < text.index("*Luton Ambulance Station* (Bedfordshire): last visit 4 Mar 2026")
    assert "*Colchester Ambulance Station* (Essex): no leader visit on record" in text, \
        "a visit still to come in December does not count for November"
    assert "• Essex: 2 held · 1 of 3 sites visited" in text
    assert "• Bedfordshire: 1 held · 1 of 2 sites visited" in text
    assert "• Omar Shah: 2 held · 1 site" in text and "• Carol Chen: 2 held · 2 sites" in text
    assert "1 engagements were at no listed site or staff group" in str(answer.blocks)


async def test_the_chart_and_csv_arrive_by_direct_message(beacon: Beacon) -> None:
    await _a_month_of_visits(beacon)
    grace = beacon.slack.person(GRACE)  # comms
    await grace.command("/calendar", "report last month")
    await settle()
    await beacon.runtime.run_queued_work()
    files = [beacon.ws.files[f["id"]] for m in grace.dms() for f in m.files or []]
    assert sorted(f.filename for f in files) == ["leader-visibility-2026-10-01-2026-10-31.csv",
                                                 "leader-visibility-2026-10-01-2026-10-31.png"]
    # "last month" on 23 November is October: nothing held, every site unvisited, all in the CSV.
    table = next(f for f in files if f.filename.endswith(".csv"))
    rows = list(csv.DictReader(io.StringIO((table.content or b"").decode())))
    assert sorted(r["name"] for r in rows if r["section"] == "not_visited") == sorted(s["name"] for s in SITES)
    chart = next(f for f in files if f.filename.endswith(".png"))
    image = Image.open(io.BytesIO(chart.content or b""))
    assert image.format == "PNG" and image.width == 900
    assert "Leader visibility, October 2026" in chart.title, "the chart's title says what it shows"


async def test_staff_without_a_reporting_role_are_refused_and_bad_periods_say_what_to_type(beacon: Beacon) -> None:
    alice = beacon.slack.person(ALICE)
    await alice.command("/calendar", "report")
    await settle()
    refusal = "Sorry, seeing the leader visibility report needs the *executive*"
    assert any(e.text.startswith(refusal) for e in alice.ephemerals())
    assert not [f for m in alice.dms() for f in m.files or []]
    frank = beacon.slack.person(FRANK)  # an administrator
    for wrong, says in [("fortnight", "Say which period: `month`, `last month`"),
                        ("2026-11-30 2026-11-01", "ends before it starts"),
                        ("2026-02-30 2026-03-01", "is not a day in the calendar"),
                        ("2025-01-01 2026-11-30", "at most 366 days")]:
        await frank.command("/calendar", f"report {wrong}")
        await settle()
        assert says in frank.ephemerals()[-1].text, wrong


async def test_attendance_and_questions_are_shown_only_from_the_reporting_minimum(beacon: Beacon) -> None:
    await _a_month_of_visits(beacon)
    minimum = beacon.deps.organisation.pulse.reporting_minimum
    async with beacon.deps.db.transaction() as session:
        first = await session.get(Engagement, 1)
        assert first is not None
        session.add_all([EngagementAttendee(engagement_id=first.id or 0, user_id=f"U{n:08d}", created_at=NOVEMBER)
                         for n in range(minimum - 1)])
    period = period_named("2026-11-01 2026-11-30", today=date(2026, 12, 1))
    report = await _report(beacon, period)
    assert report.attending is None, "fewer than the minimum: not shown"
    async with beacon.deps.db.transaction() as session:
        session.add(EngagementAttendee(engagement_id=1, user_id="U99999999", created_at=NOVEMBER))
    assert (await _report(beacon, period)).attending == minimum


async def test_the_report_reads_a_fixed_number_of_statements_whatever_the_year_holds(beacon: Beacon) -> None:
    period = period_named("year", today=date(2026, 11, 30))
    counts = []
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    for size in (10, 400):
        async with beacon.deps.db.transaction() as session:
            session.add_all([_engagement(1000 * size + n, leader=f"Leader {n % 13}",
                                         site=SITES[n % len(SITES)]["name"] if n % 7 else None,
                                         starts=datetime(2026, 4, 2, 8, tzinfo=UTC) + timedelta(hours=13 * n))
                             for n in range(size)])
        statements.clear()
        engine = beacon.deps.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            report = await _report(beacon, period)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts.append(len([s for s in statements if s.lstrip().upper().startswith("SELECT")]))
        assert report.held + report.planned > 0
    assert counts[0] == counts[1] == 4


async def test_periods_follow_the_trust_clock_across_daylight_saving(beacon: Beacon) -> None:
    """A visit at 00:30 on 1 November (GMT) is November's; one at 23:30 BST on 31 October (22:30 UTC) is October's."""
    async with beacon.deps.db.transaction() as session:
        session.add_all([
            _engagement(1, leader="Carol Chen", site="Bedford Ambulance Station",
                        starts=datetime(2026, 10, 31, 22, 30, tzinfo=UTC)),  # 22:30 GMT on 31 October
            _engagement(2, leader="Carol Chen", site="Luton Ambulance Station",
                        starts=datetime(2026, 10, 31, 0, 30, tzinfo=UTC) - timedelta(hours=1)),  # 00:30 BST, 31 Oct
        ])
    october = await _report(beacon, period_named("2026-10-01 2026-10-31", today=date(2026, 11, 23)))
    november = await _report(beacon, period_named("2026-11-01 2026-11-30", today=date(2026, 12, 1)))
    assert {t.name for t in october.by_site} == {"Bedford Ambulance Station", "Luton Ambulance Station"}
    assert november.by_site == []
    assert period_named("quarter", today=date(2027, 2, 10)).label == "Q4 2026/27 so far"


async def test_the_app_home_shows_reporting_roles_the_month_and_nobody_else(beacon: Beacon) -> None:
    await _a_month_of_visits(beacon)
    carol, alice = beacon.slack.person(CAROL), beacon.slack.person(ALICE)
    for person in (carol, alice):
        await person.open_home()
    await settle()
    assert "Leader visibility, November 2026 so far" in str(carol.home)
    assert "Not visited yet:" in str(carol.home)
    assert "Leader visibility" not in str(alice.home)


async def _report(beacon: Beacon, period: visibility.Period) -> visibility.VisibilityReport:
    async with beacon.deps.db.transaction() as session:
        return await visibility.build_report(session=session, organisation=beacon.deps.organisation, period=period,
                                             now=beacon.clock.now())


async def test_beacon_report_visibility_prints_the_report_and_refuses_bad_days_in_one_line(
        slack: LocalSlack, tmp_path: Path, database_url: str) -> None:
    config = tmp_path / "beacon.yaml"
    config.write_text("\n".join([
        "name: Test Trust", "timezone: Europe/London",
        "channels: {recognition: C0RECOG, engagement: C0ENGAGE, forum: C0FORUM, admin: C0ADMIN, digest: [C0DIGEST]}",
        "roles: {executives: [U0CAROL]}",
        "sites:", *[f"  - {{name: {s['name']}, area: {s['area']}}}" for s in SITES]]) + "\n")
    env = slack_env(slack, config, database_url)

    async def beacon_says(*args: str) -> tuple[int, str, str]:
        return await run_beacon(*args, env=env, cwd=tmp_path)

    code, out, err = await beacon_says("db", "upgrade")
    assert code == 0, err
    chart = tmp_path / "chart.png"
    code, out, err = await beacon_says("report", "visibility", "--from", "2026-11-01", "--to", "2026-11-30",
                                       "--png", str(chart))
    assert code == 0, err
    assert "Leader visibility: 1 Nov 2026 to 30 Nov 2026" in out
    assert "Not visited by a leader in this period (5):" in out
    assert Image.open(chart).format == "PNG"
    code, out, err = await beacon_says("report", "visibility", "--csv", "--period", "last quarter")
    assert code == 0 and out.startswith("section,name,area_or_detail,held,planned,last_visit"), err
    code, out, err = await beacon_says("report", "visibility", "--from", "2026-11-30", "--to", "2026-11-01")
    assert (code, out) == (2, "")
    assert err.strip() == ("beacon report visibility: The period ends before it starts: give the earlier day first.")
    code, _, err = await beacon_says("report", "visibility", "--from", "2026-11-31")
    assert code == 2 and "Traceback" not in err and "not a day such as 2026-11-23" in err


async def test_questions_answered_and_the_median_wait_are_counted_from_the_minimum(beacon: Beacon) -> None:
    await _a_month_of_visits(beacon)
    minimum = beacon.deps.organisation.pulse.reporting_minimum
    asked = NOVEMBER + timedelta(days=1)
    async with beacon.deps.db.transaction() as session:
        session.add_all([EngagementQuestion(
            engagement_id=1 + n % 3, asker_id=None, hide_name=True, question=f"Question {n}", created_at=asked,
            answer="We are on it" if n < 5 else None, answered_by=CAROL if n < 5 else None,
            answered_at=asked + timedelta(days=n + 1) if n < 5 else None) for n in range(minimum)])
    report = await _report(beacon, period_named("2026-11-01 2026-11-30", today=date(2026, 12, 1)))
    assert (report.questions, report.answered, report.median_days_to_answer) == (minimum, 5, 3.0)
    async with beacon.deps.db.transaction() as session:
        await session.execute(delete(EngagementQuestion).where(col(EngagementQuestion.question) == "Question 10"))
    report = await _report(beacon, period_named("2026-11-01 2026-11-30", today=date(2026, 12, 1)))
    assert (report.questions, report.answered, report.median_days_to_answer) == (None, None, None), \
        "under the minimum, none of the three is shown"


async def test_staff_groups_and_online_sessions_are_counted_and_groups_nobody_met_are_listed(beacon: Beacon) -> None:
    await _a_month_of_visits(beacon)
    async with beacon.deps.db.transaction() as session:
        session.add(_engagement(20, leader="Omar Shah", site=None, group="Control room", mode="online",
                                starts=datetime(2026, 11, 20, 23, tzinfo=UTC), hours=3, source="slack:visits"))
    report = await _report(beacon, period_named("2026-11-01 2026-11-30", today=date(2026, 12, 1)))
    assert [(t.name, t.held) for t in report.by_group] == [("Control room", 1)]
    assert report.groups_unvisited == ["NHS 111"]
    assert ("Online", 1) in [(t.name, t.held) for t in report.by_kind]
    assert report.elsewhere == 1, "an engagement for a staff group is not 'at no listed place'"
    carol = beacon.slack.person(CAROL)
    await carol.command("/calendar", "report 2026-11-01 2026-11-30")
    await settle()
    said = str(carol.ephemerals()[-1].blocks)
    assert "Staff groups no leader engaged with in this period (1)" in said and "*NHS 111*" in said


def test_the_csv_neutralises_every_cell_a_spreadsheet_would_run_as_a_formula() -> None:
    from beacon.bot.blocks.visibility import report_csv

    period = period_named("2026-11-01 2026-11-30", today=date(2026, 12, 1))
    names = ["=HYPERLINK(\"x\")", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "Carol Chen"]
    report = visibility.VisibilityReport(
        period=period, held=1, planned=0, by_leader=[visibility.Tally(n, 1) for n in names], by_site=[], by_area=[],
        by_kind=[], by_group=[], groups_unvisited=[], elsewhere=0, unvisited=[], sites=0, attending=None,
        questions=None, answered=None, median_days_to_answer=None, minimum=11)
    cells = [row[1] for row in csv.reader(io.StringIO(report_csv(report), newline=""))][1:]
    assert cells == [f"'{n}" for n in names[:-1]] + ["Carol Chen"]

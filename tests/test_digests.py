"""The weekly digest end to end: a week of real activity through Slack, then the digest at its cron time, once,
within Slack's limits; personal digests by choice; previews in Slack and in the terminal."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from beacon.bot.blocks.digests import personal_digest, weekly_digest
from beacon.bot.blocks.pulses import slot_blocks
from beacon.bot.cron import next_fire, parse_cron
from beacon.bot.ids import ActionId, BlockId
from beacon.bot.models import Engagement, ForumQuestion, OutboxMessage
from beacon.bot.organisation import Organisation
from beacon.bot.services.digests import DIGEST_POST
from tests.harness import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    DIGEST,
    ENGAGEMENT,
    ERIN,
    FORUM,
    GENERAL,
    GRACE,
    HEIDI,
    Beacon,
    connections_in_use,
    organisation_for,
    settle,
    slack_answered,
)
from tests.nominating import deliver, nominate
from tests.scheduling import schedule

LONDON = ZoneInfo("Europe/London")
DIGEST_TIME = datetime(2026, 11, 30, 8, 0, 20, tzinfo=UTC)  # Monday 08:00 GMT, the default cron


@pytest.fixture
def digest_settings() -> dict:
    return {}


@pytest.fixture
def organisation(slack, digest_settings: dict) -> Organisation:  # type: ignore[no-untyped-def]
    extra = {"digest": digest_settings} if digest_settings else {}
    return organisation_for(slack.workspace, pulse={"reporting_minimum": 3}, **extra)


def _shown(blocks: list[dict] | None) -> str:
    return json.dumps(blocks or [], ensure_ascii=False)


async def _pulse(beacon: Beacon, title: str, closes: str, options: str = "Yes\nNo") -> None:
    erin = beacon.slack.person(ERIN)
    await erin.command("/pulse", channel=FORUM)
    await settle()
    kind, question, answers = slot_blocks(1)
    reply = await erin.submit({BlockId.PULSE_TITLE: title, kind: "single", question: f"{title}?",
                               answers: options, BlockId.PULSE_SETTINGS: ["anonymous"],
                               BlockId.PULSE_CLOSES_DAY: closes, BlockId.PULSE_CLOSES_TIME: "17:00"})
    assert reply.json == {}, reply.json
    await deliver(beacon)


def _pulse_message(beacon: Beacon, title: str):  # type: ignore[no-untyped-def]
    return next(m for m in beacon.ws.messages(FORUM) if m.blocks and m.blocks[0]["type"] == "header"
                and m.blocks[0]["text"]["text"] == title)


async def _a_busy_week(beacon: Beacon) -> None:
    """Last week (from Monday 23 November): a celebration, a private thank-you, an award round, a pulse that
    closed and one still open, a visit booked for next week and two posts scheduled for next week."""
    alice, heidi = beacon.slack.person(ALICE), beacon.slack.person(HEIDI)
    await nominate(alice, text="<@U0HEIDI|heidi>", values=["care", "teamwork"])
    await deliver(beacon)
    await heidi.click(ActionId.CONSENT_GIVE, message=heidi.dms()[-1])
    await settle()
    await deliver(beacon)
    await nominate(beacon.slack.person(BOB), award="thanks", text="<@U0HEIDI|heidi>", values=["respect"], share=False)
    await beacon.slack.person(DAVE).command("/awards", 'open "2027 Staff Awards" closes 2027-03-31')
    await settle()

    await _pulse(beacon, "Rest breaks", "2026-11-27")
    for user, index in ((ALICE, 0), (BOB, 0), (CAROL, 1)):
        await beacon.slack.person(user).click(f"{ActionId.PULSE_CHOOSE}_{index}",
                                              message=_pulse_message(beacon, "Rest breaks"))
    await settle()
    await _pulse(beacon, "New rota <!channel>", "2026-12-01")
    await beacon.slack.person(ALICE).click(f"{ActionId.PULSE_CHOOSE}_0",
                                           message=_pulse_message(beacon, "New rota <!channel>"))
    await settle()

    carol = beacon.slack.person(CAROL)
    await carol.command("/visit")
    await settle()
    await carol.submit({BlockId.VISIT_SITE: "Chelmsford Ambulance Station", BlockId.VISIT_DAY: "2026-12-01",
                        BlockId.VISIT_STARTS: "10:00", BlockId.VISIT_ENDS: "11:30",
                        BlockId.VISIT_PURPOSE: "Meet the night shift", BlockId.VISIT_OPEN_TO: "All staff"})
    await settle()
    grace = beacon.slack.person(GRACE)
    await schedule(grace, channels=[ENGAGEMENT], message="Winter flu jabs <!channel> at every station\nMore...",
                   day=date(2026, 12, 2), at=time(9, 0))
    await schedule(grace, channels=[GENERAL], message="Not for the digest: a general channel post",
                   day=date(2026, 12, 3), at=time(9, 0))
    await deliver(beacon)
    beacon.clock.set(datetime(2026, 11, 27, 17, 0, 30, tzinfo=UTC))
    await beacon.deps.pulse_answering.close_due()
    await deliver(beacon)


async def _run_digest(beacon: Beacon, at: datetime, worker: str = "replica-a"):  # type: ignore[no-untyped-def]
    beacon.clock.set(at)
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.scheduled_posts.roll_forward(session=session)
    sent = await beacon.deps.digests.run_due(db=beacon.deps.db, worker=worker)
    await deliver(beacon)
    return sent


async def test_the_weekly_digest_tells_the_week_once(beacon: Beacon) -> None:
    await _a_busy_week(beacon)
    assert await _run_digest(beacon, datetime(2026, 11, 30, 7, 59, tzinfo=UTC)) is None, "not before its time"
    sent = await _run_digest(beacon, DIGEST_TIME)
    assert sent is not None and sent.channels == 1 and not sent.quiet
    assert await _run_digest(beacon, DIGEST_TIME + timedelta(minutes=1), worker="replica-b") is None, "only once"

    [digest] = [m for m in beacon.ws.messages(DIGEST)]
    shown = _shown(digest.blocks)
    assert digest.text == ":newspaper: Beacon weekly digest: week of 30 November 2026"
    assert "Leaders out and about this week" in shown and "Tuesday 1 December" in shown
    assert "10:00–11:30 GMT · *Carol Chen* at *Chelmsford Ambulance Station*: Meet the night shift" in shown
    assert "2 recognitions for 1 colleague." in shown
    assert ":heart: Care 1" in shown and "Respect 1" in shown
    assert "• *Heidi Hart* (Delivering Excellence through Values): Care, Teamwork" in shown
    assert "archives/C0RECOG/p" in shown, "a link to the celebration"
    assert "*2027 Staff Awards* is open for nominations until Wednesday 31 March at 23:59" in shown
    assert "Results: <" in shown and "Rest breaks" in shown and "(3 responses)" in shown
    assert "Yes 67% · No 33%" in shown
    assert "New rota &lt;!channel&gt;" in shown and "*closing soon*" in shown
    assert "Wed 2 Dec, 09:00 in <#C0ENGAGE>: Winter flu jabs &lt;!channel&gt; at every station" in shown
    assert "Not for the digest" not in shown, "posts for other channels are left out"
    assert "slack://app?team=T0BEACON01&id=A0BEACON01&tab=home" in shown
    assert "<!channel>" not in shown and "<@U0HEIDI>" not in shown, "nobody is pinged"
    assert len(digest.blocks) <= 50


async def test_slack_failing_or_slow_while_the_digest_is_made_loses_nothing_and_blocks_nobody(beacon: Beacon) -> None:
    """The shout-out's names come from Slack. When Slack fails, nothing is claimed and the next minute's run
    sends the digest; when Slack is slow, no database connection waits for it."""
    await _a_busy_week(beacon)
    asked = len(beacon.ws.calls_to("users.info"))
    beacon.slack.faults.add("users.info", error="internal_error")
    with pytest.raises(SlackApiError):
        await _run_digest(beacon, DIGEST_TIME)
    assert len(beacon.ws.calls_to("users.info")) > asked, "Slack was asked, and failed"
    assert not beacon.ws.messages(DIGEST)
    asked = len(beacon.ws.calls_to("users.info"))
    beacon.slack.faults.add("users.info", delay_after=2.0)
    with connections_in_use(beacon.deps.db) as in_use:
        running = asyncio.create_task(_run_digest(beacon, DIGEST_TIME + timedelta(minutes=1)))
        await slack_answered(beacon.ws, "users.info", after=asked)
        assert in_use() == 0, "no connection is checked out while Slack is asked"
        sent = await running
    assert sent is not None and sent.channels == 1
    [digest] = beacon.ws.messages(DIGEST)
    assert "• *Heidi Hart* (Delivering Excellence through Values): Care, Teamwork" in _shown(digest.blocks)


async def test_late_within_grace_and_not_after(beacon: Beacon) -> None:
    assert await _run_digest(beacon, datetime(2026, 11, 30, 14, 1, tzinfo=UTC)) is None, "over six hours late"
    assert beacon.ws.messages(DIGEST) == []
    assert await _run_digest(beacon, datetime(2026, 12, 7, 13, 59, tzinfo=UTC)) is not None, "under six hours late"
    [digest] = beacon.ws.messages(DIGEST)
    assert "week of 7 December 2026" in digest.text


async def test_a_quiet_week_says_so_in_one_line_or_sends_nothing(beacon: Beacon) -> None:
    sent = await _run_digest(beacon, DIGEST_TIME)
    assert sent is not None and sent.quiet
    [digest] = beacon.ws.messages(DIGEST)
    assert "A quiet week" in _shown(digest.blocks) and len(digest.blocks) == 4


@pytest.mark.parametrize("digest_settings", [{"cron": "30 7 * * 1", "skip_quiet_weeks": True}])
async def test_quiet_weeks_can_be_skipped_and_cron_weekdays_read_as_cron_does(beacon: Beacon) -> None:
    sent = await _run_digest(beacon, datetime(2026, 11, 30, 7, 30, 5, tzinfo=UTC))
    assert sent is not None and sent.quiet and sent.channels == 0, "1 is Monday, as in crontab"
    assert beacon.ws.messages(DIGEST) == []
    async with beacon.deps.db.transaction() as session:
        assert (await session.scalars(select(OutboxMessage).where(OutboxMessage.source == DIGEST_POST))).all() == []


def test_digest_times_follow_the_trust_clock_across_daylight_saving() -> None:
    trigger = parse_cron("0 8 * * mon", LONDON)
    assert next_fire(trigger, after=datetime(2026, 3, 24, tzinfo=UTC)) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert next_fire(trigger, after=datetime(2026, 10, 20, tzinfo=UTC)) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    assert str(parse_cron("0 8 * * 0", LONDON).fields[4]) == "sun"
    assert str(parse_cron("0 8 * * 1-5", LONDON).fields[4]) == "mon,tue,wed,thu,fri"
    with pytest.raises(ValueError, match="the hour field “25” is not valid"):
        parse_cron("0 25 * * mon", LONDON)


def test_long_sections_end_with_and_n_more_within_slack_limits() -> None:
    leaders = [{"day": f"2026-12-0{1 + i % 5}", "area": f"Area {i % 7}", "when": "Tue 1 Dec, 10:00–11:00 GMT",
                "leader": f"Leader {i} <!here>", "leader_user_id": None, "place": f"Station {i}",
                "title": "A long visit title " * 5} for i in range(60)]
    params = {"organisation": "Trust", "week_of": "30 November 2026", "quiet": False, "leaders": leaders,
              "leaders_total": 250, "home_url": None, "workspace_url": "https://trust.slack.com/",
              "recognition": {"nominations": 900, "colleagues": 700, "by_value": [["Care", ":heart:", 400]],
                              "shout_outs": [{"nominees": [f"Person {i}"], "award": None, "values": ["Care"],
                                              "channel": "C1", "ts": f"17000.{i:06d}"} for i in range(60)],
                              "shout_outs_total": 300, "round": None},
              "forum": {"open": [], "open_total": 0, "results": []},
              "scheduled": [{"when": "Tue 1 Dec, 09:00", "channels": ["C1"], "summary": "x" * 120}] * 60,
              "scheduled_total": 90}
    _, blocks = weekly_digest(params)
    sections = [b.to_dict()["text"]["text"] for b in blocks if b.type == "section"]
    assert all(len(s) <= 3000 for s in sections) and len(blocks) <= 50
    leaders_section, recognition, scheduled = sections
    shown_leaders = leaders_section.count("• ")
    assert leaders_section.endswith(f"…and {250 - shown_leaders} more")
    assert recognition.endswith(f"…and {300 - recognition.count('• ')} more")
    assert scheduled.endswith(f"…and {90 - scheduled.count('• ')} more")
    assert "&lt;!here&gt;" in leaders_section and "<!here>" not in leaders_section


async def test_a_personal_digest_goes_only_to_those_who_asked(beacon: Beacon) -> None:
    heidi = beacon.slack.person(HEIDI)
    await heidi.open_home()
    await settle()
    assert "Send me a weekly digest" in _shown(heidi.home.blocks)  # type: ignore[union-attr]
    await heidi.click(ActionId.DIGEST_PERSONAL, in_home=True)
    await settle()
    assert "Stop my weekly digest" in _shown(heidi.home.blocks)  # type: ignore[union-attr]
    await heidi.click(ActionId.CALENDAR_MY_SITE, in_home=True, value="Chelmsford Ambulance Station")
    await settle()
    await beacon.slack.person(DAVE).command("/digest", "on")
    await settle()
    assert "You will get your own digest" in beacon.slack.person(DAVE).last_ephemeral().text
    await _a_busy_week(beacon)
    before = {u: len(beacon.slack.person(u).dms()) for u in (HEIDI, DAVE, GRACE)}

    sent = await _run_digest(beacon, DIGEST_TIME)
    assert sent is not None and sent.personal == 2
    mine = beacon.slack.person(HEIDI).dms()[-1]
    shown = _shown(mine.blocks)
    assert mine.text == ":wave: Your week with Beacon, 30 November 2026"
    assert "Leaders visiting Chelmsford Ambulance Station this week" in shown and "Meet the night shift" in shown
    assert "Colleagues recognised you 2 times last week for Care, Teamwork and Respect" in shown
    assert "Pulses you have not answered yet" in shown and "New rota &lt;!channel&gt;" in shown
    dave = beacon.slack.person(DAVE).dms()[before[DAVE]:]
    assert len(dave) == 1 and "Rest breaks" not in _shown(dave[0].blocks), "closed pulses are not asked about"
    assert len(beacon.slack.person(GRACE).dms()) == before[GRACE], "nobody who did not ask gets one"


async def test_comms_preview_the_next_digest_and_others_cannot(beacon: Beacon) -> None:
    await _a_busy_week(beacon)
    beacon.clock.set(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
    grace, alice = beacon.slack.person(GRACE), beacon.slack.person(ALICE)
    await grace.command("/digest", "preview")
    await settle()
    preview = grace.last_ephemeral()
    shown = _shown(preview.blocks)
    assert "Preview, only you can see this." in shown and "on Mon 30 Nov at 08:00 GMT" in shown
    assert "Beacon weekly digest: week of 30 November 2026" in shown and "Meet the night shift" in shown
    assert beacon.ws.messages(DIGEST) == [], "a preview posts nothing"
    await alice.command("/digest", "preview")
    await settle()
    assert "needs the *communications team* or *Beacon administrator* role" in alice.last_ephemeral().text


def test_the_personal_digest_escapes_what_people_wrote() -> None:
    _, blocks = personal_digest({"week_of": "30 November 2026", "site": "Bedford <!everyone>", "visits": [
        {"when": "Tue 1 Dec, 10:00", "leader": "Jo <@U123>", "leader_user_id": None, "title": "*bold* <!here>"}],
        "recognised": 0, "values": [], "unanswered": [], "home_url": None, "workspace_url": None})
    shown = _shown([b.to_dict() for b in blocks])
    assert "<!everyone>" not in shown and "<!here>" not in shown and "<@U123>" not in shown


async def test_beacon_digest_prints_the_next_one_and_sends_one_now(slack, tmp_path, database_url: str) -> None:  # type: ignore[no-untyped-def]
    import yaml

    from beacon.bot.db import Database, upgrade
    from beacon.bot.models import Engagement
    from tests.processes import run_beacon, slack_env, write_config

    config = write_config(tmp_path / "beacon.yaml")
    data = yaml.safe_load(config.read_text())
    data["channels"]["digest"] = [DIGEST]
    config.write_text(yaml.safe_dump(data))
    # The command runs on the real clock: a visit on the day after the next digest goes out.
    trigger = parse_cron("0 8 * * mon", LONDON)
    fires = next_fire(trigger, after=datetime.now(UTC))
    assert fires is not None
    starts = datetime.combine(fires.date() + timedelta(days=1), time(10, 0), tzinfo=LONDON)
    await upgrade(database_url)
    db = Database(database_url)
    async with db.transaction() as session:
        session.add(Engagement(source_key="visit", external_id="1", occurrence="", title="Meet the night shift <!here>",
                               leader="Carol Chen", location="Chelmsford Ambulance Station",
                               starts_at=starts.astimezone(UTC), ends_at=(starts + timedelta(hours=1)).astimezone(UTC),
                               first_seen_at=datetime.now(UTC), updated_at=datetime.now(UTC)))
    await db.dispose()
    env = slack_env(slack, config, database_url)

    code, out, err = await run_beacon("digest", "--preview", env=env, cwd=tmp_path)
    assert code == 0, err
    assert f"The next digest goes to {DIGEST} on {fires:%a %-d %b at %H:%M %Z}" in out
    assert f"Beacon weekly digest: week of {fires:%-d %B %Y}\n=====" in out
    assert "Carol Chen at Chelmsford Ambulance Station: Meet the night shift <!here>" in out, "plain text, unescaped"
    assert slack.workspace.messages(DIGEST) == [], "a preview sends nothing"

    code, out, err = await run_beacon("digest", "--send", env=env, cwd=tmp_path)
    assert code == 0, err
    assert f"{DIGEST}: sent" in out
    [posted] = slack.workspace.messages(DIGEST)
    assert posted.text.startswith(":newspaper: Beacon weekly digest: week of")


async def test_the_digest_flags_questions_to_the_leaders_left_unanswered_and_says_how_staff_meet_leaders(
        beacon: Beacon) -> None:
    """Ask the leaders: a published question unanswered after `ask.unanswered_days` is counted in the forum section
    (never who asked); an engagement for a staff group, online, says so (and never holds the join link)."""
    fired = DIGEST_TIME.date()
    async with beacon.deps.db.transaction() as session:
        session.add_all([
            ForumQuestion(id="q-old", text="Can the rota be published six weeks ahead?", asker_id=ALICE,
                          asked_on=fired - timedelta(days=20), status="published",
                          published_on=fired - timedelta(days=15)),
            ForumQuestion(id="q-new", text="Could we have a quiet room at Bedford?", asker_id=BOB,
                          asked_on=fired - timedelta(days=3), status="published",
                          published_on=fired - timedelta(days=2)),
            Engagement(source_key="slack:visits", external_id="v1", occurrence="", title="Night shift catch-up",
                       leader="Carol Chen", leader_user_id=CAROL, starts_at=DIGEST_TIME + timedelta(days=1, hours=14),
                       ends_at=DIGEST_TIME + timedelta(days=1, hours=16), mode="online", staff_group="Control room",
                       join_link="https://meet.example.nhs.uk/secret-room", first_seen_at=DIGEST_TIME,
                       updated_at=DIGEST_TIME)])
    await _run_digest(beacon, DIGEST_TIME)
    [post] = [m for m in beacon.ws.messages(DIGEST) if m.blocks]
    said = json.dumps(post.blocks)
    assert ":hourglass: 1 question to the leaders has waited more than 14 days for an answer in <#C0FORUM>." in said
    assert "*Control room* (online)" in said
    assert "secret-room" not in said and ALICE not in said

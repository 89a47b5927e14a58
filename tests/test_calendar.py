"""The leader engagement calendar end to end: ICS feeds, Microsoft 365, visits announced in Slack, and staff."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from beacon.bot.ids import ActionId, BlockId
from beacon.bot.integrations.ics_calendar import IcsFeed
from beacon.bot.local_slack import LocalSlack
from beacon.bot.models import CalendarSource, Engagement, EngagementStatus
from beacon.bot.organisation import Organisation
from tests.fakes.feeds import FeedServer
from tests.harness import ADMIN, ALICE, CAROL, CHELMSFORD, ENGAGEMENT, HEIDI, Beacon, organisation_for, settle

ICS = Path(__file__).parent / "data" / "ics"
SITES = [{"name": "Chelmsford Ambulance Station", "area": "Essex", "channel": CHELMSFORD, "aliases": ["Chelmsford"]},
         {"name": "Bedford Ambulance Station", "area": "Bedfordshire"},
         {"name": "Norwich Emergency Operations Centre", "area": "Norfolk", "aliases": ["Norwich EOC"]}]


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    server = await FeedServer(feeds={"ceo": (ICS / "outlook.ics").read_text(),
                                     "ops": (ICS / "google.ics").read_text()}).start()
    yield server
    await server.stop()


@pytest.fixture
def organisation(slack: LocalSlack, feeds: FeedServer) -> Organisation:
    return organisation_for(slack.workspace, sites=SITES, calendar={"allow_hosts": ["127.0.0.1"], "sources": [
        {"type": "ics", "name": "Carol Chen, Chief Executive", "url": feeds.url("ceo"), "leader_slack_id": CAROL},
        {"type": "ics", "name": "Director of Operations", "url": feeds.url("ops")}]})


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


async def _engagements(beacon: Beacon) -> list[Engagement]:
    async with beacon.deps.db.transaction() as session:
        return list((await session.scalars(select(Engagement).order_by(Engagement.starts_at))).all())


async def _sync(beacon: Beacon) -> None:
    await beacon.deps.calendar_sync.run()
    await beacon.deps.dispatcher.run_once()
    await settle()


async def test_an_outlook_feed_is_read_expanded_and_cut_to_what_may_be_published(beacon: Beacon) -> None:
    await _sync(beacon)
    rows = [e for e in await _engagements(beacon) if e.source_key.endswith("ceo.ics")]
    assert [(e.title, e.starts_at, e.all_day) for e in rows] == [
        ("Listening session with the night shift", _utc(2026, 11, 25, 10), False),
        ("Board away day", _utc(2026, 11, 27), True),
        ("Station walkabout", _utc(2026, 11, 30, 9), False),
        ("Station walkabout (moved)", _utc(2026, 12, 15, 14), False),
    ], ("the private appointment is left out, 7 December is an EXDATE, 14 December moved to the 15th, and "
        "21 December is beyond the 28 days read")
    listening = rows[0]
    assert listening.site == "Chelmsford Ambulance Station" and listening.leader_user_id == CAROL
    assert rows[2].site == "Bedford Ambulance Station"
    assert rows[1].site is None and rows[1].location == "HQ Melbourn"
    everything = json.dumps([m.blocks for c in beacon.ws.channels.values() for m in c.messages]) + json.dumps(
        [vars(e) for e in rows], default=str)
    for secret in ("SECRET agenda", "teams.example", "Medical appointment"):
        assert secret not in everything, "an event's body, links and private events never reach Slack"
    admin = beacon.ws.messages(ADMIN)
    assert len(admin) == 1 and "HQ Melbourn" in json.dumps(admin[0].blocks), "unmatched places reported once"
    await _sync(beacon)
    assert len(beacon.ws.messages(ADMIN)) == 1


async def test_engagements_within_a_fortnight_are_announced_once(beacon: Beacon) -> None:
    await _sync(beacon)
    announced = beacon.ws.messages(ENGAGEMENT)
    titles = [m.text for m in announced]
    assert any("<@U0CAROL> will be at *Chelmsford Ambulance Station* (Essex), Wed 25 Nov, 10:00–12:00 GMT" in t
               for t in titles)
    assert not any("21 Dec" in t for t in titles), "too far off to announce yet"
    await _sync(beacon)
    assert len(beacon.ws.messages(ENGAGEMENT)) == len(announced)
    beacon.clock.set(_utc(2026, 12, 10, 9))
    await _sync(beacon)
    assert any("Mon 21 Dec" in m.text for m in beacon.ws.messages(ENGAGEMENT))


async def test_etags_spare_the_feed_and_a_change_is_noted_in_the_announcement_thread(beacon: Beacon,
                                                                                     feeds: FeedServer) -> None:
    await _sync(beacon)
    await _sync(beacon)
    assert feeds.requests[-1][1] is not None, "the second fetch sends If-None-Match (and gets 304)"
    announcement = next(m for m in beacon.ws.messages(ENGAGEMENT) if "Listening session" in json.dumps(m.blocks))
    feeds.feeds["ceo"] = feeds.feeds["ceo"].replace("20261125T100000", "20261125T140000").replace(
        "20261125T120000", "20261125T160000")
    await _sync(beacon)
    await beacon.deps.dispatcher.run_once()
    thread = [m for m in beacon.ws.messages(ENGAGEMENT) if m.thread_ts == announcement.ts]
    assert thread and "will now be at *Chelmsford Ambulance Station* (Essex), Wed 25 Nov, 14:00–16:00 GMT" in (
        thread[-1].text) and "it was Wed 25 Nov, 10:00–12:00 GMT" in thread[-1].text
    assert "14:00–16:00" in announcement.text and announcement.edited, "the announcement itself is edited"
    feeds.feeds["ceo"] = feeds.feeds["ceo"].replace("UID:listening-night-shift@trust.example",
                                                    "UID:something-else@trust.example")
    await _sync(beacon)
    await beacon.deps.dispatcher.run_once()
    assert "This has been cancelled" in [m for m in beacon.ws.messages(ENGAGEMENT)
                                         if m.thread_ts == announcement.ts][-1].text
    assert announcement.text.startswith(":no_entry_sign: Cancelled")


def _feed(beacon: Beacon, feeds: FeedServer, name: str) -> IcsFeed:
    return next(r for r in beacon.deps.calendar_sync.readers
                if isinstance(r, IcsFeed) and r.source.url == feeds.url(name))


def _two_visits(now: datetime, *, later_title: str = "Night shift visit") -> str:
    """One visit tomorrow, and one 30 days on: beyond the 28-day window until the clock moves on."""
    tomorrow, later = now + timedelta(days=1), now + timedelta(days=30)
    events = [("soon@trust.example", "Station visit", tomorrow), ("later@trust.example", later_title, later)]
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN"]
    for uid, title, at in events:
        lines += ["BEGIN:VEVENT", f"UID:{uid}", f"SUMMARY:{title}", f"DTSTART:{at:%Y%m%dT%H%M%SZ}",
                  f"DTEND:{at + timedelta(hours=1):%Y%m%dT%H%M%SZ}", "LOCATION:Chelmsford", "END:VEVENT"]
    return "\r\n".join([*lines, "END:VCALENDAR", ""])


async def test_an_unchanged_feed_is_parsed_once_a_day_and_what_the_window_reaches_still_arrives(
        beacon: Beacon, feeds: FeedServer) -> None:
    """Parsing is what a large feed costs; an unchanged one (304) is not parsed again the same day, yet a visit the
    moving window reaches days later still arrives from the copy Beacon holds."""
    feeds.feeds["ceo"] = _two_visits(beacon.clock.now())
    ceo = _feed(beacon, feeds, "ceo")
    await _sync(beacon)
    beacon.clock.advance(timedelta(hours=3))
    await _sync(beacon)
    assert ceo.parses == 1 and feeds.requests[-2][1] is not None, "304 the second time, and no second parse"
    titles = {e.title for e in await _engagements(beacon) if e.source_key.endswith("ceo.ics")}
    assert titles == {"Station visit"}
    beacon.clock.advance(timedelta(days=3))
    await _sync(beacon)
    titles = {e.title for e in await _engagements(beacon) if e.source_key.endswith("ceo.ics")}
    assert titles == {"Station visit", "Night shift visit"}, "the window moved on: the later visit is in it now"
    assert ceo.parses == 2


async def test_a_server_that_ignores_etags_costs_a_download_but_a_parse_only_when_the_words_change(
        beacon: Beacon, feeds: FeedServer) -> None:
    feeds.without_etags.add("ceo")
    now = beacon.clock.now()
    feeds.feeds["ceo"] = _two_visits(now)
    ceo = _feed(beacon, feeds, "ceo")
    await _sync(beacon)
    await _sync(beacon)
    assert ceo.parses == 1 and sum(1 for name, _ in feeds.requests if name == "ceo") == 2
    feeds.feeds["ceo"] = _two_visits(now).replace("Station visit", "Station visit and listening session")
    await _sync(beacon)
    assert ceo.parses == 2
    titles = {e.title for e in await _engagements(beacon) if e.source_key.endswith("ceo.ics")}
    assert titles == {"Station visit and listening session"}


async def test_a_failing_feed_keeps_its_last_good_data_and_tells_the_admins_once(beacon: Beacon,
                                                                                 feeds: FeedServer, caplog) -> None:  # type: ignore[no-untyped-def]
    await _sync(beacon)
    before = [e.id for e in await _engagements(beacon)]
    feeds.feeds["ceo"] = (ICS / "malformed.ics").read_text()
    for _ in range(4):
        await _sync(beacon)
    assert [e.id for e in await _engagements(beacon) if e.status == EngagementStatus.SCHEDULED] == before
    assert any("calendar feed could not be read" in r.getMessage() for r in caplog.records)
    warnings = [m for m in beacon.ws.messages(ADMIN) if "has failed" in m.text]
    assert len(warnings) == 1 and "Carol Chen, Chief Executive" in warnings[0].text
    feeds.feeds["ceo"] = (ICS / "outlook.ics").read_text()
    await _sync(beacon)
    assert "is working again" in beacon.ws.messages(ADMIN)[-1].text
    async with beacon.deps.db.transaction() as session:
        state = await session.get(CalendarSource, f"ics:{feeds.url('ceo')}")
    assert state is not None and state.consecutive_failures == 0


async def test_an_empty_answer_must_repeat_before_it_empties_the_calendar(beacon: Beacon, feeds: FeedServer) -> None:
    await _sync(beacon)
    feeds.feeds["ceo"] = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nEND:VCALENDAR\n"
    await _sync(beacon)
    ceo = [e for e in await _engagements(beacon) if e.source_key.endswith("ceo.ics")]
    assert all(e.status == EngagementStatus.SCHEDULED for e in ceo)
    feeds.feeds["ceo"] += "\n"  # a new ETag, still empty
    await _sync(beacon)
    ceo = [e for e in await _engagements(beacon) if e.source_key.endswith("ceo.ics")]
    assert all(e.status == EngagementStatus.CANCELLED for e in ceo)


async def test_google_feed_times_across_the_october_change(beacon: Beacon) -> None:
    beacon.clock.set(_utc(2027, 10, 10, 9))
    await _sync(beacon)
    ops = [e for e in await _engagements(beacon) if e.source_key.endswith("ops.ics")]
    huddles = [e.starts_at for e in ops if e.title.startswith("Operations huddle")]
    assert huddles[-1] == _utc(2027, 11, 4, 9), "09:00 in London stays 09:00 after the clocks go back"
    visit = next(e for e in ops if e.title.startswith("Night shift"))
    assert (visit.starts_at, visit.ends_at) == (_utc(2027, 10, 30, 23, 30), _utc(2027, 10, 31, 3))
    assert beacon.deps.engagements.describe(visit)["when"] == "Sun 31 Oct, 00:30 BST–03:00 GMT"
    assert not any("Confidential" in e.title for e in ops)


async def test_staff_say_they_will_be_there_and_ask_questions(beacon: Beacon) -> None:
    await _sync(beacon)
    announcement = next(m for m in beacon.ws.messages(ENGAGEMENT) if "Listening session" in json.dumps(m.blocks))
    alice, heidi, carol = (beacon.slack.person(u) for u in (ALICE, HEIDI, CAROL))
    await alice.click(ActionId.CALENDAR_ATTEND, message=announcement)
    await heidi.click(ActionId.CALENDAR_ATTEND, message=announcement)
    await settle()
    await beacon.deps.dispatcher.run_once()
    assert "2 colleagues are going" in json.dumps(announcement.blocks)
    assert "You're down as going" in alice.last_ephemeral().text
    await alice.click(ActionId.CALENDAR_ASK, message=announcement)
    await settle()
    await alice.submit({BlockId.QUESTION_TEXT: "Will the new rota <!channel> be fair?",
                        BlockId.QUESTION_ANONYMOUS: ["anonymous"]})
    await heidi.click(ActionId.CALENDAR_ASK, message=announcement)
    await settle()
    await heidi.submit({BlockId.QUESTION_TEXT: "Can we talk about breaks?"})
    await settle()
    beacon.clock.set(_utc(2026, 11, 24, 16, 0))
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.engagements.day_before(session=session, worker="test")
    await beacon.deps.dispatcher.run_once()
    briefing = json.dumps(carol.dms()[-1].blocks)
    assert "2 said they'll be there: <@U0ALICE> and <@U0HEIDI>" in briefing
    assert "Will the new rota &lt;!channel&gt; be fair?" in briefing and "_from a colleague_" in briefing
    assert "_from <@U0HEIDI>_" in briefing and "U0ALICE>_" not in briefing, "Alice asked without her name"
    reminder = beacon.ws.messages(CHELMSFORD)[-1]
    assert reminder.text.startswith(":wave: Tomorrow:")


async def test_the_leader_is_asked_to_follow_up_in_the_thread(beacon: Beacon) -> None:
    await _sync(beacon)
    announcement = next(m for m in beacon.ws.messages(ENGAGEMENT) if "Listening session" in json.dumps(m.blocks))
    beacon.clock.set(_utc(2026, 11, 26, 10, 0))
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.engagements.day_after(session=session, worker="test")
    await beacon.deps.dispatcher.run_once()
    carol = beacon.slack.person(CAROL)
    prompt = carol.dms()[-1]
    assert "How did Listening session with the night shift" in prompt.text
    await carol.click(ActionId.CALENDAR_FOLLOW_UP, message=prompt)
    await settle()
    await carol.submit({BlockId.FOLLOW_UP_TEXT: "You said the rota was unfair; we are changing it in January."})
    await settle()
    [reply] = [m for m in beacon.ws.messages(ENGAGEMENT) if m.thread_ts == announcement.ts]
    assert "You said, we did" in reply.text and "changing it in January" in json.dumps(reply.blocks)
    alice = beacon.slack.person(ALICE)
    await alice.click(ActionId.CALENDAR_FOLLOW_UP, message=prompt)
    await settle()
    assert "Only the leader" in alice.last_ephemeral().text


async def test_calendar_command_and_home_put_your_site_first(beacon: Beacon) -> None:
    await _sync(beacon)
    alice = beacon.slack.person(ALICE)
    await alice.command("/calendar", "Bedfordshire")
    await settle()
    shown = json.dumps(alice.last_ephemeral().blocks)
    assert "Station walkabout" in shown and "Listening session" not in shown
    await alice.open_home()
    await settle()
    await alice.click(ActionId.CALENDAR_MY_SITE, in_home=True, value="Bedford Ambulance Station")
    await settle()
    home = json.dumps(alice.home.blocks)  # type: ignore[union-attr]
    assert home.index("Station walkabout") < home.index("Listening session"), "her own site comes first"


async def test_the_weekly_post_goes_once_a_week(beacon: Beacon) -> None:
    await _sync(beacon)
    for _ in range(2):
        async with beacon.deps.db.transaction() as session:
            await beacon.deps.engagements.weekly_post(session=session, worker="a")
    await beacon.deps.dispatcher.run_once()
    posts = [m for m in beacon.ws.messages(ENGAGEMENT) if "Leaders out and about" in m.text]
    assert len(posts) == 1
    body = json.dumps(posts[0].blocks)
    assert "*Wednesday 25 November*" in body and "_Essex_" in body and "_Other places_" in body


async def test_an_executive_announces_a_visit(beacon: Beacon) -> None:
    carol, alice = beacon.slack.person(CAROL), beacon.slack.person(ALICE)
    await alice.command("/visit")
    await settle()
    assert alice.modal is None and "needs the *executive* or *leader* role" in alice.last_ephemeral().text
    await carol.command("/visit")
    await settle()
    values = {BlockId.VISIT_SITE: "Chelmsford Ambulance Station", BlockId.VISIT_DAY: "2026-11-25",
              BlockId.VISIT_STARTS: "14:00", BlockId.VISIT_ENDS: "14:00", BlockId.VISIT_PURPOSE: "Meet the day shift",
              BlockId.VISIT_OPEN_TO: "All staff"}
    reply = await carol.submit(values)
    assert "has to end after it starts" in reply.json["errors"][BlockId.VISIT_ENDS]
    await carol.submit({BlockId.VISIT_ENDS: "15:30"})
    await settle()
    await beacon.deps.dispatcher.run_once()
    posted = [m.text for m in beacon.ws.messages(ENGAGEMENT)] + [m.text for m in beacon.ws.messages(CHELMSFORD)]
    assert sum("<@U0CAROL> will be at *Chelmsford Ambulance Station* (Essex), Wed 25 Nov, 14:00–15:30 GMT" in t
               for t in posted) == 2, "in the engagement channel and the site's channel"
    assert "Your visit, Wed 25 Nov, 14:00–15:30 GMT, is announced" in carol.dms()[-1].text



async def test_beacon_calendar_sync_reads_every_source_now(slack: LocalSlack, feeds: FeedServer, tmp_path: Path,
                                                           database_url: str) -> None:
    import yaml

    from tests.processes import run_beacon, slack_env, write_config

    feeds.failing.add("ops")
    config = write_config(tmp_path / "beacon.yaml")
    data = yaml.safe_load(config.read_text())
    data["sites"] = SITES
    data["calendar"] = {"allow_hosts": ["127.0.0.1"],
                        "sources": [{"type": "ics", "name": "Chief Executive", "url": feeds.url("ceo")},
                                    {"type": "ics", "name": "Director of Operations", "url": feeds.url("ops")}]}
    config.write_text(yaml.safe_dump(data))
    code, out, err = await run_beacon("calendar", "sync", env=slack_env(slack, config, database_url), cwd=tmp_path)
    assert code == 1, "one source failed"
    assert "Chief Executive: " in out and " new, 0 changed, 0 cancelled" in out
    assert "Director of Operations: FAILED (HTTP 503 from the feed); last good data kept" in out
    assert "Traceback" not in err


async def test_a_moved_engagement_edits_its_reminder_too(beacon: Beacon, feeds: FeedServer) -> None:
    """One truth per engagement: the day-before reminder in the site's channel is edited with the announcement,
    and stays a reminder."""
    await _sync(beacon)
    beacon.clock.set(_utc(2026, 11, 24, 16, 0))
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.engagements.day_before(session=session, worker="test")
    await beacon.deps.dispatcher.run_once()
    reminder = next(m for m in beacon.ws.messages(CHELMSFORD) if "Listening session" in json.dumps(m.blocks))
    assert "10:00–12:00" in reminder.text
    feeds.feeds["ceo"] = feeds.feeds["ceo"].replace("20261125T100000", "20261125T140000").replace(
        "20261125T120000", "20261125T160000")
    await _sync(beacon)
    await beacon.deps.dispatcher.run_once()
    assert reminder.text.startswith(":wave: Tomorrow:") and "14:00–16:00" in reminder.text and reminder.edited

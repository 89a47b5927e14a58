"""`beacon sandbox` through its page's JSON API: the demo trust is seeded through Beacon itself, people act as
they would in Slack, and the clock control makes scheduled things happen at their own moment (across DST too).

The same journeys in a real browser are in test_sandbox_browser.py.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from beacon.bot.cli import main
from beacon.bot.ids import ActionId, BlockId
from beacon.bot.models import LeaderProfile, Nomination, Pulse, ScheduledPost
from beacon.bot.sandbox.demo_trust import ALICE, CAROL, DIGEST, GENERAL, GRACE, HEIDI, IVAN, RECOGNITION
from beacon.bot.sandbox.server import Sandbox
from beacon.bot.sandbox.timeline import TickingClock, Timeline

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday


class Page:
    """What the sandbox page does, over HTTP."""

    def __init__(self, sandbox: Sandbox, http: aiohttp.ClientSession):
        self.sandbox, self.http = sandbox, http

    async def get(self, path: str, who: str | None = None) -> dict[str, Any]:
        async with self.http.get(self.sandbox.url + path, params={"as": who} if who else None) as response:
            return await response.json()

    async def post(self, path: str, **body: Any) -> dict[str, Any]:
        async with self.http.post(self.sandbox.url + path, json=body) as response:
            return await response.json()

    async def messages(self, channel: str, who: str) -> list[dict[str, Any]]:
        return (await self.get(f"/api/conversation/{channel}", who))["messages"]

    async def modal(self, who: str) -> dict[str, Any] | None:
        return (await self.get("/api/state", who))["modal"]


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    sandbox = await Sandbox(port=0, start=START).start()
    try:
        async with aiohttp.ClientSession() as http:
            yield Page(sandbox, http)
    finally:
        await sandbox.stop()


def _button(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in message["blocks"]:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return {"block_id": block.get("block_id"), "action_id": action_id}
    raise AssertionError(f"no {action_id} in {message['text']!r}")


def _with(messages: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    """The latest message with an `action_id` element."""
    for message in reversed(messages):
        if any(isinstance(e, dict) and e.get("action_id") == action_id
               for b in message["blocks"] for e in [*b.get("elements", []), b.get("accessory") or {}]):
            return message
    raise AssertionError(f"no message with {action_id}")


async def _count(sandbox: Sandbox, model: type) -> int:
    assert sandbox.runtime is not None
    async with sandbox.runtime.deps.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_demo_trust_is_seeded_through_beacon(page: Page) -> None:
    people = (await page.get("/api/people"))["people"]
    assert {p["label"] for p in people} == {"Staff member", "Executive", "Comms officer", "Awards panel member",
                                            "Forum moderator", "Beacon admin", "Leader"}
    state = await page.get("/api/state", ALICE)
    assert state["now_label"] == "Monday 23 November 2026, 10:00 (GMT)"
    assert {"recognition", "staff-forum", "chelmsford-station"} <= {c["name"] for c in state["channels"]}
    assert "beacon-admin" not in {c["name"] for c in state["channels"]}, "a private channel Alice is not in"
    assert {"/nominate", "/pulse", "/schedule", "/digest"} <= {c["command"] for c in state["commands"]}

    recognition = " ".join(m["text"] for m in await page.messages(RECOGNITION, ALICE))
    assert "Nominations are open for *2027 Staff Awards*" in recognition
    assert f"<@{CAROL}>" in recognition, "a consented nomination is celebrated"
    engagement = " ".join(m["text"] for m in await page.messages("C0ENGAGE", ALICE))
    assert "Chelmsford Ambulance Station" in engagement, "the leaders' ICS calendar was read"
    assert "Dentist" not in engagement, "a private event is never published"
    assert "<@U0LENA> will be at *Colchester Ambulance Station*" in engagement, "a locality manager, in her area"
    assert await _count(page.sandbox, LeaderProfile) >= 2, "two leaders wrote their commitment"
    forum_messages = await page.messages("C0FORUM", ALICE)
    pulse = next(str(m["blocks"]) for m in forum_messages if "Winter pressures" in str(m["blocks"]))
    assert "5 responses" in pulse, "the pulse's count is up to date as soon as the sandbox opens"
    asked = next(str(m["blocks"]) for m in forum_messages if "Bedford canteen" in str(m["blocks"]))
    assert "Answered in the thread" in asked and "1 colleague" in asked, "the loop: asked, supported, answered"
    assert await _count(page.sandbox, Nomination) == 3
    assert await _count(page.sandbox, Pulse) == 1
    assert await _count(page.sandbox, ScheduledPost) == 1
    alice_dms = await page.messages(f"D{ALICE[1:]}", ALICE)
    assert _with(alice_dms, ActionId.CONSENT_GIVE), "Alice is asked to consent to Heidi's nomination"


async def test_nominate_through_the_modal_and_consent_as_the_nominee(page: Page) -> None:
    assert (await page.post("/api/command", **{"as": HEIDI, "channel": GENERAL, "text": "/nominate @ivan"}))["ok"]
    modal = await page.modal(HEIDI)
    assert modal and modal["title"]["text"]
    await page.post("/api/action", **{"as": HEIDI, "surface": "modal", "action_id": ActionId.NOMINATE_AWARD,
                                      "block_id": BlockId.NOMINATE_AWARD, "value": "values",
                                      "values": {BlockId.NOMINATE_STORY: "typed before choosing"}})
    modal = await page.modal(HEIDI)
    assert modal is not None
    short = await page.post("/api/submit", **{"as": HEIDI, "values": {
        BlockId.NOMINATE_COLLEAGUES: [IVAN], BlockId.NOMINATE_VALUES: ["teamwork"],
        BlockId.NOMINATE_STORY: "Too short.", BlockId.NOMINATE_OPTIONS: ["share_publicly"],
        BlockId.NOMINATE_NO_PATIENT_DETAILS: ["no_patient_details"]}})
    assert short["ok"] and BlockId.NOMINATE_STORY in short["errors"], short
    assert (await page.modal(HEIDI))["errors"], "the inline error is part of the modal the page shows"
    story = ("Ivan talked a frightened caller through CPR for eleven minutes until the crew arrived, calm and "
             "clear the whole time, then checked in on the new starter who had been listening in.")
    sent = await page.post("/api/submit", **{"as": HEIDI, "values": {
        BlockId.NOMINATE_COLLEAGUES: [IVAN], BlockId.NOMINATE_VALUES: ["teamwork"], BlockId.NOMINATE_STORY: story,
        BlockId.NOMINATE_OPTIONS: ["share_publicly"], BlockId.NOMINATE_NO_PATIENT_DETAILS: ["no_patient_details"]}})
    assert sent == {"ok": True, "errors": {}}
    assert await page.modal(HEIDI) is None

    async def asked() -> dict[str, Any]:
        return _with(await page.messages(f"D{IVAN[1:]}", IVAN), ActionId.CONSENT_GIVE)
    ask = await _eventually(asked)
    assert (await page.post("/api/action", **{"as": IVAN, "surface": "message", "channel": f"D{IVAN[1:]}",
                                               "ts": ask["ts"], **_button(ask, ActionId.CONSENT_GIVE)}))["ok"]

    async def celebrated() -> str:
        texts = [m["text"] for m in await page.messages(RECOGNITION, ALICE)]
        found = [t for t in texts if f"<@{HEIDI}>" in t and f"<@{IVAN}>" in t]
        assert found, texts
        return found[0]
    assert "Delivering Excellence through Values" in await _eventually(celebrated)


async def test_a_nomination_that_says_channel_pings_nobody(page: Page) -> None:
    await page.post("/api/command", **{"as": HEIDI, "channel": GENERAL, "text": "/nominate"})
    await page.post("/api/action", **{"as": HEIDI, "surface": "modal", "action_id": ActionId.NOMINATE_AWARD,
                                      "block_id": BlockId.NOMINATE_AWARD, "value": "thanks"})
    story = "<!channel> <script>alert(1)</script> thank you for covering my shift at no notice last weekend!!"
    await page.post("/api/submit", **{"as": HEIDI, "values": {
        BlockId.NOMINATE_COLLEAGUES: [IVAN], BlockId.NOMINATE_VALUES: ["care"], BlockId.NOMINATE_STORY: story,
        BlockId.NOMINATE_OPTIONS: ["share_publicly"], BlockId.NOMINATE_NO_PATIENT_DETAILS: ["no_patient_details"]}})
    ask = await _eventually(lambda: _latest_consent(page, IVAN))
    shown = str(ask["blocks"])
    assert "&lt;!channel&gt;" in shown and "<!channel>" not in shown


async def _latest_consent(page: Page, who: str) -> dict[str, Any]:
    return _with(await page.messages(f"D{who[1:]}", who), ActionId.CONSENT_GIVE)


async def test_answer_the_open_pulse(page: Page) -> None:
    pulse = _with(await page.messages("C0FORUM", ALICE), f"{ActionId.PULSE_CHOOSE}_0")
    reply = await page.post("/api/action", **{"as": ALICE, "surface": "message", "channel": "C0FORUM",
                                              "ts": pulse["ts"], **_button(pulse, f"{ActionId.PULSE_CHOOSE}_0")})
    assert reply["ok"]
    confirmation = [m for m in await page.messages("C0FORUM", ALICE) if m["ephemeral"]]
    assert confirmation and "your answer will be stored with others'" in confirmation[-1]["text"]
    assert not [m for m in await page.messages("C0FORUM", HEIDI) if m["ephemeral"] and m["text"] ==
                confirmation[-1]["text"] and m["ts"] == confirmation[-1]["ts"]], "only Alice sees her confirmation"


async def test_schedule_a_post_and_jump_the_clock_to_see_it_posted(page: Page) -> None:
    await page.post("/api/command", **{"as": GRACE, "channel": GENERAL, "text": "/schedule"})
    assert (await page.modal(GRACE))["blocks"]
    draft = await page.post("/api/submit", **{"as": GRACE, "values": {
        BlockId.SCHEDULE_CHANNELS: [DIGEST], BlockId.SCHEDULE_MESSAGE: "Station open day on Saturday at Ipswich",
        BlockId.SCHEDULE_DAY: "2026-11-24", BlockId.SCHEDULE_TIME: "15:30", BlockId.SCHEDULE_REPEAT: "none"}})
    assert draft == {"ok": True, "errors": {}}
    assert (await page.post("/api/submit", **{"as": GRACE, "values": {}}))["ok"], "confirmed on the preview"
    assert not [m for m in await page.messages(DIGEST, ALICE) if "open day" in m["text"]]

    moved = await page.post("/api/clock", advance_minutes=60 * 30)
    assert moved["now_label"] == "Tuesday 24 November 2026, 16:00 (GMT)"
    assert "scheduled_posts.roll_forward" in moved["ran"]
    posted = [m for m in await page.messages(DIGEST, ALICE) if "Station open day" in m["text"]]
    assert len(posted) == 1
    flu = [m for m in await page.messages(GENERAL, ALICE) if "Flu jabs" in m["text"]]
    assert len(flu) == 1, "the demo trust's own scheduled post went at 09:00 on the way"


async def test_jump_to_monday_0800_to_see_the_digest(page: Page) -> None:
    presets = (await page.get("/api/clock/presets"))["presets"]
    monday = next(p for p in presets if "Monday" in p["label"])
    assert monday["to"] == "2026-11-30T08:00"
    before = len(await page.messages(DIGEST, ALICE))  # this week's went at start: 10:00 is within its grace
    moved = await page.post("/api/clock", to=monday["to"])
    assert moved["ok"] and "digest.weekly" in moved["ran"]
    digests = await page.messages(DIGEST, ALICE)
    assert [m["text"] for m in digests[before:]] == [":newspaper: Beacon weekly digest: week of 30 November 2026"]
    assert len(digests[-1]["blocks"]) > 3, "with its sections"
    again = await page.post("/api/clock", advance_minutes=60)
    assert again["ok"]
    assert len(await page.messages(DIGEST, ALICE)) == len(digests), "one digest per week, however the clock moves"


async def test_bad_requests_get_a_sentence(page: Page) -> None:
    assert (await page.post("/api/command", **{"as": ALICE, "text": "hello"}))["error"].startswith(
        "This sandbox only sends slash commands")
    assert "not a valid command" in (await page.post("/api/command", **{"as": ALICE, "text": "/nope"}))["error"]
    assert (await page.post("/api/clock", advance_minutes=-5))["error"] == "The sandbox clock only moves forward."
    assert "at most 35 days" in (await page.post("/api/clock", advance_minutes=60 * 24 * 60))["error"]
    assert (await page.get("/api/state", "U0NOBODY"))["error"] == "Choose who you are first."
    assert (await page.post("/api/submit", **{"as": ALICE, "values": {}}))["error"] == "That form has already closed."
    admin_only = await page.get("/api/conversation/C0ADMIN", ALICE)
    assert admin_only["error"] == "That conversation is not one of yours."


async def _eventually(probe: Any, within: float = 5.0) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            return await probe()
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)


async def test_the_timeline_fires_cron_jobs_at_their_own_moment_across_the_clocks_going_forward() -> None:
    """08:00 on the Monday after the clocks go forward is 07:00 UTC; a job every 30 s runs once per stop."""
    clock = TickingClock(datetime(2027, 3, 27, 12, 0, tzinfo=UTC))  # the Saturday before BST starts
    seen: list[tuple[str, datetime]] = []
    scheduler = AsyncIOScheduler(timezone="Europe/London")

    async def note(name: str) -> None:
        seen.append((name, clock.now()))

    scheduler.add_job(note, CronTrigger(day_of_week="mon", hour=8, timezone="Europe/London"), id="weekly",
                      kwargs={"name": "weekly"})
    scheduler.add_job(note, IntervalTrigger(seconds=30), id="often", kwargs={"name": "often"})
    timeline = Timeline(scheduler, clock)
    ran = await timeline.jump_to(datetime(2027, 3, 29, 9, 0, tzinfo=UTC))
    assert ran == ["often", "weekly"]
    weekly = [at for name, at in seen if name == "weekly"]
    assert len(weekly) == 1 and abs(weekly[0] - datetime(2027, 3, 29, 7, 0, tzinfo=UTC)) < timedelta(seconds=1)
    often = [at for name, at in seen if name == "often"]
    assert 40 < len(often) < 50, "once an hour on the way (45 hours) and at the weekly stop, not every 30 s"


def test_beacon_sandbox_is_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["sandbox", "--help"])
    assert re.search(r"--port PORT\s+port to serve the page on \(default 8000\)", capsys.readouterr().out)


async def test_a_port_in_use_is_one_readable_line(capsys: pytest.CaptureFixture[str]) -> None:
    from beacon.bot.sandbox.server import serve

    first = await Sandbox(port=0, seed=False, start=START).start()
    try:
        code = await serve(host="127.0.0.1", port=first.port, stop=asyncio.Event())
    finally:
        await first.stop()
    assert code == 2
    assert f"could not listen on 127.0.0.1:{first.port}" in capsys.readouterr().out

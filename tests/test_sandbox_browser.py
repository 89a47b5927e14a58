"""The sandbox in a real browser: Playwright drives Debian's Chromium (headless) through the four journeys a
trust's staff would try first. A screenshot of each step goes to test-output/sandbox/ (BEACON_TEST_OUTPUT to
change it).

Without /usr/bin/chromium these tests are skipped, except in CI (CI=1), where `.ci/run` installs it and a missing
browser is a failure.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from beacon.bot.sandbox.demo_trust import ALICE, DIGEST, GENERAL, GRACE, HEIDI, IVAN, RECOGNITION
from beacon.bot.sandbox.server import Sandbox

CHROMIUM = Path(os.environ.get("BEACON_CHROMIUM", "/usr/bin/chromium"))
OUTPUT = Path(os.environ.get("BEACON_TEST_OUTPUT", "test-output")) / "sandbox"
START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday
JUMP_MS = 30_000  # a jump of days walks through every hour on the way: about a second a day on this machine

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.async_api import Browser, Page, async_playwright, expect  # noqa: E402

STORY = ("Ivan talked a frightened caller through CPR for eleven minutes until the crew arrived, calm and clear "
         "the whole time, then checked in on the new starter who had been listening in.")


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    running = await Sandbox(port=0, start=START).start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            yield launched
        finally:
            await launched.close()


class Steps:
    """Screenshots, numbered in the order they were taken, for one test."""

    def __init__(self, page: Page, test: str):
        self.page, self.folder, self.count = page, OUTPUT / test, 0
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()

    async def shot(self, name: str) -> None:
        self.count += 1
        await self.page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"))


async def open_as(browser: Browser, sandbox: Sandbox, who: str, request: pytest.FixtureRequest) -> tuple[Page, Steps]:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    request.addfinalizer(lambda: _no_errors(errors))
    await page.goto(f"{sandbox.url}/?as={who}")
    await expect(page.get_by_test_id("person-select")).to_have_value(who)
    return page, Steps(page, request.node.name)


def _no_errors(errors: list[str]) -> None:
    assert not errors, f"the page raised: {errors}"


async def go_to(page: Page, channel: str) -> None:
    await page.get_by_test_id(f"nav-channel-{channel}").click()
    await expect(page.get_by_test_id("messages")).to_be_visible()


async def type_command(page: Page, text: str) -> None:
    composer = page.get_by_test_id("composer")
    await composer.fill(text)
    await composer.press("Escape")  # close the command suggestions, so Enter sends what was typed
    await composer.press("Enter")


def block(page: Page, block_id: str):  # a Playwright Locator
    return page.get_by_test_id("modal").locator(f'[data-block-id="{block_id}"]')


async def test_nominate_a_colleague_through_the_modal_and_consent_as_the_nominee(
        sandbox: Sandbox, browser: Browser, request: pytest.FixtureRequest) -> None:
    page, steps = await open_as(browser, sandbox, HEIDI, request)
    await go_to(page, GENERAL)
    await type_command(page, "/nominate @ivan")
    modal = page.get_by_test_id("modal")
    await expect(modal).to_be_visible()
    await steps.shot("nomination-form")

    await block(page, "nominate_award").locator('input[value="values"]').check()
    await expect(block(page, "nominate_values")).to_be_visible()
    await block(page, "nominate_values").locator('input[value="teamwork"]').check()
    await block(page, "nominate_story").locator("textarea").fill("Too short.")
    await block(page, "nominate_options").locator('input[value="share_publicly"]').check()
    await block(page, "nominate_no_patient_details").locator("input").check()
    await page.get_by_test_id("modal-submit").click()
    await expect(modal.get_by_test_id("field-error")).to_be_visible()  # the story is too short (client or Beacon)
    await steps.shot("story-too-short")

    await block(page, "nominate_story").locator("textarea").fill(STORY)
    await page.get_by_test_id("modal-submit").click()
    await expect(modal).to_be_hidden()
    await steps.shot("nomination-sent")

    await page.get_by_test_id("person-select").select_option(IVAN)
    await page.get_by_test_id("nav-dm").click()
    consent = page.get_by_test_id("message").filter(has_text="Heidi Hart").filter(
        has=page.locator('[data-action-id="consent_give"]')).last
    await expect(consent).to_be_visible()
    await steps.shot("nominee-asked-for-consent")
    await consent.locator('[data-action-id="consent_give"]').click()

    await go_to(page, RECOGNITION)
    celebration = page.get_by_test_id("message").filter(has_text="Heidi Hart").filter(has_text="Ivan Iles")
    await expect(celebration).to_have_count(1)
    await expect(celebration).to_contain_text("Delivering Excellence through Values")
    await steps.shot("celebrated-in-recognition")


async def test_answer_a_pulse(sandbox: Sandbox, browser: Browser, request: pytest.FixtureRequest) -> None:
    page, steps = await open_as(browser, sandbox, ALICE, request)
    await go_to(page, "C0FORUM")
    pulse = page.get_by_test_id("message").filter(has_text="Winter pressures").last
    await expect(pulse).to_be_visible()
    await steps.shot("pulse-in-the-forum")
    await pulse.get_by_role("button", name="Stretched").click()
    mine = page.locator('[data-testid="message"][data-ephemeral="true"]').filter(
        has_text="So that nobody can tell which answer is yours")
    await expect(mine).to_be_visible()
    await expect(mine).to_contain_text("Only visible to you")
    await steps.shot("answer-confirmed-privately")
    ts = await mine.get_attribute("data-ts")

    await page.get_by_test_id("person-select").select_option(HEIDI)
    await go_to(page, "C0FORUM")
    await expect(page.get_by_test_id("message").filter(has_text="Winter pressures").last).to_be_visible()
    await expect(page.locator(f'[data-testid="message"][data-ts="{ts}"]')).to_have_count(0)


async def test_schedule_a_post_and_jump_the_clock_to_see_it_posted(
        sandbox: Sandbox, browser: Browser, request: pytest.FixtureRequest) -> None:
    page, steps = await open_as(browser, sandbox, GRACE, request)
    await go_to(page, GENERAL)
    await type_command(page, "/schedule")
    modal = page.get_by_test_id("modal")
    await expect(modal).to_be_visible()
    await block(page, "schedule_channels").locator("select").select_option([DIGEST])
    await block(page, "schedule_message").locator("textarea").fill(
        "Station open day at Ipswich on Saturday, 10:00 to 16:00: families welcome.")
    await block(page, "schedule_day").locator("input").fill("2026-11-25")
    await block(page, "schedule_time").locator("input").fill("11:30")
    await steps.shot("compose")
    await page.get_by_test_id("modal-submit").click()
    await expect(page.get_by_test_id("modal-title")).to_have_text(re.compile("preview|check|confirm", re.I))
    await steps.shot("preview")
    await page.get_by_test_id("modal-submit").click()
    await expect(modal).to_be_hidden()

    await go_to(page, DIGEST)
    open_day = page.get_by_test_id("message").filter(has_text="Station open day at Ipswich")
    await expect(open_day).to_have_count(0)
    await page.get_by_test_id("clock-plus-day").click()
    await expect(page.get_by_test_id("clock-now")).to_contain_text("Wednesday 25 November 2026, 10:00",
                                                                   timeout=JUMP_MS)
    await expect(open_day).to_have_count(0)
    await page.get_by_test_id("clock-plus-hour").click()
    await page.get_by_test_id("clock-plus-hour").click()
    await expect(page.get_by_test_id("clock-now")).to_contain_text("12:00")
    await expect(open_day).to_have_count(1)
    await steps.shot("posted-after-the-clock-moved")


async def test_see_the_weekly_digest(sandbox: Sandbox, browser: Browser, request: pytest.FixtureRequest) -> None:
    page, steps = await open_as(browser, sandbox, ALICE, request)
    await go_to(page, DIGEST)
    digests = page.get_by_test_id("message").filter(has_text="Beacon weekly digest")
    before = await digests.count()
    await page.get_by_role("button", name=re.compile("Next Monday 08:00")).click()
    await expect(page.get_by_test_id("clock-now")).to_contain_text("Monday 30 November 2026, 08:00", timeout=JUMP_MS)
    await expect(digests).to_have_count(before + 1)
    latest = digests.last
    await expect(latest).to_contain_text("week of 30 November 2026")
    await expect(latest).to_contain_text("Chelmsford")  # leaders out and about this week
    await latest.scroll_into_view_if_needed()
    await steps.shot("weekly-digest")

    await page.get_by_test_id("nav-home").click()
    await expect(page.get_by_test_id("home")).to_contain_text("Alice Ambrose")
    await steps.shot("app-home")


async def test_user_text_is_shown_as_typed_and_pings_nobody(
        sandbox: Sandbox, browser: Browser, request: pytest.FixtureRequest) -> None:
    page, steps = await open_as(browser, sandbox, HEIDI, request)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await go_to(page, GENERAL)
    await type_command(page, "/nominate @ivan")
    await block(page, "nominate_award").locator('input[value="thanks"]').check()
    await expect(block(page, "nominate_values")).to_be_visible()
    await block(page, "nominate_values").locator('input[value="care"]').check()
    story = "<!channel> <img src=x onerror=alert(1)> *thank you* for covering my shift at no notice last weekend!"
    await block(page, "nominate_story").locator("textarea").fill(story)
    await block(page, "nominate_no_patient_details").locator("input").check()
    await page.get_by_test_id("modal-submit").click()
    await expect(page.get_by_test_id("modal")).to_be_hidden()

    await page.get_by_test_id("person-select").select_option(IVAN)
    await page.get_by_test_id("nav-dm").click()
    asked = page.get_by_test_id("message").filter(has_text="covering my shift").last
    await expect(asked).to_contain_text("<!channel> <img src=x onerror=alert(1)>")
    await expect(asked.locator(".mention-broadcast")).to_have_count(0)
    await expect(asked.locator("img[src='x']")).to_have_count(0)
    await steps.shot("shown-as-typed")
    assert dialogs == []

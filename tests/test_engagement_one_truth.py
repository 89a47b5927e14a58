"""One truth per engagement: every post about it (the engagement channel, the site's channel, the day-before
reminder) shows the same count, a click on any of them updates all of them through the outbox, and a reminder
stays a reminder."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from beacon.bot.ids import ActionId, BlockId
from tests.harness import ALICE, CAROL, CHELMSFORD, DAVE, ENGAGEMENT, HEIDI, Beacon, settle


def _count(message: object) -> str:
    blocks = json.dumps(message.blocks)  # type: ignore[attr-defined]
    return next(t for t in ("Be the first", "1 colleague is going", "2 colleagues are going",
                            "3 colleagues are going") if t in blocks)


async def test_every_post_about_a_visit_shows_the_same_count(beacon: Beacon) -> None:
    carol = beacon.slack.person(CAROL)
    await carol.command("/visit")
    await settle()
    await carol.submit({BlockId.VISIT_SITE: "Chelmsford Ambulance Station", BlockId.VISIT_DAY: "2026-11-25",
                        BlockId.VISIT_STARTS: "14:00", BlockId.VISIT_ENDS: "15:30",
                        BlockId.VISIT_PURPOSE: "Meet the day shift", BlockId.VISIT_OPEN_TO: "All staff"})
    await settle()
    await beacon.deps.dispatcher.run_once()
    [main] = beacon.ws.messages(ENGAGEMENT)
    [local] = beacon.ws.messages(CHELMSFORD)
    await beacon.slack.person(ALICE).click(ActionId.CALENDAR_ATTEND, message=local)
    await beacon.slack.person(HEIDI).click(ActionId.CALENDAR_ATTEND, message=main)
    await settle()
    await beacon.deps.dispatcher.run_once()
    assert _count(main) == _count(local) == "2 colleagues are going"

    beacon.clock.set(datetime(2026, 11, 24, 16, tzinfo=UTC))
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.engagements.day_before(session=session, worker="test")
    await beacon.deps.dispatcher.run_once()
    reminder = beacon.ws.messages(CHELMSFORD)[-1]
    assert reminder.text.startswith(":wave: Tomorrow:") and _count(reminder) == "2 colleagues are going"
    await beacon.slack.person(DAVE).click(ActionId.CALENDAR_ATTEND, message=reminder)
    await settle()
    await beacon.deps.dispatcher.run_once()
    assert reminder.text.startswith(":wave: Tomorrow:"), "the reminder is not rewritten into the announcement"
    assert _count(main) == _count(local) == _count(reminder) == "3 colleagues are going"
    await beacon.slack.person(ALICE).click(ActionId.CALENDAR_ATTEND, message=main)
    await settle()
    await beacon.deps.dispatcher.run_once()
    assert _count(main) == _count(local) == _count(reminder) == "2 colleagues are going"

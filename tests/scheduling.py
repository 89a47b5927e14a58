"""Scheduling a post through Slack as a comms member does it: command, modal, preview, confirm."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select

from beacon.bot.ids import BlockId, CallbackId
from beacon.bot.local_slack import Person
from beacon.bot.local_slack.server import Reply
from beacon.bot.models import OutboxMessage, ScheduledPost
from tests.harness import GENERAL, Beacon, settle


async def compose(person: Person, *, channels: list[str], message: str | dict[str, Any], day: date,
                  at: time, repeat: str = "none", until: date | None = None, from_channel: str = GENERAL) -> Reply:
    """Run /schedule and submit the compose modal; returns the submission's reply."""
    await person.command("/schedule", channel=from_channel)
    await settle()
    modal = person.modal
    assert modal is not None and modal.callback_id == CallbackId.SCHEDULE_COMPOSE, "the compose modal opened"
    return await fill_compose(person, channels=channels, message=message, day=day, at=at, repeat=repeat,
                              until=until)


async def fill_compose(person: Person, *, channels: list[str] | None = None,
                       message: str | dict[str, Any] | None = None, day: date | None = None,
                       at: time | None = None, repeat: str | None = None, until: date | None = None) -> Reply:
    values: dict[str, Any] = {}
    for block, value in ((BlockId.SCHEDULE_CHANNELS, channels), (BlockId.SCHEDULE_MESSAGE, message),
                         (BlockId.SCHEDULE_DAY, day), (BlockId.SCHEDULE_TIME, at.strftime("%H:%M") if at else None),
                         (BlockId.SCHEDULE_REPEAT, repeat), (BlockId.SCHEDULE_UNTIL, until)):
        if value is not None:
            values[block] = value
    reply = await person.submit(values)
    await settle()
    return reply


async def confirm(person: Person, *, large_audience: list[str] | None = None) -> Reply:
    """Press Schedule on the preview (ticking the large-audience boxes when given)."""
    modal = person.modal
    assert modal is not None and modal.callback_id == CallbackId.SCHEDULE_PREVIEW, "the preview is showing"
    values = {BlockId.SCHEDULE_AUDIENCE: large_audience} if large_audience else None
    reply = await person.submit(values)
    await settle()
    return reply


async def schedule(person: Person, **draft: Any) -> Reply:
    reply = await compose(person, **draft)
    assert reply.json.get("response_action") == "push", f"the draft was accepted: {reply.json}"
    return await confirm(person)


async def outbox_rows(beacon: Beacon) -> list[OutboxMessage]:
    async with beacon.deps.db.transaction() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def scheduled_posts(beacon: Beacon) -> list[ScheduledPost]:
    async with beacon.deps.db.transaction() as session:
        return list((await session.scalars(select(ScheduledPost).order_by(ScheduledPost.id))).all())


async def tick(beacon: Beacon, moment: datetime) -> None:
    """Time moves on to `moment`, and Beacon's two delivery jobs run, as the scheduler would run them."""
    beacon.clock.set(moment)
    async with beacon.deps.db.transaction() as session:
        await beacon.deps.scheduled_posts.roll_forward(session=session)
    await beacon.deps.dispatcher.run_once()
    await settle()

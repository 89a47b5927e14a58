"""Nominating through Slack as a person does it: /nominate, choose an award, fill the modal, send."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from beacon.bot.blocks.nominations import HIDE_NAME, NO_PATIENT_DETAILS, SHARE
from beacon.bot.ids import ActionId, BlockId, CallbackId
from beacon.bot.local_slack import Person
from beacon.bot.local_slack.server import Reply
from beacon.bot.models import Nomination, Nominee
from tests.harness import Beacon, settle

STORY = ("Alice stayed two hours after her shift ended to talk a newly qualified colleague through a very hard "
         "call. Calm, kind and honest, exactly what the Trust values mean.")


async def open_modal(person: Person, text: str = "") -> None:
    await person.command("/nominate", text)
    await settle()
    assert person.modal is not None and person.modal.callback_id == CallbackId.NOMINATE, "the nomination modal opened"


async def choose_award(person: Person, award: str) -> None:
    await person.click(ActionId.NOMINATE_AWARD, value=award)
    await settle()


async def fill_and_send(person: Person, *, colleagues: list[str] | None = None, values: list[str] | None = None,
                        behaviours: list[str] | None = None, story: str = STORY, share: bool = True,
                        hide: bool = False, confirm: bool = True, not_on_slack: str | None = None,
                        on_behalf: str | None = None) -> Reply:
    entries: dict[str, Any] = {BlockId.NOMINATE_STORY: story,
                               BlockId.NOMINATE_VALUES: values if values is not None else ["care"],
                               BlockId.NOMINATE_OPTIONS: [o for o, on in ((SHARE, share), (HIDE_NAME, hide)) if on],
                               BlockId.NOMINATE_NO_PATIENT_DETAILS: [NO_PATIENT_DETAILS] if confirm else []}
    if colleagues is not None:
        entries[BlockId.NOMINATE_COLLEAGUES] = colleagues
    if behaviours is not None:
        entries[BlockId.NOMINATE_BEHAVIOURS] = behaviours
    if not_on_slack is not None:
        entries[BlockId.NOMINATE_NOT_ON_SLACK] = not_on_slack
    if on_behalf is not None:
        entries[BlockId.NOMINATE_ON_BEHALF] = on_behalf
    reply = await person.submit(entries)
    await settle()
    return reply


async def nominate(person: Person, *, award: str = "values", text: str = "", **fields: Any) -> Reply:
    await open_modal(person, text)
    await choose_award(person, award)
    return await fill_and_send(person, **fields)


async def deliver(beacon: Beacon) -> None:
    """Everything the outbox holds goes out now (DMs, celebrations): once the work of earlier clicks (which runs
    after their ack) has written its promises."""
    await settle()
    await beacon.deps.dispatcher.run_once()
    await settle()


async def nominations(beacon: Beacon) -> list[tuple[Nomination, list[Nominee]]]:
    async with beacon.deps.db.transaction() as session:
        rows = list((await session.scalars(select(Nomination).order_by(Nomination.id))).all())
        return [(n, list((await session.scalars(select(Nominee).where(Nominee.nomination_id == n.id))).all()))
                for n in rows]

"""A second comms member approves scheduled posts when the trust asks for it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from beacon.bot.ids import ActionId
from beacon.bot.models import OutboxStatus, PostStatus, ScheduledPost
from beacon.bot.organisation import Organisation
from tests.harness import (
    BOB,
    GENERAL,
    GRACE,
    Beacon,
    organisation_for,
    settle,
)
from tests.scheduling import outbox_rows, schedule, tick

TOMORROW = date(2026, 11, 24)


async def _post(beacon: Beacon) -> ScheduledPost:
    async with beacon.deps.db.transaction() as session:
        return (await session.scalars(select(ScheduledPost))).one()


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# -- approval -----------------------------------------------------------------------------------------------
@pytest.fixture
def organisation(slack) -> Organisation:  # type: ignore[no-untyped-def]
    return organisation_for(slack.workspace, schedule={"require_approval": True})


async def _schedule_for_approval(beacon: Beacon) -> None:
    await schedule(beacon.slack.person(GRACE), channels=[GENERAL], message="Needs a second pair of eyes",
                   day=TOMORROW, at=time(9, 0))
    await beacon.deps.dispatcher.run_once()  # the approval requests go out
    await settle()


async def test_a_post_needing_approval_waits_then_goes_out_once_approved(beacon: Beacon) -> None:
    await _schedule_for_approval(beacon)
    grace, bob = beacon.slack.person(GRACE), beacon.slack.person(BOB)
    assert "once a second member of the communications team approves it" in grace.dms()[-1].text
    assert [r.status for r in await outbox_rows(beacon) if r.source == "scheduled_post"] == [OutboxStatus.HELD]
    request = bob.dms()[-1]
    assert "<@U0GRACE> scheduled a post to <#C0GENERAL>" in request.text
    assert not any("scheduled a post" in m.text for m in grace.dms()), "the author is not asked to approve"

    await bob.click(ActionId.SCHEDULE_APPROVE, message=request)
    await settle()
    assert "approved this post" in json.dumps(bob.dms()[-1].blocks), "the request now says it was decided"
    assert (await _post(beacon)).approved_by == BOB
    await beacon.deps.dispatcher.run_once()
    assert "approved your post" in grace.dms()[-1].text

    await tick(beacon, _utc(2026, 11, 24, 9, 0))
    assert [m.text for m in beacon.ws.messages(GENERAL)] == ["Needs a second pair of eyes"]


async def test_an_unapproved_post_is_not_sent_and_its_author_is_told(beacon: Beacon) -> None:
    await _schedule_for_approval(beacon)
    await tick(beacon, _utc(2026, 11, 24, 9, 0))
    await beacon.deps.dispatcher.run_once()
    assert beacon.ws.messages(GENERAL) == []
    assert "nobody from the communications team approved it" in beacon.slack.person(GRACE).dms()[-1].text
    bob = beacon.slack.person(BOB)
    await bob.click(ActionId.SCHEDULE_APPROVE, message=bob.dms()[0])
    await settle()
    assert "Too late" in bob.last_ephemeral().text


async def test_a_rejected_post_is_never_sent(beacon: Beacon) -> None:
    await _schedule_for_approval(beacon)
    bob = beacon.slack.person(BOB)
    await bob.click(ActionId.SCHEDULE_REJECT, message=bob.dms()[-1])
    await settle()
    assert (await _post(beacon)).status == PostStatus.REJECTED
    await tick(beacon, _utc(2026, 11, 24, 9, 0))
    await beacon.deps.dispatcher.run_once()
    assert beacon.ws.messages(GENERAL) == []
    assert "<@U0BOB> rejected your post" in beacon.slack.person(GRACE).dms()[-1].text


async def test_nobody_approves_their_own_post(beacon: Beacon) -> None:
    await _schedule_for_approval(beacon)
    post = await _post(beacon)
    async with beacon.deps.db.transaction() as session:
        with pytest.raises(Exception, match="you cannot approve your own"):
            await beacon.deps.scheduled_posts.decide(session=session, user_id=GRACE, post_id=post.id or 0,
                                                     approve=True)

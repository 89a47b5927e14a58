"""Beacon reads every page Slack gives: slack_sdk follows `next_cursor` for users, channel members and history."""

from datetime import UTC, datetime

from beacon.bot.clock import SystemClock
from beacon.bot.deps import build_slack_client
from beacon.bot.integrations.slack_channels import SlackChannelMembers
from beacon.bot.integrations.slack_delivery import METADATA_EVENT, SlackSender
from beacon.bot.integrations.slack_users import SlackUserDirectory
from beacon.bot.local_slack import LocalSlack
from beacon.bot.models import OutboxMessage
from beacon.bot.services.outbox import OutboxStatus
from tests.harness import ALICE, GENERAL, settings_for


def _client(slack: LocalSlack):  # type: ignore[no-untyped-def]
    return build_slack_client(settings_for(slack, "sqlite+aiosqlite:///unused.db"))


async def test_everyone_is_loaded_across_pages_of_users(slack: LocalSlack) -> None:
    ws = slack.workspace
    for n in range(450):  # users.list gives 200 a page: three pages with those already there
        ws.add_user(f"U9{n:07d}", f"person{n}", f"Person {n}")
    directory = SlackUserDirectory(_client(slack), SystemClock())
    assert await directory.refresh_all() == len(ws.users)
    assert len(ws.calls_to("users.list")) == 3


async def test_channel_members_are_read_across_pages(slack: LocalSlack) -> None:
    ws = slack.workspace
    people = {f"U8{n:07d}" for n in range(2100)}
    for user_id in people:
        ws.add_user(user_id, user_id.lower(), user_id)
    ws.add_channel("C0BIG", "big", members=people | {ALICE})
    client = _client(slack)
    members = await SlackChannelMembers(client, SlackUserDirectory(client, SystemClock())).members("C0BIG")
    assert set(members) == people | {ALICE}
    assert len(ws.calls_to("conversations.members")) == 3  # 1,000 a page


async def test_a_sent_message_is_found_on_a_later_page_of_history(slack: LocalSlack) -> None:
    ws = slack.workspace
    message = OutboxMessage(id=4242, channel=GENERAL, content={"template": "post"}, status=OutboxStatus.SENDING,
                            created_at=datetime.now(UTC))
    posted = ws.post(GENERAL, user=ws.bot_user_id, text="sent before the crash", as_bot=True,
                     metadata={"event_type": METADATA_EVENT, "event_payload": {"outbox_id": 4242}})
    for n in range(250):  # newer messages push it onto the second page of 200
        ws.post(GENERAL, user=ALICE, text=f"chatter {n}")
    sender = SlackSender(_client(slack), render=None, pacer=None)  # type: ignore[arg-type]
    found = await sender.find_sent(message)
    assert found is not None and found.ts == posted.ts
    assert len(ws.calls_to("conversations.history")) == 2

"""The local Slack answers as Slack does: errors, scopes, triggers, view hashes and rate limits."""

import time

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import build_slack_client
from bot.local_slack import LocalSlack
from bot.local_slack.limits import RateLimits
from tests.harness import ALICE, GENERAL, settings_for


def _client(slack: LocalSlack, token: str | None = None) -> AsyncWebClient:
    client = build_slack_client(settings_for(slack, "sqlite+aiosqlite://"))
    if token:
        client.token = token
    return client


async def test_posting_where_the_bot_cannot_fails_like_slack(slack: LocalSlack) -> None:
    ws = slack.workspace
    ws.add_channel("C0NOTIN", "not-in", members={ALICE}, bot_is_member=False)
    ws.add_channel("C0ARCH", "archived", is_archived=True)
    client = _client(slack)
    for channel, error in (("C0NOPE", "channel_not_found"), ("C0NOTIN", "not_in_channel"),
                           ("C0ARCH", "is_archived")):
        with pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(channel=channel, text="hello")
        assert caught.value.response["error"] == error


async def test_a_bad_token_and_a_missing_scope(slack: LocalSlack) -> None:
    with pytest.raises(SlackApiError, match="invalid_auth"):
        await _client(slack, token="xoxb-wrong").auth_test()
    slack.workspace.scopes = {"chat:write"}
    with pytest.raises(SlackApiError) as caught:
        await _client(slack).users_info(user=ALICE)
    assert caught.value.response["error"] == "missing_scope"
    assert caught.value.response["needed"] == "users:read"


async def test_triggers_expire_and_cannot_be_reused(slack: LocalSlack) -> None:
    ws = slack.workspace
    client = _client(slack)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Hi"}, "blocks": []}
    trigger = ws.issue_trigger(ALICE)
    await client.views_open(trigger_id=trigger, view=view)
    with pytest.raises(SlackApiError, match="exchanged_trigger_id"):
        await client.views_open(trigger_id=trigger, view=view)
    old = ws.issue_trigger(ALICE)
    user, _ = ws.triggers[old]
    ws.triggers[old] = (user, time.monotonic() - 4)
    with pytest.raises(SlackApiError, match="expired_trigger_id"):
        await client.views_open(trigger_id=old, view=view)


async def test_views_update_with_a_stale_hash_conflicts(slack: LocalSlack) -> None:
    client = _client(slack)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Hi"}, "blocks": []}
    opened = (await client.views_open(trigger_id=slack.workspace.issue_trigger(ALICE), view=view))["view"]
    await client.views_update(view_id=opened["id"], hash=opened["hash"], view=view)
    with pytest.raises(SlackApiError, match="hash_conflict"):
        await client.views_update(view_id=opened["id"], hash=opened["hash"], view=view)


async def test_rate_limits_answer_429_with_retry_after_and_the_client_waits(slack: LocalSlack) -> None:
    slack.limits = RateLimits(post_per_channel_per_second=1.0)
    client = _client(slack)
    started = time.monotonic()
    await client.chat_postMessage(channel=GENERAL, text="one")
    await client.chat_postMessage(channel=GENERAL, text="two")  # limited, retried after Retry-After
    assert time.monotonic() - started >= 0.9
    statuses = [c.status for c in slack.workspace.calls_to("chat.postMessage")]
    assert statuses == [200, 429, 200]
    assert [m.text for m in slack.workspace.messages(GENERAL)] == ["one", "two"]


async def test_server_errors_and_dropped_connections_are_retried(slack: LocalSlack) -> None:
    slack.faults.add("chat.postMessage", status=503)
    slack.faults.add("chat.postMessage", disconnect=True)
    await _client(slack).chat_postMessage(channel=GENERAL, text="got there")
    assert [m.text for m in slack.workspace.messages(GENERAL)] == ["got there"]
    assert len(slack.workspace.calls_to("chat.postMessage")) == 3


async def test_history_carries_metadata_only_when_asked(slack: LocalSlack) -> None:
    slack.workspace.scopes = None  # every scope
    client = _client(slack)
    metadata = {"event_type": "beacon_outbox", "event_payload": {"outbox_id": 7}}
    await client.chat_postMessage(channel=GENERAL, text="hi", metadata=metadata)
    plain = await client.conversations_history(channel=GENERAL)
    assert "metadata" not in plain["messages"][0]
    full = await client.conversations_history(channel=GENERAL, include_all_metadata=True)
    assert full["messages"][0]["metadata"] == metadata

"""The local Slack answers as Slack does: errors, scopes, triggers, view hashes and rate limits."""

import time

import pytest
from aiohttp import ClientSession
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from beacon.bot.deps import build_slack_client
from beacon.bot.local_slack import LocalSlack
from beacon.bot.local_slack.limits import RateLimits
from beacon.bot.local_slack.workspace import ResponseTarget
from tests.harness import ALICE, GENERAL, settings_for


def _client(slack: LocalSlack, token: str | None = None) -> AsyncWebClient:
    client = build_slack_client(settings_for(slack, "sqlite+aiosqlite:///unused.db"))
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


async def test_blocks_over_slacks_limits_are_refused_as_slack_refuses_them(slack: LocalSlack) -> None:
    """Messages, ephemerals and edits over a documented limit fail here as they would in Slack, with its words."""
    client = _client(slack)
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "&amp;" * 601}}]
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=GENERAL, text="story", blocks=too_long)
    assert caught.value.response["error"] == "invalid_blocks"
    assert caught.value.response["errors"] == ["must be less than 3001 characters [json-pointer:/blocks/0/text/text]"]
    assert caught.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"]
    button = {"type": "actions", "elements": [{"type": "button", "action_id": "a", "value": "1",
                                               "text": {"type": "plain_text", "text": "x" * 76}}]}
    posted = await client.chat_postMessage(channel=GENERAL, text="fine")
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        await client.chat_update(channel=GENERAL, ts=posted["ts"], text="edit", blocks=[button])
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        await client.chat_postEphemeral(channel=GENERAL, user=ALICE, text="x", blocks=[{"type": "section"}])
    with pytest.raises(SlackApiError, match="msg_too_long"):
        await client.chat_postMessage(channel=GENERAL, text="x" * 40_001)
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        await client.chat_postMessage(channel=GENERAL, text="many", blocks=[{"type": "divider"}] * 51)
    assert [m.text for m in slack.workspace.messages(GENERAL)] == ["fine"], "nothing refused was shown"


async def test_views_over_slacks_limits_are_refused_with_invalid_arguments(slack: LocalSlack) -> None:
    client = _client(slack)
    title = {"type": "modal", "title": {"type": "plain_text", "text": "Recognise a colleague now"}, "blocks": []}
    with pytest.raises(SlackApiError) as caught:
        await client.views_open(trigger_id=slack.workspace.issue_trigger(ALICE), view=title)
    assert caught.value.response["error"] == "invalid_arguments"
    assert caught.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"]
    option = {"type": "modal", "title": {"type": "plain_text", "text": "Hi"}, "submit": {"type": "plain_text",
                                                                                        "text": "Send"},
              "blocks": [{"type": "input", "block_id": "b", "label": {"type": "plain_text", "text": "Pick"},
                          "element": {"type": "static_select", "action_id": "a", "options": [
                              {"text": {"type": "plain_text", "text": "o"}, "value": "v" * 151}]}}]}
    with pytest.raises(SlackApiError) as caught:
        await client.views_open(trigger_id=slack.workspace.issue_trigger(ALICE), view=option)
    assert "[json-pointer:/view/blocks/0/element/options/0/value]" in caught.value.response["response_metadata"][
        "messages"][0]
    home = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        await client.views_publish(user_id=ALICE, view=home)
    assert ALICE not in slack.workspace.home_views


async def test_a_response_url_refuses_oversized_blocks_with_400(slack: LocalSlack) -> None:
    token = slack.workspace.issue_response_url_token(ResponseTarget(channel=GENERAL, user=ALICE))
    async with ClientSession() as http:
        refused = await http.post(f"{slack.url}/respond/{token}", json={
            "text": "x", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]})
        assert (refused.status, await refused.text()) == (400, "invalid_blocks")
        shown = await http.post(f"{slack.url}/respond/{token}", json={"text": "fine"})
        assert shown.status == 200
    assert [e.text for e in slack.workspace.ephemerals_for(ALICE)] == ["fine"]


async def test_thread_replies_are_in_the_thread_and_never_in_history(slack: LocalSlack) -> None:
    """As in Slack: conversations.history holds top-level messages (and replies also sent to the channel);
    conversations.replies holds the parent and its replies, oldest first, paged, with metadata when asked."""
    slack.workspace.scopes = None
    client = _client(slack)
    parent = await client.chat_postMessage(channel=GENERAL, text="parent")
    metadata = {"event_type": "beacon_outbox", "event_payload": {"outbox_id": 9}}
    for i in range(3):
        await client.chat_postMessage(channel=GENERAL, text=f"reply {i}", thread_ts=parent["ts"], metadata=metadata)
    await client.chat_postMessage(channel=GENERAL, text="broadcast", thread_ts=parent["ts"], reply_broadcast=True)
    history = await client.conversations_history(channel=GENERAL)
    assert [m["text"] for m in history["messages"]] == ["broadcast", "parent"]
    first = await client.conversations_replies(channel=GENERAL, ts=parent["ts"], limit=2, include_all_metadata=True)
    assert [m["text"] for m in first["messages"]] == ["parent", "reply 0"] and first["has_more"]
    assert first["messages"][1]["metadata"] == metadata
    rest = await client.conversations_replies(channel=GENERAL, ts=parent["ts"], limit=2,
                                              cursor=first["response_metadata"]["next_cursor"])
    assert [m["text"] for m in rest["messages"]] == ["reply 1", "reply 2"]
    with pytest.raises(SlackApiError, match="thread_not_found"):
        await client.conversations_replies(channel=GENERAL, ts="1.000001")
    slack.workspace.add_channel("C0NOTIN", "not-in", members={ALICE}, bot_is_member=False)
    with pytest.raises(SlackApiError, match="not_in_channel"):
        await client.conversations_replies(channel="C0NOTIN", ts=parent["ts"])

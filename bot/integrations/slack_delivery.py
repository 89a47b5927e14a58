"""Sending outbox rows with chat.postMessage, and finding one that was sent before a crash."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from beacon.bot.blocks.notices import Outgoing
from beacon.bot.integrations.slack_pacing import Pacer
from beacon.bot.models import OutboxMessage
from beacon.bot.services.delivery import SendOutcome, SendResult

log = logging.getLogger(__name__)

METADATA_EVENT = "beacon_outbox"
# ok:false errors that say "try again"; every other error is permanent and never retried.
TEMPORARY_ERRORS = {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable",
                    "request_timeout", "team_added_to_org",
                    # The token is being rotated or the app reinstalled: what is due waits for the new token
                    # (within its grace period) instead of failing for good.
                    "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
HISTORY_PAGES = 5
BUILD_FAILED = "could_not_build"

Render = Callable[[dict[str, Any]], Outgoing]


def outbox_metadata(message_id: int) -> dict[str, Any]:
    return {"event_type": METADATA_EVENT, "event_payload": {"outbox_id": message_id}}


class SlackSender:
    """The outbox's Sender for Slack. Its client has no automatic retries: the dispatcher decides."""

    def __init__(self, client: AsyncWebClient, *, render: Render, pacer: Pacer):
        self._client = client
        self._render = render
        self._pacer = pacer

    async def wait_turn(self, channel: str) -> None:
        await self._pacer.wait_turn(channel)

    async def send(self, message: OutboxMessage) -> SendResult:
        try:
            out = self._render(message.content)
        except Exception as error:  # a message that cannot be built never will be: fail it, and say why
            log.exception("an outbox row could not be built", extra={"outbox_id": message.id})
            return SendResult(SendOutcome.PERMANENT, error=f"{BUILD_FAILED}: {type(error).__name__}")
        try:
            if message.update_ts:  # an edit: doing it twice does no harm, so it needs no metadata
                response = await self._client.chat_update(channel=message.channel, ts=message.update_ts,
                                                          text=out.text, blocks=out.blocks or None)
                return SendResult(SendOutcome.SENT, ts=response["ts"], channel=response["channel"])
            if out.file:
                filename, title, data = out.file
                response = await self._client.files_upload_v2(
                    channel=message.channel, thread_ts=message.thread_ts, content=data, filename=filename,
                    title=f"{title} (#{message.id})", initial_comment=out.text)
                return SendResult(SendOutcome.SENT, ts=str(response["file"]["id"]), channel=message.channel)
            response = await self._client.chat_postMessage(
                channel=message.channel, text=out.text, blocks=out.blocks or None, thread_ts=message.thread_ts,
                reply_broadcast=out.broadcast if message.thread_ts else None,
                metadata=outbox_metadata(message.id or 0), unfurl_links=False, unfurl_media=False)
        except SlackApiError as error:
            return self._classify(error)
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            return SendResult(SendOutcome.RETRY, error=f"network: {type(error).__name__}", maybe_sent=True)
        return SendResult(SendOutcome.SENT, ts=response["ts"], channel=response["channel"])

    def _classify(self, error: SlackApiError) -> SendResult:
        status = error.response.status_code
        data = error.response.data  # JSON from Slack; text (or nothing) from a proxy or a 5xx page
        code = str((data.get("error") if isinstance(data, dict) else None) or f"http_{status}")
        if status == 429:
            retry_after = float(error.response.headers.get("Retry-After", 1))
            self._pacer.cool_down(retry_after)
            return SendResult(SendOutcome.RETRY, error="ratelimited", retry_after=retry_after)
        if status >= 500:
            return SendResult(SendOutcome.RETRY, error=code, maybe_sent=True)
        if code in TEMPORARY_ERRORS:
            return SendResult(SendOutcome.RETRY, error=code)
        return SendResult(SendOutcome.PERMANENT, error=code)

    async def find_sent(self, message: OutboxMessage) -> SendResult | None:
        """Look for this row's metadata in what was posted since it was written (only after an interrupted
        attempt): the channel's recent history, or the thread's replies for a thread reply."""
        if message.update_ts:
            return None  # an edit is simply made again
        if message.content.get("template") == "pulse_chart":
            return await self._find_upload(message)
        try:
            channel = message.channel
            if channel.startswith(("U", "W")):
                channel = (await self._client.conversations_open(users=channel))["channel"]["id"]
            oldest = f"{message.created_at.timestamp() - 60:.6f}"
            # A thread reply is never in the channel's history: it is only in the thread's replies.
            if message.thread_ts:
                first = await self._client.conversations_replies(
                    channel=channel, ts=message.thread_ts, oldest=oldest, limit=200, include_all_metadata=True)
            else:
                first = await self._client.conversations_history(channel=channel, oldest=oldest, limit=200,
                                                                 include_all_metadata=True)
            pages = 0
            async for page in first:  # slack_sdk follows next_cursor, HISTORY_PAGES pages at most
                for posted in page.get("messages", []):
                    metadata = posted.get("metadata") or {}
                    if (metadata.get("event_type") == METADATA_EVENT
                            and (metadata.get("event_payload") or {}).get("outbox_id") == message.id):
                        return SendResult(SendOutcome.SENT, ts=posted["ts"], channel=channel)
                pages += 1
                if pages == HISTORY_PAGES:
                    break
        except SlackApiError as error:
            if error.response.status_code == 429 or error.response.status_code >= 500:
                raise  # cannot tell yet; the dispatcher retries later rather than risk a duplicate
            log.warning("could not check history before resending", extra={
                "outbox_id": message.id, "slack_error": error.response.get("error")})
            return None
        return None

    async def _find_upload(self, message: OutboxMessage) -> SendResult | None:
        """A file carries no metadata; its title ends with the outbox id, so look for that in the thread."""
        if not message.thread_ts:
            return None
        replies = await self._client.conversations_replies(channel=message.channel, ts=message.thread_ts, limit=200)
        messages: list[dict[str, Any]] = replies.get("messages", [])
        for posted in messages:
            for file in posted.get("files") or []:
                if str(file.get("title", "")).endswith(f"(#{message.id})"):
                    return SendResult(SendOutcome.SENT, ts=str(file["id"]), channel=message.channel)
        return None

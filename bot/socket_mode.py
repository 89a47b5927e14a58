"""Socket Mode: Beacon opens a WebSocket to Slack, so no public URL is needed.

Envelopes arrive over a connection opened with the app-level token, so Slack sent them (there is no signature to
check); a payload Bolt could not route is still acknowledged, logged without its content, and does nothing.

slack_sdk retries a failed connection for ever. Beacon makes the first connection itself, bounded in time, so that
a token Slack refuses or a Slack it cannot reach is one message and an exit code (bot/reachability.py); and a token
Slack refuses later, on a reconnection, ends the process the same way instead of retrying every 10 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Sequence
from typing import Any

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from beacon.bot.config_errors import ConfigError
from beacon.bot.http_server import routable
from beacon.bot.reachability import Unreachable, explain_slack, is_refusal, refused_token
from beacon.bot.request_log import VERIFIED, dispatch_logged, log_refused

APP_REFUSAL_ADVICE = ("copy the app-level token again (Slack app > Basic Information > App-Level Tokens; it needs the "
                 "connections:write scope)")


class _OneLine(logging.Filter):
    """slack_sdk logs each failed (re)connection with its traceback; the line's own text already says why."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info, record.exc_text = None, None
        return True


_log = logging.getLogger("beacon.socket_mode")
_log.addFilter(_OneLine())


class BeaconSocketModeClient(SocketModeClient):
    """slack_sdk's aiohttp client; a refused app token is recorded in `refused` rather than retried for ever."""

    def __init__(self, app_token: str, **options: Any):
        super().__init__(app_token, **options)
        self.refused: asyncio.Future[ConfigError] = asyncio.get_running_loop().create_future()

    async def issue_new_wss_url(self) -> str:
        # slack_sdk's own, except that a refusal is recorded (and not logged as an error before Beacon explains it).
        try:
            response = await self.web_client.apps_connections_open(app_token=self.app_token)
            return str(response["url"])
        except SlackApiError as error:
            if is_refusal(error):
                if not self.refused.done():
                    self.refused.set_result(refused_token("SLACK_APP_TOKEN", error, APP_REFUSAL_ADVICE))
                self.closed = True  # stops slack_sdk's reconnection loop; the caller ends Beacon
                raise
            if error.response.get("error") == "ratelimited":
                await asyncio.sleep(int(error.response.headers.get("Retry-After", "30")))
                return await self.issue_new_wss_url()
            self.logger.error(f"Slack gave no Socket Mode address: {error.response.get('error')}")
            raise


class LoggedSocketModeHandler(AsyncSocketModeHandler):
    """Bolt's aiohttp Socket Mode adapter, with the same one-line request log as HTTP mode."""

    client: BeaconSocketModeClient

    def __init__(self, app: AsyncApp, app_token: str, *, ping_interval: float = 10):
        # Bolt's constructor would build a plain SocketModeClient (and its session) only for it to be replaced.
        self.app, self.app_token = app, app_token
        self.client = BeaconSocketModeClient(app_token, logger=_log, web_client=app.client,
                                             ping_interval=ping_interval)
        self.client.socket_mode_request_listeners.append(self.handle)

    async def open(self, *, seconds: float) -> None:
        """The first connection: one message (`ConfigError` or `Unreachable`) instead of retries for ever."""
        timeout = seconds
        client = self.client
        api = client.web_client.base_url
        try:
            async with asyncio.timeout(timeout):
                client.wss_uri = await client.issue_new_wss_url()
        except SlackApiError as error:
            if client.refused.done():
                raise client.refused.result() from None
            raise explain_slack(error, url=api, timeout=timeout) or error from None
        except Exception as error:
            raise explain_slack(error, url=api, timeout=timeout) or error from None
        try:
            async with asyncio.timeout(timeout):
                await self.connect_async()
        except TimeoutError:
            raise Unreachable(f"Slack's Socket Mode connection was not established within {timeout:g} s "
                              "(BEACON_CONNECT_TIMEOUT): a proxy or firewall may block WebSockets (wss://) to Slack; "
                              "check HTTPS_PROXY, or use HTTP mode (beacon serve)") from None

    async def close_quickly(self, *, seconds: float = 3.0) -> None:
        """Stop (re)connecting at once and close the connection, waiting at most `seconds` for Slack's goodbye."""
        client = self.client
        client.closed, client.auto_reconnect_enabled = True, False
        for task in (client.message_processor, client.current_session_monitor, client.message_receiver):
            if task is not None:
                task.cancel()
        if client.current_session is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(seconds):
                    await client.current_session.close()
        await client.aiohttp_client_session.close()

    async def handle(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:
        if not routable(req.payload):
            log_refused(self.app, status=400, started=time.perf_counter(), mode="socket_mode")
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return  # acknowledged, so Slack does not send it again; it would never work
        bolt_request = AsyncBoltRequest(mode="socket_mode", body=req.payload, headers=_retry_headers(req),
                                        context={VERIFIED: True})
        response = await dispatch_logged(self.app, bolt_request)
        await client.send_socket_mode_response(_acknowledgement(req, response))


# Bolt's own Socket Mode handler does these two in its private `internals` modules; they are written out here, on
# slack_sdk's public types, so that a Bolt release that moves them cannot break Beacon's acknowledgements.
def _retry_headers(req: SocketModeRequest) -> dict[str, str | Sequence[str]] | None:
    """The Events API's retry headers, as HTTP mode has them, so a retried event is recognised."""
    headers: dict[str, str | Sequence[str]] = {}
    if req.retry_attempt is not None:
        headers["x-slack-retry-num"] = str(req.retry_attempt)
    if req.retry_reason is not None:
        headers["x-slack-retry-reason"] = req.retry_reason
    return headers or None


def _acknowledgement(req: SocketModeRequest, response: BoltResponse) -> SocketModeResponse:
    """The envelope's acknowledgement, carrying what the listener's ack() said (JSON, text, or nothing). Slack needs
    it whatever happened: an unacknowledged envelope is sent again."""
    body = response.body if response.status == 200 else ""
    if not body:
        return SocketModeResponse(envelope_id=req.envelope_id)
    content_type = (response.headers.get("content-type") or [""])[0]
    if content_type.startswith("application/json"):
        return SocketModeResponse(envelope_id=req.envelope_id, payload=json.loads(body))
    return SocketModeResponse(envelope_id=req.envelope_id, payload={"text": body})

"""Socket Mode: Beacon opens a WebSocket to Slack, so no public URL is needed."""

from __future__ import annotations

import time

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import build_headers
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.request_log import dispatch_logged


class LoggedSocketModeHandler(AsyncSocketModeHandler):
    """Bolt's aiohttp Socket Mode adapter, with the same one-line request log as HTTP mode."""

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time.time()
        bolt_request = AsyncBoltRequest(mode="socket_mode", body=req.payload, headers=build_headers(req))
        response = await dispatch_logged(self.app, bolt_request)
        await send_async_response(client, req, response, started)

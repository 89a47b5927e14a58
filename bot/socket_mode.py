"""Socket Mode: Beacon opens a WebSocket to Slack, so no public URL is needed.

Envelopes arrive over a connection opened with the app-level token, so Slack sent them (there is no signature to
check); a payload Bolt could not route is still acknowledged, logged without its content, and does nothing.
"""

from __future__ import annotations

import time

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import build_headers
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from beacon.bot.http_server import routable
from beacon.bot.request_log import VERIFIED, dispatch_logged, log_refused


class LoggedSocketModeHandler(AsyncSocketModeHandler):
    """Bolt's aiohttp Socket Mode adapter, with the same one-line request log as HTTP mode."""

    async def handle(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:
        started = time.time()
        if not routable(req.payload):
            log_refused(self.app, status=400, started=time.perf_counter(), mode="socket_mode")
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return  # acknowledged, so Slack does not send it again; it would never work
        bolt_request = AsyncBoltRequest(mode="socket_mode", body=req.payload, headers=build_headers(req),
                                        context={VERIFIED: True})
        response = await dispatch_logged(self.app, bolt_request)
        await send_async_response(client, req, response, started)

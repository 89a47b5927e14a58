"""HTTP mode: `POST /slack/events` (signature-verified by Bolt) and `GET /healthz`, on aiohttp."""

from __future__ import annotations

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

from bot.request_log import dispatch_logged
from bot.runtime import Runtime

EVENTS_PATH = "/slack/events"


def build_web_app(runtime: Runtime) -> web.Application:
    async def slack_events(request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        return await to_aiohttp_response(await dispatch_logged(runtime.app, bolt_request))

    async def healthz(_request: web.Request) -> web.Response:
        report = await runtime.health()
        return web.json_response(report, status=200 if report["ok"] else 503)

    web_app = web.Application(client_max_size=1024 * 1024)
    web_app.router.add_post(EVENTS_PATH, slack_events)
    web_app.router.add_get("/healthz", healthz)
    return web_app

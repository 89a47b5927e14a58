"""HTTP mode: `POST /slack/events` (signature-verified by Bolt), `GET /healthz` and `GET /metrics`, on aiohttp."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

from bot.metrics import CONTENT_TYPE
from bot.request_log import dispatch_logged

if TYPE_CHECKING:  # the runtime starts the operations server below, so this import only serves the types
    from bot.runtime import Runtime

EVENTS_PATH = "/slack/events"


def build_web_app(runtime: Runtime) -> web.Application:
    async def slack_events(request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        return await to_aiohttp_response(await dispatch_logged(runtime.app, bolt_request))

    web_app = web.Application(client_max_size=1024 * 1024)
    web_app.router.add_post(EVENTS_PATH, slack_events)
    _add_operations(web_app, runtime)
    return web_app


def build_operations_app(runtime: Runtime) -> web.Application:
    """Only `/healthz` and `/metrics`: for Socket Mode, which has no other port, or to keep them off a public one."""
    web_app = web.Application()
    _add_operations(web_app, runtime)
    return web_app


def _add_operations(web_app: web.Application, runtime: Runtime) -> None:
    async def healthz(_request: web.Request) -> web.Response:
        report = await runtime.health()
        return web.json_response(report, status=200 if report["ok"] else 503)

    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(body=await runtime.scrape(), headers={"Content-Type": CONTENT_TYPE})

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)

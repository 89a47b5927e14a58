"""One log line per Slack request, whichever way it arrived: its type, user, ack latency and outcome."""

from __future__ import annotations

import logging
import time

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.metrics import attached

log = logging.getLogger("beacon.requests")

_OUTCOMES = {200: "ok", 401: "unauthorised", 404: "unhandled", 500: "error"}


def describe(body: dict) -> tuple[str, str | None]:
    """(request type, user id) in the words an operator searches logs with."""
    if "command" in body:
        return f"command {body['command']}", body.get("user_id")
    kind = body.get("type", "unknown")
    if kind == "event_callback":
        event = body.get("event") or {}
        return f"event {event.get('type')}", event.get("user")
    user = (body.get("user") or {}).get("id")
    if kind == "block_actions":
        actions = body.get("actions") or [{}]
        return f"action {actions[0].get('action_id')}", user
    if kind in ("view_submission", "view_closed"):
        return f"{kind} {(body.get('view') or {}).get('callback_id')}", user
    return kind, user


async def dispatch_logged(app: AsyncApp, request: AsyncBoltRequest) -> BoltResponse:
    """Dispatch to the app, then log the request and count it in the app's metrics (when it has some)."""
    started = time.perf_counter()
    response = await app.async_dispatch(request)
    seconds = time.perf_counter() - started
    latency_ms = round(seconds * 1000, 1)
    kind, user = describe(request.body if isinstance(request.body, dict) else {})
    outcome = _OUTCOMES.get(response.status, str(response.status))
    level = logging.INFO if response.status < 400 else logging.WARNING
    log.log(level, "slack request", extra={"request_type": kind, "user": user, "latency_ms": latency_ms,
                                           "outcome": outcome, "mode": request.mode})
    metrics = attached(app)
    if metrics is not None:
        metrics.observe_request(kind=kind, outcome=outcome, seconds=seconds, verified=response.status != 401)
    return response

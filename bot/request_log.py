"""One log line per Slack request, whichever way it arrived: its type, user, ack latency and outcome."""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from beacon.bot.ids import ActionId, CallbackId, Command
from beacon.bot.metrics import attached

log = logging.getLogger("beacon.requests")

_OUTCOMES = {200: "ok", 400: "malformed", 401: "unauthorised", 404: "unhandled", 500: "error"}

# Set in a request's Bolt context by the entry points once Slack is known to have sent it (HTTP mode: its signature
# checked in bot/http_server.py; Socket Mode: the app-level token's connection). The error path acts on nothing else.
VERIFIED = "beacon_verified"
# Set beside VERIFIED in HTTP mode: an awaitable that says whether this signed request is seen for the first time
# (the database decides, across replicas). Listeners act only once it says yes (handlers/errors.py: guarded);
# it is awaited after the ack, so checking it never slows the ack down.
FIRST_SIGHT = "beacon_first_sight"
# Set beside FIRST_SIGHT: the SHA-256 of the request's signature, the same for a replay. A form that stores what it
# was sent before its ack keys the row with it, so a replay stores nothing (handlers/errors.py: stores_once).
REQUEST_KEY = "beacon_request_key"


# Answering a pulse, whichever button, option or form: one kind of request, logged without the person. The
# action id says which option was chosen (`pulse_choose_3`), and even "who answered or changed an answer when",
# beside the database's record of when answers were stored, would narrow an anonymous answer down to a person.
PULSE_ANSWER = "pulse answer"
_PULSE_ACTIONS = (ActionId.PULSE_CHOOSE, ActionId.PULSE_ANSWER, ActionId.PULSE_CHANGE)
# Asking a leader a question (opening the form, sending it, an anonymous asker checking for the answer): one kind
# of request, logged without the person, named or not, so that no log line can be joined to an anonymous question.
LEADER_QUESTION = "leader question"
_QUESTION_ACTIONS = (ActionId.CALENDAR_ASK, ActionId.CALENDAR_QUESTION_CHECK)
# Asking the leaders, named or anonymous, from opening the form to checking a token: one kind of request, logged
# without the person, so that "who opened the form, who sent one, who checked a status when" never sits in the logs
# beside an anonymous question (bot/services/forum_questions.py). Moderators' and leaders' actions keep their names.
ASK_QUESTION = "ask question"


def describe(body: dict[str, Any]) -> tuple[str, str | None]:
    """(request type, user id) in the words an operator searches logs with."""
    if "command" in body:
        if body["command"] == Command.ASK:
            return ASK_QUESTION, None
        return f"command {body['command']}", body.get("user_id")
    kind = body.get("type", "unknown")
    if kind == "event_callback":
        event = body.get("event") or {}
        return f"event {event.get('type')}", event.get("user")
    user = (body.get("user") or {}).get("id")
    if kind == "block_actions":
        actions = body.get("actions") or [{}]
        action_id = str(actions[0].get("action_id"))
        if action_id.startswith(_PULSE_ACTIONS):
            return PULSE_ANSWER, None
        if action_id in _QUESTION_ACTIONS:
            return LEADER_QUESTION, None
        if action_id == ActionId.ASK_OPEN:
            return ASK_QUESTION, None
        return f"action {action_id[:100]}", user
    if kind in ("view_submission", "view_closed"):
        callback_id = str((body.get("view") or {}).get("callback_id"))
        if callback_id == CallbackId.PULSE_ANSWER:
            return PULSE_ANSWER, None
        if callback_id == CallbackId.CALENDAR_QUESTION:
            return LEADER_QUESTION, None
        if callback_id == CallbackId.ASK_COMPOSE:
            return ASK_QUESTION, None
        return f"{kind} {callback_id[:100]}", user
    return str(kind)[:40], user


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


def log_refused(app: AsyncApp, *, status: int, started: float, outcome: str | None = None,
                mode: str = "http") -> None:
    """Log and count a request turned away before Bolt saw it (401 unverified, 400 malformed, 200 replay).

    Nothing from its body is logged or becomes a label: an unverified body is anyone's words, and naming the user
    it claims would log a forgery as if that person had acted.
    """
    seconds = time.perf_counter() - started
    outcome = outcome or _OUTCOMES.get(status, str(status))
    verified = status != 401
    kind = "unverified" if not verified else outcome
    log.warning("slack request refused", extra={"request_type": kind, "latency_ms": round(seconds * 1000, 1),
                                                "outcome": outcome, "mode": mode})
    metrics = attached(app)
    if metrics is not None:
        metrics.observe_request(kind=kind, outcome=outcome, seconds=seconds, verified=verified)

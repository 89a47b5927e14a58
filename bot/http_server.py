"""HTTP mode: `POST /slack/events`, `GET /healthz` and `GET /metrics`, on aiohttp.

Only Slack can make Beacon act. Each request's signature is checked here, before anything reads its body: a request
that cannot be verified gets 401 and nothing else happens (its body is never parsed, logged or answered). A signed
body Bolt could not route (not JSON, not an object, no `type`) gets 400. A signed request already let in once, on
any replica, is a replay: an empty 200 and nothing else. Bolt checks the signature again; that is only belt and
braces.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.respond.internals import _build_message
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import build_normalized_headers, extract_content_type
from slack_sdk.models.attachments import Attachment
from slack_sdk.models.blocks import Block
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy.exc import SQLAlchemyError

from beacon.bot.after_ack import AFTER_ACK, AfterAck, freeze_start_up
from beacon.bot.errors import Unavailable
from beacon.bot.integrations.http import SharedHttp
from beacon.bot.metrics import CONTENT_TYPE
from beacon.bot.request_log import FIRST_SIGHT, REQUEST_KEY, VERIFIED, dispatch_logged, log_refused
from beacon.bot.services.signed_requests import SeenRecorder, signature_digest

if TYPE_CHECKING:  # the runtime starts the operations server below, so this import only serves the types
    from beacon.bot.runtime import Runtime

EVENTS_PATH = "/slack/events"
AFTER_ACK_KEY = web.AppKey("after_ack", AfterAck)  # the limiter of a web app's work after acks, for a test to read
log = logging.getLogger("beacon.requests")

WINDOW_SECONDS = 5 * 60  # Slack's: a timestamp further than this from now is refused
# How long a listener waits for the database to say whether its request is new (the ack does not wait: it has
# gone already). Past it the request does nothing and the person is told; the insert itself is never cancelled
# half-way (a cancelled database call can leave its connection unusable), it finishes on its own.
RECORD_SECONDS = 10.0
_TIMESTAMP = re.compile(r"[0-9]{1,12}", re.ASCII)  # whole seconds since 1970, nothing else (no sign, space, digits
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}", re.ASCII)  # of other scripts, or 5,000 of them)


def verified_signature(*, secret: str, raw_body: bytes, timestamps: list[str], signatures: list[str],
                       now: float) -> str | None:
    """The request's signature when Slack made it, else None; never raises, whatever the headers hold.

    Slack's v0 scheme (as slack_sdk.signature.SignatureVerifier): HMAC-SHA256 under the signing secret over
    `v0:{timestamp}:{raw body}`, the timestamp within five minutes of now, compared in constant time. Exactly one
    of each header, in exactly Slack's format; anything else is unverifiable.
    """
    if not secret or len(timestamps) != 1 or len(signatures) != 1:
        return None
    timestamp, signature = timestamps[0], signatures[0]
    if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        return None
    if abs(now - int(timestamp)) > WINDOW_SECONDS:
        return None
    base = b"v0:" + timestamp.encode("ascii") + b":" + raw_body
    expected = "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return signature if hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii")) else None


def parse_signed_body(text: str, content_type: str | None) -> dict[str, Any] | None:
    """The body as Slack meant it, or None when it is not JSON where JSON belongs or not `routable`.

    Bolt's own `parse_body` takes any form body containing the letters "payload" for an interactivity payload, so a
    slash command whose text (or channel or user name) holds the word reached no listener; this reads the form's
    fields and looks for a `payload` field instead.
    """
    try:
        if content_type == "application/json" or text.startswith("{"):
            body = json.loads(text)
        else:
            fields = dict(parse_qsl(text, keep_blank_values=True))
            body = json.loads(fields["payload"]) if "payload" in fields else fields
    except (ValueError, RecursionError):  # json.JSONDecodeError is a ValueError; deep nesting recurses
        return None
    return body if routable(body) else None


def routable(body: object) -> bool:
    """Whether `body` has the shape Bolt routes on without tripping: an object; a slash command's `command`, or
    else a `type`; objects where Slack puts objects; a list of objects for `actions`. Anything else would raise
    inside Bolt (a 500, and an error path reading a body nobody should act on) or match nothing."""
    if not isinstance(body, dict) or not body:
        return False
    if "command" in body:  # a slash command: flat form fields
        return isinstance(body["command"], str)
    if body.get("ssl_check") == "1":  # Slack checking the certificate; Bolt answers it
        return True
    if not isinstance(body.get("type"), str):
        return False
    for key in ("user", "view", "event", "team", "channel", "container", "message", "state"):
        if body.get(key) is not None and not isinstance(body[key], dict):
            return False
    actions = body.get("actions", [])
    return isinstance(actions, list) and all(isinstance(action, dict) for action in actions)


class PooledRespond(AsyncRespond):
    """Bolt's `respond()`, posting over the process's one pooled HTTP session: Bolt's own opens a new session
    (and a new connection) for every reply, which under a crowd costs more than the reply."""

    def __init__(self, *, response_url: str, http: SharedHttp):
        super().__init__(response_url=response_url)
        self._http = http

    async def __call__(self, text: str | dict[Any, Any] = "", blocks: Sequence[dict[Any, Any] | Block] | None = None,
                       attachments: Sequence[dict[Any, Any] | Attachment] | None = None,
                       response_type: str | None = None, replace_original: bool | None = None,
                       delete_original: bool | None = None, unfurl_links: bool | None = None,
                       unfurl_media: bool | None = None, thread_ts: str | None = None,
                       metadata: dict[str, Any] | None = None) -> WebhookResponse:
        fields: dict[str, Any] = {
            "blocks": blocks, "attachments": attachments, "response_type": response_type,
            "replace_original": replace_original, "delete_original": delete_original, "unfurl_links": unfurl_links,
            "unfurl_media": unfurl_media, "thread_ts": thread_ts, "metadata": metadata}
        try:
            session = self._http.get()
        except RuntimeError:  # not started (a script): Bolt's own way
            return await super().__call__(text, **fields)
        message = _build_message(**text) if isinstance(text, dict) else _build_message(text=text, **fields)
        client = AsyncWebhookClient(url=self.response_url or "", session=session)
        return await client.send_dict(message)


def _retrieved(verdict: asyncio.Future[bool]) -> None:
    """Read a finished verdict's outcome, so that one nobody awaited (a request no listener took, or a replayed
    event) is not reported as an exception never retrieved; failures are already logged by `_verdict`."""
    if not verdict.cancelled():
        verdict.exception()


def build_web_app(runtime: Runtime) -> web.Application:
    secret = runtime.deps.settings.secret("slack_signing_secret") if runtime.deps.settings.slack_signing_secret else ""

    # Signatures are recorded in batches, one transaction at a time (bot/services/signed_requests.py).
    recorder = SeenRecorder(partial(runtime.deps.db.transaction, queue=False), lambda: datetime.now(UTC))
    # The work after each ack, bounded (bot/after_ack.py).
    after_ack = AfterAck(runtime.deps.settings.beacon_work_in_flight)

    async def _verdict(signature: str, started: float) -> bool:
        """True the first time this signed request is seen; False for a replay. Raises `Unavailable` when the
        database cannot say within RECORD_SECONDS: unsure whether it was seen, Beacon does nothing and says so."""
        try:
            first = await asyncio.wait_for(asyncio.shield(recorder.seen(signature)), RECORD_SECONDS)
        except (SQLAlchemyError, OSError, TimeoutError):
            log.exception("could not record a signed request as seen; it does nothing")
            log_refused(runtime.app, status=503, started=started, outcome="unavailable")
            raise Unavailable("Beacon could not check this request just now, so it did nothing. Please try again "
                              "in a minute.") from None
        if not first:
            log_refused(runtime.app, status=200, started=started, outcome="replay")
        return first

    async def slack_events(request: web.Request) -> web.Response:
        started = time.perf_counter()
        raw_body = await request.read()
        signature = verified_signature(secret=secret, raw_body=raw_body, now=time.time(),
                                       timestamps=request.headers.getall("X-Slack-Request-Timestamp", []),
                                       signatures=request.headers.getall("X-Slack-Signature", []))
        if signature is None:
            log_refused(runtime.app, status=401, started=started)
            return web.json_response({"error": "invalid request"}, status=401)
        headers = build_normalized_headers(dict[str, str | Sequence[str]](request.headers.items()))
        try:
            text = raw_body.decode("utf-8")
        except UnicodeDecodeError:
            text = ""
        body = parse_signed_body(text, extract_content_type(headers))
        if body is None:
            log_refused(runtime.app, status=400, started=started)
            return web.json_response({"error": "malformed request"}, status=400)
        # Recording the signature runs beside the dispatch rather than before it, so the ack never waits for the
        # database; every listener waits for its verdict before it acts (handlers/errors.py: guarded). The one task
        # Beacon starts itself: it belongs to this request and ends within RECORD_SECONDS.
        context: dict[str, object] = {VERIFIED: True, AFTER_ACK: after_ack}
        if isinstance(response_url := body.get("response_url"), str):  # replies over the one pooled session
            context["respond"] = PooledRespond(response_url=response_url, http=runtime.deps.http)
        if body.get("type") != "event_callback":  # events are once-only by event_id already (bot/app.py): a second
            # check racing it could let a replay claim the signature and the original the event id, so neither acted
            first_sight = asyncio.ensure_future(_verdict(signature, started))
            first_sight.add_done_callback(_retrieved)  # a request no listener took still has its verdict read
            context[FIRST_SIGHT] = first_sight
            context[REQUEST_KEY] = signature_digest(signature)
        # The body as parsed above, not as Bolt re-parses it (see parse_signed_body; and parsing a form's payload
        # twice is a good part of a request's cost); its context marks it verified.
        bolt_request = AsyncBoltRequest(body="", query=request.query_string, headers=headers)
        bolt_request.raw_body, bolt_request.body = text, body
        bolt_request.context = build_async_context(AsyncBoltContext(context), body)
        return await to_aiohttp_response(await dispatch_logged(runtime.app, bolt_request))

    async def finish_recording(_app: web.Application) -> None:
        await recorder.close()

    web_app = web.Application(client_max_size=1024 * 1024)
    web_app.router.add_post(EVENTS_PATH, slack_events)
    web_app.on_shutdown.append(finish_recording)
    web_app.on_startup.append(lambda _app: _frozen())
    web_app[AFTER_ACK_KEY] = after_ack
    _add_operations(web_app, runtime)
    return web_app


async def _frozen() -> None:
    freeze_start_up()


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

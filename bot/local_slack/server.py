"""The local Slack as one server on 127.0.0.1: Web API, Socket Mode, response URLs, and delivery to the app."""

from __future__ import annotations

import json
import time
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from beacon.bot.listening import listen
from beacon.bot.local_slack import payloads
from beacon.bot.local_slack.limits import FaultPlan, RateLimits
from beacon.bot.local_slack.socket_mode import SocketModeHub
from beacon.bot.local_slack.web_api import SlackError, WebApi, _validate_message
from beacon.bot.local_slack.workspace import Ephemeral, Workspace

if TYPE_CHECKING:
    from beacon.bot.local_slack.person import Person


@dataclass
class Reply:
    """What the app answered one request with, and how long it took to answer (its ack)."""

    status: int
    body: Any
    latency_ms: float

    @property
    def json(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) else {}


class LocalSlack:
    def __init__(self, workspace: Workspace | None = None):
        self.workspace = workspace or Workspace()
        self.api = WebApi(self.workspace, socket_url=self._socket_url, base_url=lambda: self.url)
        self.hub = SocketModeHub(self.workspace.app_id)
        self.app_url: str | None = None  # where HTTP-mode requests go; None means Socket Mode
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.port = 0

    # -- lifetime -------------------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> LocalSlack:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.add_routes([*self.api.routes(), *self.hub.routes(), web.post("/respond/{token}", self._respond)])
        self._runner, self.port = await listen(app, host, port, shutdown_timeout=0.5)
        self.host = host
        self._http = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        await self.hub.close()
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    @property
    def faults(self) -> FaultPlan:
        return self.api.faults

    @property
    def limits(self) -> RateLimits:
        return self.api.limits

    @limits.setter
    def limits(self, value: RateLimits) -> None:
        self.api.limits = value

    def _socket_url(self) -> str:
        return f"ws://{self.host}:{self.port}/link/?ticket={self.hub.new_ticket()}"

    def person(self, user_id: str) -> Person:
        from beacon.bot.local_slack.person import Person
        return Person(self, user_id)

    # -- Slack to the app ----------------------------------------------------------------------------
    def signed_headers(self, body: str, *, timestamp: int | None = None, secret: str | None = None,
                       content_type: str = "application/x-www-form-urlencoded") -> dict[str, str]:
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        verifier = SignatureVerifier(secret or self.workspace.signing_secret)
        return {"X-Slack-Request-Timestamp": stamp, "Content-Type": content_type,
                "X-Slack-Signature": verifier.generate_signature(timestamp=stamp, body=body) or ""}

    async def post_to_app(self, body: str, headers: dict[str, str]) -> Reply:
        """Send raw bytes to the app's HTTP endpoint (tests of signatures use this directly)."""
        if self.app_url is None or self._http is None:
            raise RuntimeError("LocalSlack.app_url is not set: start the app in HTTP mode first")
        started = time.perf_counter()
        async with self._http.post(self.app_url, data=body.encode(), headers=headers) as response:
            text = await response.text()
            latency = (time.perf_counter() - started) * 1000
            parsed: Any = text
            if response.content_type == "application/json" and text:
                parsed = json.loads(text)
            return Reply(status=response.status, body=parsed, latency_ms=latency)

    async def _deliver(self, kind: str, form_or_payload: dict[str, Any], *, retry_num: int = 0) -> Reply:
        if self.app_url is None:
            started = time.perf_counter()
            ack = await self.hub.deliver(kind, form_or_payload, retry_attempt=retry_num)
            latency = (time.perf_counter() - started) * 1000
            return Reply(status=200 if ack is not None else 504, body=ack or None, latency_ms=latency)
        if kind == "events_api":
            body = json.dumps(form_or_payload)
            headers = self.signed_headers(body, content_type="application/json")
            if retry_num:
                headers.update({"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"})
        elif kind == "interactive":
            body = urllib.parse.urlencode({"payload": json.dumps(form_or_payload)})
            headers = self.signed_headers(body)
        else:
            body = urllib.parse.urlencode(form_or_payload)
            headers = self.signed_headers(body)
        return await self.post_to_app(body, headers)

    async def send_command(self, form: dict[str, str]) -> Reply:
        return await self._deliver("slash_commands", form)

    async def send_interaction(self, payload: dict[str, Any]) -> Reply:
        return await self._deliver("interactive", payload)

    async def send_event(self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int = 0) -> Reply:
        return await self._deliver("events_api", payloads.event_callback(self.workspace, event, event_id=event_id),
                                   retry_num=retry_num)

    # -- the app to Slack, by response_url ----------------------------------------------------------------
    async def _respond(self, request: web.Request) -> web.Response:
        target = self.workspace.response_targets.get(request.match_info["token"])
        if target is None:
            return web.Response(status=404, text="expired_url")
        body = await request.json()
        ws = self.workspace
        ws.revision += 1
        text = body.get("text") or ""
        try:  # Slack answers a response_url it will not display with 400 and the error as plain text
            blocks = _validate_message(body, text=text)
        except SlackError as error:
            return web.Response(status=400, text=error.error)
        original = None
        if target.message_ts:
            original = next((m for m in ws.channels[target.channel].messages if m.ts == target.message_ts), None)
        if body.get("delete_original") and original is not None:
            ws.channels[target.channel].messages.remove(original)
        elif body.get("replace_original") and original is not None:
            original.text, original.blocks, original.edited = text, blocks, True
        elif body.get("response_type") == "in_channel":
            ws.post(target.channel, user=ws.bot_user_id, text=text, blocks=blocks, as_bot=True)
        else:
            ws.ephemerals.append(Ephemeral(channel=target.channel, user=target.user, text=text, blocks=blocks,
                                           ts=ws.next_ts(), via="response_url"))
        return web.json_response({"ok": True})

    def record_ack_message(self, reply: Reply, *, channel: str, user: str) -> None:
        """A command acked with a message body shows it, as Slack does, to the person (or channel)."""
        body = reply.json
        self.workspace.revision += 1
        if reply.status != 200 or not (body.get("text") or body.get("blocks")):
            return
        ws = self.workspace
        if body.get("response_type") == "in_channel":
            ws.post(channel, user=ws.bot_user_id, text=body.get("text", ""), blocks=body.get("blocks"),
                    as_bot=True)
        else:
            ws.ephemerals.append(Ephemeral(channel=channel, user=user, text=body.get("text", ""),
                                           blocks=body.get("blocks") or [], ts=ws.next_ts(), via="ack"))

"""A local Microsoft identity platform and Graph calendarView, over HTTPS, answering as Microsoft does."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import web

from beacon.bot.listening import listen
from tests.fakes.tls import TestCertificates

TENANT = "00000000-1111-2222-3333-444444444444"
CLIENT_ID = "beacon-client"
CLIENT_SECRET = "beacon-secret-value"


@dataclass
class FakeGraph:
    certificates: TestCertificates
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # mailbox -> events
    page_size: int = 2
    faults: list[tuple[int, int]] = field(default_factory=list)  # (status, retry_after) for the next calls
    tokens_issued: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None
    _tokens: set[str] = field(default_factory=set)
    _revoked: bool = False

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def authority_url(self) -> str:
        return self.base

    @property
    def api_url(self) -> str:
        return f"{self.base}/v1.0"

    async def start(self) -> FakeGraph:
        app = web.Application()
        app.router.add_get(f"/{TENANT}/v2.0/.well-known/openid-configuration", self._openid)
        app.router.add_post(f"/{TENANT}/oauth2/v2.0/token", self._token)
        app.router.add_get("/v1.0/users/{mailbox}/calendarView", self._calendar_view)
        self._runner, self.port = await listen(app, "127.0.0.1", 0, ssl_context=self.certificates.server_context())
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _openid(self, request: web.Request) -> web.Response:
        base = f"{self.base}/{TENANT}"
        return web.json_response({
            "token_endpoint": f"{base}/oauth2/v2.0/token", "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "issuer": f"{self.base}/{TENANT}/v2.0", "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_types_supported": ["code", "token"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
        })

    def revoke_client(self) -> None:
        """The app's secret no longer works, and the tokens issued with it are refused."""
        self._revoked = True
        self._tokens.clear()

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if self._revoked or form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return web.json_response({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid "
                                      "client secret provided."}, status=401)
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        token = secrets.token_urlsafe(24)
        self._tokens.add(token)
        self.tokens_issued += 1
        return web.json_response({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                                  "access_token": token})

    async def _calendar_view(self, request: web.Request) -> web.Response:
        self.requests.append({"path": request.path, "query": dict(request.query),
                              "prefer": request.headers.get("Prefer")})
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self._tokens:
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}}, status=401)
        if self.faults:
            status, retry_after = self.faults.pop(0)
            return web.json_response({"error": {"code": "TooManyRequests" if status == 429 else
                                                "ServiceUnavailable"}}, status=status,
                                     headers={"Retry-After": str(retry_after)})
        if "startDateTime" not in request.query or "endDateTime" not in request.query:
            return web.json_response({"error": {"code": "ErrorInvalidParameter"}}, status=400)
        events = self.events.get(request.match_info["mailbox"], [])
        skip = int(request.query.get("$skip", "0"))
        page = events[skip:skip + self.page_size]
        body: dict[str, Any] = {"@odata.context": "calendarView", "value": page}
        if skip + self.page_size < len(events):
            query = parse_qs(urlsplit(str(request.url)).query)
            query["$skip"] = [str(skip + self.page_size)]
            rest = "&".join(f"{k}={v[0]}" for k, v in query.items())
            body["@odata.nextLink"] = f"{self.base}{request.path}?{rest}"
        return web.json_response(body)


def graph_event(event_id: str, subject: str, start: str, end: str, *, location: str = "",
                categories: tuple[str, ...] = ("Leader engagement",), sensitivity: str = "normal",
                all_day: bool = False, organiser: str = "Carol Chen", series: str | None = None,
                original_start: str | None = None, cancelled: bool = False) -> dict[str, Any]:
    """An event as calendarView returns it (with outlook.timezone Europe/London)."""
    return {
        "id": event_id, "subject": subject, "categories": list(categories), "sensitivity": sensitivity,
        "isAllDay": all_day, "isCancelled": cancelled, "type": "occurrence" if series else "singleInstance",
        "seriesMasterId": series, "originalStart": original_start,
        "start": {"dateTime": f"{start}.0000000", "timeZone": "Europe/London"},
        "end": {"dateTime": f"{end}.0000000", "timeZone": "Europe/London"},
        "location": {"displayName": location}, "organizer": {"emailAddress": {"name": organiser,
                                                                              "address": "carol@trust.example"}},
        "body": {"contentType": "html", "content": "<p>SECRET agenda: restructure</p>"},
        "attendees": [{"emailAddress": {"address": "someone@trust.example"}}],
        "onlineMeeting": {"joinUrl": "https://teams.example/join/secret"},
    }

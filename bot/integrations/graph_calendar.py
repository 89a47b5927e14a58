"""Microsoft 365 calendars through Microsoft Graph, with the client-credentials flow.

msal gets (and caches) the app-only token; it blocks, so it runs in a thread. calendarView is read with
aiohttp, page by page, honouring 429/503 Retry-After. Events in the wrong category, and private or
confidential ones, are dropped here: they never reach the database.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import aiohttp
import msal

from beacon.bot.integrations.http import SharedHttp
from beacon.bot.organisation import GraphSource
from beacon.bot.services.engagements import EngagementFact, SourceAnswer
from beacon.bot.settings import Settings

log = logging.getLogger(__name__)
NOT_PUBLISHED = {"private", "confidential"}
RETRIES = 5
# What is read of each event: never its body, attendees or online-meeting links.
FIELDS = ("id,subject,start,end,location,categories,sensitivity,isAllDay,isCancelled,organizer,seriesMasterId,"
          "type,originalStart")


class GraphError(Exception):
    """Microsoft Graph, or its token endpoint, could not give the calendar."""


class TokenRefused(GraphError):
    """Graph no longer accepts the cached token (revoked, or the secret rotated)."""


class GraphClient:
    def __init__(self, settings: Settings, *, tz: ZoneInfo, http: SharedHttp):
        self._api = settings.graph_api_url.rstrip("/")
        parts = urlsplit(self._api)
        self._scope = f"{parts.scheme}://{parts.netloc}/.default"
        self._tz = tz
        self._http = http
        bundle = str(settings.graph_ca_bundle) if settings.graph_ca_bundle else None
        self._ssl: ssl.SSLContext | bool = ssl.create_default_context(cafile=bundle) if bundle else True
        self._settings, self._bundle = settings, bundle
        self._app: msal.ConfidentialClientApplication | None = None

    def _acquire(self) -> dict[str, Any]:
        """Runs in a thread: msal blocks, and even creating its app fetches the tenant's configuration."""
        if self._app is None:
            settings = self._settings
            # msal's own HTTP client; note that REQUESTS_CA_BUNDLE, when set, wins over `verify` for these calls.
            self._app = msal.ConfidentialClientApplication(
                settings.graph_client_id, client_credential=settings.secret("graph_client_secret"),
                authority=f"{settings.graph_authority_url.rstrip('/')}/{settings.graph_tenant_id}",
                instance_discovery=False, verify=self._bundle or True)
        return dict(self._app.acquire_token_for_client(scopes=[self._scope]))

    async def token(self) -> str:
        """The app-only token; msal caches it until shortly before it expires."""
        result = await asyncio.to_thread(self._acquire)
        if "access_token" not in result:
            # The error code only: the description is the identity platform's own text, kept for the log.
            log.warning("Microsoft 365 refused a token", extra={
                "error": result.get("error"), "description": (result.get("error_description") or "")[:300]})
            raise GraphError(f"Microsoft 365 refused a token ({str(result.get('error'))[:40]})")
        return str(result["access_token"])

    async def _get(self, url: str, token: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}", "Prefer": f'outlook.timezone="{self._tz.key}"'}
        for attempt in range(RETRIES + 1):
            async with self._http.get().get(url, headers=headers, ssl=self._ssl,
                                            timeout=aiohttp.ClientTimeout(total=60)) as response:
                if response.status in (429, 503, 504) and attempt < RETRIES:
                    wait = float(response.headers.get("Retry-After", 2 ** attempt))
                    log.info("Graph asked us to wait", extra={"status": response.status, "retry_after": wait})
                    await asyncio.sleep(min(wait, 120))
                    continue
                if response.status == 401:
                    raise TokenRefused("HTTP 401 from Graph")  # never the body: it reaches admins in Slack
                if response.status != 200:
                    raise GraphError(f"HTTP {response.status} from Graph")
                return dict(await response.json())
        raise GraphError("Graph kept asking us to wait")

    def _time(self, value: dict[str, Any]) -> datetime:
        moment = datetime.fromisoformat(value["dateTime"][:26])
        zone = ZoneInfo(value.get("timeZone") or self._tz.key) if value.get("timeZone") not in (None, "UTC") else UTC
        return (moment.replace(tzinfo=zone) if moment.tzinfo is None else moment).astimezone(UTC)

    def _fact(self, event: dict[str, Any], source: GraphSource) -> EngagementFact | None:
        if source.category and source.category not in (event.get("categories") or []):
            return None
        if str(event.get("sensitivity", "normal")).lower() in NOT_PUBLISHED or event.get("isCancelled"):
            return None
        series = event.get("seriesMasterId")
        original = event.get("originalStart")
        occurrence = "single"
        if series and original:
            occurrence = datetime.fromisoformat(original.replace("Z", "+00:00")).astimezone(UTC).strftime(
                "%Y%m%dT%H%M%SZ")
        organiser = ((event.get("organizer") or {}).get("emailAddress") or {}).get("name")
        return EngagementFact(
            external_id=series or event["id"], occurrence=occurrence,
            title=(event.get("subject") or "Leader engagement").strip(), leader=source.name or organiser or "A leader",
            starts_at=self._time(event["start"]), ends_at=self._time(event["end"]), all_day=bool(event.get("isAllDay")),
            location=((event.get("location") or {}).get("displayName") or "").strip() or None,
            leader_user_id=source.leader_slack_id)

    async def fetch(self, source: GraphSource, *, start: datetime, end: datetime) -> SourceAnswer:
        try:
            token = await self.token()
            url: str | None = (
                f"{self._api}/users/{quote(source.mailbox)}/calendarView?startDateTime={start:%Y-%m-%dT%H:%M:%SZ}"
                f"&endDateTime={end:%Y-%m-%dT%H:%M:%SZ}&$top=100&$select={FIELDS}")
            facts = []
            while url:
                try:
                    page = await self._get(url, token)
                except TokenRefused:
                    self._app = None  # forget the cached token; a new one is asked for, once
                    token = await self.token()
                    page = await self._get(url, token)
                facts += [f for f in (self._fact(e, source) for e in page.get("value", [])) if f]
                url = page.get("@odata.nextLink")
                if url and not _same_origin(str(url), self._api):
                    # The next page is fetched with our token: only ever from the configured Graph itself.
                    raise GraphError("Graph's next page pointed somewhere else")
        except GraphError as error:
            log.warning("Microsoft 365 calendar could not be read; keeping its last good data",
                        extra={"source": source.mailbox, "reason": str(error)[:300]})
            return SourceAnswer(error=str(error)[:300] or type(error).__name__)
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as error:
            # A fixed phrase: exception texts can quote what Graph sent (a JSON decoding error quotes the body).
            log.warning("Microsoft 365 calendar could not be read; keeping its last good data",
                        extra={"source": source.mailbox, "reason": type(error).__name__})
            return SourceAnswer(error=f"could not read the Microsoft 365 calendar ({type(error).__name__})")
        return SourceAnswer(facts=facts)


class GraphMailbox:
    """One configured mailbox, read through the shared Graph client."""

    def __init__(self, source: GraphSource, client: GraphClient):
        self.source = source
        self.key, self.name = source.key, source.name or source.mailbox
        self._client = client

    async def read(self, *, start: datetime, end: datetime) -> SourceAnswer:
        return await self._client.fetch(self.source, start=start, end=end)


def _same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)

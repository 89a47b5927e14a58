"""One pooled HTTP session for the process, opened when Beacon starts and closed when it stops; and, apart from
it, the guarded session that fetches calendar feeds from addresses an organisation file names."""

from __future__ import annotations

import hashlib
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit
from urllib.request import getproxies

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from beacon.bot.addresses import refused

FEED_LIMIT = 10 * 1024 * 1024  # bytes: a published calendar is far smaller; a bigger answer is refused
REDIRECTS = 5


class RefusedAddress(aiohttp.ClientError):
    """A feed's address is not on the public internet (loopback, private, link-local, cloud metadata...), and
    the organisation file does not allow its host. Raised before any connection is made."""


class FeedTooLarge(aiohttp.ClientError):
    """The feed's answer was bigger than `FEED_LIMIT`."""


def _host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


class AddressPolicy:
    """Which hosts a feed may be fetched from: public addresses, and any host the organisation file lists under
    `calendar.allow_hosts` (by name or address, exactly as written in the URL)."""

    def __init__(self, allow_hosts: Iterable[str] = ()):
        self.allow_hosts = frozenset(_host(h) for h in allow_hosts)

    def allows_host(self, host: str) -> bool:
        return _host(host) in self.allow_hosts

    def check_literal(self, host: str) -> bool:
        """For a host written as an address: refuse it (`RefusedAddress`) unless allowed. True if it was one."""
        try:
            address = ipaddress.ip_address(_host(host))
        except ValueError:
            return False
        if refused(address) and not self.allows_host(host):
            raise RefusedAddress("the feed's address is not a public internet address")
        return True


class GuardedResolver(AbstractResolver):
    """Resolves a name, then refuses it if ANY of its addresses is refused. The connector connects only to the
    addresses returned here, so the address checked is the address used: no second lookup can swap it."""

    def __init__(self, policy: AddressPolicy, resolver: AbstractResolver | None = None):
        self._policy = policy
        self._inner = resolver or aiohttp.ThreadedResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        allowed = self._policy.allows_host(host) or _host(host) in _proxy_hosts()
        if not allowed:
            self._policy.check_literal(host)
        found = await self._inner.resolve(host, port, family)
        if allowed:
            return found
        if not found or any(refused(ipaddress.ip_address(r["host"].split("%", 1)[0])) for r in found):
            raise RefusedAddress("the feed's address is not a public internet address")
        return found

    async def close(self) -> None:
        await self._inner.close()


@dataclass(frozen=True)
class FeedResponse:
    status: int
    text: str | None = None        # only for 200
    sha256: bytes | None = None    # of the body, hashed as it arrived (only for 200)
    etag: str | None = None
    last_modified: str | None = None


class FeedClient:
    """Fetches feeds under one `AddressPolicy`: every connection, redirects included, goes through the guarded
    resolver, so a refused address fails before any connection is made."""

    def __init__(self, policy: AddressPolicy, *, resolver: AbstractResolver | None = None):
        self.policy = policy
        self._resolver = GuardedResolver(policy, resolver)
        # trust_env: an HTTPS_PROXY applies, as NHS networks often require. The proxy is the operator's own
        # setting, so it is trusted wherever it is; since the proxy, not Beacon, then resolves the feed's name,
        # Beacon checks that name first (and the proxy could still be given another answer: README, residuals).
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=self._resolver),
                                             trust_env=True)

    async def get(self, url: str, *, headers: dict[str, str], seconds: float = 60) -> FeedResponse:
        """GET a feed, following redirects one hop at a time, each hop checked before it is connected to."""
        for _ in range(REDIRECTS + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise RefusedAddress("the feed's address is not an http(s) URL")
            if not self.policy.check_literal(parts.hostname) and _proxied(url):
                await self._resolver.resolve(parts.hostname, parts.port or 0, socket.AF_UNSPEC)
            async with self.session.get(url, headers=headers, allow_redirects=False,
                                        timeout=aiohttp.ClientTimeout(total=seconds)) as response:
                if response.status in (301, 302, 303, 307, 308) and "Location" in response.headers:
                    url = urljoin(url, response.headers["Location"])
                    continue
                if response.status != 200:
                    return FeedResponse(status=response.status)
                # One growing buffer rather than a list of chunks joined: a large feed is held twice (bytes, then
                # text), not three times.
                body, hashed = bytearray(), hashlib.sha256()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    if len(body) + len(chunk) > FEED_LIMIT:
                        raise FeedTooLarge("the feed is too large")
                    hashed.update(chunk)
                    body += chunk
                return FeedResponse(status=200, text=_decode(body, response.charset),
                                    sha256=hashed.digest(),
                                    etag=response.headers.get("ETag"),
                                    last_modified=response.headers.get("Last-Modified"))
        raise RefusedAddress("the feed redirected too many times")

    async def close(self) -> None:
        await self.session.close()


def _decode(body: bytes | bytearray, charset: str | None) -> str:
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know: RFC 5545 says UTF-8 anyway
        return body.decode("utf-8", errors="replace")


def _proxy_hosts() -> set[str]:
    return {_host(urlsplit(url).hostname or "") for url in getproxies().values() if "://" in url}


def _proxied(url: str) -> bool:
    try:
        get_env_proxy_for_url(URL(url))
    except LookupError:
        return False
    return True


class SharedHttp:
    def __init__(self, *, timeout: float | None = None) -> None:
        # slack_sdk applies its own timeout only to sessions it makes: on this one, each call is bounded here.
        self._timeout = aiohttp.ClientTimeout(total=timeout) if timeout else None
        self._session: aiohttp.ClientSession | None = None
        self._feeds: dict[frozenset[str], FeedClient] = {}

    async def open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # trust_env: HTTPS_PROXY / NO_PROXY apply to every outbound call (Slack, Graph, ICS feeds), as NHS
            # networks often require.
            self._session = (aiohttp.ClientSession(trust_env=True, timeout=self._timeout) if self._timeout
                             else aiohttp.ClientSession(trust_env=True))
        return self._session

    def get(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            raise RuntimeError("the HTTP session is used before Beacon started, or after it stopped")
        return self._session

    def feeds(self, policy: AddressPolicy) -> FeedClient:
        """The guarded client for feeds under `policy` (made on first use, inside the running loop)."""
        self.get()  # feeds are fetched only while Beacon runs
        client = self._feeds.get(policy.allow_hosts)
        if client is None or client.session.closed:
            client = self._feeds[policy.allow_hosts] = FeedClient(policy)
        return client

    async def close(self) -> None:
        for client in self._feeds.values():
            await client.close()
        self._feeds.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

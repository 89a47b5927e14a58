"""Calendar feeds, tried as someone who writes a feed URL (or serves a feed) to reach what only Beacon's network
can: cloud metadata, loopback, private addresses. Every refusal happens before a connection is made, names are
checked at every address they resolve to, redirects are checked hop by hop, and no feed's words reach Slack.

These tests never send traffic off this machine: names are resolved by a fake resolver, and a guard on
`socket.connect` records every connection and refuses any that is not to loopback."""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from beacon.bot.integrations.http import AddressPolicy, FeedClient, RefusedAddress, SharedHttp, refused
from beacon.bot.integrations.ics_calendar import IcsFeed
from beacon.bot.listening import listen
from beacon.bot.local_slack import LocalSlack
from beacon.bot.organisation import IcsSource

FEED = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:1\r\n"
        "DTSTART:20261203T100000Z\r\nDTEND:20261203T110000Z\r\nSUMMARY:Visit\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
REFUSED = ["169.254.169.254", "169.254.0.1", "fd00:ec2::254", "fe80::1", "fe80::1%1", "127.0.0.1", "127.5.6.7",
           "::1", "0.0.0.0", "::", "10.0.0.1", "172.16.0.1", "172.31.255.254", "192.168.1.1",  # noqa: S104
           "fc00::1", "fd12::1",
           "224.0.0.1", "239.255.255.250", "ff02::1", "255.255.255.255", "100.100.100.200", "100.64.0.1",
           "::ffff:169.254.169.254", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe",
           "2002:a9fe:a9fe::1", "fec0::1", "198.18.0.1", "240.0.0.1", "168.63.129.16", "::ffff:168.63.129.16"]
PUBLIC = ["8.8.8.8", "52.96.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2a01:111:f400::1"]


def test_every_non_public_address_is_refused_and_public_ones_are_not() -> None:
    assert [a for a in REFUSED if not refused(ipaddress.ip_address(a.split("%")[0]))] == []
    assert [a for a in PUBLIC if refused(ipaddress.ip_address(a))] == []


class FakeResolver(AbstractResolver):
    """DNS with no network: each name maps to the addresses a hostile (or rebinding) DNS server would give."""

    def __init__(self, names: dict[str, list[str]]):
        self.names = names
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        self.asked.append(host)
        if host not in self.names:
            raise OSError(f"no such name {host}")
        return [{"hostname": host, "host": a, "port": port,
                 "family": socket.AF_INET6 if ":" in a else socket.AF_INET, "proto": 0, "flags": 0}
                for a in self.names[host]]

    async def close(self) -> None:
        return None


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every outgoing TCP connection attempted, recorded; any that is not to loopback is refused, so a broken
    guard fails the test instead of reaching a real address."""
    attempted: list[tuple[str, int]] = []
    original_connect, original_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def check(address: object) -> None:
        if isinstance(address, tuple) and isinstance(address[0], str):
            attempted.append((address[0], int(address[1])))
            if not ipaddress.ip_address(address[0].split("%")[0]).is_loopback:
                raise ConnectionRefusedError(f"test guard: no traffic to {address[0]}")

    def connect(self: socket.socket, address: object) -> None:
        check(address)
        original_connect(self, address)  # type: ignore[arg-type]

    def connect_ex(self: socket.socket, address: object) -> int:
        check(address)
        return original_connect_ex(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "WS_PROXY", "WSS_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return attempted


class Upstream:
    """A feed server on 127.0.0.1: a good feed, an error page that quotes a secret, and redirects."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.port = 0
        self.redirects: dict[str, str] = {}
        self.runner: web.AppRunner | None = None

    async def start(self) -> Upstream:
        app = web.Application()
        app.router.add_get("/{name}", self.handle)
        self.runner, self.port = await listen(app, "127.0.0.1", 0)
        return self

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.requests.append(name)
        if name in self.redirects:
            raise web.HTTPFound(self.redirects[name])
        if name == "error.ics":
            return web.Response(status=500, text="SECRET-TOKEN-abc123 internal stack trace")
        if name == "big.ics":
            return web.Response(body=b"X" * 300_000, content_type="text/calendar")
        if name == "garbage.ics":
            return web.Response(text="BEGIN:VCALENDAR\r\nSECRET-TOKEN-abc123\r\nDTSTART:nonsense",
                                content_type="text/calendar")
        return web.Response(text=FEED, content_type="text/calendar")


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    server = await Upstream().start()
    yield server
    assert server.runner is not None
    await server.runner.cleanup()


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://[fd00:ec2::254]/latest/meta-data/", "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://[::ffff:a9fe:a9fe]/", "http://[fe80::1]/", "http://10.0.0.1/feed.ics", "http://192.168.0.1/",
    "http://[::]:80/", "http://0.0.0.0/", "http://224.0.0.1/", "http://100.100.100.200/latest/meta-data/",
    "file:///etc/passwd", "gopher://127.0.0.1/"])
async def test_an_address_in_the_url_is_refused_before_any_connection(
        url: str, connections: list[tuple[str, int]]) -> None:
    client = FeedClient(AddressPolicy(), resolver=FakeResolver({}))
    try:
        with pytest.raises(RefusedAddress):
            await client.get(url, headers={})
    finally:
        await client.close()
    assert connections == [], "no connection was even attempted"


async def test_loopback_is_refused_unless_the_organisation_allows_it(
        upstream: Upstream, connections: list[tuple[str, int]]) -> None:
    for url in (f"http://127.0.0.1:{upstream.port}/feed.ics", f"http://[::1]:{upstream.port}/feed.ics",
                f"http://localhost:{upstream.port}/feed.ics"):
        client = FeedClient(AddressPolicy(), resolver=FakeResolver({"localhost": ["127.0.0.1", "::1"]}))
        try:
            with pytest.raises(RefusedAddress):
                await client.get(url, headers={})
        finally:
            await client.close()
    assert connections == [] and upstream.requests == [], "the listener on loopback never heard from Beacon"
    allowed = FeedClient(AddressPolicy(["127.0.0.1"]), resolver=FakeResolver({}))
    try:
        answer = await allowed.get(f"http://127.0.0.1:{upstream.port}/feed.ics", headers={})
    finally:
        await allowed.close()
    assert answer.status == 200 and answer.text == FEED and upstream.requests == ["feed.ics"]
    assert {address for address, _ in connections} == {"127.0.0.1"}


@pytest.mark.parametrize("name, addresses", [
    ("metadata.attacker.test", ["169.254.169.254"]),
    ("v6-metadata.attacker.test", ["fd00:ec2::254"]),
    ("mapped.attacker.test", ["::ffff:169.254.169.254"]),
    ("internal.attacker.test", ["10.20.30.40"]),
    # One good address beside a bad one is still refused: every address is checked, not just the first.
    ("mixed.attacker.test", ["8.8.8.8", "169.254.169.254"]),
    ("loopback.attacker.test", ["127.0.0.1"]),
])
async def test_a_name_that_resolves_to_a_refused_address_fails_at_the_resolver(
        name: str, addresses: list[str], upstream: Upstream, connections: list[tuple[str, int]]) -> None:
    resolver = FakeResolver({name: addresses})
    client = FeedClient(AddressPolicy(), resolver=resolver)
    try:
        with pytest.raises(RefusedAddress) as refusal:
            await client.get(f"http://{name}:{upstream.port}/feed.ics", headers={})
    finally:
        await client.close()
    assert resolver.asked == [name], "the name was looked up once, by the guarded resolver"
    assert any(frame.name == "resolve" for frame in refusal.traceback), "refused at the resolver stage"
    assert connections == [] and upstream.requests == []


async def test_each_redirect_hop_is_checked_before_it_is_followed(
        upstream: Upstream, connections: list[tuple[str, int]]) -> None:
    """An allowed feed host that redirects to metadata (by address or by name) or to a loopback port that is not
    allowed gets nowhere: only the allowed host is ever connected to."""
    upstream.redirects = {
        "to-literal.ics": "http://169.254.169.254/latest/meta-data/",
        "to-name.ics": f"http://metadata.attacker.test:{upstream.port}/feed.ics",
        "to-loopback.ics": f"http://127.0.0.1:{upstream.port}/feed.ics",
        "to-allowed.ics": f"http://feeds.trust.test:{upstream.port}/feed.ics",
    }
    resolver = FakeResolver({"feeds.trust.test": ["127.0.0.1"], "metadata.attacker.test": ["169.254.169.254"]})
    client = FeedClient(AddressPolicy(["feeds.trust.test"]), resolver=resolver)
    try:
        for hop in ("to-literal.ics", "to-name.ics", "to-loopback.ics"):
            with pytest.raises(RefusedAddress):
                await client.get(f"http://feeds.trust.test:{upstream.port}/{hop}", headers={})
        followed = await client.get(f"http://feeds.trust.test:{upstream.port}/to-allowed.ics", headers={})
    finally:
        await client.close()
    assert followed.status == 200 and followed.text == FEED
    assert upstream.requests == ["to-literal.ics", "to-name.ics", "to-loopback.ics", "to-allowed.ics", "feed.ics"]
    assert {address for address, _ in connections} == {"127.0.0.1"}


def _source(url: str) -> IcsSource:
    return IcsSource(type="ics", name="Chief Executive", url=url)


async def test_what_admins_are_told_is_a_fixed_phrase_never_the_feeds_words(
        upstream: Upstream, connections: list[tuple[str, int]]) -> None:
    http = SharedHttp()
    await http.open()
    window = {"start": datetime(2026, 12, 1, tzinfo=UTC), "end": datetime(2026, 12, 31, tzinfo=UTC)}
    tz = ZoneInfo("Europe/London")
    try:
        metadata = await IcsFeed(_source("http://169.254.169.254/latest/meta-data/"), tz=tz, http=http).read(
            **window)
        not_allowed = await IcsFeed(_source(f"http://127.0.0.1:{upstream.port}/feed.ics"), tz=tz,
                                    http=http).read(**window)
        assert upstream.requests == [] and connections == []
        allowed = {"tz": tz, "http": http, "allow_hosts": ["127.0.0.1"]}
        error = await IcsFeed(_source(f"http://127.0.0.1:{upstream.port}/error.ics"), **allowed).read(**window)
        garbage = await IcsFeed(_source(f"http://127.0.0.1:{upstream.port}/garbage.ics"), **allowed).read(**window)
        good = await IcsFeed(_source(f"http://127.0.0.1:{upstream.port}/feed.ics"), **allowed).read(**window)
    finally:
        await http.close()
    assert metadata.error is not None and "not a public internet address" in metadata.error
    assert not_allowed.error is not None and "calendar.allow_hosts" in not_allowed.error
    assert error.error == "HTTP 500 from the feed"
    assert garbage.error == "the feed is not a valid calendar"
    assert [f.title for f in good.facts] == ["Visit"]
    assert "SECRET" not in repr([metadata, not_allowed, error, garbage])


def test_the_organisation_file_lists_hosts_not_urls() -> None:
    from pydantic import ValidationError

    from beacon.bot.organisation import CalendarSettings

    assert CalendarSettings(allow_hosts=["calendars.trust.nhs.uk", "10.1.2.3", "::1"]).allow_hosts
    with pytest.raises(ValidationError):
        CalendarSettings(allow_hosts=["http://calendars.trust.nhs.uk/feed.ics"])


async def test_behind_a_proxy_the_feeds_name_is_still_checked_before_anything_is_sent(
        upstream: Upstream, connections: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch) -> None:
    """With HTTP_PROXY set, the proxy resolves the feed's name; Beacon checks that name first. The proxy itself
    (here on loopback, by name) is the operator's own setting, so it is trusted without being listed."""
    monkeypatch.setenv("HTTP_PROXY", f"http://proxy.trust.test:{upstream.port}")
    resolver = FakeResolver({"metadata.attacker.test": ["169.254.169.254"], "calendars.trust.test": ["8.8.8.8"],
                             "proxy.trust.test": ["127.0.0.1"]})
    client = FeedClient(AddressPolicy(), resolver=resolver)
    try:
        with pytest.raises(RefusedAddress):
            await client.get("http://metadata.attacker.test/feed.ics", headers={})
        assert connections == [] and upstream.requests == [], "refused before the proxy heard of it"
        through = await client.get("http://calendars.trust.test/feed.ics", headers={})
    finally:
        await client.close()
    assert through.status == 200 and upstream.requests == ["feed.ics"], "the proxy fetched the public feed"
    assert {address for address, _ in connections} == {"127.0.0.1"}


async def test_graph_is_only_asked_for_next_pages_at_its_own_address_and_its_words_never_reach_slack(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slack: LocalSlack, database_url: str) -> None:
    """Beacon sends its Graph token with every page request: a next page link pointing anywhere else (here a
    different origin on the same machine) is refused, and a failure is told as a status code, not Graph's body."""
    from beacon.bot.integrations.graph_calendar import GraphClient
    from beacon.bot.organisation import GraphSource
    from tests.fakes.graph import CLIENT_ID, CLIENT_SECRET, TENANT, FakeGraph, graph_event
    from tests.fakes.tls import make_certificates
    from tests.harness import settings_for

    class Hostile(FakeGraph):
        async def _calendar_view(self, request: web.Request) -> web.Response:
            response = await super()._calendar_view(request)
            body = json.loads(response.text or "{}")
            if "@odata.nextLink" in body:
                body["@odata.nextLink"] = body["@odata.nextLink"].replace(self.base, f"https://localhost:{self.port}")
            return web.json_response(body, status=response.status)

    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    graph = await Hostile(certificates=make_certificates(tmp_path)).start()
    mailbox = "leadership-engagement@trust.example"
    graph.page_size = 1
    graph.events[mailbox] = [graph_event(f"e{i}", "Visit", "2026-11-25T10:00:00", "2026-11-25T11:00:00")
                             for i in range(3)]
    settings = settings_for(slack, database_url, graph_tenant_id=TENANT, graph_client_id=CLIENT_ID,
                            graph_client_secret=CLIENT_SECRET, graph_authority_url=graph.authority_url,
                            graph_api_url=graph.api_url, graph_ca_bundle=graph.certificates.ca_file)
    http = SharedHttp()
    await http.open()
    client = GraphClient(settings, tz=ZoneInfo("Europe/London"), http=http)
    source = GraphSource(type="graph", mailbox=mailbox)
    window = {"start": datetime(2026, 11, 20, tzinfo=UTC), "end": datetime(2026, 12, 20, tzinfo=UTC)}
    try:
        redirected = await client.fetch(source, **window)
        asked = len(graph.requests)
        graph.faults = [(500, 0)]
        failed = await client.fetch(source, **window)
    finally:
        await http.close()
        await graph.stop()
    assert redirected.error == "Graph's next page pointed somewhere else" and asked == 1
    assert failed.error == "HTTP 500 from Graph"


def test_the_organisation_file_refuses_a_feed_at_a_private_address_it_does_not_allow() -> None:
    from pydantic import ValidationError

    from beacon.bot.organisation import CalendarSettings

    metadata = {"type": "ics", "name": "CEO", "url": "http://169.254.169.254/latest/meta-data/"}
    with pytest.raises(ValidationError, match="not a public internet address"):
        CalendarSettings(sources=[metadata])
    with pytest.raises(ValidationError, match=r"calendar\.allow_hosts"):
        CalendarSettings(sources=[{**metadata, "url": "http://[::ffff:127.0.0.1]:8080/feed.ics"}])
    assert CalendarSettings(sources=[{**metadata, "url": "http://127.0.0.1:8080/feed.ics"}], allow_hosts=["127.0.0.1"])
    assert CalendarSettings(sources=[{**metadata, "url": "https://calendars.trust.nhs.uk/ceo.ics"}])


async def test_a_feed_is_read_whole_up_to_the_limit_and_refused_past_it(
        upstream: Upstream, connections: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch) -> None:
    from beacon.bot.integrations import http as module

    client = FeedClient(AddressPolicy(["127.0.0.1"]), resolver=FakeResolver({}))
    try:
        whole = await client.get(f"http://127.0.0.1:{upstream.port}/big.ics", headers={})
        monkeypatch.setattr(module, "FEED_LIMIT", 100_000)
        with pytest.raises(module.FeedTooLarge):
            await client.get(f"http://127.0.0.1:{upstream.port}/big.ics", headers={})
    finally:
        await client.close()
    assert whole.text == "X" * 300_000


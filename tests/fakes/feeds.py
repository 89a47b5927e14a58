"""Published calendar feeds on 127.0.0.1, with ETags as Outlook and Google send them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from aiohttp import web

from beacon.bot.listening import listen


@dataclass
class FeedServer:
    feeds: dict[str, str] = field(default_factory=dict)
    failing: set[str] = field(default_factory=set)
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (feed, If-None-Match)
    without_etags: set[str] = field(default_factory=set)  # feeds served as a server that ignores caching would
    port: int = 0
    _runner: web.AppRunner | None = None

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/feeds/{name}.ics"

    async def start(self) -> FeedServer:
        app = web.Application()
        app.router.add_get("/feeds/{name}.ics", self._feed)
        self._runner, self.port = await listen(app, "127.0.0.1", 0)
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _feed(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.requests.append((name, request.headers.get("If-None-Match")))
        if name in self.failing:
            return web.Response(status=503, text="Service Unavailable")
        if name not in self.feeds:
            return web.Response(status=404)
        body = self.feeds[name]
        if name in self.without_etags:
            return web.Response(text=body, content_type="text/calendar")
        etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(text=body, content_type="text/calendar", headers={"ETag": etag})

"""Socket Mode on the local Slack: `apps.connections.open` hands out a ws:// URL served here."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import secrets
from typing import Any

from aiohttp import WSMsgType, web

log = logging.getLogger(__name__)


class SocketModeHub:
    """The WebSocket side: says hello, sends envelopes, and matches each ack to its envelope."""

    def __init__(self, app_id: str):
        self.app_id = app_id
        self._sockets: list[web.WebSocketResponse] = []
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._tickets: set[str] = set()
        self._next = itertools.count()
        self.connected = asyncio.Event()

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/link/", self.handle)]

    def new_ticket(self) -> str:
        ticket = secrets.token_hex(8)
        self._tickets.add(ticket)
        return ticket

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            raise web.HTTPUnauthorized(text="invalid ticket")
        self._tickets.discard(ticket)
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json({"type": "hello", "num_connections": len(self._sockets),
                                "debug_info": {"host": "local-slack", "approximate_connection_time": 18060},
                                "connection_info": {"app_id": self.app_id}})
        self.connected.set()
        try:
            async for frame in socket:
                if frame.type == WSMsgType.TEXT:
                    self._receive(json.loads(frame.data))
        finally:
            self._sockets.remove(socket)
            if not self._sockets:
                self.connected.clear()
        return socket

    def _receive(self, message: dict[str, Any]) -> None:
        envelope_id = message.get("envelope_id")
        future = self._acks.pop(envelope_id, None) if envelope_id else None
        if future is not None and not future.done():
            future.set_result(message.get("payload") or {})

    async def deliver(self, kind: str, payload: dict[str, Any], *, ack_within: float = 3.0,
                      retry_attempt: int = 0) -> dict[str, Any] | None:
        """Send one envelope to a connected app; its ack's payload, or None when none came in time."""
        if not self._sockets:
            await asyncio.wait_for(self.connected.wait(), ack_within)
        socket = self._sockets[next(self._next) % len(self._sockets)]
        envelope_id = secrets.token_hex(16)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = future
        await socket.send_json({
            "envelope_id": envelope_id, "type": kind, "payload": payload,
            "accepts_response_payload": kind in ("slash_commands", "interactive"),
            "retry_attempt": retry_attempt, "retry_reason": "timeout" if retry_attempt else "",
        })
        try:
            return await asyncio.wait_for(future, ack_within)
        except TimeoutError:
            self._acks.pop(envelope_id, None)
            return None

    async def close(self) -> None:
        for socket in list(self._sockets):
            await socket.close()

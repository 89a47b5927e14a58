"""One pooled HTTP session for the process, opened when Beacon starts and closed when it stops."""

from __future__ import annotations

import aiohttp


class SharedHttp:
    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # trust_env: HTTPS_PROXY / NO_PROXY apply to every outbound call (Slack, Graph, ICS feeds), as NHS
            # networks often require.
            self._session = aiohttp.ClientSession(trust_env=True)
        return self._session

    def get(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            raise RuntimeError("the HTTP session is used before Beacon started, or after it stopped")
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

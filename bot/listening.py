"""Start an aiohttp application on an address and learn its port (port 0: any free one)."""

from __future__ import annotations

import ssl
from typing import Any

from aiohttp import web


async def listen(app: web.Application, host: str, port: int, *, ssl_context: ssl.SSLContext | None = None,
                 **runner_options: Any) -> tuple[web.AppRunner, int]:
    """The started runner (clean it up to stop) and the port it listens on."""
    runner = web.AppRunner(app, access_log=None, **runner_options)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    listening: int = runner.addresses[0][1]  # the port the OS chose when asked for 0
    return runner, listening

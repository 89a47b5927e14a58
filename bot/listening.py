"""Start an aiohttp application on an address and learn its port (port 0: any free one)."""

from __future__ import annotations

import errno
import socket
import ssl
from typing import Any

from aiohttp import web

from beacon.bot.config_errors import ConfigError


def why_not(problem: OSError, host: str, port: int, *, other_port: str, what: str = "another Beacon") -> str:
    """Why an address could not be listened on, and what to do: `other_port` is how to choose another port (e.g.
    `beacon sandbox --port 8001`), `what` what may be holding this one."""
    if isinstance(problem, socket.gaierror):
        return (f"no address is known for the name {host!r}. Give an address of this machine: 127.0.0.1 (this "
                "machine only) or 0.0.0.0 (every interface)")
    if problem.errno == errno.EADDRINUSE:
        return f"the port is in use ({what}, or another program?). Stop it, or choose another port: {other_port}"
    if problem.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine. Use 127.0.0.1, 0.0.0.0 or one of this machine's addresses"
    if problem.errno == errno.EACCES:
        return f"not allowed to listen on port {port} (ports below 1024 need privileges); choose one above 1024"
    return f"{problem.strerror or problem}"


def next_port(port: int) -> int:
    return port + 1 if port < 65535 else 8001


def cannot_listen(problem: OSError, host: str, port: int, *, host_setting: str, port_setting: str,
                  other_port: str) -> ConfigError:
    """A listening address Beacon was given that cannot be used, as one configuration problem naming the setting
    (exit 2: another try would fail the same way until a person acts)."""
    setting = host_setting if isinstance(problem, socket.gaierror) or problem.errno == errno.EADDRNOTAVAIL else (
        port_setting)
    return ConfigError([f"{setting}: Beacon could not listen on {host}:{port}: "
                        f"{why_not(problem, host, port, other_port=other_port)}"])


async def listen(app: web.Application, host: str, port: int, *, ssl_context: ssl.SSLContext | None = None,
                 **runner_options: Any) -> tuple[web.AppRunner, int]:
    """The started runner (clean it up to stop) and the port it listens on. An address that cannot be used raises
    OSError (socket.gaierror for a name that does not resolve); `cannot_listen` explains it."""
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

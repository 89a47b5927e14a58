"""Why Slack or the database could not be used at start, as one message naming the setting to look at.

Exit codes (README "Exit codes", and `RestartPreventExitStatus=2` in deploy/): a failure that another try may
cure, because the network or a server is briefly away (a name that does not resolve, a host that refuses or does
not answer, Slack's 5xx), is `Unreachable`, exit 1, and systemd restarts Beacon. A failure only a person can fix
(a token Slack refuses, a certificate nobody trusts, a database or role that does not exist, a file that cannot
be opened) is a `ConfigError`, exit 2, and systemd leaves Beacon stopped with the message in the journal.
"""

from __future__ import annotations

import socket
import sqlite3
import ssl
from collections.abc import Iterator
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.proxy_env_variable_loader import load_http_proxy_from_env
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import ArgumentError

from beacon.bot.config_errors import ConfigError

EXIT_UNREACHABLE = 1

# Slack's answers that mean "this token will never work": a person must fix it.
REFUSED_TOKEN = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
                           "not_allowed_token_type", "invalid_token", "no_permission", "team_access_not_granted",
                           "missing_scope", "ekm_access_denied"})


class Unreachable(Exception):
    """Slack or the database did not answer; a later try may succeed. The message is for the operator."""

    exit_code = EXIT_UNREACHABLE


def refused_token(setting: str, error: SlackApiError, fix: str) -> ConfigError:
    code = error.response.get("error") if isinstance(error.response.data, dict) else None
    return ConfigError([f"{setting}: Slack refused it ({code}); {fix}"])


def is_refusal(error: SlackApiError) -> bool:
    return isinstance(error.response.data, dict) and error.response.data.get("error") in REFUSED_TOKEN


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)  # SQLAlchemy's wrapper around the driver's error
        current = orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)


def _proxy_hint() -> str:
    proxy = load_http_proxy_from_env()
    if proxy:
        host = urlsplit(proxy).hostname or proxy
        return f"; calls go through the proxy {host} (HTTPS_PROXY)"
    return "; if this network reaches the internet only through a proxy, set HTTPS_PROXY"


def explain_slack(error: BaseException, *, url: str, timeout: float) -> Unreachable | ConfigError | None:
    """The one message for a failure to reach Slack's Web API (or the Socket Mode endpoint) at `url`; None when
    `error` is not one of these (a bug, to be reported as such)."""
    host = urlsplit(url).hostname or url
    for cause in _chain(error):
        if isinstance(cause, aiohttp.ClientConnectorCertificateError | ssl.SSLCertVerificationError):
            reason = getattr(cause, "verify_message", None) or getattr(
                getattr(cause, "certificate_error", None), "verify_message", None) or "not trusted"
            return ConfigError([
                f"Slack at {host} could not be reached: its TLS certificate could not be verified ({reason}). "
                "A TLS-inspecting proxy presents its own certificate: give its CA certificate as a PEM file in "
                "SSL_CERT_FILE; also check SLACK_API_URL and HTTPS_PROXY"])
        if isinstance(cause, aiohttp.ClientProxyConnectionError):
            return Unreachable(f"Slack could not be reached: the proxy in HTTPS_PROXY did not accept a connection "
                               f"({cause.os_error.strerror or cause.os_error}); check HTTPS_PROXY and NO_PROXY")
        if isinstance(cause, aiohttp.ClientConnectorDNSError | socket.gaierror):
            return Unreachable(f"Slack could not be reached: the name {host} could not be resolved (DNS). "
                               f"Check this host's DNS and SLACK_API_URL{_proxy_hint()}")
        if isinstance(cause, TimeoutError | aiohttp.ServerTimeoutError):
            return Unreachable(f"Slack could not be reached: {host} did not answer within {timeout:g} s "
                               f"(BEACON_CONNECT_TIMEOUT). A firewall may be dropping the traffic; check "
                               f"SLACK_API_URL{_proxy_hint()}")
        if isinstance(cause, aiohttp.ClientConnectorError):
            return Unreachable(f"Slack could not be reached: connecting to {host} failed "
                               f"({cause.os_error.strerror or cause.os_error}). Check SLACK_API_URL{_proxy_hint()}")
        if isinstance(cause, aiohttp.ClientError | ConnectionError):
            return Unreachable(f"Slack could not be reached: the connection to {host} failed "
                               f"({type(cause).__name__}: {cause}). Check SLACK_API_URL{_proxy_hint()}")
        if isinstance(cause, SlackApiError) and not is_refusal(cause):
            status = cause.response.status_code
            code = cause.response.data.get("error") if isinstance(cause.response.data, dict) else None
            what = f"answered {code}" if code else f"answered HTTP {status} with something that is not Slack's API"
            return Unreachable(f"Slack at {host} {what}. Check SLACK_API_URL (default https://slack.com/api/)"
                               f"{_proxy_hint()}")
    return None


def explain_database(error: BaseException, url: str, *, timeout: float) -> Unreachable | ConfigError | None:
    """The one message for a database Beacon could not open; None when `error` is something else."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return ConfigError(["DATABASE_URL: cannot be read as a database URL"])
    if parsed.get_backend_name() == "sqlite":
        for cause in _chain(error):
            if isinstance(cause, sqlite3.Error):
                return ConfigError([
                    f"DATABASE_URL: the SQLite database {parsed.database} cannot be opened ({cause}). Check that its "
                    "folder exists and that Beacon's user may write there (four slashes make an absolute path: "
                    "sqlite+aiosqlite:////var/lib/beacon/beacon.db)"])
        return None
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    for cause in _chain(error):
        state = getattr(cause, "sqlstate", None)
        if state == "3D000":
            return ConfigError([f"DATABASE_URL: PostgreSQL at {where} has no database {parsed.database!r}; create "
                                f"it (createdb -O {parsed.username or 'beacon'} {parsed.database}) or correct the "
                                "name at the end of DATABASE_URL"])
        if state == "28000":
            return ConfigError([f"DATABASE_URL: PostgreSQL at {where} refused the role {parsed.username!r} ({cause}); "
                                "create the role, or correct the user name in DATABASE_URL (and pg_hba.conf)"])
        if state == "28P01":
            return ConfigError([f"DATABASE_URL: PostgreSQL at {where} refused the password for {parsed.username!r}; "
                                "correct it in DATABASE_URL (percent-encode special characters, e.g. @ as %40)"])
        if isinstance(state, str) and state.startswith(("08", "57P")):
            return Unreachable(f"DATABASE_URL: PostgreSQL at {where} is not accepting connections ({cause}); "
                               "Beacon will try again when restarted")
        if isinstance(cause, socket.gaierror):
            return Unreachable(f"DATABASE_URL: the database host {parsed.host!r} could not be resolved (DNS); "
                               "check the host name in DATABASE_URL")
        if isinstance(cause, TimeoutError):
            return Unreachable(f"DATABASE_URL: PostgreSQL at {where} did not answer within {timeout:g} s "
                               "(BEACON_CONNECT_TIMEOUT); check the host, the port and any firewall between")
        if isinstance(cause, OSError):
            return Unreachable(f"DATABASE_URL: PostgreSQL at {where} could not be reached "
                               f"({cause.strerror or cause}); is it running, and is the host and port right?")
    return None

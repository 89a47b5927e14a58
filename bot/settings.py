"""Secrets and endpoints from the environment (or a `.env` file): the only place that reads them."""

from __future__ import annotations

import os
import re
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from beacon.bot.config_errors import ConfigError

UNSAFE_SECRET_KEYS = {"changeme", "change-me", "secret", "password", "beacon", "test", "example"}
MIN_SECRET_KEY_LENGTH = 32
# What the text after xoxb-/xapp- looks like in a file nobody has filled in yet (deploy/beacon.env.example has
# xoxb-replace-me): refused here, before Slack is asked, with what belongs there.
_PLACEHOLDER_WORDS = ("replace", "change", "example", "your", "placeholder", "token", "...", "<", "todo")
# A real token goes on with digits and a dash (xoxb-1234-..., xapp-1-A0...): words are only looked for elsewhere,
# so that no random tail of a real token is ever mistaken for a placeholder.
_ISSUED_BY_SLACK = re.compile(r"^\d+-[A-Za-z0-9-]+$")


class Mode(StrEnum):
    """What the process is about to do; each needs a different set of secrets."""

    SOCKET = "run"
    HTTP = "serve"
    CHECK = "check"
    DATABASE = "db"
    ADMIN = "admin"  # privacy and audit commands: they write (and verify) the audit log
    WORKER = "worker"  # `beacon worker`: heavy work (exports, calendar syncs, digests) queued by run/serve


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite+aiosqlite:///./beacon.db"
    beacon_secret_key: SecretStr | None = None
    beacon_old_secret_keys: SecretStr | None = None  # earlier keys, comma-separated: older audit entries verify
    beacon_pid_file: Path | None = None  # where `beacon run`/`serve` write their process ID, for `beacon reload`
    beacon_config: Path = Path("./beacon.yaml")
    beacon_content: Path | None = None  # a folder with the trust's own values.yaml, awards.yaml, ...
    beacon_metrics_port: int | None = None  # also serve GET /metrics and /healthz on this port (for Socket Mode)
    beacon_metrics_host: str = "127.0.0.1"  # the address for beacon_metrics_port; 0.0.0.0 to be scraped from outside
    log_level: str = "INFO"
    # How long to wait for Slack or the database to answer (at start, and for each call to Slack), in seconds.
    beacon_connect_timeout: int = Field(default=15, ge=1, le=300)
    # How many requests' work after the ack runs at once (bot/after_ack.py); beyond it requests are acked and wait.
    beacon_work_in_flight: int = Field(default=8, ge=1, le=1000)
    # A person's App Home is refreshed at most once in this many seconds after what it shows changes (bot/after_ack.py:
    # Coalesced); 0 refreshes it as soon as the work after the acks allows.
    beacon_home_refresh_seconds: float = Field(default=2.0, ge=0, le=60)
    # `beacon worker` processes that run/serve start and keep running; 0 when they run as units of their own.
    beacon_workers: int = Field(default=1, ge=0, le=32)
    graph_tenant_id: str | None = None
    graph_client_id: str | None = None
    graph_client_secret: SecretStr | None = None
    graph_authority_url: str = "https://login.microsoftonline.com"
    graph_api_url: str = "https://graph.microsoft.com/v1.0"
    graph_ca_bundle: Path | None = None  # extra CA certificates, e.g. for a TLS-inspecting proxy
    # Values that could not be used, each as a problem to report; their fields hold the defaults meanwhile, so that
    # `require` can list them together with everything else that is wrong (load_settings fills it).
    _invalid: list[str] = PrivateAttr(default_factory=list)

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _token_shape(value.get_secret_value(), "xoxb-", "SLACK_BOT_TOKEN", "the Bot User OAuth Token")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _token_shape(value.get_secret_value(), "xapp-", "SLACK_APP_TOKEN",
                         "an app-level token with connections:write")
        return value

    @field_validator("beacon_secret_key")
    @classmethod
    def _secret_key_is_safe(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return value
        secret = value.get_secret_value()
        if secret.lower() in UNSAFE_SECRET_KEYS or len(secret) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"should be a random value of at least {MIN_SECRET_KEY_LENGTH} characters "
                "(for example the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return value

    @field_validator("beacon_metrics_port", mode="before")
    @classmethod
    def _port_number(cls, value: object) -> object:
        if value is None or value == "":
            return None
        try:
            port = int(str(value).strip())
        except ValueError:
            port = -1
        if not 0 <= port <= 65535:
            raise ValueError(f"should be a port number from 1 to 65535 (0: any free port; unset: none), not {value!r}")
        return port

    @field_validator("database_url")
    @classmethod
    def _usable_database(cls, value: str) -> str:
        from beacon.bot.db import (
            async_url,  # the one reading of DATABASE_URL (imported here: db imports settings' peers)
        )

        try:
            async_url(value)
        except ConfigError as error:
            raise ValueError("; ".join(p.removeprefix("DATABASE_URL: ") for p in error.problems)) from None
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_address(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(f"should be the address of Slack's Web API, https://slack.com/api/ (or a proxy's "
                             f"https:// address for it), not {value!r}")
        return value if value.endswith("/") else value + "/"

    @field_validator("beacon_connect_timeout", mode="before")
    @classmethod
    def _whole_seconds(cls, value: object) -> object:
        try:
            seconds = int(str(value).strip())
        except ValueError:
            seconds = 0
        if not 1 <= seconds <= 300:
            raise ValueError(f"should be whole seconds from 1 to 300 (default 15), not {value!r}")
        return seconds

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(f"should be one of DEBUG, INFO, WARNING, ERROR, not {value!r}")
        return level

    @property
    def invalid(self) -> list[str]:
        """The variables that are set to something unusable, each with what it should be."""
        return list(self._invalid)

    def missing_for(self, mode: Mode) -> list[str]:
        """Environment variables that `mode` needs and that are not set."""
        needed = {
            Mode.SOCKET: ["slack_bot_token", "slack_app_token", "beacon_secret_key"],
            Mode.HTTP: ["slack_bot_token", "slack_signing_secret", "beacon_secret_key"],
            Mode.CHECK: ["slack_bot_token"],
            Mode.DATABASE: [],
            Mode.ADMIN: ["beacon_secret_key"],
            Mode.WORKER: ["slack_bot_token", "beacon_secret_key"],
        }[mode]
        return [name.upper() for name in needed if getattr(self, name) is None]

    def missing_for_graph(self) -> list[str]:
        """What a Microsoft 365 calendar source needs from the environment."""
        names = {"graph_tenant_id": "the Directory (tenant) ID of the app registration",
                 "graph_client_id": "the Application (client) ID of the app registration",
                 "graph_client_secret": "a client secret of the app registration"}
        return [f"{n.upper()} is not set ({why}; a graph source is configured in beacon.yaml)"
                for n, why in names.items() if getattr(self, n) is None]

    def pid_file_problems(self) -> list[str]:
        """BEACON_PID_FILE is written once Beacon is connected; a folder that is not there is said at the start."""
        if self.beacon_pid_file is None:
            return []
        folder = self.beacon_pid_file.parent
        if not folder.is_dir():
            return [f"BEACON_PID_FILE: the folder {folder} does not exist; create it (writable by Beacon's user) or "
                    "choose a file in a folder that does, such as /var/lib/beacon/beacon.pid"]
        if not os.access(folder, os.W_OK):
            return [f"BEACON_PID_FILE: Beacon's user may not write in {folder}; choose a folder it may write in, "
                    "such as /var/lib/beacon"]
        return []

    def problems_for(self, mode: Mode) -> list[str]:
        """Every variable `mode` cannot use: the invalid ones (whatever the mode), then the missing ones."""
        invalid_names = {problem.split(":", 1)[0] for problem in self._invalid}
        return self.invalid + [f"{name} is not set ({_HINTS[name]})" for name in self.missing_for(mode)
                               if name not in invalid_names]

    def require(self, mode: Mode) -> None:
        problems = self.problems_for(mode)
        if problems:
            raise ConfigError(problems)

    def audit_keys(self) -> tuple[bytes | None, list[bytes]]:
        """The key that signs new audit entries (None when not configured) and earlier keys that verify old ones."""
        key = self.beacon_secret_key.get_secret_value().encode() if self.beacon_secret_key else None
        old = self.beacon_old_secret_keys.get_secret_value() if self.beacon_old_secret_keys else ""
        return key, [k.strip().encode() for k in old.split(",") if k.strip()]

    def secret(self, name: str) -> str:
        """The plain value of a secret that `require` has already checked."""
        value: SecretStr | None = getattr(self, name)
        if value is None:
            raise ConfigError([f"{name.upper()} is not set ({_HINTS[name.upper()]})"])
        return value.get_secret_value()


_HINTS = {
    "SLACK_BOT_TOKEN": "Slack app > OAuth & Permissions > Bot User OAuth Token, xoxb-...",
    "SLACK_APP_TOKEN": "Slack app > Basic Information > App-Level Tokens, with connections:write, xapp-...",
    "SLACK_SIGNING_SECRET": "Slack app > Basic Information > App Credentials > Signing Secret",
    "BEACON_SECRET_KEY": "a random value of at least 32 characters that you generate and keep safe",
}


def load_settings(**overrides: Any) -> Settings:
    """Read the environment. An invalid variable does not stop the reading: it is noted (`invalid`) and left at its
    default, so that `require` reports it in one list with the missing ones and the organisation file's faults."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        problems = [f"{'.'.join(str(p) for p in e['loc']).upper()}: {_clean(e['msg'])}" for e in error.errors()]
        fields = Settings.model_fields
        bad = {str(e["loc"][0]) for e in error.errors() if e["loc"] and str(e["loc"][0]) in fields}
        defaults = {name: fields[name].get_default(call_default_factory=True) for name in bad}
        try:
            settings = Settings(**{**overrides, **defaults})
        except ValidationError:
            raise ConfigError(problems) from None
        settings._invalid = problems
        return settings


def _token_shape(token: str, prefix: str, variable: str, what: str) -> None:
    if not token.startswith(prefix):
        raise ValueError(f"should be {what}, which starts with {prefix}")
    rest = token.removeprefix(prefix)
    if not rest.strip("xX.-*") or (not _ISSUED_BY_SLACK.match(rest)
                                   and any(word in rest.lower() for word in _PLACEHOLDER_WORDS)):
        raise ValueError(f"{token[:40]!r} is a placeholder: replace it with the real token from {_HINTS[variable]}")


def _clean(message: str) -> str:
    return message.removeprefix("Value error, ")

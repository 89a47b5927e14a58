"""Secrets and endpoints from the environment (or a `.env` file): the only place that reads them."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from beacon.bot.config_errors import ConfigError

UNSAFE_SECRET_KEYS = {"changeme", "change-me", "secret", "password", "beacon", "test", "example"}
MIN_SECRET_KEY_LENGTH = 32


class Mode(StrEnum):
    """What the process is about to do; each needs a different set of secrets."""

    SOCKET = "run"
    HTTP = "serve"
    CHECK = "check"
    DATABASE = "db"
    ADMIN = "admin"  # privacy and audit commands: they write (and verify) the audit log


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
    graph_tenant_id: str | None = None
    graph_client_id: str | None = None
    graph_client_secret: SecretStr | None = None
    graph_authority_url: str = "https://login.microsoftonline.com"
    graph_api_url: str = "https://graph.microsoft.com/v1.0"
    graph_ca_bundle: Path | None = None  # extra CA certificates, e.g. for a TLS-inspecting proxy

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("should be the Bot User OAuth Token, which starts with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("should be an app-level token with connections:write, which starts with xapp-")
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

    @field_validator("beacon_metrics_port")
    @classmethod
    def _port_number(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value <= 65535:
            raise ValueError("should be a port number from 1 to 65535 (0: any free port; unset: none)")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("should be one of DEBUG, INFO, WARNING, ERROR")
        return level

    def missing_for(self, mode: Mode) -> list[str]:
        """Environment variables that `mode` needs and that are not set."""
        needed = {
            Mode.SOCKET: ["slack_bot_token", "slack_app_token", "beacon_secret_key"],
            Mode.HTTP: ["slack_bot_token", "slack_signing_secret", "beacon_secret_key"],
            Mode.CHECK: ["slack_bot_token"],
            Mode.DATABASE: [],
            Mode.ADMIN: ["beacon_secret_key"],
        }[mode]
        return [name.upper() for name in needed if getattr(self, name) is None]

    def missing_for_graph(self) -> list[str]:
        """What a Microsoft 365 calendar source needs from the environment."""
        names = {"graph_tenant_id": "the Directory (tenant) ID of the app registration",
                 "graph_client_id": "the Application (client) ID of the app registration",
                 "graph_client_secret": "a client secret of the app registration"}
        return [f"{n.upper()} is not set ({why}; a graph source is configured in beacon.yaml)"
                for n, why in names.items() if getattr(self, n) is None]

    def require(self, mode: Mode) -> None:
        missing = self.missing_for(mode)
        if missing:
            raise ConfigError([f"{name} is not set ({_HINTS[name]})" for name in missing])

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
    """Read the environment; every invalid variable is reported at once as a ConfigError."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise ConfigError(
            [f"{'.'.join(str(p) for p in e['loc']).upper()}: {_clean(e['msg'])}" for e in error.errors()]
        ) from None


def _clean(message: str) -> str:
    return message.removeprefix("Value error, ")

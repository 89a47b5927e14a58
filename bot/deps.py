"""Everything Beacon is built on, made once per process; tests and the sandbox build their own."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock, SystemClock
from bot.content import Content, load_content
from bot.db import Database
from bot.integrations.slack_directory import SlackGroupDirectory
from bot.organisation import Organisation
from bot.services.authorisation import Authorisation, GroupDirectory
from bot.settings import Settings


@dataclass
class Deps:
    settings: Settings
    organisation: Organisation
    content: Content
    clock: Clock
    db: Database
    slack: AsyncWebClient
    authorisation: Authorisation


def build_slack_client(settings: Settings) -> AsyncWebClient:
    """The Web API client for interactive work: retries rate limits, 5xx and dropped connections."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=15,
        logger=logging.getLogger("beacon.slack"),
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def build_deps(settings: Settings, organisation: Organisation, *, clock: Clock | None = None,
               content: Content | None = None, db: Database | None = None,
               directory: GroupDirectory | None = None) -> Deps:
    clock = clock or SystemClock()
    slack = build_slack_client(settings)
    return Deps(
        settings=settings,
        organisation=organisation,
        content=content or load_content(),
        clock=clock,
        db=db or Database(settings.database_url),
        slack=slack,
        authorisation=Authorisation(organisation.roles, directory or SlackGroupDirectory(slack), clock),
    )

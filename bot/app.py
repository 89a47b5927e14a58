"""The composition root: `create_app(settings, deps)` builds the one Bolt app that HTTP and Socket Mode serve."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.response import BoltResponse

from beacon.bot.deps import Deps
from beacon.bot.services.events import first_delivery
from beacon.bot.settings import Settings
from beacon.handlers import register_all

log = logging.getLogger("beacon.app")


def _not_the_token_warning(record: logging.LogRecord) -> bool:
    # Bolt reads SLACK_BOT_TOKEN from the environment itself and warns, at every start, that the client given
    # wins over it. It is the same token (the client is built from it): the warning tells an operator nothing.
    return record.getMessage() != warning_client_prioritized_and_token_skipped()


def create_app(settings: Settings, deps: Deps) -> AsyncApp:
    bolt_logger = logging.getLogger("slack_bolt.AsyncApp")
    bolt_logger.addFilter(_not_the_token_warning)  # once: a filter already added is not added again
    app = AsyncApp(
        client=deps.slack,
        signing_secret=settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else "",
        logger=bolt_logger,
        process_before_response=False,
    )

    @app.middleware
    async def skip_repeated_events(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        """Slack retries an event it thinks was missed; the retry may reach another replica."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            async with deps.db.transaction() as session:
                first = await first_delivery(session=session, event_id=event_id, now=deps.clock.now())
            if not first:
                log.info("repeated event skipped", extra={"event_id": event_id})
                return BoltResponse(status=200, body="")
        await next()
        return None

    register_all(app, deps)
    return app

"""The composition root: `create_app(settings, deps)` builds the one Bolt app that HTTP and Socket Mode serve."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from beacon.bot.deps import Deps
from beacon.bot.services.events import first_delivery
from beacon.bot.settings import Settings
from beacon.handlers import register_all

log = logging.getLogger("beacon.app")


def create_app(settings: Settings, deps: Deps) -> AsyncApp:
    app = AsyncApp(
        client=deps.slack,
        signing_secret=settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else "",
        logger=logging.getLogger("slack_bolt.AsyncApp"),
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

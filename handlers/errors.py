"""The one place errors become words: domain refusals, Slack API errors and bugs, each told plainly."""

from __future__ import annotations

import logging
import secrets

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.errors import build_not_permitted_text, build_slack_refused_text, build_went_wrong_text
from bot.deps import Deps
from bot.errors import BeaconError
from bot.escaping import escape_mrkdwn
from bot.services.authorisation import RoleRequired

log = logging.getLogger("beacon.errors")


def user_of(body: dict) -> str | None:
    return body.get("user_id") or (body.get("user") or {}).get("id") or (body.get("event") or {}).get("user")


def explain(error: Exception, deps: Deps) -> str:
    """The words a person sees for `error`; unexpected ones are logged with a reference to quote."""
    messages = deps.content.messages
    if isinstance(error, RoleRequired):
        return build_not_permitted_text(error, messages)
    if isinstance(error, BeaconError):
        return escape_mrkdwn(error.user_message)
    if isinstance(error, SlackApiError):
        code = str(error.response.get("error", "unknown_error"))
        log.error("Slack API call failed", extra={"slack_method": error.response.api_url.rsplit("/", 1)[-1],
                                                  "slack_error": code})
        return build_slack_refused_text(error_code=code, what="your request", messages=messages)
    reference = secrets.token_hex(4)
    log.exception("unexpected error handling a Slack request", exc_info=error, extra={"reference": reference})
    return build_went_wrong_text(what="your request", reference=reference, messages=messages)


def register(app: AsyncApp, deps: Deps) -> None:
    @app.error
    async def handle_error(error: Exception, body: dict, client: AsyncWebClient,
                           respond: AsyncRespond | None = None) -> None:
        text = explain(error, deps)
        user_id = user_of(body)
        if body.get("type") == "event_callback" or user_id is None:
            return  # nobody is waiting on an event; it is logged above when unexpected
        try:
            if respond is not None and body.get("response_url"):
                await respond(response_type="ephemeral", replace_original=False, text=text)
            else:
                await client.chat_postMessage(channel=user_id, text=text)
        except SlackApiError:
            log.exception("could not tell the user that their request failed", extra={"user": user_id})

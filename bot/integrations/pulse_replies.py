"""Telling people what became of their held pulse answers: where they clicked (the click's response URL, while
Slack still accepts it), else in a direct message.

These replies carry each person's change token, so they never pass through the outbox (which is stored):
they go straight from memory to Slack, and nothing here logs who was told what.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from beacon.bot.clock import Clock
from beacon.bot.services.pulses import Outcome

log = logging.getLogger(__name__)

RESPONSE_URL_LIFETIME = timedelta(minutes=25)  # Slack honours a response URL for 30 minutes (and 5 uses)
DM_ATTEMPTS = 3

Render = Callable[[Outcome], tuple[str, list[dict[str, Any]]]]


class SlackAnswerReplies:
    def __init__(self, client: AsyncWebClient, *, render: Render, clock: Clock):
        self._client, self._render, self._clock = client, render, clock

    async def deliver(self, outcomes: Sequence[Outcome]) -> None:
        """Tell each person; one who cannot be told never stops the others being told. The answer is stored
        either way (and counted in the results); only the confirmation, and with it the change token, is lost."""
        failed = 0
        for outcome in outcomes:
            try:
                text, blocks = self._render(outcome)
                if not await self._where_they_clicked(outcome, text, blocks):
                    await self._direct_message(outcome.reply.user_id, text, blocks)
            except Exception:
                failed += 1
        if failed:  # counted, not named: a name beside the moment would say whose group this was
            log.warning("could not tell some people what became of their pulse answers", extra={"people": failed})

    async def _direct_message(self, user_id: str, text: str, blocks: list[dict[str, Any]]) -> None:
        for attempt in range(DM_ATTEMPTS):  # the client itself already retries 429s, 5xx and dropped connections
            try:
                await self._client.chat_postMessage(channel=user_id, text=text, blocks=blocks)
                return
            except SlackApiError as error:
                if error.response.status_code < 500 or attempt == DM_ATTEMPTS - 1:
                    raise
            await asyncio.sleep(0.5 * (attempt + 1))

    async def _where_they_clicked(self, outcome: Outcome, text: str, blocks: list[dict[str, Any]]) -> bool:
        url = outcome.reply.response_url
        if not url or self._clock.now() - outcome.reply.since > RESPONSE_URL_LIFETIME:
            return False
        try:
            response = await AsyncWebhookClient(url, session=self._client.session).send(
                text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
        except Exception:  # any failure to reach the response URL: a direct message still tells them
            return False
        return response.status_code == 200

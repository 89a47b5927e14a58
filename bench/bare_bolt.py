"""The baseline for the answer benchmark: a bare Bolt AsyncApp on aiohttp that acks every request and does
nothing else. Run by bench.pulse_answers as its own process, exactly as `beacon serve` is.

    SLACK_BOT_TOKEN=... SLACK_SIGNING_SECRET=... SLACK_API_URL=... python -m bench.bare_bolt --port 3001
"""

from __future__ import annotations

import argparse
import logging
import os
import re

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def build() -> AsyncApp:
    token = os.environ["SLACK_BOT_TOKEN"]
    app = AsyncApp(signing_secret=os.environ["SLACK_SIGNING_SECRET"], token=token,
                   client=AsyncWebClient(token=token, base_url=os.environ["SLACK_API_URL"]))
    anything = re.compile(".*")

    @app.action(anything)
    async def ack_action(ack: AsyncAck) -> None:
        await ack()

    @app.command(anything)
    async def ack_command(ack: AsyncAck) -> None:
        await ack()

    @app.view(anything)
    async def ack_view(ack: AsyncAck) -> None:
        await ack()

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    build().start(port=args.port, path="/slack/events", host="127.0.0.1")


if __name__ == "__main__":
    main()

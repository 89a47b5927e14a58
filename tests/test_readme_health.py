"""The README shows `/healthz`'s body word for word: the real server's answer has the same fields, of the same
kinds, and a healthy idle Beacon gives exactly what is shown (but its version)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp

from beacon.bot import __version__
from tests.harness import BeaconServer

README = (Path(__file__).parents[1] / "README.md").read_text()


def _readme_example() -> dict[str, object]:
    health = README[README.index("- **Health.** `GET /healthz`"):]
    block = re.search(r"```json\n(.*?)\n\s*```", health, re.S)
    assert block, "the README shows the body of /healthz as a JSON block"
    example: dict[str, object] = json.loads(block[1])
    return example


async def test_healthz_answers_what_the_readme_shows(server: BeaconServer) -> None:
    beacon = await server.start(scheduler_paused=False)
    url = beacon.slack.app_url.replace("/slack/events", "/healthz")  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        body = await response.json()
    assert response.status == 200
    example = _readme_example()
    assert list(body) == list(example)
    assert body == {**example, "version": __version__}

"""Files Beacon uploads, as the sandbox page serves them: the pulse chart is a PNG the browser shows."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp

from beacon.bot.sandbox.demo_trust import ALICE, ERIN
from beacon.bot.sandbox.server import Sandbox

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def test_the_pulse_chart_is_served_as_a_png_image() -> None:
    sandbox = await Sandbox(port=0, start=START).start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{sandbox.url}/api/command",
                                 json={"as": ERIN, "channel": "C0FORUM", "text": "/pulse close 1"}) as closed:
                assert (await closed.json())["ok"]
            async with http.post(f"{sandbox.url}/api/clock", json={"advance_minutes": 2}) as moved:
                assert (await moved.json())["ok"]
            async with http.get(f"{sandbox.url}/api/conversation/C0FORUM", params={"as": ALICE}) as conversation:
                files = [f for m in (await conversation.json())["messages"] for f in m.get("files") or []]
            charts = [f for f in files if f["name"] == "pulse-results.png"]
            assert len(charts) == 1, files
            async with http.get(sandbox.url + charts[0]["url"]) as chart:
                assert chart.status == 200
                assert chart.headers["Content-Type"] == "image/png"
                assert chart.headers["Content-Disposition"].startswith("inline")
                assert chart.headers["X-Content-Type-Options"] == "nosniff"
                assert (await chart.read()).startswith(b"\x89PNG\r\n\x1a\n")
    finally:
        await sandbox.stop()

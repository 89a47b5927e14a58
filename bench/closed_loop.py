"""A closed-loop load generator in a process of its own, so that sending and timing requests does not share an
event loop (or a core's turn) with the local Slack that Beacon calls back.

It reads a JSON plan from stdin: {"url", "secret", "concurrency", "requests": [{"kind", "user", "body",
"content_type"}]}; `concurrency` workers each send the next request as soon as their previous one is answered,
signing each exactly as Slack does at the moment it is sent. It writes one JSON list to stdout: for each request
its kind, user, status, the wall-clock time it was sent and its ack latency in ms.

    python -m bench.closed_loop < plan.json > timings.json
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import sys
import time
from typing import Any

import aiohttp


def signed_headers(secret: str, body: str, content_type: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}", "Content-Type": content_type}


async def run(plan: dict[str, Any]) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = plan["requests"]
    timings: list[dict[str, Any]] = [{} for _ in requests]
    queue = iter(range(len(requests)))
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        async def worker() -> None:
            for index in queue:
                request = requests[index]
                headers = signed_headers(plan["secret"], request["body"], request["content_type"])
                sent, started = time.time(), time.perf_counter()
                async with http.post(plan["url"], data=request["body"].encode(), headers=headers) as response:
                    await response.read()
                    status = response.status
                timings[index] = {"kind": request["kind"], "user": request["user"], "status": status,
                                  "sent_at": sent, "latency_ms": (time.perf_counter() - started) * 1000}
        await asyncio.gather(*(worker() for _ in range(plan["concurrency"])))
    return timings


def main() -> None:
    plan = json.load(sys.stdin)
    json.dump(asyncio.run(run(plan)), sys.stdout)


if __name__ == "__main__":
    main()

"""Benchmark: 20 requests at once through `beacon serve`, against a bare Bolt app served the same way.

Beacon runs as its own process (`beacon serve`, scheduler and all) against the local Slack, and so does a bare Bolt
AsyncApp that only acks (bench.bare_bolt). A load generator in a third process (bench.closed_loop) keeps 20
requests in flight, each signed exactly as Slack signs it at the moment it is sent: a mix, in a shuffled order, of
`/nominate` (acked, then views.open), a click on a named pulse's answer button (acked, then the answer stored and
the person told privately through response_url) and a nomination form submitted (the nomination stored in the
ack's time). Rounds alternate, Beacon then bare Bolt with the same requests, `--rounds` times (each Beacon round by
people who have not acted before, so every request does its full work).

Measured: each round's ack p50 / p99 for Beacon and for bare Bolt (all requests, and per kind); click to private
confirmation (the response_url post the local Slack records) p50 / p99; Beacon's resident memory before the
burst, at its peak and 10 s after its last round; that every request was acked 200, and that every click and
submission was stored (nothing dropped, however many were queued behind BEACON_WORK_IN_FLIGHT).

    .venv/bin/python -m bench.crowd [--per-kind 100] [--rounds 3] [--concurrency 20] [--record]
    BEACON_BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/beacon_bench .venv/bin/python -m ...
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from beacon.bot.blocks.nominations import NO_PATIENT_DETAILS, SHARE
from beacon.bot.blocks.pulses import slot_blocks
from beacon.bot.db import Database, upgrade
from beacon.bot.http_server import EVENTS_PATH
from beacon.bot.ids import ActionId, BlockId, CallbackId
from beacon.bot.local_slack import LocalSlack
from beacon.bot.local_slack.server import Reply
from beacon.bot.local_slack.workspace import Ephemeral, Message
from beacon.bot.models import Nomination, PulseNamedAnswer
from bench.reporting import finish, fresh_database, percentiles
from bench.serving import BEACON, ROOT, Process, bare_env, beacon_env, cpu_seconds, free_port, healthy, rss_mb
from tests.harness import ALICE, ERIN, FORUM, seed_workspace
from tests.nominating import STORY

RESULTS = Path(__file__).parent / "results" / "crowd.json"
GOAL = ("goal: every request acked 200 and its work done; ack p99 under 100 ms and within 2x of bare Bolt's in the "
        "same round; click to private confirmation p99 under 1 s on PostgreSQL; memory back within 15% of idle")
SCALE = 5



class Arrivals(list[Ephemeral]):
    """The workspace's ephemeral messages, remembering when each arrived (wall-clock, as the generator's)."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def append(self, item: Ephemeral) -> None:
        self.times.append(time.time())
        super().append(item)


async def _captured(slack: LocalSlack, act: Any) -> dict[str, Any]:
    """The request a person's action would send, signed nowhere and sent nowhere (the generator signs it)."""
    seen: dict[str, Any] = {}

    async def record(kind: str, form_or_payload: dict[str, Any], *, retry_num: int = 0) -> Reply:
        body = (urllib.parse.urlencode({"payload": json.dumps(form_or_payload)}) if kind == "interactive"
                else urllib.parse.urlencode(form_or_payload))
        seen.update(body=body, content_type="application/x-www-form-urlencoded")
        return Reply(status=200, body={}, latency_ms=0.0)

    deliver = slack._deliver
    slack._deliver = record  # type: ignore[method-assign]
    try:
        await act
    finally:
        slack._deliver = deliver  # type: ignore[method-assign]
    return seen


async def _post_pulse(slack: LocalSlack) -> Message:
    ws, erin = slack.workspace, slack.person(ERIN)
    await erin.command("/pulse", channel=FORUM)
    for _ in range(100):
        if erin.modal is not None:
            break
        await asyncio.sleep(0.1)
    kind, question, options = slot_blocks(1)
    reply = await erin.submit({BlockId.PULSE_TITLE: "Staff forum pulse", kind: "agreement",
                               question: "I am able to make suggestions to improve the work of my team.",
                               options: "", BlockId.PULSE_SETTINGS: []})  # named: the confirmation comes at once
    assert reply.json == {}, reply.json
    for _ in range(300):
        posted = [m for m in ws.messages(FORUM) if m.blocks and m.blocks[0]["type"] == "header"]
        if posted:
            return posted[0]
        await asyncio.sleep(0.1)
    raise RuntimeError("the pulse was never posted")


async def _requests_of(slack: LocalSlack, user: str, pulse: Message) -> list[dict[str, Any]]:
    """One person's three requests: /nominate, a click on the pulse, and a filled nomination form sent."""
    person = slack.person(user)
    await person.command("/nominate")
    for _ in range(200):
        if person.modal is not None and person.modal.callback_id == CallbackId.NOMINATE:
            break
        await asyncio.sleep(0.05)
    else:
        raise RuntimeError(f"the nomination modal never opened for {user}")
    await person.click(ActionId.NOMINATE_AWARD, value="values")
    await asyncio.sleep(0.3)
    entries = {BlockId.NOMINATE_STORY: STORY, BlockId.NOMINATE_VALUES: ["care"], BlockId.NOMINATE_OPTIONS: [SHARE],
               BlockId.NOMINATE_NO_PATIENT_DETAILS: [NO_PATIENT_DETAILS], BlockId.NOMINATE_COLLEAGUES: [ALICE]}
    submission = await _captured(slack, person.submit(entries))
    command = await _captured(slack, person.command("/nominate"))
    choice = random.Random(user).randrange(SCALE)
    click = await _captured(slack, person.click(f"{ActionId.PULSE_CHOOSE}_{choice}", message=pulse))
    return [{"kind": "command", "user": user, **command}, {"kind": "click", "user": user, **click},
            {"kind": "submission", "user": user, **submission}]


async def _generate(url: str, secret: str, concurrency: int, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    plan = json.dumps({"url": url, "secret": secret, "concurrency": concurrency, "requests": requests}).encode()
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.closed_loop", cwd=ROOT,
                                                   stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate(plan)
    timings: list[dict[str, Any]] = json.loads(out)
    return timings


def _acks(timings: list[dict[str, Any]]) -> dict[str, Any]:
    kinds = sorted({t["kind"] for t in timings})
    return {"all": percentiles([t["latency_ms"] for t in timings]),
            **{kind: percentiles([t["latency_ms"] for t in timings if t["kind"] == kind]) for kind in kinds},
            "acked_200": sum(1 for t in timings if t["status"] == 200), "requests": len(timings),
            "seconds": round(max(t["sent_at"] for t in timings) - min(t["sent_at"] for t in timings), 2)}


def _confirmations(timings: list[dict[str, Any]], arrivals: Arrivals) -> list[float]:
    """For each click, how long until its person was told privately through response_url."""
    first: dict[str, float] = {}
    for ephemeral, at in zip(list(arrivals), list(arrivals.times), strict=True):
        if ephemeral.via == "response_url" and "answer" in ephemeral.text.lower():
            first.setdefault(ephemeral.user, at)
    return [(first[t["user"]] - t["sent_at"]) * 1000 for t in timings if t["kind"] == "click" and t["user"] in first]


async def _counts(database_url: str) -> tuple[int, int]:
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            nominations = int(await session.scalar(select(func.count()).select_from(Nomination)) or 0)
            answers = int(await session.scalar(select(func.count()).select_from(PulseNamedAnswer)) or 0)
    finally:
        await db.dispose()
    return nominations, answers


async def run(*, per_kind: int, rounds: int, concurrency: int, database_url: str,
              extra_env: dict[str, str], profile: str | None = None) -> dict[str, Any]:
    workspace = seed_workspace()
    people = [[f"U{r}{i:07d}" for i in range(per_kind)] for r in range(rounds)]
    for user in (u for group in people for u in group):
        workspace.add_user(user, user.lower(), f"Staff Member {user}")
        workspace.channels[FORUM].members.add(user)
    arrivals = Arrivals()
    workspace.ephemerals = arrivals
    slack = LocalSlack(workspace)
    await slack.start()
    database_url = await fresh_database(database_url, "crowd")
    await upgrade(database_url)
    result: dict[str, Any] = {"per_kind": per_kind, "rounds": rounds, "concurrency": concurrency,
                              "database": database_url.split(":")[0], "settings": extra_env}
    with tempfile.TemporaryDirectory(prefix="beacon-bench-") as folder:
        workdir = Path(folder)
        beacon_port, bare_port = free_port(), free_port()
        log = workdir / "beacon.log"
        serve = ([sys.executable, "-m", "bench.sampling", profile, "-m", "beacon.bot"] if profile else [BEACON])
        async with Process(*serve, "serve", "--port", str(beacon_port), cwd=workdir, stderr=log,
                           env=beacon_env(slack, database_url, workdir, **extra_env,
                                          **({"PYTHONPATH": str(ROOT)} if profile else {}))) as beacon, \
                Process(sys.executable, "-m", "bench.bare_bolt", "--port", str(bare_port), env=bare_env(slack),
                        cwd=ROOT):
            await healthy(beacon_port, "/healthz")
            await healthy(bare_port, "/")
            beacon_url = f"http://127.0.0.1:{beacon_port}{EVENTS_PATH}"
            bare_url = f"http://127.0.0.1:{bare_port}{EVENTS_PATH}"
            slack.app_url = beacon_url
            pulse = await _post_pulse(slack)
            plans = []
            for group in people:  # setting up: each person's nomination form opened through Beacon (a warm-up too)
                requests: list[dict[str, Any]] = []
                for chunk in range(0, len(group), 10):
                    for mine in await asyncio.gather(*(_requests_of(slack, u, pulse)
                                                       for u in group[chunk:chunk + 10])):
                        requests.extend(mine)
                random.Random(len(plans)).shuffle(requests)
                plans.append(requests)
            await _generate(bare_url, workspace.signing_secret, concurrency, plans[0][:60])  # bare Bolt warmed too
            await asyncio.sleep(3)
            before = rss_mb(beacon.pid)
            peak = before
            sampling = True

            async def sample() -> None:
                nonlocal peak
                while sampling:
                    peak = max(peak, rss_mb(beacon.pid))
                    await asyncio.sleep(0.05)
            sampler = asyncio.create_task(sample())

            async def keep_triggers_fresh() -> None:  # the requests were made ahead; Slack's trigger lasts 3 s
                while sampling:
                    now = time.monotonic()
                    for trigger, (user, _) in list(workspace.triggers.items()):
                        if trigger not in workspace.used_triggers:
                            workspace.triggers[trigger] = (user, now)
                    await asyncio.sleep(0.5)
            freshener = asyncio.create_task(keep_triggers_fresh())
            beacon_rounds, bare_rounds, confirmations = [], [], []
            last_beacon = time.monotonic()
            cpu_ms_per_request = []
            for requests in plans:
                cpu = cpu_seconds(beacon.pid)
                timings = await _generate(beacon_url, workspace.signing_secret, concurrency, requests)
                await asyncio.sleep(1)  # the work after the acks, too
                cpu_ms_per_request.append(round((cpu_seconds(beacon.pid) - cpu) * 1000 / len(requests), 2))
                last_beacon = time.monotonic()
                beacon_rounds.append(timings)
                bare_rounds.append(await _generate(bare_url, workspace.signing_secret, concurrency, requests))
            await asyncio.sleep(max(0.0, last_beacon + 10 - time.monotonic()))
            sampling = False
            await sampler
            await freshener
            after = rss_mb(beacon.pid)
            for timings in beacon_rounds:
                confirmations.append(percentiles(_confirmations(timings, arrivals)))
            deadline = time.monotonic() + 60
            expected = per_kind * rounds
            while time.monotonic() < deadline:  # queued work finishing (it should have long since)
                nominations, answers = await _counts(database_url)
                if nominations >= expected and answers >= expected:
                    break
                await asyncio.sleep(0.5)
        text = log.read_text(errors="replace")
        errors = [line for line in text.splitlines() if "ERROR" in line][:5]
        if os.environ.get("BEACON_BENCH_KEEP_LOG"):
            Path(os.environ["BEACON_BENCH_KEEP_LOG"]).write_text(text)  # noqa: ASYNC240
    await slack.stop()
    beacon_acks = [_acks(t) for t in beacon_rounds]
    bare_acks = [_acks(t) for t in bare_rounds]
    result.update({
        "beacon": beacon_acks, "bare_bolt": bare_acks, "click_to_confirmation": confirmations,
        "ack_p99_ms_rounds": [a["all"]["p99_ms"] for a in beacon_acks],
        "ack_p50_ms_rounds": [a["all"]["p50_ms"] for a in beacon_acks],
        "bare_ack_p99_ms_rounds": [a["all"]["p99_ms"] for a in bare_acks],
        "bare_ack_p50_ms_rounds": [a["all"]["p50_ms"] for a in bare_acks],
        **{f"{kind}_ack_p99_ms_rounds": [a[kind]["p99_ms"] for a in beacon_acks]
           for kind in ("command", "click", "submission")},
        **{f"bare_{kind}_ack_p99_ms_rounds": [a[kind]["p99_ms"] for a in bare_acks]
           for kind in ("command", "click", "submission")},
        "p99_vs_bare_rounds": [round(a["all"]["p99_ms"] / b["all"]["p99_ms"], 2)
                               for a, b in zip(beacon_acks, bare_acks, strict=True)],
        "confirmation_p99_ms_rounds": [c.get("p99_ms", float("inf")) for c in confirmations],
        "confirmation_p50_ms_rounds": [c.get("p50_ms", float("inf")) for c in confirmations],
        "beacon_requests_per_second_rounds": [round(a["requests"] / max(a["seconds"], 0.001)) for a in beacon_acks],
        "bare_requests_per_second_rounds": [round(a["requests"] / max(a["seconds"], 0.001)) for a in bare_acks],
        "beacon_cpu_ms_per_request_rounds": cpu_ms_per_request,
        "memory_mb": {"before": round(before, 1), "peak": round(peak, 1), "after_10s": round(after, 1)},
        "memory_after_over_before": round(after / before, 3),
        "nominations_stored": nominations, "answers_stored": answers, "expected_each": expected,
        "errors_logged": errors,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    })
    postgres = result["database"].startswith("postgresql")
    result["checks"] = {"every request acked": all(a["acked_200"] == a["requests"] for a in beacon_acks),
                        "every nomination stored": nominations == expected, "every answer stored": answers == expected,
                        "no error logged": not errors}
    result["pass"] = (all(result["checks"].values())
                      and statistics.median(result["ack_p99_ms_rounds"]) < 100
                      and statistics.median(result["p99_vs_bare_rounds"]) <= 2
                      and (not postgres or statistics.median(result["confirmation_p99_ms_rounds"]) < 1000)
                      and after <= before * 1.15)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-kind", type=int, default=100, help="requests of each kind in each round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--env", action="append", default=[], help="NAME=value for beacon serve (e.g. "
                        "BEACON_WORK_IN_FLIGHT=4)")
    parser.add_argument("--profile", help="run beacon serve under bench.sampling, its profile (JSON) to this file")
    parser.add_argument("--record", action="store_true", help=f"append the figures to {RESULTS}")
    args = parser.parse_args()
    database_url = os.environ.get("BEACON_BENCH_DATABASE_URL") or "sqlite+aiosqlite:///unused.db"
    extra = dict(item.split("=", 1) for item in args.env)
    result = asyncio.run(run(per_kind=args.per_kind, rounds=args.rounds, concurrency=args.concurrency,
                             database_url=database_url, extra_env=extra, profile=args.profile))
    finish(result, passed=result["pass"], checks=result["checks"], goal=GOAL, results=RESULTS, record=args.record)


if __name__ == "__main__":
    main()

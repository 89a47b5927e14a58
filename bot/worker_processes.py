"""The `beacon worker` children of `beacon serve` and `beacon run` (BEACON_WORKERS, default 1), so a one-process
deployment needs no second unit: each child is started with the same environment, restarted if it dies, and
stopped with its parent. With BEACON_WORKERS=0 none is started and `beacon worker` runs as units of its own."""

from __future__ import annotations

import asyncio
import logging
import os
import sys

log = logging.getLogger("beacon.worker")
RESTART_AFTER = 2.0      # seconds before a child that died is started again
EXIT_CONFIG = 2          # a child that cannot start for its configuration is not restarted (as systemd would not)


class WorkerProcesses:
    def __init__(self, count: int):
        self.count = count
        self._children: list[asyncio.subprocess.Process | None] = [None] * count
        self._watching: list[asyncio.Task[None]] = []
        self._stopping = False

    @property
    def pids(self) -> list[int]:
        return [child.pid for child in self._children if child is not None and child.returncode is None]

    async def start(self) -> None:
        for slot in range(self.count):
            await self._spawn(slot)
            self._watching.append(asyncio.create_task(self._watch(slot), name=f"beacon worker {slot}"))

    async def _spawn(self, slot: int) -> None:
        self._children[slot] = await asyncio.create_subprocess_exec(sys.executable, "-m", "beacon.bot", "worker",
                                                                     "--parent", str(os.getpid()))
        log.info("worker process started", extra={"pid": self._children[slot].pid})  # type: ignore[union-attr]

    async def _watch(self, slot: int) -> None:
        while not self._stopping:
            child = self._children[slot]
            assert child is not None
            code = await child.wait()
            if self._stopping:
                return
            if code == EXIT_CONFIG:
                log.error("worker process cannot start: its configuration must be fixed", extra={"pid": child.pid})
                return
            log.warning("worker process ended; starting another", extra={"pid": child.pid, "exit_code": code})
            await asyncio.sleep(RESTART_AFTER)
            if not self._stopping:
                await self._spawn(slot)

    async def stop(self, grace_seconds: float) -> None:
        """SIGTERM each child (it finishes the job under way), then kill any still running after the grace."""
        self._stopping = True
        for task in self._watching:
            task.cancel()
        live = [c for c in self._children if c is not None and c.returncode is None]
        for child in live:
            child.terminate()
        for child in live:
            try:
                await asyncio.wait_for(child.wait(), timeout=grace_seconds)
            except TimeoutError:
                log.warning("worker process did not stop in time; killing it", extra={"pid": child.pid})
                child.kill()
                await child.wait()

"""How every benchmark ends: print the result, say PASS or FAIL against its goal, and, with --record, append the
result to its file in bench/results/. The exit code is 0 on PASS, so a script can run them all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def finish(result: dict[str, Any], *, passed: bool, goal: str | None, results: Path, record: bool) -> None:
    print(json.dumps(result, indent=2))
    if goal:
        print("PASS" if passed else "FAIL", f"({goal})")
    if record:
        history = json.loads(results.read_text()) if results.exists() else []
        results.write_text(json.dumps([*history, result], indent=2) + "\n")
    raise SystemExit(0 if passed else 1)

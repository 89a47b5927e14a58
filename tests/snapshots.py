"""Snapshot checks for Block Kit builders: the JSON a builder makes, compared with a stored copy.

Set UPDATE_SNAPSHOTS=1 to write a snapshot after a deliberate change; review the diff before committing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

SNAPSHOTS = Path(__file__).parent / "snapshots"


def assert_snapshot(name: str, value: Any) -> None:
    rendered = json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    path = SNAPSHOTS / f"{name}.json"
    if os.environ.get("UPDATE_SNAPSHOTS") or not path.exists():
        if not os.environ.get("UPDATE_SNAPSHOTS") and os.environ.get("CI"):
            raise AssertionError(f"snapshot {path.name} is missing; run the tests with UPDATE_SNAPSHOTS=1")
        path.write_text(rendered)
        return
    assert rendered == path.read_text(), f"{name} differs from {path}; UPDATE_SNAPSHOTS=1 if deliberate"

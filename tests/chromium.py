"""Where the browser tests find Chromium, and whether this run insists on it.

Only the project's own CI (`.ci/run`) sets BEACON_REQUIRE_BROWSER=1: there a missing browser is a failure. Anywhere
else (a developer's machine, a trust's own CI, whatever its CI variable says) the browser tests are skipped and the
run says how many.
"""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("BEACON_CHROMIUM", "/usr/bin/chromium"))
REQUIRED = os.environ.get("BEACON_REQUIRE_BROWSER", "") not in ("", "0")
MARKER = "browser"


def available() -> bool:
    return CHROMIUM.exists()


def missing_reason() -> str:
    return f"{CHROMIUM} is not installed (apt-get install chromium)"

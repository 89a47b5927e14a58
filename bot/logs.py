"""Structured logging: JSON lines when not on a terminal, readable lines when on one; no tokens, ever."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

# Slack tokens (bot, user, app, config, refresh) and anything that looks like a bearer header.
_SECRET = re.compile(r"\b(xox[abposre]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|Bearer\s+[A-Za-z0-9._~+/=-]+)")
_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


def redact(text: str) -> str:
    return _SECRET.sub(lambda m: m.group(0)[:5] + "[redacted]", text)


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(_extras(record))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, default=str))


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = _extras(record)
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return redact(line)


def configure_logging(level: str = "INFO", *, json_lines: bool | None = None) -> None:
    """Send every log line to stderr; JSON unless stderr is a terminal."""
    use_json = (not sys.stderr.isatty()) if json_lines is None else json_lines
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if use_json else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Third-party chatter that would otherwise drown the one-line-per-request log.
    for noisy in ("aiohttp.access", "apscheduler.executors.default", "slack_bolt.AsyncApp"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    for name, floor in PAYLOAD_LOGGERS.items():
        logging.getLogger(name).setLevel(max(floor, logging.getLevelName(level)))
    # APScheduler announces each of Beacon's ~25 jobs at INFO ("Adding job tentatively..."): shown at DEBUG only.
    verbose = logging.getLevelName(level) <= logging.DEBUG
    logging.getLogger("apscheduler.scheduler").setLevel(logging.DEBUG if verbose else logging.WARNING)


# Libraries whose debug output prints request and response bodies or SQL statements with their parameters: a
# pulse answer beside the person's id, a change token, a nomination's story. Whatever BEACON_LOG_LEVEL says, they
# never log below these levels (SQLAlchemy's engine logs every statement at INFO), so no log line at any level
# can tell which option a named person chose. The engine also hides parameters in its error messages
# (`bot/db.py`). tests/test_pulse_anonymity.py reads every line a DEBUG `beacon serve` writes.
PAYLOAD_LOGGERS = {
    "slack_sdk": logging.INFO, "slack_bolt": logging.INFO, "beacon.slack": logging.INFO,
    "aiohttp": logging.INFO, "sqlalchemy": logging.WARNING, "aiosqlite": logging.INFO, "asyncpg": logging.INFO,
}

"""Logs an operator can search: JSON lines with the request's facts, and never a token."""

import json
import logging

from beacon.bot.logs import JsonFormatter, TextFormatter, redact
from tests.harness import ALICE, Beacon, settle


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("beacon.test", logging.INFO, __file__, 1, message, (), None)
    record.__dict__.update(extra)
    return record


def test_json_lines_carry_the_extra_fields() -> None:
    line = json.loads(JsonFormatter().format(_record("slack request", request_type="command /beacon",
                                                     latency_ms=12.5)))
    assert line["msg"] == "slack request" and line["level"] == "info"
    assert line["request_type"] == "command /beacon" and line["latency_ms"] == 12.5


def test_tokens_are_redacted_everywhere() -> None:
    secret_bits = "xoxb-1234-5678-abcdefABCDEF xapp-1-A1-2-abc Bearer xoxb-999"
    assert "1234-5678" not in redact(secret_bits)
    assert "abcdef" not in JsonFormatter().format(_record(f"calling with {secret_bits}"))
    assert "abcdef" not in TextFormatter().format(_record("x", token="xoxb-1-abcdef"))


async def test_one_line_per_slack_request(beacon: Beacon, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO, logger="beacon.requests")
    await beacon.slack.person(ALICE).command("/beacon")
    await beacon.slack.send_event({"type": "app_home_opened", "user": ALICE, "channel": "D0ALICE", "tab": "home"})
    await settle()
    lines = [r for r in caplog.records if r.name == "beacon.requests"]
    assert [r.request_type for r in lines] == ["command /beacon", "event app_home_opened"]  # type: ignore[attr-defined]
    for record in lines:
        assert record.user == ALICE and record.outcome == "ok"  # type: ignore[attr-defined]
        assert 0 <= record.latency_ms < 3000  # type: ignore[attr-defined]

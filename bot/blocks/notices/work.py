"""Work a person asked for (an export, insight) that Beacon's worker could not do, however often it tried."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block

from beacon.bot.blocks.notices.common import context, section
from beacon.bot.escaping import escape_mrkdwn


def work_failed(params: dict[str, Any]) -> tuple[str, list[Block]]:
    what = escape_mrkdwn(str(params.get("what") or "a job"))
    reference = escape_mrkdwn(str(params.get("reference") or ""))
    text = (f":warning: Beacon could not finish {what} you asked for, after {int(params.get('attempts') or 1)} "
            "attempt(s). Nothing was sent.")
    return text, [section(text), context(f"Try again later; if it fails again, ask your Beacon administrator "
                                         f"and mention {reference}.")]

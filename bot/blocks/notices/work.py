"""Work a person asked for (an export, insight) that Beacon's worker could not do, however often it tried."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block

from beacon.bot.blocks.limits import SECTION_TEXT
from beacon.bot.blocks.mrkdwn import shorten
from beacon.bot.blocks.notices.common import context, section
from beacon.bot.escaping import escape_mrkdwn


def work_failed(params: dict[str, Any]) -> tuple[str, list[Block]]:
    what = escape_mrkdwn(str(params.get("what") or "a job"))
    reference = escape_mrkdwn(str(params.get("reference") or ""))
    if params.get("scheduled"):  # a timed job nobody asked for: the administrators' channel hears of it
        error = escape_mrkdwn(str(params.get("error") or "unknown"))
        text = (f":warning: Beacon could not finish {what} after {int(params.get('attempts') or 1)} attempt(s). "
                "Its timer queues it again at its next check while it is still due.")
        return text, [section(text), context(f"Last error: {error}. Check the worker's log for {reference}.")]
    text = (f":warning: Beacon could not finish {what} you asked for, after {int(params.get('attempts') or 1)} "
            "attempt(s). Nothing was sent.")
    blocks = [section(text)]
    if params.get("returned"):  # what they wrote, given back so that nothing of theirs is lost
        blocks.append(section(shorten("Here is what you wrote, to send again:\n>" + escape_mrkdwn(
            str(params["returned"])).replace("\n", "\n>"), SECTION_TEXT)))
    return text, [*blocks, context(f"Try again later; if it fails again, ask your Beacon administrator "
                                   f"and mention {reference}.")]

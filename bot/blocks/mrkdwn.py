"""Small pieces of mrkdwn that several builders share."""

from __future__ import annotations

from collections.abc import Iterable

from bot.escaping import escape_mrkdwn


def mention(user_id: str) -> str:
    """A user mention; user IDs come from Slack itself, never from what someone typed."""
    return f"<@{user_id}>"


def listing(items: Iterable[str], *, conjunction: str = "and") -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote(text: str) -> str:
    """User text shown as a block quote, escaped."""
    return "\n".join("> " + line for line in escape_mrkdwn(text).splitlines() or [""])

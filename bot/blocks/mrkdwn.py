"""Small pieces of mrkdwn that several builders share, and the one way user text is fitted to Slack's limits.

Slack counts a field's length after escaping, so user text is escaped (and quoted) first and shortened after,
never the other way round; a cut never splits an entity (`&amp;`) or a mention or link (`<@U123>`) in half.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from beacon.bot.escaping import escape_mrkdwn

ELLIPSIS = "…"
# What a cut must not split: the entities escaping makes, and Slack's own <...> mentions, channels and links.
_TOKEN = re.compile(r"&(?:amp|lt|gt);|<[^<>\n]*>")


def mention(user_id: str) -> str:
    """A user mention; user IDs come from Slack itself, never from what someone typed."""
    return f"<@{user_id}>"


def listing(items: Iterable[str], *, conjunction: str = "and") -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]


def safe_cut(text: str, at: int) -> int:
    """The largest index <= `at` at which `text` may be cut without splitting an entity, mention or link."""
    at = max(0, min(at, len(text)))
    for token in _TOKEN.finditer(text):
        if token.start() >= at:
            break
        if token.end() > at:
            return token.start()
    return at


def shorten(text: str, limit: int, *, note: str = ELLIPSIS) -> str:
    """`text` (mrkdwn, already escaped) within `limit` characters; when it has to be cut, `note` ends it so the
    reader knows something is missing."""
    if len(text) <= limit:
        return text
    if len(note) >= limit:
        note = ELLIPSIS
    cut = safe_cut(text, limit - len(note))
    space = text.rfind(" ", max(0, cut - 20), cut + 1)  # end at a word when one ends near the cut
    return text[:space if space > 0 else cut].rstrip() + note


def truncate(text: str, limit: int) -> str:
    """`text` within `limit` characters, ending in "…" when cut; safe on escaped mrkdwn and on plain text."""
    return shorten(text, limit)


def quote(text: str) -> str:
    """User text shown as a block quote, escaped."""
    return "\n".join("> " + line for line in escape_mrkdwn(text).splitlines() or [""])


def escaped(text: str, limit: int, *, note: str = ELLIPSIS) -> str:
    """User text escaped for mrkdwn and then fitted to `limit` (the escaping counts)."""
    return shorten(escape_mrkdwn(text), limit, note=note)


def quoted(text: str, limit: int, *, note: str = ELLIPSIS) -> str:
    """User text escaped, quoted line by line and then fitted to `limit` (escaping and quoting count)."""
    return shorten(quote(text), limit, note=note)


def sections(text: str, limit: int, *, count: int, note: str = ELLIPSIS) -> list[str]:
    """Long mrkdwn (already escaped, perhaps quoted) split over at most `count` pieces of `limit` characters,
    at line ends where it can and never inside an entity or mention; only what still does not fit is cut,
    ending with `note`. A quoted text stays quoted in every piece."""
    pieces: list[str] = []
    rest = text
    is_quote = text.startswith("> ")
    while rest:
        if len(rest) <= limit:
            pieces.append(rest)
            break
        if len(pieces) == count - 1:
            pieces.append(shorten(rest, limit, note=note))
            break
        cut = safe_cut(rest, limit)
        line_end = rest.rfind("\n", 0, cut + 1)
        if line_end > limit // 2:
            cut = line_end
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip("\n") or ELLIPSIS)
        rest = rest[cut:].lstrip("\n")
        if is_quote and rest and not rest.startswith(">"):
            rest = "> " + rest
    return pieces or [""]


def quoted_sections(text: str, limit: int, *, count: int, note: str = ELLIPSIS) -> list[str]:
    """User text escaped and quoted, then split over at most `count` pieces of `limit` characters."""
    return sections(quote(text), limit, count=count, note=note)

"""Reading back what Beacon put in a view's `private_metadata` or a button's `value`, and ids people type.

Slack hands these back inside the request, and anyone who can send a request (a person with a modified client, or
a forged body that got past nothing else) can change them: they are untrusted input like anything typed. Each
helper here is pure, bounds what it reads, and refuses with a `BeaconError` whose message a person can read, so a
forged value gets a plain "not found" answer, never "something went wrong" with a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from beacon.bot.errors import InvalidInput, NotFound

MAX_METADATA = 3000  # Slack's own limit for private_metadata
MAX_VALUE = 2000     # Slack's limit for a button's value
MAX_ID = 2**31 - 1   # the largest id either database's INTEGER holds

NOT_FOUND = "That could not be found: it may have been removed, or the link is out of date. Open it again from Beacon."
STALE = "That form is out of date, so nothing was changed. Open it again from Beacon."


def read_metadata(view: Mapping[str, Any] | None) -> dict[str, Any]:
    """A view's `private_metadata` as the JSON object Beacon wrote there; `{}` when there is none.

    Refuses (`InvalidInput`, "out of date") anything that is not a string of at most 3,000 characters holding a
    JSON object. The values inside are still untrusted: read them with `record_id`, `bounded`, `one_of`.
    """
    raw = view.get("private_metadata") if isinstance(view, Mapping) else None
    if raw is None or raw == "":
        return {}
    return read_json_object(raw, limit=MAX_METADATA)


def read_json_object(raw: object, *, limit: int = MAX_VALUE) -> dict[str, Any]:
    """A JSON object Beacon encoded into a string (a button's `value`, say), refused with `InvalidInput` when it is
    not a string of at most `limit` characters holding a JSON object."""
    if not isinstance(raw, str) or len(raw) > limit:
        raise InvalidInput(STALE)
    try:
        value = json.loads(raw)
    except ValueError:
        raise InvalidInput(STALE) from None
    if not isinstance(value, dict):
        raise InvalidInput(STALE)
    return value


def record_id(value: object) -> int:
    """A database id from a button value, metadata or typed text: 1 to 2**31-1, as an int or as 1 to 10 ASCII
    digits (no sign, spaces, exponent or other scripts' digits). Anything else raises `NotFound`, because no
    record has that id."""
    if isinstance(value, bool):
        raise NotFound(NOT_FOUND)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and 0 < len(value) <= 10 and value.isascii() and value.isdigit():
        number = int(value)
    else:
        raise NotFound(NOT_FOUND)
    if not 1 <= number <= MAX_ID:
        raise NotFound(NOT_FOUND)
    return number


def optional_id(value: object) -> int | None:
    """`record_id(value)`, or None when the value is absent (None or ""): metadata that may name a record, such as
    the nomination a form is editing."""
    return None if value is None or value == "" else record_id(value)


def bounded(value: object, lo: int, hi: int) -> int:
    """A whole number clamped to `lo`..`hi` (a page, a count of form slots): an int, or a string of at most 10
    ASCII digits. Not a number at all raises `InvalidInput` ("out of date")."""
    if isinstance(value, str) and 0 < len(value) <= 10 and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(STALE)
    return max(lo, min(value, hi))


def one_of(value: object, allowed: Collection[str]) -> str:
    """`value` when it is one of `allowed` (an award key, a setting); otherwise `NotFound`."""
    if not isinstance(value, str) or value not in allowed:
        raise NotFound(NOT_FOUND)
    return value


def short_text(value: object, *, limit: int = 255) -> str:
    """A string of at most `limit` characters (a key Beacon made, a view id); otherwise `NotFound`."""
    if not isinstance(value, str) or not value or len(value) > limit:
        raise NotFound(NOT_FOUND)
    return value


def parts(value: object, count: int, *, sep: str = ":") -> list[str]:
    """A button value of exactly `count` fields joined by `sep` (e.g. "12:q1:3"); otherwise `NotFound`. Each part
    is still untrusted: pass ids through `record_id`."""
    if not isinstance(value, str) or len(value) > MAX_VALUE:
        raise NotFound(NOT_FOUND)
    fields = value.split(sep)
    if len(fields) != count:
        raise NotFound(NOT_FOUND)
    return fields

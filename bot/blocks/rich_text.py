"""Rich text from Slack's editor, made safe to post: mentions the author made on purpose are kept
(a person, a user group, @here); everything else is kept as plain text that pings nobody."""

from __future__ import annotations

import re
from typing import Any

from beacon.bot.escaping import escape_mrkdwn

_CONTAINERS = {"rich_text_section", "rich_text_list", "rich_text_quote", "rich_text_preformatted"}
_STYLE_KEYS = {"bold", "italic", "strike", "code", "underline"}
_LIST_STYLES = {"bullet", "ordered"}
_USER = re.compile(r"^[UW][A-Z0-9]+$")
_GROUP = re.compile(r"^S[A-Z0-9]+$")
_CHANNEL = re.compile(r"^[CG][A-Z0-9]+$")
_SAFE_URL = re.compile(r"^(https?://|mailto:)[^\s<>|]+$", re.IGNORECASE)
_EMOJI = re.compile(r"^[a-z0-9_+\-']+$")


def _style(element: dict[str, Any]) -> dict[str, Any]:
    style = element.get("style")
    if isinstance(style, dict):
        kept = {k: bool(v) for k, v in style.items() if k in _STYLE_KEYS and v}
        return {"style": kept} if kept else {}
    return {}


def _text(text: str, element: dict[str, Any]) -> dict[str, Any]:
    return {"type": "text", "text": text, **_style(element)}


def _inline(element: dict[str, Any]) -> dict[str, Any] | None:
    kind = element.get("type")
    if kind == "text":
        text = str(element.get("text", ""))
        return _text(text, element) if text else None
    if kind == "user" and _USER.match(str(element.get("user_id", ""))):
        return {"type": "user", "user_id": element["user_id"], **_style(element)}
    if kind == "usergroup" and _GROUP.match(str(element.get("usergroup_id", ""))):
        return {"type": "usergroup", "usergroup_id": element["usergroup_id"], **_style(element)}
    if kind == "channel" and _CHANNEL.match(str(element.get("channel_id", ""))):
        return {"type": "channel", "channel_id": element["channel_id"], **_style(element)}
    if kind == "broadcast":
        if element.get("range") == "here":
            return {"type": "broadcast", "range": "here"}
        return _text(f"@{element.get('range', 'channel')}", element)  # @channel/@everyone: shown, not sent
    if kind == "emoji" and _EMOJI.match(str(element.get("name", ""))):
        return {"type": "emoji", "name": element["name"]}
    if kind == "link":
        url, label = str(element.get("url", "")), element.get("text")
        if _SAFE_URL.match(url):
            return {"type": "link", "url": url, **({"text": str(label)} if label else {}), **_style(element)}
        return _text(str(label or url), element)
    shown = element.get("text") or element.get("fallback")
    return _text(str(shown), element) if shown else None


def _container(element: dict[str, Any]) -> dict[str, Any] | None:
    kind = element.get("type")
    if kind not in _CONTAINERS:
        return None
    if kind == "rich_text_list":
        items = [c for c in (_container(e) for e in element.get("elements", [])) if c]
        if not items:
            return None
        listed: dict[str, Any] = {"type": kind, "elements": items,
                                  "style": element.get("style") if element.get("style") in _LIST_STYLES else "bullet"}
        if isinstance(element.get("indent"), int):
            listed["indent"] = max(0, min(element["indent"], 8))
        return listed
    inlines = [i for i in (_inline(e) for e in element.get("elements", [])) if i]
    return {"type": kind, "elements": inlines} if inlines else None


def sanitise_rich_text(value: dict[str, Any] | None) -> dict[str, Any]:
    """A rich_text block holding only what Beacon allows; unknown parts become plain text or go."""
    elements = [c for c in (_container(e) for e in (value or {}).get("elements", [])) if c]
    return {"type": "rich_text", "elements": elements}


def is_empty(block: dict[str, Any]) -> bool:
    return not plain_text(block).strip()


def _walk(block: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for element in block.get("elements", []):
        if element.get("type") in _CONTAINERS:
            found.extend(_walk(element))
            found.append(("break", {}))
        else:
            found.append((str(element.get("type")), element))
    return found


def plain_text(block: dict[str, Any]) -> str:
    """What a person reads, with no markup at all (for previews and lists)."""
    parts = []
    for kind, element in _walk(block):
        if kind == "text":
            parts.append(element["text"])
        elif kind == "link":
            parts.append(element.get("text") or element["url"])
        elif kind == "user":
            parts.append("@" + element["user_id"])
        elif kind == "usergroup":
            parts.append("@" + element["usergroup_id"])
        elif kind == "broadcast":
            parts.append("@" + element["range"])
        elif kind == "channel":
            parts.append("#" + element["channel_id"])
        elif kind == "emoji":
            parts.append(f":{element['name']}:")
        elif kind == "break":
            parts.append("\n")
    return "".join(parts).strip()


def fallback_mrkdwn(block: dict[str, Any]) -> str:
    """The message's `text` (notifications, screen readers): escaped text, with the kept mentions live."""
    parts = []
    for kind, element in _walk(block):
        if kind == "text":
            parts.append(escape_mrkdwn(element["text"]))
        elif kind == "link":
            label = element.get("text")
            parts.append(f"<{element['url']}|{escape_mrkdwn(label)}>" if label else f"<{element['url']}>")
        elif kind == "user":
            parts.append(f"<@{element['user_id']}>")
        elif kind == "usergroup":
            parts.append(f"<!subteam^{element['usergroup_id']}>")
        elif kind == "broadcast":
            parts.append("<!here>")
        elif kind == "channel":
            parts.append(f"<#{element['channel_id']}>")
        elif kind == "emoji":
            parts.append(f":{element['name']}:")
        elif kind == "break":
            parts.append("\n")
    return "".join(parts).strip()[:3900]

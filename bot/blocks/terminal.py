"""Block Kit as readable text for a terminal (`beacon digest --preview`): headings, paragraphs, lists and
links written out, Slack's markup and escapes undone."""

from __future__ import annotations

import re
import textwrap
from typing import Any

_LINK = re.compile(r"<([^<>|]+)\|([^<>]+)>")
_BARE = re.compile(r"<([^<>|]+)>")
_EMPHASIS = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])|(?<![\w_])_([^_\n]+)_(?![\w_])")


def _bare(target: str, names: dict[str, str]) -> str:
    if target.startswith("@"):
        return "@" + names.get(target[1:], target[1:])
    if target.startswith("#"):
        return "#" + names.get(target[1:].split("|")[0], target[1:])
    if target.startswith("!subteam^"):
        return "@group"
    if target.startswith("!"):
        return "@" + target[1:].split("^")[0]
    return target


def plain(mrkdwn: str, names: dict[str, str] | None = None) -> str:
    """mrkdwn as a person reads it: links as "label (url)", mentions as @name, emphasis and escapes removed."""
    names = names or {}
    text = _LINK.sub(lambda m: m[2] if m[1].startswith(("@", "#")) else f"{m[2]} ({m[1]})", mrkdwn)
    text = _BARE.sub(lambda m: _bare(m[1], names), text)
    text = _EMPHASIS.sub(lambda m: m[1] or m[2], text)
    text = text.replace("~", "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _wrap(text: str, width: int, indent: str = "") -> list[str]:
    lines: list[str] = []
    for line in text.split("\n"):
        hanging = indent + ("  " if line.lstrip().startswith("•") else "")
        lines += textwrap.wrap(line, width=width, initial_indent=indent, subsequent_indent=hanging,
                               break_long_words=False, break_on_hyphens=False) or [""]
    return lines


def render_text(blocks: list[dict[str, Any]], *, width: int = 100, names: dict[str, str] | None = None) -> str:
    out: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = block["text"]["text"]
            out += ["", title, "=" * min(len(title), width)]
        elif kind == "section":
            if block.get("text"):
                out += _wrap(plain(block["text"]["text"], names), width)
            for field in block.get("fields") or []:
                out += _wrap(plain(field["text"], names), width, "  ")
        elif kind == "context":
            words = " ".join(plain(e.get("text", ""), names) for e in block.get("elements", []) if "text" in e)
            out += _wrap(words, width, "  ")
        elif kind == "divider":
            out.append("-" * min(40, width))
        elif kind == "actions":
            out.append("  " + "  ".join(f"[{e['text']['text']}]" for e in block.get("elements", [])
                                        if isinstance(e.get("text"), dict)))
        elif kind == "image":
            out.append(f"  (image: {block.get('alt_text', '')})")
    return "\n".join(out).strip("\n") + "\n"

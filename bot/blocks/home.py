"""The App Home tab."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ContextBlock, DividerBlock, MarkdownTextObject
from slack_sdk.models.views import View

from beacon.bot.blocks.limits import VIEW_BLOCKS

MORE = "Not all of this fits in the Home tab (Slack shows at most 100 blocks); the command lists the rest."


def _fit(sections: list[list[Block]]) -> list[list[Block]]:
    """Sections within the tab's 100 blocks (dividers included): the longest section gives up blocks from its end,
    keeping its heading and its closing buttons, and says that more exists; no section is dropped."""
    sections = [list(s) for s in sections if s]
    trimmed: set[int] = set()

    def total() -> int:
        return sum(len(s) for s in sections) + max(len(sections) - 1, 0) + len(trimmed)

    while total() > VIEW_BLOCKS:
        index = max(range(len(sections)), key=lambda i: len(sections[i]))
        section = sections[index]
        if len(section) <= 2:
            break  # nothing left worth trimming: the view stays as it is (Slack would say so, loudly)
        victim = len(section) - (2 if isinstance(section[-1], ActionsBlock) else 1)
        del section[victim]
        trimmed.add(index)
    for index in sorted(trimmed):
        section = sections[index]
        at = len(section) - 1 if isinstance(section[-1], ActionsBlock) else len(section)
        section.insert(at, ContextBlock(elements=[MarkdownTextObject(text=MORE)]))
    return sections


def build_home(*, sections: list[list[Block]]) -> dict[str, Any]:
    """Compose the home tab from sections, each a list of blocks, with dividers between them."""
    blocks: list[Block] = []
    for section in _fit(sections):
        if blocks:
            blocks.append(DividerBlock())
        blocks.extend(section)
    return View(type="home", blocks=blocks).to_dict()

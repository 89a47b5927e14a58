"""The App Home tab."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, DividerBlock
from slack_sdk.models.views import View


def build_home(*, sections: list[list[Block]]) -> dict:
    """Compose the home tab from sections, each a list of blocks, with dividers between them."""
    blocks: list[Block] = []
    for section in sections:
        if not section:
            continue
        if blocks:
            blocks.append(DividerBlock())
        blocks.extend(section)
    return View(type="home", blocks=blocks[:100]).to_dict()

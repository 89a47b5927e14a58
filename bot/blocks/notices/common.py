"""Pieces every notice is built from: sections within Slack's limits, the quoted summary and story."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    SectionBlock,
)
from slack_sdk.models.blocks.basic_components import MarkdownTextObject

from beacon.bot.blocks.limits import SECTION_TEXT, TEXT_OBJECT
from beacon.bot.blocks.mrkdwn import listing, quoted, quoted_sections, shorten


def channels(params: dict[str, Any]) -> str:
    return listing([f"<#{c}>" for c in params.get("channels") or []])


STORY_SECTIONS = 2  # a 3,000-character story needs two sections only when escaping and quoting lengthen it
STORY_SHORTENED = "\n… _(shortened: Slack cannot show all of this story in one message)_"


def section(text: str) -> SectionBlock:
    """A section within Slack's 3,000 characters, whatever the user text in it (already escaped)."""
    return SectionBlock(text=MarkdownTextObject(text=shorten(text, SECTION_TEXT)))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=shorten(text, TEXT_OBJECT))])


def summary(params: dict[str, Any]) -> SectionBlock:
    return section(quoted(str(params.get("summary") or ""), SECTION_TEXT))


def story(params: dict[str, Any]) -> list[Block]:
    """The story as a quote, escaped and quoted first and then split over up to two sections; only a story that
    still does not fit is shortened, and says so. The nominee's DM and the public post show the same words."""
    return [section(piece) for piece in quoted_sections(str(params.get("story") or ""), SECTION_TEXT,
                                                         count=STORY_SECTIONS, note=STORY_SHORTENED)]


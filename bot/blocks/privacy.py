"""The privacy notice: a line and a button in the App Home, the notice itself in a modal."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from beacon.bot.blocks.limits import SECTION_TEXT
from beacon.bot.blocks.mrkdwn import sections, truncate
from beacon.bot.content import PrivacyNotice
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.ids import ActionId

PIECES = 5  # 2,500 characters of text escaped can need five sections


def build_privacy_link(notice: PrivacyNotice) -> list[Block]:
    return [ActionsBlock(block_id="privacy", elements=[ButtonElement(
        text=truncate(notice.title, 75), action_id=ActionId.PRIVACY_NOTICE, value="notice")])]


def build_privacy_modal(notice: PrivacyNotice) -> dict[str, Any]:
    # The notice is the trust's words: split over sections where escaping makes it long, never cut short.
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=piece))
                           for piece in sections(escape_mrkdwn(notice.intro), SECTION_TEXT, count=PIECES)]
    for section in notice.sections:
        blocks += [SectionBlock(text=MarkdownTextObject(text=piece)) for piece in sections(
            f"*{escape_mrkdwn(section.heading)}*\n{escape_mrkdwn(section.text)}", SECTION_TEXT, count=PIECES)]
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text="Questions about your information: ask the Trust's information governance team.")]))
    return View(type="modal", title=truncate(notice.title, 24), close="Close", blocks=blocks[:100]).to_dict()

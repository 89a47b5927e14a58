"""The privacy notice: a line and a button in the App Home, the notice itself in a modal."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.blocks.mrkdwn import truncate
from bot.content import PrivacyNotice
from bot.escaping import escape_mrkdwn
from bot.ids import ActionId


def build_privacy_link(notice: PrivacyNotice) -> list[Block]:
    return [ActionsBlock(block_id="privacy", elements=[ButtonElement(
        text=truncate(notice.title, 75), action_id=ActionId.PRIVACY_NOTICE, value="notice")])]


def build_privacy_modal(notice: PrivacyNotice) -> dict[str, Any]:
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=escape_mrkdwn(notice.intro)))]
    for section in notice.sections:
        blocks.append(SectionBlock(text=MarkdownTextObject(
            text=truncate(f"*{escape_mrkdwn(section.heading)}*\n{escape_mrkdwn(section.text)}", 3000))))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text="Questions about your information: ask the Trust's information governance team.")]))
    return View(type="modal", title=truncate(notice.title, 24), close="Close", blocks=blocks[:100]).to_dict()

"""The digest's parts of the App Home and of a preview."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock

from beacon.bot.blocks.mrkdwn import listing
from beacon.bot.ids import ActionId


def build_digest_choice(*, wanted: bool) -> list[Block]:
    if wanted:
        text = ("*Your weekly digest* is on: each week, by direct message, the leader visits at your site, the "
                "recognition you received and the pulses you have not answered (nothing is sent in an empty week).")
        button = ButtonElement(text="Stop my weekly digest", action_id=ActionId.DIGEST_PERSONAL, value="off")
    else:
        text = ("*Your weekly digest*: get a short direct message each week with the leader visits at your site, "
                "the recognition you received and the pulses you have not answered.")
        button = ButtonElement(text="Send me a weekly digest", action_id=ActionId.DIGEST_PERSONAL, value="on",
                               style="primary")
    return [SectionBlock(text=MarkdownTextObject(text=text)), ActionsBlock(block_id="digest_choice",
                                                                          elements=[button])]


def digest_preview_note(*, when: str, channels: list[str]) -> ContextBlock:
    where = listing(f"<#{c}>" for c in channels) if channels else "no channel yet (`channels.digest` is empty)"
    return ContextBlock(elements=[MarkdownTextObject(
        text=f":eyes: *Preview, only you can see this.* The next digest goes to {where} {when}, with what is "
             "known then.")])

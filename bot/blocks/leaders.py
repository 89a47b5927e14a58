"""Block Kit for the leader directory: a card per leader, the commitment form, and the App Home's section."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    ImageElement,
    InputBlock,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.blocks.basic_components import MarkdownTextObject
from slack_sdk.models.views import View

from beacon.bot.blocks.limits import SECTION_TEXT
from beacon.bot.blocks.mrkdwn import escaped, mention, quoted, shorten, truncate
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.ids import ActionId, BlockId, CallbackId
from beacon.bot.services.leaders import Directory, LeaderCard

STATEMENT_SHOWN = 1600  # of a card's 3,000 characters: the commitment, escaped and quoted
NO_PHOTO_ALT = "Profile photo"


def _card(card: LeaderCard) -> SectionBlock:
    name = f"*{escaped(card.name, 200)}*" if card.name else mention(card.user_id)
    lines = [f"{name} · {escaped(card.title, 200)}", f"_{escaped(card.area, 300)}_" if card.area else ""]
    if card.statement:
        lines.append(quoted(card.statement, STATEMENT_SHOWN))
    else:
        lines.append("_No commitment written yet._")
    if card.upcoming:
        lines += ["*Next:*"] + [f"• {escape_mrkdwn(item)}" for item in card.upcoming]
    else:
        lines.append("Nothing in the calendar yet.")
    text = shorten("\n".join(line for line in lines if line), SECTION_TEXT)
    accessory = ImageElement(image_url=card.image_url, alt_text=truncate(card.name or NO_PHOTO_ALT, 2000)
                             ) if card.image_url else None
    return SectionBlock(text=MarkdownTextObject(text=text), accessory=accessory)


def _write_button(label: str = "Your commitment") -> ButtonElement:
    return ButtonElement(text=label, action_id=ActionId.LEADER_STATEMENT_OPEN, value="statement")


def build_directory_blocks(directory: Directory, *, may_write: bool) -> list[Block]:
    """The leaders, one card each (photo, name, title, area, their commitment, where they will be next)."""
    heading = f"Your leaders: {directory.query}" if directory.query else "Your leaders"
    blocks: list[Block] = [HeaderBlock(text=truncate(heading, 150))]
    if not directory.leaders:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=(
            f"No leader matches “{escaped(directory.query, 200)}”. Try an area, a site or a name, or `/leaders` "
            "for everyone." if directory.query else "No leaders are set up in Beacon yet."))))
    blocks += [_card(card) for card in directory.leaders]
    if directory.more:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"…and {directory.more} more: add an area, a site or a name (`/leaders Essex`) to narrow it down.")]))
    if may_write:
        blocks.append(ActionsBlock(block_id="leaders_actions", elements=[_write_button()]))
    return blocks


def build_directory_modal(blocks: list[Block]) -> dict[str, Any]:
    return View(type="modal", callback_id=CallbackId.LEADERS_DIRECTORY, title="Your leaders", close="Close",
                blocks=blocks).to_dict()


def build_leaders_home(*, count: int, may_write: bool) -> list[Block]:
    """The App Home's section: what the directory holds and the buttons that open it (no database, no Slack)."""
    text = (f"*Know your leaders.* {count} leader{'s' if count != 1 else ''}: who they are, where they work, the "
            "commitment each has made to staff, and where they will be next." if count else
            "*Know your leaders.* No leaders are set up in Beacon yet.")
    elements = [ButtonElement(text="Meet your leaders", action_id=ActionId.LEADERS_OPEN, value="all")]
    if may_write:
        elements.append(_write_button())
    return [SectionBlock(text=MarkdownTextObject(text=text)), ActionsBlock(block_id="leaders_home",
                                                                           elements=elements)]


def build_statement_modal(*, current: str | None, limit: int) -> dict[str, Any]:
    # No max_length on the input: a longer text is answered with an inline error that names the limit, and the
    # leader keeps what they wrote to shorten.
    return View(type="modal", callback_id=CallbackId.LEADER_STATEMENT, title="Your commitment", submit="Save",
                close="Cancel", blocks=[
                    SectionBlock(text=MarkdownTextObject(text=(
                        "Our Leadership Charter is our promise to our people. In your own words: what can staff "
                        "expect of you as a leader?"))),
                    InputBlock(block_id=BlockId.LEADER_STATEMENT, label="Your commitment to staff", optional=True,
                               hint=f"Up to {limit} characters. Shown beside your name in /leaders and the App "
                                    "Home; leave it empty to remove it.",
                               element=PlainTextInputElement(action_id=BlockId.LEADER_STATEMENT, multiline=True,
                                                             initial_value=current or None,
                                                             placeholder="I will be out at stations every month")),
                ]).to_dict()

"""Block Kit for staff asking for a visit: the request form, the post in the coordinator channel, the decline
form, and what the person who asked is told."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.blocks.basic_components import MarkdownTextObject
from slack_sdk.models.views import View

from beacon.bot.blocks.limits import SECTION_TEXT
from beacon.bot.blocks.mrkdwn import mention, shorten, truncate
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.ids import ActionId, BlockId, CallbackId


def build_request_modal(*, places: list[str], kinds: dict[str, str]) -> dict[str, Any]:
    place_options = [Option(value=p, label=truncate(p, 75)) for p in places[:100]]
    kind_options = [Option(value=k, label=label) for k, label in kinds.items()]
    blocks: list[Block] = [
        InputBlock(block_id=BlockId.REQUEST_PLACE, label="Where", element=StaticSelectElement(
            action_id=BlockId.REQUEST_PLACE, options=place_options, placeholder="A station, office or staff group")),
        InputBlock(block_id=BlockId.REQUEST_KIND, label="What you are asking for", element=StaticSelectElement(
            action_id=BlockId.REQUEST_KIND, options=kind_options, initial_option=kind_options[0])),
        InputBlock(block_id=BlockId.REQUEST_WHAT, label="What the leader should see",
                   element=PlainTextInputElement(action_id=BlockId.REQUEST_WHAT, multiline=True, max_length=1000,
                                                 placeholder="Come and see our night shift at Bedford")),
        InputBlock(block_id=BlockId.REQUEST_WHEN, label="When suits", optional=True,
                   element=PlainTextInputElement(action_id=BlockId.REQUEST_WHEN, max_length=200,
                                                 placeholder="Any weeknight after 22:00")),
        ContextBlock(elements=[MarkdownTextObject(
            text="It goes to the leaders' coordinator with your name; you are told what they decide.")]),
    ]
    return View(type="modal", callback_id=CallbackId.VISIT_REQUEST, title="Ask for a visit", submit="Send",
                close="Cancel", blocks=blocks).to_dict()


def _summary(params: dict[str, Any]) -> str:
    when = f"\nWhen suits: {escape_mrkdwn(params['when_suits'])}" if params.get("when_suits") else ""
    return shorten(f":raised_hand: {mention(params['requester_id'])} asks for *{escape_mrkdwn(params['kind'])}* at "
                   f"*{escape_mrkdwn(params['place'])}*\n>{escape_mrkdwn(params['what'])}{when}", SECTION_TEXT)


def build_request_post(params: dict[str, Any]) -> tuple[str, list[Block]]:
    """The request in the coordinator channel: open (with Accept and Decline), or as it was decided."""
    text = f"Visit request: {escape_mrkdwn(params['kind'])} at {escape_mrkdwn(params['place'])}"
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=_summary(params)))]
    status = params.get("status") or "open"
    if status == "open":
        blocks.append(ActionsBlock(block_id="visit_request", elements=[
            ButtonElement(text="Accept", action_id=ActionId.VISIT_REQUEST_ACCEPT, value=str(params["id"]),
                          style="primary"),
            ButtonElement(text="Decline…", action_id=ActionId.VISIT_REQUEST_DECLINE, value=str(params["id"]))]))
    else:
        reason = f": {escape_mrkdwn(params['reason'])}" if params.get("reason") else ""
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=shorten(
            f"{'Accepted' if status == 'accepted' else 'Declined'} by {mention(params['decided_by'])}{reason}",
            SECTION_TEXT))]))
    return text, blocks


def build_decline_modal(*, request_id: int) -> dict[str, Any]:
    return View(type="modal", callback_id=CallbackId.VISIT_REQUEST_DECLINE, title="Decline the request",
                submit="Decline", close="Cancel", private_metadata=json.dumps({"request": request_id}), blocks=[
                    InputBlock(block_id=BlockId.REQUEST_REASON, label="Why (the colleague who asked reads it)",
                               element=PlainTextInputElement(action_id=BlockId.REQUEST_REASON, multiline=True,
                                                             max_length=500))]).to_dict()


def build_request_received(params: dict[str, Any]) -> tuple[str, list[Block]]:
    """What the person who asked is told at once: where the request went."""
    text = shorten(f":raised_hand: Your request for {escape_mrkdwn(params['kind'].lower())} at "
                   f"*{escape_mrkdwn(params['place'])}* is with the leaders' coordinator in "
                   f"<#{params['channel']}>; you'll hear what they decide.", SECTION_TEXT)
    return text, [SectionBlock(text=MarkdownTextObject(text=text))]


def build_request_decided(params: dict[str, Any]) -> tuple[str, list[Block]]:
    """The outcome as a direct message (the outbox's template)."""
    text = build_request_outcome(params)
    return text, [SectionBlock(text=MarkdownTextObject(text=text))]


def build_request_outcome(params: dict[str, Any]) -> str:
    """What the person who asked is told."""
    asked = f"your request for {escape_mrkdwn(params['kind'].lower())} at *{escape_mrkdwn(params['place'])}*"
    if params.get("status") == "accepted":
        return shorten(f":white_check_mark: {mention(params['decided_by'])} accepted {asked}: the visit will be "
                       "announced in the calendar once it is arranged.", SECTION_TEXT)
    return shorten(f"{mention(params['decided_by'])} declined {asked}: {escape_mrkdwn(params.get('reason') or '')}",
                   SECTION_TEXT)

"""Slack's documented limits on messages, blocks and views, as one checker.

Used by the local Slack's Web API (so a test that sends an oversized message or view fails as it would in
Slack) and by the property tests over every builder. Each problem is reported as Slack words it, with a
JSON pointer: `must be less than 3001 characters [json-pointer:/blocks/0/text/text]`.

Sources (docs.slack.dev, Block Kit reference): section text 3,000 and fields 10 x 2,000; header 150; context
10 elements; actions 25 elements; input label and hint 2,000; block_id and action_id 255; button text 75,
value 2,000, url 3,000; option text 75, value 150, description 75 (static select 100 options, checkboxes and
radio buttons 10, overflow 5); confirm title 100, text 300, confirm and deny 30; placeholder 150; image alt
text 2,000; plain-text input max_length 3,000; 50 blocks in a message, 100 in a modal or Home tab; modal title,
submit and close 24; private_metadata 3,000; callback_id and external_id 255; a message's `text` 40,000
(`msg_too_long`). Lengths are counted in characters (code points), as slack_sdk counts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
MESSAGE_TEXT = 40_000
SECTION_TEXT = 3000
SECTION_FIELDS, FIELD_TEXT = 10, 2000
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
TEXT_OBJECT = 3000
LABEL, HINT = 2000, 2000
ID = 255
BUTTON_TEXT, BUTTON_VALUE, URL = 75, 2000, 3000
OPTION_TEXT, OPTION_VALUE, OPTION_DESCRIPTION = 75, 150, 75
SELECT_OPTIONS, CHOICE_OPTIONS, OVERFLOW_OPTIONS = 100, 10, 5
CONFIRM_TITLE, CONFIRM_TEXT, CONFIRM_BUTTON = 100, 300, 30
PLACEHOLDER = 150
ALT_TEXT = 2000
INPUT_MAX_LENGTH = 3000
VIEW_TITLE = VIEW_BUTTON = 24
PRIVATE_METADATA = 3000

_SELECTS = {"static_select", "multi_static_select"}
_CHOICES = {"checkboxes", "radio_buttons"}


@dataclass(frozen=True)
class Problem:
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.message} [json-pointer:{self.pointer}]"


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, pointer: str, message: str) -> None:
        self.problems.append(Problem(pointer, message))

    def length(self, value: Any, limit: int, pointer: str, *, minimum: int = 0) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self.add(pointer, "must be a string")
        elif len(value) > limit:
            self.add(pointer, f"must be less than {limit + 1} characters")
        elif len(value) < minimum:
            self.add(pointer, f"must be more than {minimum - 1} characters")

    def count(self, items: Any, limit: int, pointer: str, *, minimum: int = 0) -> list[Any]:
        if items is None:
            return []
        if not isinstance(items, list):
            self.add(pointer, "must be an array")
            return []
        if len(items) > limit:
            self.add(pointer, f"no more than {limit} items allowed")
        elif len(items) < minimum:
            self.add(pointer, f"must provide at least {minimum} items")
        return items

    def text(self, obj: Any, limit: int, pointer: str, *, plain: bool = False) -> None:
        if obj is None:
            return
        if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
            self.add(pointer, "must be a text object")
            return
        if plain and obj["type"] != "plain_text":
            self.add(pointer + "/type", "must be plain_text")
        self.length(obj.get("text"), min(limit, TEXT_OBJECT), pointer + "/text", minimum=1)

    def confirm(self, obj: Any, pointer: str) -> None:
        if not isinstance(obj, dict):
            return
        self.text(obj.get("title"), CONFIRM_TITLE, pointer + "/title", plain=True)
        self.text(obj.get("text"), CONFIRM_TEXT, pointer + "/text")
        self.text(obj.get("confirm"), CONFIRM_BUTTON, pointer + "/confirm", plain=True)
        self.text(obj.get("deny"), CONFIRM_BUTTON, pointer + "/deny", plain=True)

    def option(self, obj: Any, pointer: str) -> None:
        if not isinstance(obj, dict):
            self.add(pointer, "must be an option object")
            return
        self.text(obj.get("text"), OPTION_TEXT, pointer + "/text")
        self.length(obj.get("value"), OPTION_VALUE, pointer + "/value", minimum=1)
        self.text(obj.get("description"), OPTION_DESCRIPTION, pointer + "/description", plain=True)

    def element(self, obj: Any, pointer: str) -> None:
        if not isinstance(obj, dict):
            self.add(pointer, "must be an element object")
            return
        kind = obj.get("type")
        self.length(obj.get("action_id"), ID, pointer + "/action_id")
        self.text(obj.get("placeholder"), PLACEHOLDER, pointer + "/placeholder", plain=True)
        self.confirm(obj.get("confirm"), pointer + "/confirm")
        if kind == "button":
            self.text(obj.get("text"), BUTTON_TEXT, pointer + "/text", plain=True)
            self.length(obj.get("value"), BUTTON_VALUE, pointer + "/value")
            self.length(obj.get("url"), URL, pointer + "/url")
        elif kind == "image":
            self.length(obj.get("alt_text"), ALT_TEXT, pointer + "/alt_text", minimum=1)
            self.length(obj.get("image_url"), URL, pointer + "/image_url")
        elif kind == "plain_text_input":
            maximum = obj.get("max_length")
            if isinstance(maximum, int) and not 1 <= maximum <= INPUT_MAX_LENGTH:
                self.add(pointer + "/max_length", f"must be between 1 and {INPUT_MAX_LENGTH}")
            if isinstance(obj.get("initial_value"), str) and isinstance(maximum, int):
                self.length(obj["initial_value"], maximum, pointer + "/initial_value")
        if kind in _SELECTS or kind in _CHOICES or kind == "overflow":
            limit = SELECT_OPTIONS if kind in _SELECTS else CHOICE_OPTIONS if kind in _CHOICES else OVERFLOW_OPTIONS
            options = self.count(obj.get("options"), limit, pointer + "/options",
                                 minimum=0 if "option_groups" in obj else 1)
            for index, option in enumerate(options):
                self.option(option, f"{pointer}/options/{index}")
            if isinstance(obj.get("initial_option"), dict):
                self.option(obj["initial_option"], pointer + "/initial_option")
            for index, option in enumerate(obj.get("initial_options") or []):
                self.option(option, f"{pointer}/initial_options/{index}")

    def block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            self.add(pointer, "must be a block object with a type")
            return
        kind = block["type"]
        self.length(block.get("block_id"), ID, pointer + "/block_id")
        if kind == "section":
            if block.get("text") is None and not block.get("fields"):
                self.add(pointer, "must provide text or fields")
            self.text(block.get("text"), SECTION_TEXT, pointer + "/text")
            for index, field in enumerate(self.count(block.get("fields"), SECTION_FIELDS, pointer + "/fields")):
                self.text(field, FIELD_TEXT, f"{pointer}/fields/{index}")
            if block.get("accessory") is not None:
                self.element(block["accessory"], pointer + "/accessory")
        elif kind == "header":
            self.text(block.get("text"), HEADER_TEXT, pointer + "/text", plain=True)
        elif kind == "context":
            elements = self.count(block.get("elements"), CONTEXT_ELEMENTS, pointer + "/elements", minimum=1)
            for index, element in enumerate(elements):
                if isinstance(element, dict) and element.get("type") in ("plain_text", "mrkdwn"):
                    self.text(element, TEXT_OBJECT, f"{pointer}/elements/{index}")
                else:
                    self.element(element, f"{pointer}/elements/{index}")
        elif kind == "actions":
            elements = self.count(block.get("elements"), ACTIONS_ELEMENTS, pointer + "/elements", minimum=1)
            for index, element in enumerate(elements):
                self.element(element, f"{pointer}/elements/{index}")
        elif kind == "input":
            self.text(block.get("label"), LABEL, pointer + "/label", plain=True)
            self.text(block.get("hint"), HINT, pointer + "/hint", plain=True)
            self.element(block.get("element"), pointer + "/element")
        elif kind == "image":
            self.length(block.get("alt_text"), ALT_TEXT, pointer + "/alt_text", minimum=1)
            self.length(block.get("image_url"), URL, pointer + "/image_url")
            self.text(block.get("title"), ALT_TEXT, pointer + "/title", plain=True)

    def blocks(self, blocks: Any, limit: int, pointer: str) -> None:
        for index, block in enumerate(self.count(blocks, limit, pointer)):
            self.block(block, f"{pointer}/{index}")


def message_problems(*, text: str | None, blocks: Any) -> list[Problem]:
    """What Slack's chat.postMessage / chat.update / chat.postEphemeral would refuse with `invalid_blocks`."""
    checker = _Checker()
    checker.blocks(blocks, MESSAGE_BLOCKS, "/blocks")
    return checker.problems


def text_too_long(text: str | None) -> bool:
    """A message's top-level `text` over 40,000 characters: Slack answers `msg_too_long`."""
    return text is not None and len(text) > MESSAGE_TEXT


def view_problems(view: Any) -> list[Problem]:
    """What views.open / views.update / views.push / views.publish would refuse with `invalid_arguments`."""
    checker = _Checker()
    if not isinstance(view, dict):
        checker.add("/view", "must be a view object")
        return checker.problems
    if view.get("type") == "modal":
        if view.get("title") is None:
            checker.add("/view/title", "missing required field: title")
        checker.text(view.get("title"), VIEW_TITLE, "/view/title", plain=True)
        checker.text(view.get("submit"), VIEW_BUTTON, "/view/submit", plain=True)
        checker.text(view.get("close"), VIEW_BUTTON, "/view/close", plain=True)
    checker.length(view.get("private_metadata"), PRIVATE_METADATA, "/view/private_metadata")
    checker.length(view.get("callback_id"), ID, "/view/callback_id")
    checker.length(view.get("external_id"), ID, "/view/external_id")
    checker.blocks(view.get("blocks"), VIEW_BLOCKS, "/view/blocks")
    return checker.problems

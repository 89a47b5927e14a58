"""Reading a view as a person would: find its inputs and turn what they choose into `state.values`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from typing import Any

from beacon.bot.local_slack.workspace import View

_SELECTED_KEY = {
    "static_select": "selected_option", "external_select": "selected_option", "radio_buttons": "selected_option",
    "overflow": "selected_option", "multi_static_select": "selected_options", "checkboxes": "selected_options",
    "multi_external_select": "selected_options", "users_select": "selected_user",
    "multi_users_select": "selected_users", "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations", "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels", "datepicker": "selected_date", "timepicker": "selected_time",
    "datetimepicker": "selected_date_time", "rich_text_input": "rich_text_value",
}
_INITIAL_KEY = {
    "static_select": "initial_option", "radio_buttons": "initial_option", "multi_static_select": "initial_options",
    "checkboxes": "initial_options", "users_select": "initial_user", "multi_users_select": "initial_users",
    "conversations_select": "initial_conversation", "multi_conversations_select": "initial_conversations",
    "channels_select": "initial_channel", "multi_channels_select": "initial_channels",
    "datepicker": "initial_date", "timepicker": "initial_time", "datetimepicker": "initial_date_time",
    "plain_text_input": "initial_value", "number_input": "initial_value", "email_text_input": "initial_value",
    "url_text_input": "initial_value", "rich_text_input": "initial_value",
}


class ModalInputError(Exception):
    """What Slack's own client would stop a person doing (an empty required field, an unknown option)."""


def inputs(view: View) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(input block, its element) for every input block of the view."""
    for block in view.blocks:
        if block.get("type") == "input" and block.get("element"):
            yield block, block["element"]


def elements(blocks: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(block, element) for every interactive element: actions, section accessories, inputs."""
    for block in blocks:
        if block.get("type") == "actions":
            for element in block.get("elements", []):
                yield block, element
        elif block.get("accessory"):
            yield block, block["accessory"]
        elif block.get("type") == "input" and block.get("element"):
            yield block, block["element"]


def label_of(block: dict[str, Any]) -> str:
    text: str = (block.get("label") or {}).get("text", "")
    return text


def initial_state(view: View) -> dict[str, dict[str, dict[str, Any]]]:
    """The state Slack reports for a view nobody has touched: its initial values."""
    state: dict[str, dict[str, dict[str, Any]]] = {}
    for block, element in inputs(view):
        kind = element["type"]
        initial = element.get(_INITIAL_KEY.get(kind, ""))
        entry: dict[str, Any] = {"type": kind}
        if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
            entry["value"] = initial
        elif kind == "rich_text_input":
            entry["rich_text_value"] = initial
        elif kind in _SELECTED_KEY:
            entry[_SELECTED_KEY[kind]] = initial if initial is not None else (
                [] if _SELECTED_KEY[kind].endswith("s") else None)
        state[block["block_id"]] = {element["action_id"]: entry}
    return state


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options", []))
    return options


def _find_option(element: dict[str, Any], wanted: Any) -> dict[str, Any]:
    for option in _options(element):
        if wanted in (option.get("value"), (option.get("text") or {}).get("text")):
            return option
    raise ModalInputError(f"{wanted!r} is not one of the options of {element.get('action_id')}")


def rich_text(text: str) -> dict[str, Any]:
    """What a rich text input holds after someone types plain `text` into it."""
    return {"type": "rich_text", "elements": [
        {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}]}


def element_value(element: dict[str, Any], value: Any) -> dict[str, Any]:
    """The state entry Slack reports for `element` after a person chose `value`."""
    kind = element["type"]
    entry: dict[str, Any] = {"type": kind}
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        entry["value"] = None if value is None else str(value)
    elif kind == "rich_text_input":
        entry["rich_text_value"] = rich_text(value) if isinstance(value, str) else value
    elif kind in ("static_select", "radio_buttons", "overflow", "external_select"):
        entry["selected_option"] = None if value is None else _find_option(element, value)
    elif kind in ("multi_static_select", "checkboxes", "multi_external_select"):
        entry["selected_options"] = [_find_option(element, v) for v in value or []]
    elif kind == "datepicker":
        entry["selected_date"] = value.isoformat() if isinstance(value, date) else value
    elif kind == "timepicker":
        entry["selected_time"] = value.strftime("%H:%M") if isinstance(value, time) else value
    elif kind == "datetimepicker":
        entry["selected_date_time"] = int(value.timestamp()) if isinstance(value, datetime) else value
    elif kind in _SELECTED_KEY:
        entry[_SELECTED_KEY[kind]] = value
    else:
        raise ModalInputError(f"Beacon's local Slack cannot fill a {kind}")
    return entry


def find_input(view: View, key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """An input by its block_id, or by its label as a person reads it (case-insensitive)."""
    for block, element in inputs(view):
        if key in (block.get("block_id"), element.get("action_id")) or key.lower() == label_of(block).lower():
            return block, element
    known = [f"{b.get('block_id')} ({label_of(b)})" for b, _ in inputs(view)]
    raise ModalInputError(f"the modal has no input {key!r}; it has: {', '.join(known)}")


def fill(view: View, values: dict[str, Any]) -> None:
    """Type or choose `values` into the view's inputs, as a person would."""
    if not view.state:
        view.state = initial_state(view)
    for key, value in values.items():
        block, element = find_input(view, key)
        view.state.setdefault(block["block_id"], {})[element["action_id"]] = element_value(element, value)


def _is_empty(entry: dict[str, Any]) -> bool:
    payload = [v for k, v in entry.items() if k != "type"]
    return not payload or all(v in (None, "", [], {}) for v in payload)


def check_submittable(view: View) -> None:
    """Slack's client will not submit a modal with an empty required input or text out of length."""
    state = view.state or initial_state(view)
    for block, element in inputs(view):
        entry = state.get(block["block_id"], {}).get(element["action_id"], {"type": element["type"]})
        if not block.get("optional") and _is_empty(entry):
            raise ModalInputError(f"required input {block['block_id']!r} ({label_of(block)}) is empty")
        text = entry.get("value") or ""
        too_short_or_long = len(text) < element.get("min_length", 0) or len(text) > element.get("max_length", 3000)
        if element["type"] == "plain_text_input" and text and too_short_or_long:
            raise ModalInputError(f"{block['block_id']!r} must be {element.get('min_length', 0)} to "
                                  f"{element.get('max_length', 3000)} characters")

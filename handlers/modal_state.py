"""What a person entered in a modal: the one reader of a submitted view's `state.values`.

Slack reports each input as `values[block_id][action_id]`; Beacon's inputs use the block's id as the action's, so
a block alone finds its element (pass `action` where they differ). An input nobody touched may be absent, and
reads as empty: no text, no choice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Element = Mapping[str, Any]


class ModalState:
    def __init__(self, view: Mapping[str, Any]):
        state = view.get("state") or {}
        self._values: Mapping[str, Mapping[str, Element]] = state.get("values") or {}

    def blocks(self) -> list[str]:
        """The blocks Slack reported, in the order it gave them."""
        return list(self._values)

    def element(self, block: str, action: str | None = None) -> Element:
        return (self._values.get(block) or {}).get(action or block) or {}

    def text(self, block: str, action: str | None = None) -> str:
        """A plain text input's value; "" when empty."""
        return self.element(block, action).get("value") or ""

    def rich_text(self, block: str) -> Any:
        """A rich text input's value as Slack sent it (sanitise it before use)."""
        return self.element(block).get("rich_text_value")

    def option(self, block: str, action: str | None = None) -> str | None:
        """The value of the one option chosen (a select or radio buttons); None when none is."""
        return (self.element(block, action).get("selected_option") or {}).get("value")

    def options(self, block: str) -> list[str]:
        """The values of the options chosen (checkboxes, a multi-select), in Slack's order."""
        return [o["value"] for o in self.element(block).get("selected_options") or []]

    def date(self, block: str) -> str | None:
        """A date picker's `YYYY-MM-DD`; None when none was picked."""
        return self.element(block).get("selected_date")

    def time(self, block: str) -> str | None:
        """A time picker's `HH:MM`; None when none was picked."""
        return self.element(block).get("selected_time")

    def user(self, block: str) -> str | None:
        return self.element(block).get("selected_user")

    def users(self, block: str) -> list[str]:
        return list(self.element(block).get("selected_users") or [])

    def conversation(self, block: str) -> str | None:
        return self.element(block).get("selected_conversation")

    def conversations(self, block: str) -> list[str]:
        return list(self.element(block).get("selected_conversations") or [])

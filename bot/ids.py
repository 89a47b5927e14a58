"""Slash commands, action_ids and callback_ids: shared by the block builders and the handlers."""

from enum import StrEnum


class Command(StrEnum):
    BEACON = "/beacon"

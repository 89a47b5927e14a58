"""Domain errors that carry a message for the person whose action did not happen."""

from __future__ import annotations


class BeaconError(Exception):
    """Raised by services; the app's error handler shows `user_message` to the person, ephemerally."""

    def __init__(self, user_message: str):
        super().__init__(user_message)
        self.user_message = user_message


class NotPermitted(BeaconError):
    """The person lacks the role an action needs."""


class Unavailable(BeaconError):
    """Beacon could not do it now (its database did not answer), and did nothing."""


class NotFound(BeaconError):
    """What the person referred to does not exist (or is not theirs to see)."""


class InvalidInput(BeaconError):
    """The person's input cannot be used; the message says what to type instead."""

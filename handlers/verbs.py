"""Slash commands' verbs, routed from one table per command: each verb, the words it takes and what it does.

A command module states its verbs once (`Verbs`: verb -> pattern for the whole text) and binds a coroutine to
each when it registers (`Verbs.router`). The verbs are those `content/commands.yaml` documents, and a test keeps
the two in step; whatever matches no verb gets the usage reply written from that same file.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from beacon.bot.deps import Deps
from beacon.handlers.replies import reply_usage


@dataclass(frozen=True)
class Said:
    """One use of a command, as its listener received it, with the verb's pattern matched against the text."""

    user_id: str
    text: str                 # what followed the command, stripped
    words: re.Match[str]      # the verb's pattern, matched against `text`
    command: dict
    client: AsyncWebClient
    respond: AsyncRespond

    async def reply(self, text: str, blocks: list[dict] | None = None) -> None:
        """An ephemeral answer to whoever typed the command."""
        await self.respond(response_type="ephemeral", text=text, blocks=blocks)


Run = Callable[[Said], Awaitable[None]]
Route = Callable[[dict, AsyncWebClient, AsyncRespond], Awaitable[None]]


@dataclass(frozen=True)
class Verbs:
    """A command's verbs: each (`""` for the command alone) with a pattern its whole text must match, ignoring
    case. The first verb whose pattern matches is the one meant."""

    command: str
    patterns: Mapping[str, str]
    lowercase: bool = False  # the text is read (and echoed in the usage reply) in lower case, as /digest always has
    _compiled: dict[str, re.Pattern[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", {
            verb: re.compile(pattern, re.IGNORECASE | re.DOTALL) for verb, pattern in self.patterns.items()})

    def verb_of(self, text: str) -> tuple[str, re.Match[str]] | None:
        """The verb `text` (already stripped) means and its pattern's match; None when it means none."""
        for verb, pattern in self._compiled.items():
            if match := pattern.fullmatch(text):
                return verb, match
        return None

    def router(self, deps: Deps, runs: Mapping[str, Run]) -> Route:
        """The command's listener body: the verb's coroutine, or the usage reply. Every verb needs a coroutine and
        every coroutine a verb, checked when the app is built."""
        if set(runs) != set(self.patterns):
            raise ValueError(f"{self.command}: verbs {sorted(self.patterns)} but coroutines for {sorted(runs)}")

        async def route(command: dict, client: AsyncWebClient, respond: AsyncRespond) -> None:
            user_id, text = command["user_id"], command.get("text", "").strip()
            if self.lowercase:
                text = text.lower()
            found = self.verb_of(text)
            if found is None:
                await reply_usage(respond, deps, command=self.command, text=text, user_id=user_id)
                return
            verb, words = found
            await runs[verb](Said(user_id=user_id, text=text, words=words, command=command, client=client,
                                  respond=respond))

        return route

"""The one place errors become words: domain refusals, Slack API errors and bugs, each told plainly."""

from __future__ import annotations

import inspect
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from beacon.bot.after_ack import AFTER_ACK, CURRENT, AfterAck
from beacon.bot.blocks.errors import build_not_permitted_text, build_slack_refused_text, build_went_wrong_text
from beacon.bot.deps import Deps
from beacon.bot.errors import BeaconError
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.request_log import FIRST_SIGHT, VERIFIED
from beacon.bot.services.authorisation import RoleRequired

log = logging.getLogger("beacon.errors")


def user_of(body: dict) -> str | None:
    return body.get("user_id") or (body.get("user") or {}).get("id") or (body.get("event") or {}).get("user")


def explain(error: Exception, deps: Deps) -> str:
    """The words a person sees for `error`; unexpected ones are logged with a reference to quote."""
    messages = deps.content.messages
    if isinstance(error, RoleRequired):
        return build_not_permitted_text(error, messages)
    if isinstance(error, BeaconError):
        return escape_mrkdwn(error.user_message)
    if isinstance(error, SlackApiError):
        code = str(error.response.get("error", "unknown_error"))
        log.error("Slack API call failed", extra={"slack_method": error.response.api_url.rsplit("/", 1)[-1],
                                                  "slack_error": code})
        return build_slack_refused_text(error_code=code, what="your request", messages=messages)
    reference = secrets.token_hex(4)
    log.exception("unexpected error handling a Slack request", exc_info=error, extra={"reference": reference})
    return build_went_wrong_text(what="your request", reference=reference, messages=messages)


async def tell(error: Exception, deps: Deps, *, body: dict, client: AsyncWebClient,
               respond: AsyncRespond | None, context: Mapping[str, Any] | None) -> None:
    """Explain `error` to the person whose request it was: ephemerally where Slack allows, else by DM.

    Only for a request an entry point verified (`VERIFIED` in its context): the user and response_url of any
    other body are anyone's words, so nobody is messaged and nothing is posted, and the log names nobody.
    """
    if not (context or {}).get(VERIFIED):
        log.error("error handling a request that was not verified; nobody is told",
                  extra={"error": type(error).__name__})
        return
    text = explain(error, deps)
    user_id = user_of(body)
    if body.get("type") == "event_callback" or user_id is None:
        return  # nobody is waiting on an event; it is logged above when unexpected
    try:
        if respond is not None and body.get("response_url"):
            await respond(response_type="ephemeral", replace_original=False, text=text)
        else:
            await client.chat_postMessage(channel=user_id, text=text)
    except SlackApiError:
        log.exception("could not tell the user that their request failed", extra={"user": user_id})


Listener = Callable[..., Awaitable[None]]


class Replayed(Exception):
    """Raised at a listener's ack when its request is a replay, so that nothing after the ack happens."""


def _then_first_sight(ack: Callable[..., Awaitable[object]],
                      first_sight: Awaitable[bool]) -> Callable[..., Awaitable[None]]:
    async def ack_then_check(*args: Any, **kwargs: Any) -> None:
        await ack(*args, **kwargs)
        if not await first_sight:
            raise Replayed
    return ack_then_check


def _then_a_place(ack: Callable[..., Awaitable[object]], after_ack: AfterAck, work: AsyncExitStack, *,
                  urgent: bool) -> Callable[..., Awaitable[None]]:
    """The ack, then a place among the requests whose work runs now (bot/after_ack.py), held until the listener
    ends: however many wait, every request is acked first."""
    placed = False

    async def ack_then_wait(*args: Any, **kwargs: Any) -> None:
        nonlocal placed
        await ack(*args, **kwargs)
        if not placed:
            placed = True
            await work.enter_async_context(after_ack.slot(urgent=urgent))
    return ack_then_wait


STORES_ONCE = "beacon_stores_once"


def stores_once(listener: Listener) -> Listener:
    """Mark a form's listener whose first act is a row keyed by the request (`REQUEST_KEY` in its context), which
    a replay cannot store twice, and whose every later act is for that row alone: the row is its replay check, as
    sure as the signature's (the database decides, on any replica) and stored with what it guards, so its ack does
    not wait for the signature's, nor does its work. (Waiting for both, the original could win one and a replay
    arriving with it the other, and neither would act.) The signature is recorded all the same. Put it under
    `guard`."""
    setattr(listener, STORES_ONCE, True)
    return listener


def guarded(deps: Deps) -> Callable[[Listener], Listener]:
    """Wrap a listener so that any error it raises is acked (if it was not yet) and told to the person.

    Bolt's own error path, taken when a listener raises just after ack(), can forget the ack and answer
    Slack 404 three seconds later; catching errors inside the listener keeps the ack that was given.
    """
    def wrap(listener: Listener) -> Listener:
        names = inspect.getfullargspec(listener).args

        async def run(args: AsyncArgs) -> None:
            given = {name: getattr(args, name) for name in names}
            first_sight: Awaitable[bool] | None = args.context.get(FIRST_SIGHT)
            after_ack: AfterAck | None = args.context.get(AFTER_ACK)
            async with AsyncExitStack() as work:
                try:
                    if first_sight is not None and not getattr(listener, STORES_ONCE, False):
                        if "ack" not in names or args.body.get("type") in ("view_submission", "view_closed"):
                            # A form's listener answers in its ack (errors, the next view) after acting, and an
                            # event's is acked by Bolt: wait first.
                            if not await first_sight:
                                if args.ack.response is None:
                                    await args.ack()
                                return
                        else:  # everything else acks first: the ack goes at once, the action only if it is new
                            given["ack"] = _then_first_sight(args.ack, first_sight)
                    if after_ack is not None:
                        CURRENT.set(after_ack)  # this listener's task only: for work it leaves to run later
                        # A form's promise is kept before its ack; what follows only refreshes views, so waits
                        # behind work a person is waiting to see.
                        urgent = args.body.get("type") not in ("view_submission", "view_closed")
                        if "ack" in names:  # the ack goes at once; what follows it waits for a place
                            given["ack"] = _then_a_place(given["ack"], after_ack, work, urgent=urgent)
                        else:
                            await work.enter_async_context(after_ack.slot(urgent=urgent))
                    await listener(**given)
                except Replayed:
                    return  # the same signed request again: acked, nothing done (logged where it was found)
                except Exception as error:
                    if args.ack.response is None:
                        await args.ack()
                    await tell(error, deps, body=args.body, client=args.client, respond=args.respond,
                               context=args.context)

        run.__name__, run.__qualname__, run.__doc__ = listener.__name__, listener.__qualname__, listener.__doc__
        return run
    return wrap


def register(app: AsyncApp, deps: Deps) -> None:
    @app.error
    async def handle_error(error: Exception, body: dict, client: AsyncWebClient, context: AsyncBoltContext,
                           respond: AsyncRespond | None = None) -> None:
        """The fallback for errors outside listeners (middleware); listeners are `guarded`."""
        await tell(error, deps, body=body, client=client, respond=respond, context=context)

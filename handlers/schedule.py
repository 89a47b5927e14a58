"""`/schedule`: the communications team writes, previews, schedules and manages posts; approvers decide."""

from __future__ import annotations

import logging
import re
import secrets
from datetime import date, time

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from beacon.bot.blocks.schedule import (
    build_compose_modal,
    build_decision_blocks,
    build_new_post_button,
    build_posts_list,
    build_preview_loading,
    build_preview_modal,
    build_problem_modal,
    build_scheduled_text,
)
from beacon.bot.deps import Deps
from beacon.bot.errors import BeaconError
from beacon.bot.ids import ActionId, BlockId, CallbackId, Command
from beacon.bot.integrations.slack_channels import member_counts
from beacon.bot.organisation import Role
from beacon.bot.rich_text import fallback_mrkdwn, plain_text, sanitise_rich_text
from beacon.bot.services.recurrence import Repeat
from beacon.bot.services.scheduled_posts import DraftProblems, PostDraft
from beacon.handlers.errors import explain, guarded
from beacon.handlers.home import HomeTab
from beacon.handlers.modal_state import ModalState
from beacon.handlers.parsing import optional_id, read_metadata, record_id
from beacon.handlers.verbs import Said, Verbs

log = logging.getLogger(__name__)
VERBS = Verbs(Command.SCHEDULE, {"": "", "list": "list"})
FIELD_BLOCKS = {"channels": BlockId.SCHEDULE_CHANNELS, "message": BlockId.SCHEDULE_MESSAGE,
                "day": BlockId.SCHEDULE_DAY, "at": BlockId.SCHEDULE_TIME, "repeat": BlockId.SCHEDULE_REPEAT,
                "until": BlockId.SCHEDULE_UNTIL, "audience": BlockId.SCHEDULE_AUDIENCE}


def read_draft(state: ModalState) -> PostDraft:
    """The compose modal's state as typed values."""
    message = sanitise_rich_text(state.rich_text(BlockId.SCHEDULE_MESSAGE))
    day, at = state.date(BlockId.SCHEDULE_DAY), state.time(BlockId.SCHEDULE_TIME)
    until = state.date(BlockId.SCHEDULE_UNTIL)
    repeat = state.option(BlockId.SCHEDULE_REPEAT) or Repeat.NONE
    return PostDraft(
        channels=tuple(state.conversations(BlockId.SCHEDULE_CHANNELS)), message=message,
        fallback_text=fallback_mrkdwn(message), plain_text=plain_text(message),
        day=date.fromisoformat(day) if day else None, at=time.fromisoformat(at) if at else None,
        repeat=Repeat(repeat), until=date.fromisoformat(until) if until else None)


def _errors(problems: dict[str, str]) -> dict[str, str]:
    return {FIELD_BLOCKS[field]: message for field, message in problems.items() if field in FIELD_BLOCKS}


def register(app: AsyncApp, deps: Deps, home_tab: HomeTab) -> None:
    guard = guarded(deps)
    posts, tz = deps.scheduled_posts, deps.organisation.tz

    def today() -> date:
        return deps.clock.now().astimezone(tz).date()

    async def open_compose(client: AsyncWebClient, trigger_id: str, user_id: str, channel: str | None) -> None:
        await deps.authorisation.require(user_id, Role.COMMS, action="Scheduling a post")
        await client.views_open(trigger_id=trigger_id, view=build_compose_modal(
            tz=tz, today=today(), channel=channel if channel and channel[0] in "CG" else None))

    async def list_blocks(user_id: str) -> list[Block]:
        async with deps.db.transaction() as session:
            return build_posts_list(await posts.listing(session=session, user_id=user_id), tz=tz)

    async def home_section(user_id: str, roles: frozenset[Role]) -> list[Block]:
        if Role.COMMS not in roles:
            return []
        return [*await list_blocks(user_id), build_new_post_button()]

    home_tab.add_section(home_section)

    async def compose(said: Said) -> None:
        await open_compose(said.client, said.command["trigger_id"], said.user_id, said.command.get("channel_id"))

    async def listing(said: Said) -> None:
        await said.reply("Scheduled posts", [b.to_dict() for b in await list_blocks(said.user_id)])

    route = VERBS.router(deps, {"": compose, "list": listing})

    @app.command(Command.SCHEDULE)
    @guard
    async def handle_schedule(ack: AsyncAck, command: dict, client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        await route(command, client, respond)

    @app.action(ActionId.SCHEDULE_NEW)
    @guard
    async def handle_new(ack: AsyncAck, body: dict, client: AsyncWebClient) -> None:
        await ack()
        await open_compose(client, body["trigger_id"], body["user"]["id"], None)

    @app.view(CallbackId.SCHEDULE_COMPOSE)
    @guard
    async def handle_compose(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient) -> None:
        user_id, draft = body["user"]["id"], read_draft(ModalState(view))
        try:
            edit_of = optional_id(read_metadata(view).get("edit_of"))
            async with deps.db.transaction() as session:
                post = await posts.save_draft(session=session, user_id=user_id, draft=draft, edit_of=edit_of)
        except DraftProblems as problems:
            await ack(response_action="errors", errors=_errors(problems.problems))
            return
        except BeaconError as error:
            await ack(response_action="push", view=build_problem_modal(explain(error, deps)))
            return
        external_id = f"schedule-preview-{post.id}-{secrets.token_hex(4)}"
        await ack(response_action="push", view=build_preview_loading(external_id=external_id))
        audience = await member_counts(client, list(post.channels))
        async with deps.db.transaction() as session:
            await posts.record_audience(session=session, post_id=post.id or 0, audience=audience)
            post = await posts.draft(session=session, user_id=user_id, post_id=post.id or 0)
        await client.views_update(external_id=external_id, view=build_preview_modal(
            post=post, external_id=external_id, runs=posts.upcoming(post), tz=tz, large=posts.large_channels(post),
            approval=deps.organisation.schedule.require_approval))

    @app.view(CallbackId.SCHEDULE_PREVIEW)
    @guard
    async def handle_preview(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient) -> None:
        user_id = body["user"]["id"]
        confirmed = set(ModalState(view).options(BlockId.SCHEDULE_AUDIENCE))
        large: dict[str, int | None] = {}
        try:
            post_id = record_id(read_metadata(view).get("post_id"))
            async with deps.db.transaction() as session:
                draft = await posts.draft(session=session, user_id=user_id, post_id=post_id)
                large, edited = posts.large_channels(draft), draft.edit_of is not None
                result = await posts.confirm(session=session, user_id=user_id, post_id=post_id,
                                             audience_confirmed=set(large) <= confirmed)
        except DraftProblems as problems:
            if "audience" in problems.problems and large:
                await ack(response_action="errors", errors=_errors({"audience": problems.problems["audience"]}))
            else:
                await ack(response_action="push", view=build_problem_modal(problems.user_message))
            return
        except BeaconError as error:
            await ack(response_action="push", view=build_problem_modal(explain(error, deps)))
            return
        await ack(response_action="clear")
        try:  # the post is scheduled whatever happens to this receipt: it is in the database already
            await client.chat_postMessage(channel=user_id, text=build_scheduled_text(
                post=result.post, first_run=result.first_run, awaiting_approval=result.awaiting_approval,
                edited=edited, tz=tz))
            await home_tab.publish(client, user_id)
        except SlackApiError:
            log.warning("could not send the scheduling receipt", exc_info=True, extra={"user": user_id})

    @app.action(ActionId.SCHEDULE_EDIT)
    @guard
    async def handle_edit(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        async with deps.db.transaction() as session:
            post = await posts.for_edit(session=session, user_id=body["user"]["id"],
                                        post_id=record_id(action.get("value")))
        await client.views_open(trigger_id=body["trigger_id"],
                                view=build_compose_modal(tz=tz, today=today(), post=post))

    changes = {ActionId.SCHEDULE_PAUSE: posts.pause, ActionId.SCHEDULE_RESUME: posts.resume,
               ActionId.SCHEDULE_CANCEL: posts.cancel}

    @app.action(re.compile(f"^({'|'.join(changes)})$"))
    @guard
    async def handle_change(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient,
                            respond: AsyncRespond | None = None) -> None:
        await ack()
        user_id = body["user"]["id"]
        async with deps.db.transaction() as session:
            await changes[ActionId(action["action_id"])](session=session, user_id=user_id,
                                                          post_id=record_id(action.get("value")))
        if body.get("container", {}).get("type") == "view":
            await home_tab.publish(client, user_id)
        elif respond is not None:
            await respond(replace_original=True, text="Scheduled posts",
                          blocks=[b.to_dict() for b in await list_blocks(user_id)])

    @app.action(re.compile(f"^({ActionId.SCHEDULE_APPROVE}|{ActionId.SCHEDULE_REJECT})$"))
    @guard
    async def handle_decision(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        user_id, approve = body["user"]["id"], action["action_id"] == ActionId.SCHEDULE_APPROVE
        async with deps.db.transaction() as session:
            post = await posts.decide(session=session, user_id=user_id, post_id=record_id(action.get("value")),
                                      approve=approve)
            requests = await posts.approval_messages(session=session, post_id=post.id or 0)
        blocks = [b.to_dict() for b in build_decision_blocks(approve=approve, decided_by=user_id,
                                                            summary=plain_text(post.message))]
        for sent in requests:
            await client.chat_update(channel=sent.channel, ts=sent.ts, text="Decided", blocks=blocks)

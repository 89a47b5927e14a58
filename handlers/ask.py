"""`/ask` and the App Home's "Ask the leaders": any member of staff asks the leadership team, named or anonymous;
forum moderators publish, merge or decline; colleagues support a published question; the leader asked answers."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block, SectionBlock
from slack_sdk.models.blocks.basic_components import MarkdownTextObject
from slack_sdk.web.async_client import AsyncWebClient

from beacon.bot.blocks.ask import (
    ANONYMOUS,
    build_answer_modal,
    build_ask_button,
    build_ask_modal,
    build_ask_receipt,
    build_assign_modal,
    build_decline_modal,
    build_merge_modal,
    build_moderator_queue,
    build_receipt_blocks,
    build_status_blocks,
)
from beacon.bot.deps import Deps
from beacon.bot.errors import NotFound
from beacon.bot.ids import ActionId, BlockId, CallbackId, Command
from beacon.bot.organisation import Role
from beacon.bot.services import forum_questions as questions
from beacon.bot.services.forum_questions import QuestionProblems
from beacon.handlers.errors import guarded
from beacon.handlers.home import HomeTab
from beacon.handlers.modal_state import ModalState
from beacon.handlers.parsing import read_metadata
from beacon.handlers.verbs import Said, Verbs

log = logging.getLogger(__name__)
VERBS = Verbs(Command.ASK, {"": "", "status": r"status\s+(?P<token>\S{1,100})", "queue": "queue"})
MODERATING = "Moderating questions for the leaders"
_ID = re.compile(r"[0-9a-f]{32}")


def question_id(value: object) -> str:
    """A question's id from a button or a form: 32 hex digits, or "not found" (never a traceback)."""
    if isinstance(value, str) and _ID.fullmatch(value):
        return value
    raise NotFound("That question no longer exists.")


def register(app: AsyncApp, deps: Deps, home_tab: HomeTab) -> None:
    guard = guarded(deps)
    org = deps.organisation

    def today() -> Any:
        return deps.clock.now().astimezone(org.tz).date()

    async def queue_blocks() -> list[Block]:
        async with deps.db.transaction() as session:
            pending, waiting = await questions.queue(session=session, today=today(),
                                                     unanswered_days=org.ask.unanswered_days)
        return build_moderator_queue(pending=pending, waiting=waiting, unanswered_days=org.ask.unanswered_days)

    async def home_section(user_id: str, roles: frozenset[Role]) -> list[Block]:
        blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=deps.content.messages.ask_home)),
                               build_ask_button()]
        if Role.FORUM_MODERATORS in roles:
            blocks.extend(await queue_blocks())
        return blocks

    home_tab.add_section(home_section)

    async def open_form(client: AsyncWebClient, trigger_id: str) -> None:
        await client.views_open(trigger_id=trigger_id, view=build_ask_modal(intro=deps.content.messages.ask_intro))

    async def compose(said: Said) -> None:
        await open_form(said.client, said.command["trigger_id"])

    async def status(said: Said) -> None:
        async with deps.db.transaction() as session:
            question = await questions.by_token(session=session, token=said.words["token"])
        await said.reply("Your question for the leaders", [b.to_dict() for b in build_status_blocks(question)])

    async def queue(said: Said) -> None:
        await deps.authorisation.require(said.user_id, Role.FORUM_MODERATORS, action=MODERATING)
        await said.reply("Ask the leaders: the moderators' queue", [b.to_dict() for b in await queue_blocks()])

    route = VERBS.router(deps, {"": compose, "status": status, "queue": queue})

    @app.command(Command.ASK)
    @guard
    async def handle_ask(ack: AsyncAck, command: dict, client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        await route(command, client, respond)

    @app.action(ActionId.ASK_OPEN)
    @guard
    async def handle_open(ack: AsyncAck, body: dict, client: AsyncWebClient) -> None:
        await ack()
        await open_form(client, body["trigger_id"])

    @app.view(CallbackId.ASK_COMPOSE)
    @guard
    async def handle_compose(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient) -> None:
        state = ModalState(view)
        anonymous = ANONYMOUS in state.options(BlockId.ASK_ANONYMOUS)
        try:
            async with deps.db.transaction() as session:
                asked = await questions.ask(session=session, user_id=body["user"]["id"],
                                            text=state.text(BlockId.ASK_TEXT), anonymous=anonymous, today=today())
        except QuestionProblems as problems:
            await ack(response_action="errors", errors={BlockId.ASK_TEXT: problems.problems["text"]})
            return
        text = state.text(BlockId.ASK_TEXT).strip()
        await ack(response_action="update", view=build_ask_receipt(token=asked.token, text=text))
        if asked.token is not None:
            # The token goes to the asker's DM at once and nowhere else: not through the outbox (its rows name
            # their recipient), and nothing is logged here.
            try:
                await client.chat_postMessage(channel=body["user"]["id"], text="Your anonymous question's token",
                                              blocks=[b.to_dict() for b in build_receipt_blocks(token=asked.token,
                                                                                               text=text)])
            except SlackApiError:
                log.warning("could not send an anonymous question's token (it was shown on screen)")

    async def moderate(body: dict, client: AsyncWebClient, respond: AsyncRespond | None) -> None:
        """Show the moderator the queue again where they clicked."""
        user_id = body["user"]["id"]
        if body.get("container", {}).get("type") == "view" or respond is None:
            await home_tab.publish(client, user_id)
        else:
            await respond(replace_original=True, text="Ask the leaders: the moderators' queue",
                          blocks=[b.to_dict() for b in await queue_blocks()])

    @app.action(ActionId.ASK_PUBLISH)
    @guard
    async def handle_publish(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient,
                             respond: AsyncRespond | None = None) -> None:
        await ack()
        await deps.authorisation.require(body["user"]["id"], Role.FORUM_MODERATORS, action=MODERATING)
        async with deps.db.transaction() as session:
            await questions.publish(session=session, question_id=question_id(action.get("value")),
                                    channel=org.channels.forum, now=deps.clock.now(), today=today())
        await moderate(body, client, respond)

    Opener = Callable[[questions.QuestionView], Awaitable[dict[str, Any]]]

    async def open_question_form(body: dict, action: dict, client: AsyncWebClient, build: Opener) -> None:
        await deps.authorisation.require(body["user"]["id"], Role.FORUM_MODERATORS, action=MODERATING)
        async with deps.db.transaction() as session:
            question = await questions.view(session=session, question_id=question_id(action.get("value")))
        await client.views_open(trigger_id=body["trigger_id"], view=await build(question))

    async def decline_form(q: questions.QuestionView) -> dict[str, Any]:
        return build_decline_modal(question=q)

    async def merge_form(q: questions.QuestionView) -> dict[str, Any]:
        async with deps.db.transaction() as session:
            return build_merge_modal(question=q, candidates=await questions.published(session=session))

    async def assign_form(q: questions.QuestionView) -> dict[str, Any]:
        return build_assign_modal(question=q)

    forms = {ActionId.ASK_DECLINE: decline_form, ActionId.ASK_MERGE: merge_form, ActionId.ASK_ASSIGN: assign_form}

    @app.action(re.compile(f"^({ActionId.ASK_DECLINE}|{ActionId.ASK_MERGE}|{ActionId.ASK_ASSIGN})$"))
    @guard
    async def handle_question_form(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        await open_question_form(body, action, client, forms[ActionId(action["action_id"])])

    async def decided(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient,
                      decide: Callable[[Any, str], Awaitable[object]], field: str) -> None:
        user_id = body["user"]["id"]
        await deps.authorisation.require(user_id, Role.FORUM_MODERATORS, action=MODERATING)
        try:
            async with deps.db.transaction() as session:
                await decide(session, question_id(read_metadata(view).get("question")))
        except QuestionProblems as problems:
            await ack(response_action="errors", errors={field: next(iter(problems.problems.values()))})
            return
        await ack()
        await home_tab.publish(client, user_id)

    @app.view(CallbackId.ASK_DECLINE)
    @guard
    async def handle_decline(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient) -> None:
        reason = ModalState(view).text(BlockId.ASK_REASON)
        await decided(ack, body, view, client, lambda session, qid: questions.decline(
            session=session, question_id=qid, reason=reason, now=deps.clock.now()), BlockId.ASK_REASON)

    @app.view(CallbackId.ASK_MERGE)
    @guard
    async def handle_merge(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient) -> None:
        into = ModalState(view).option(BlockId.ASK_MERGE_INTO)  # read once the moderator is known to be one
        await decided(ack, body, view, client, lambda session, qid: questions.merge(
            session=session, question_id=qid, into_id=question_id(into), now=deps.clock.now()),
            BlockId.ASK_MERGE_INTO)

    @app.view(CallbackId.ASK_ASSIGN)
    @guard
    async def handle_assign(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient) -> None:
        leader = ModalState(view).user(BlockId.ASK_LEADER) or ""
        await decided(ack, body, view, client, lambda session, qid: questions.assign(
            session=session, question_id=qid, leader_id=leader, now=deps.clock.now()), BlockId.ASK_LEADER)

    @app.action(ActionId.ASK_SUPPORT)
    @guard
    async def handle_support(ack: AsyncAck, body: dict, action: dict, respond: AsyncRespond) -> None:
        await ack()
        async with deps.db.transaction() as session:
            count = await questions.support(session=session, question_id=question_id(action.get("value")),
                                            user_id=body["user"]["id"], now=deps.clock.now())
        await respond(response_type="ephemeral", replace_original=False, text=(
            "You support this question already; each person counts once." if count is None else
            "Thank you: your support is counted. Nobody is shown who supported a question."))

    @app.action(ActionId.ASK_ANSWER)
    @guard
    async def handle_answer_open(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        async with deps.db.transaction() as session:
            question = await questions.view(session=session, question_id=question_id(action.get("value")))
        if question.leader_id != body["user"]["id"]:
            raise NotFound("Only the leader the forum moderators asked can answer this question.")
        await client.views_open(trigger_id=body["trigger_id"], view=build_answer_modal(question=question))

    @app.view(CallbackId.ASK_ANSWER)
    @guard
    async def handle_answer(ack: AsyncAck, body: dict, view: dict) -> None:
        try:
            async with deps.db.transaction() as session:
                await questions.answer(session=session, question_id=question_id(read_metadata(view).get("question")),
                                       user_id=body["user"]["id"], text=ModalState(view).text(BlockId.ASK_ANSWER_TEXT),
                                       now=deps.clock.now(), today=today())
        except QuestionProblems as problems:
            await ack(response_action="errors", errors={BlockId.ASK_ANSWER_TEXT: problems.problems["text"]})
            return
        await ack()

"""`/pulse`: forum moderators and comms build pulses; everyone answers, once each; results follow safely."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from beacon.bot.blocks.pulses import (
    ANONYMOUS,
    LIVE,
    build_answer_modal,
    build_comments_blocks,
    build_confirmation,
    build_held,
    build_moderator_section,
    build_pulse_builder,
    chosen_option,
    slot_blocks,
)
from beacon.bot.deps import Deps
from beacon.bot.errors import InvalidInput, NotFound
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.ids import ActionId, BlockId, CallbackId, Command
from beacon.bot.organisation import Role
from beacon.bot.services.pulses import RUNS_PULSES, Closing, PulseDraft, PulseProblems, QuestionDraft, Receipt
from beacon.bot.services.recurrence import to_utc
from beacon.handlers.errors import guarded
from beacon.handlers.home import HomeTab
from beacon.handlers.modal_state import ModalState
from beacon.handlers.parsing import NOT_FOUND, bounded, parts, read_metadata, record_id
from beacon.handlers.verbs import Said, Verbs

VERBS = Verbs(Command.PULSE, {"": "", **{verb: verb + r"\s+#?(?P<id>\d+)" for verb in ("close", "results", "export")}})


def read_pulse(state: ModalState, slots: int, *, tz: Any) -> tuple[PulseDraft, dict[int, int]]:
    """The builder's state as a draft, and which slot each question came from (for errors)."""
    questions: list[QuestionDraft] = []
    origin: dict[int, int] = {}
    for slot in range(1, slots + 1):
        kind, text, options = slot_blocks(slot)
        origin[len(questions) + 1] = slot
        questions.append(QuestionDraft(type=state.option(kind) or "single", text=state.text(text),
                                       options=tuple(o.strip() for o in state.text(options).splitlines()
                                                     if o.strip())))
    for bank_key in state.options(BlockId.PULSE_BANK):
        questions.append(QuestionDraft(type="bank", text="", bank_key=bank_key))
    settings = set(state.options(BlockId.PULSE_SETTINGS))

    def moment(day_block: str, time_block: str, default: str) -> datetime | None:
        day = state.date(day_block)
        if not day:
            return None
        at = state.time(time_block) or default
        return to_utc(datetime.combine(date.fromisoformat(day), time.fromisoformat(at)), tz)

    reminder = state.option(BlockId.PULSE_REMINDER) or "none"
    return PulseDraft(
        title=state.text(BlockId.PULSE_TITLE), questions=tuple(questions),
        channel=state.conversation(BlockId.PULSE_CHANNEL) or "",
        anonymous=ANONYMOUS in settings, live_results=LIVE in settings,
        opens_at=moment(BlockId.PULSE_OPENS_DAY, BlockId.PULSE_OPENS_TIME, "09:00"),
        closes_at=moment(BlockId.PULSE_CLOSES_DAY, BlockId.PULSE_CLOSES_TIME, "17:00"),
        remind_hours_before=int(reminder) if reminder.isdigit() else None,
        repeat=state.option(BlockId.PULSE_REPEAT) or "none"), origin


def read_answers(state: ModalState, questions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The answer form's state as {question key: answer}: options come back as their place (`o2`), read as text."""
    answers: dict[str, Any] = {}
    for block in state.blocks():
        key = block.removeprefix("answer_")
        question = questions.get(key, {})
        answers[key] = (state.text(block) or chosen_option(question, state.option(block))
                        or [chosen_option(question, o) for o in state.options(block)])
    return answers


def _errors(problems: dict[str, str], origin: dict[int, int]) -> dict[str, str]:
    fields = {"title": BlockId.PULSE_TITLE, "questions": BlockId.PULSE_BANK, "opens": BlockId.PULSE_OPENS_DAY,
              "closes": BlockId.PULSE_CLOSES_TIME, "reminder": BlockId.PULSE_REMINDER, "repeat": BlockId.PULSE_REPEAT}
    errors = {}
    for key, message in problems.items():
        match = re.match(r"q(\d+)_(type|text|options)", key)
        if match and int(match[1]) in origin:
            kind, text, options = slot_blocks(origin[int(match[1])])
            errors[{"type": kind, "text": text, "options": options}[match[2]]] = message
        elif key in fields:
            errors[fields[key]] = message
    return errors


def register(app: AsyncApp, deps: Deps, home_tab: HomeTab) -> None:
    guard = guarded(deps)
    pulses, answering, org, tz = deps.pulses, deps.pulse_answering, deps.organisation, deps.organisation.tz

    def builder(slots: int) -> dict[str, Any]:
        today = (deps.clock.now() + timedelta(days=7)).astimezone(tz).date()
        return build_pulse_builder(bank=deps.content.pulse, slots=slots, forum=org.channels.forum, today=today,
                                   tz=tz.key)

    async def home_section(user_id: str, roles: frozenset[Role]) -> list[Block]:
        if not roles.intersection(RUNS_PULSES):
            return []
        async with deps.db.transaction() as session:
            listed = await pulses.listing(session=session, user_id=user_id)
        return build_moderator_section(listed, when=pulses.when)

    home_tab.add_section(home_section)

    async def open_builder(client: AsyncWebClient, trigger_id: str, user_id: str) -> None:
        await deps.authorisation.require_any(user_id, RUNS_PULSES, action="Creating a pulse")
        await client.views_open(trigger_id=trigger_id, view=builder(1))

    async def tell(client: AsyncWebClient, user_id: str, respond: AsyncRespond | None, text: str,
                   blocks: list[dict] | None = None) -> None:
        if respond is not None:
            await respond(response_type="ephemeral", replace_original=False, text=text, blocks=blocks)
        else:
            await client.chat_postMessage(channel=user_id, text=text, blocks=blocks)

    async def comments(client: AsyncWebClient, user_id: str, respond: AsyncRespond | None, pulse_id: int) -> None:
        async with deps.db.transaction() as session:
            pulse, results = await pulses.moderator_results(session=session, user_id=user_id, pulse_id=pulse_id)
        texts = {q.text: q.comments or [] for q in results.questions if q.type == "text"}
        summary = f"{results.total} responses to “{pulse.title}”."
        blocks = [b.to_dict() for b in build_comments_blocks(pulse, texts, results.minimum)] if texts else None
        await tell(client, user_id, respond, summary, blocks)

    async def export(client: AsyncWebClient, user_id: str, pulse_id: int) -> None:
        async with deps.db.transaction() as session:
            pulse, filename, data = await pulses.export_csv(session=session, user_id=user_id, pulse_id=pulse_id)
        dm = (await client.conversations_open(users=user_id))["channel"]["id"]
        await client.files_upload_v2(channel=dm, content=data, filename=filename, title=f"{pulse.title} answers",
                                     initial_comment=f"The answers to “{pulse.title}”.")

    async def build(said: Said) -> None:
        await open_builder(said.client, said.command["trigger_id"], said.user_id)

    async def close(said: Said) -> None:
        closing = await answering.close(user_id=said.user_id, pulse_id=record_id(said.words["id"]))
        await said.reply(closed_text(closing))

    async def results(said: Said) -> None:
        await comments(said.client, said.user_id, said.respond, record_id(said.words["id"]))

    async def export_(said: Said) -> None:
        await export(said.client, said.user_id, record_id(said.words["id"]))
        await said.reply(":inbox_tray: The answers are in your direct messages.")

    route = VERBS.router(deps, {"": build, "close": close, "results": results, "export": export_})

    @app.command(Command.PULSE)
    @guard
    async def handle_pulse(ack: AsyncAck, command: dict, client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        await route(command, client, respond)

    @app.action(ActionId.PULSE_NEW)
    @guard
    async def handle_new(ack: AsyncAck, body: dict, client: AsyncWebClient) -> None:
        await ack()
        await open_builder(client, body["trigger_id"], body["user"]["id"])

    @app.action(re.compile(f"^({ActionId.PULSE_ADD_QUESTION}|{ActionId.PULSE_REMOVE_QUESTION})$"))
    @guard
    async def handle_slots(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        await deps.authorisation.require_any(body["user"]["id"], RUNS_PULSES, action="Building a pulse")
        slots = bounded(read_metadata(body["view"]).get("slots", 1), 0, 5)
        slots += 1 if action["action_id"] == ActionId.PULSE_ADD_QUESTION else -1
        await client.views_update(view_id=body["view"]["id"], hash=body["view"]["hash"],
                                  view=builder(max(0, min(slots, 5))))

    @app.view(CallbackId.PULSE_CREATE)
    @guard
    async def handle_create(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient) -> None:
        user_id = body["user"]["id"]
        draft, origin = read_pulse(ModalState(view), bounded(read_metadata(view).get("slots", 1), 0, 5),
                                   tz=tz)
        try:
            async with deps.db.transaction() as session:
                pulse = await pulses.create(session=session, user_id=user_id, draft=draft)
        except PulseProblems as problems:
            await ack(response_action="errors", errors=_errors(problems.problems, origin) or {
                BlockId.PULSE_TITLE: " ".join(problems.problems.values())})
            return
        await ack()
        when = "now" if pulse.status == "open" else pulses.when(pulse.opens_at)
        await client.chat_postMessage(channel=user_id, text=(
            f":bar_chart: “{escape_mrkdwn(pulse.title)}” (#{pulse.id}) opens {when} in <#{pulse.channel}> and closes "
            f"{pulses.when(pulse.closes_at)}. Close it early with `/pulse close {pulse.id}`."))

    def closed_text(closing: Closing) -> str:
        title = escape_mrkdwn(closing.pulse.title)
        if closing.finished:
            return f":lock: “{title}” is closed; its results are being posted in its thread."
        return (f":lock: “{title}” takes no more answers. Its results will be posted in its thread within a minute, "
                "once the answers other Beacon processes hold for it are stored.")

    def receipt_message(receipt: Receipt, *, by_message: bool) -> tuple[str, list[dict]]:
        if receipt.held is not None:
            return build_held(pulse=receipt.pulse, batch=answering.batch, closes=pulses.when(receipt.pulse.closes_at),
                              by_message=by_message)
        return "Your answer is in.", build_confirmation(pulse=receipt.pulse, answers=receipt.answers,
                                                        token=receipt.token, changed=receipt.changed)

    @app.action(re.compile(f"^{ActionId.PULSE_CHOOSE}_\\d+$"))
    @guard
    async def handle_choose(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient,
                            respond: AsyncRespond) -> None:
        await ack()
        pulse_text, question, index = parts(action.get("value"), 3)
        pulse_id = record_id(pulse_text)
        async with deps.db.transaction() as session:
            pulse = await pulses.get(session=session, pulse_id=pulse_id)
        q = next((q for q in pulse.questions if q["key"] == question), None)
        if q is None or not index.isascii() or not index.isdigit() or (
                q["type"] != "scale" and int(index) >= len(q["options"])):
            raise NotFound(NOT_FOUND)
        chosen = index if q["type"] == "scale" else q["options"][int(index)]
        user_id = body["user"]["id"]
        receipt = await answering.answer(user_id=user_id, pulse_id=pulse_id, answers={question: chosen},
                                         response_url=body.get("response_url"))
        text, blocks = receipt_message(receipt, by_message=False)
        await tell(client, user_id, respond, text, blocks)
        await answering.store_ready(pulse_id)

    @app.action(re.compile(f"^({ActionId.PULSE_ANSWER}|{ActionId.PULSE_CHANGE})$"))
    @guard
    async def handle_answer_open(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        user_id = body["user"]["id"]
        pulse_text, _, token = str(action.get("value", ""))[:200].partition(":")
        async with deps.db.transaction() as session:
            pulse = await pulses.get(session=session, pulse_id=record_id(pulse_text))
            current = await pulses.own_answer(session=session, pulse_id=pulse.id or 0, user_id=user_id,
                                              token=token or None)
        if pulse.status != "open":
            raise InvalidInput(f"“{pulse.title}” has closed, so answers are no longer taken.")
        await client.views_open(trigger_id=body["trigger_id"],
                                view=build_answer_modal(pulse=pulse, current=current, token=token or None))

    @app.view(CallbackId.PULSE_ANSWER)
    @guard
    async def handle_answer(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient) -> None:
        meta, state = read_metadata(view), ModalState(view)
        pulse_id, token = record_id(meta.get("pulse")), meta.get("token")
        if token is not None and (not isinstance(token, str) or len(token) > 100):
            raise NotFound(NOT_FOUND)
        async with deps.db.transaction() as session:
            questions = {q["key"]: q for q in (await pulses.get(session=session, pulse_id=pulse_id)).questions}
        try:
            receipt = await answering.answer(user_id=body["user"]["id"], pulse_id=pulse_id,
                                             answers=read_answers(state, questions), token=token)
        except InvalidInput as problem:
            first = next(iter(state.blocks()), BlockId.PULSE_TITLE)
            await ack(response_action="errors", errors={first: problem.user_message})
            return
        await ack(response_action="update", view={
            "type": "modal", "title": {"type": "plain_text", "text": "Thank you"},
            "close": {"type": "plain_text", "text": "Done"},
            "blocks": receipt_message(receipt, by_message=True)[1]})
        await answering.store_ready(pulse_id)

    @app.action(re.compile(f"^({ActionId.PULSE_CLOSE}|{ActionId.PULSE_EXPORT}|{ActionId.PULSE_COMMENTS})$"))
    @guard
    async def handle_moderator(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        user_id, pulse_id = body["user"]["id"], record_id(action.get("value"))
        if action["action_id"] == ActionId.PULSE_CLOSE:
            await answering.close(user_id=user_id, pulse_id=pulse_id)
            await home_tab.publish(client, user_id)
        elif action["action_id"] == ActionId.PULSE_EXPORT:
            await export(client, user_id, pulse_id)
        else:
            await comments(client, user_id, None, pulse_id)

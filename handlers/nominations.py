"""`/nominate`: recognise colleagues; nominees say yes or no to a public celebration; others endorse it."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from beacon.bot.blocks.nominations import (
    HIDE_NAME,
    NO_PATIENT_DETAILS,
    SHARE,
    build_consent_answered,
    build_consent_out_of_date,
    build_made_section,
    build_nominate_button,
    build_nominate_modal,
    build_received_section,
)
from beacon.bot.blocks.notices import render
from beacon.bot.deps import Deps
from beacon.bot.errors import BeaconError
from beacon.bot.ids import ActionId, BlockId, CallbackId, Command
from beacon.bot.models import Nomination, Nominee
from beacon.bot.organisation import Role
from beacon.bot.request_log import REQUEST_KEY
from beacon.bot.services.delivery import worker_name
from beacon.bot.services.nomination_intake import Accepted, NominationIntake, accepted_from
from beacon.bot.services.nominations import NominationDraft, NominationProblems, NomineeInput
from beacon.bot.services.work_queue import Work
from beacon.bot.templates import Template
from beacon.handlers.errors import explain, guarded, stores_once
from beacon.handlers.home import HomeTab
from beacon.handlers.modal_state import ModalState
from beacon.handlers.parsing import optional_id, read_metadata, record_id
from beacon.handlers.replies import reply_usage

log = logging.getLogger(__name__)

MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
FIELD_BLOCKS = {"nominees": BlockId.NOMINATE_COLLEAGUES, "award": BlockId.NOMINATE_AWARD,
                "values": BlockId.NOMINATE_VALUES, "behaviours": BlockId.NOMINATE_BEHAVIOURS,
                "story": BlockId.NOMINATE_STORY, "no_patient_details": BlockId.NOMINATE_NO_PATIENT_DETAILS,
                "nominator_name": BlockId.NOMINATE_ON_BEHALF}


def read_nomination(state: ModalState) -> NominationDraft:
    """The modal's state as typed values."""
    def chosen(block: BlockId) -> set[str]:
        return set(state.options(block))

    people = [NomineeInput(user_id=u) for u in state.users(BlockId.NOMINATE_COLLEAGUES)]
    for line in state.text(BlockId.NOMINATE_NOT_ON_SLACK).splitlines():
        parts = [p.strip() for p in line.split(",")]
        if parts and parts[0]:
            people.append(NomineeInput(name=parts[0][:120], role=(parts[1] if len(parts) > 1 else None) or None,
                                       site=", ".join(parts[2:])[:120] or None))
    options = chosen(BlockId.NOMINATE_OPTIONS)
    award = state.option(BlockId.NOMINATE_AWARD, ActionId.NOMINATE_AWARD)
    return NominationDraft(
        nominees=tuple(people), award=award, values=tuple(sorted(chosen(BlockId.NOMINATE_VALUES))),
        behaviours=tuple(sorted(chosen(BlockId.NOMINATE_BEHAVIOURS))),
        story=state.text(BlockId.NOMINATE_STORY), share_publicly=SHARE in options,
        hide_nominator=HIDE_NAME in options,
        no_patient_details=NO_PATIENT_DETAILS in chosen(BlockId.NOMINATE_NO_PATIENT_DETAILS),
        nominator_name=state.text(BlockId.NOMINATE_ON_BEHALF).strip() or None)


def intake_for(deps: Deps) -> NominationIntake:
    return NominationIntake(db=deps.db, clock=deps.clock, nominations=deps.nominations, owner=worker_name(),
                            lease=timedelta(seconds=deps.organisation.delivery.lease_seconds))


async def finish(deps: Deps, intake: NominationIntake, accepted: Accepted, *, owner: str | None) -> None:
    """Store an accepted form as a nomination (bot/services/nomination_intake.py); a refusal (the nomination it
    edits was withdrawn meanwhile, say) closes the form's row and is raised for the person to be told."""
    try:
        submitted = await intake.finish(accepted, owner=owner)
    except BeaconError as refusal:
        await intake.refused(accepted, refusal.user_message)
        raise
    if submitted is not None and submitted.take_down is not None:  # no longer to be shared: it comes down
        await deps.slack.chat_delete(channel=submitted.take_down.channel, ts=submitted.take_down.ts)


async def submit_job(deps: Deps, item: Work) -> None:
    """A form accepted by a process that stopped before storing it, finished by a worker once its lease lapsed."""
    accepted = accepted_from(item.id, item.params)
    try:
        await finish(deps, intake_for(deps), accepted, owner=None)
    except BeaconError as refusal:
        await deps.slack.chat_postMessage(channel=accepted.nominator, text=explain(refusal, deps))


def register(app: AsyncApp, deps: Deps, home_tab: HomeTab) -> None:
    guard = guarded(deps)
    nominations, content, tz = deps.nominations, deps.content, deps.organisation.tz
    intake = intake_for(deps)  # one owner name for this process's accepted forms

    # A new nomination's modal is the same for everyone with the same role, award and colleagues named; building
    # and validating its blocks was the biggest cost of /nominate under a crowd, so each is built once.
    # (Sent as JSON by views.open and views.update, never changed in place.)
    fresh: dict[tuple[str | None, tuple[str, ...], bool], dict[str, Any]] = {}

    async def modal(user_id: str, *, award: str | None = None, colleagues: list[str] | None = None,
                    editing: tuple[Nomination, list[Nominee]] | None = None) -> dict[str, Any]:
        can_enter_for_others = await deps.authorisation.has(user_id, Role.COMMS)
        key = (award, tuple(colleagues or ()), can_enter_for_others)
        if editing is None and key in fresh:
            return fresh[key]
        built = build_nominate_modal(content=content, framework=nominations.framework, award=award,
                                     colleagues=colleagues, editing=editing, can_enter_for_others=can_enter_for_others)
        if editing is None and not colleagues and len(fresh) < 64:
            fresh[key] = built
        return built

    async def home_section(user_id: str, _roles: frozenset[Role]) -> list[Block]:
        async with deps.db.transaction() as session:
            received = await nominations.received_by(session=session, user_id=user_id)
            made = await nominations.made_by(session=session, user_id=user_id)
        return [*build_received_section(received, content=content, tz=tz),
                *build_made_section(made, content=content, tz=tz), build_nominate_button()]

    home_tab.add_section(home_section)

    @app.command(Command.NOMINATE)
    @guard
    async def handle_nominate(ack: AsyncAck, command: dict, client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        user_id, text = command["user_id"], command.get("text", "").strip()
        if text.lower() in ("help", "?"):
            await reply_usage(respond, deps, command=Command.NOMINATE, text=text, user_id=user_id)
            return
        await client.views_open(trigger_id=command["trigger_id"],
                                view=await modal(user_id, colleagues=MENTION.findall(text)))

    @app.action(ActionId.NOMINATE_NEW)
    @guard
    async def handle_new(ack: AsyncAck, body: dict, client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=await modal(body["user"]["id"]))

    @app.action(ActionId.NOMINATE_AWARD)
    @guard
    async def handle_award_chosen(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient) -> None:
        """Choosing an award reshapes the modal: the Leadership award adds leadership behaviours."""
        await ack()
        view, user_id = body["view"], body["user"]["id"]
        editing_id = optional_id(read_metadata(view).get("editing"))
        editing = None
        if editing_id:
            async with deps.db.transaction() as session:
                editing = await nominations.for_edit(session=session, user_id=user_id, nomination_id=editing_id)
        award = (action.get("selected_option") or {}).get("value")
        await client.views_update(view_id=view["id"], hash=view["hash"],
                                  view=await modal(user_id, award=award, editing=editing))

    @app.view(CallbackId.NOMINATE)
    @guard
    @stores_once
    async def handle_submit(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient,
                            context: AsyncBoltContext) -> None:
        user_id, draft = body["user"]["id"], read_nomination(ModalState(view))
        try:
            accepted = await intake.accept(nominator=user_id, draft=draft,
                                           editing=optional_id(read_metadata(view).get("editing")),
                                           request_key=context.get(REQUEST_KEY))
        except NominationProblems as problems:
            await ack(response_action="errors", errors={FIELD_BLOCKS[f]: m for f, m in problems.problems.items()
                                                        if f in FIELD_BLOCKS})
            return
        await ack()  # what was sent is stored: if this process stops now, a worker finishes it
        if accepted is None:
            return  # the same signed request again: stored the first time
        try:
            await finish(deps, intake, accepted, owner=intake.owner)
        except BeaconError:
            raise  # told to the person (guarded)
        except Exception:  # the form is stored and still this process's: a worker finishes it once the lease lapses
            log.exception("an accepted nomination could not be stored yet; a worker will finish it",
                          extra={"work": accepted.id})
            return
        await home_tab.publish(client, user_id)

    @app.action(re.compile(f"^({ActionId.CONSENT_GIVE}|{ActionId.CONSENT_DECLINE})$"))
    @guard
    async def handle_consent(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient,
                             respond: AsyncRespond) -> None:
        await ack()
        give = action["action_id"] == ActionId.CONSENT_GIVE
        nomination_id, _, version = str(action.get("value") or "").partition(":")  # "12:3": the words shown
        async with deps.db.transaction() as session:
            answer = await nominations.consent(session=session, user_id=body["user"]["id"],
                                               nomination_id=record_id(nomination_id), give=give,
                                               version=record_id(version) if version else None)
        if answer.take_down is not None:
            await client.chat_delete(channel=answer.take_down.channel, ts=answer.take_down.ts)
        if answer.out_of_date:
            await respond(replace_original=True, text=body["message"].get("text", ""),
                          blocks=build_consent_out_of_date(body["message"]["blocks"]))
            return
        await respond(replace_original=True, text=body["message"].get("text", ""),
                      blocks=build_consent_answered(body["message"]["blocks"], given=give))

    @app.action(ActionId.ENDORSE)
    @guard
    async def handle_endorse(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient,
                             respond: AsyncRespond) -> None:
        await ack()
        async with deps.db.transaction() as session:
            nomination = await nominations.endorse(session=session, user_id=body["user"]["id"],
                                                   nomination_id=record_id(action.get("value")))
            params = await nominations.public_params(session, nomination.id or 0)
        if nomination.public_channel and nomination.public_ts:  # endorsed from the public post, so always
            text, blocks = render({"template": Template.RECOGNITION_POST, "params": params})
            await client.chat_update(channel=nomination.public_channel, ts=nomination.public_ts, text=text,
                                     blocks=blocks)
        await respond(response_type="ephemeral", replace_original=False,
                      text=":raised_hands: Thank you for endorsing this recognition.")

    @app.action(ActionId.NOMINATION_EDIT)
    @guard
    async def handle_edit(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        user_id = body["user"]["id"]
        async with deps.db.transaction() as session:
            editing = await nominations.for_edit(session=session, user_id=user_id,
                                                 nomination_id=record_id(action.get("value")))
        await client.views_open(trigger_id=body["trigger_id"], view=await modal(user_id, editing=editing))

    @app.action(ActionId.NOMINATION_WITHDRAW)
    @guard
    async def handle_withdraw(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        user_id = body["user"]["id"]
        async with deps.db.transaction() as session:
            await nominations.withdraw(session=session, user_id=user_id,
                                       nomination_id=record_id(action.get("value")))
        await home_tab.publish(client, user_id)

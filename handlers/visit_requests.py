"""`/calendar request`: staff ask for a visit; the coordinator channel accepts or declines it; the asker is told."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from beacon.bot.blocks.visit_requests import build_decline_modal, build_request_modal
from beacon.bot.deps import Deps
from beacon.bot.ids import ActionId, BlockId, CallbackId
from beacon.bot.services.visit_requests import KINDS, RequestDraft, RequestProblems
from beacon.handlers.errors import guarded
from beacon.handlers.modal_state import ModalState
from beacon.handlers.parsing import read_metadata, record_id

REQUEST_BLOCKS = {"place": BlockId.REQUEST_PLACE, "kind": BlockId.REQUEST_KIND, "what": BlockId.REQUEST_WHAT,
                  "when": BlockId.REQUEST_WHEN, "reason": BlockId.REQUEST_REASON}


async def open_request_form(deps: Deps, client: AsyncWebClient, trigger_id: str) -> None:
    """Opened by `/calendar request` (handlers/calendar.py)."""
    _ = deps.visit_requests.coordinator_channel  # refuses, with what to set, when there is nowhere to send it
    await client.views_open(trigger_id=trigger_id, view=build_request_modal(
        places=deps.visit_requests.places(), kinds=KINDS))


def register(app: AsyncApp, deps: Deps) -> None:
    guard = guarded(deps)
    requests = deps.visit_requests

    @app.view(CallbackId.VISIT_REQUEST)
    @guard
    async def handle_request_submitted(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient) -> None:
        user_id, state = body["user"]["id"], ModalState(view)
        draft = RequestDraft(place=state.option(BlockId.REQUEST_PLACE), kind=state.option(BlockId.REQUEST_KIND) or "",
                             what=state.text(BlockId.REQUEST_WHAT), when_suits=state.text(BlockId.REQUEST_WHEN))
        try:
            async with deps.db.transaction() as session:
                await requests.submit(session=session, user_id=user_id, draft=draft)
        except RequestProblems as problems:
            await ack(response_action="errors", errors={REQUEST_BLOCKS[f]: m for f, m in problems.problems.items()})
            return
        await ack()  # the post in the coordinator channel and the receipt are in the outbox with the request

    @app.action(ActionId.VISIT_REQUEST_ACCEPT)
    @guard
    async def handle_accept(ack: AsyncAck, body: dict, action: dict) -> None:
        await ack()  # the post's edit and the outcome for the person who asked go in the outbox with the decision
        async with deps.db.transaction() as session:
            await requests.decide(session=session, user_id=body["user"]["id"],
                                            request_id=record_id(action.get("value")), accept=True)

    @app.action(ActionId.VISIT_REQUEST_DECLINE)
    @guard
    async def handle_decline_open(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        async with deps.db.transaction() as session:
            request = await requests.open_request(session=session, user_id=body["user"]["id"],
                                                  request_id=record_id(action.get("value")))
        await client.views_open(trigger_id=body["trigger_id"], view=build_decline_modal(request_id=request.id or 0))

    @app.view(CallbackId.VISIT_REQUEST_DECLINE)
    @guard
    async def handle_decline(ack: AsyncAck, body: dict, view: dict) -> None:
        try:
            async with deps.db.transaction() as session:
                await requests.decide(
                    session=session, user_id=body["user"]["id"], accept=False,
                    request_id=record_id(read_metadata(view).get("request")),
                    reason=ModalState(view).text(BlockId.REQUEST_REASON))
        except RequestProblems as problems:
            await ack(response_action="errors", errors={REQUEST_BLOCKS[f]: m for f, m in problems.problems.items()})
            return
        await ack()

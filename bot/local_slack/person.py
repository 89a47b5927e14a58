"""A person in the local workspace: runs commands, opens the App Home, fills modals, clicks buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from beacon.bot.local_slack import forms, payloads
from beacon.bot.local_slack.forms import ModalInputError
from beacon.bot.local_slack.web_api import _parse_view
from beacon.bot.local_slack.workspace import Ephemeral, Message, ResponseTarget, View

if TYPE_CHECKING:
    from beacon.bot.local_slack.server import LocalSlack, Reply


class Person:
    def __init__(self, slack: LocalSlack, user_id: str):
        self.slack = slack
        self.ws = slack.workspace
        self.user = self.ws.users[user_id]
        self.id = user_id
        self.modal_errors: dict[str, str] = {}

    # -- what this person sees ------------------------------------------------------------------------------
    @property
    def modal(self) -> View | None:
        return self.ws.top_modal(self.id)

    @property
    def home(self) -> View | None:
        return self.ws.home_views.get(self.id)

    def dms(self) -> list[Message]:
        return self.ws.dms(self.id)

    def ephemerals(self) -> list[Ephemeral]:
        return self.ws.ephemerals_for(self.id)

    def last_ephemeral(self) -> Ephemeral:
        seen = self.ephemerals()
        if not seen:
            raise AssertionError(f"{self.id} has been shown no ephemeral message")
        return seen[-1]

    # -- doing things ------------------------------------------------------------------------------------------
    def _response_url(self, channel: str, message_ts: str | None = None) -> str:
        token = self.ws.issue_response_url_token(ResponseTarget(channel=channel, user=self.id, message_ts=message_ts))
        return f"{self.slack.url}/respond/{token}"

    async def command(self, command: str, text: str = "", *, channel: str | None = None) -> Reply:
        """Type `/command text` in `channel` (default: the person's DM with Beacon)."""
        where = self.ws.channels[channel] if channel else self.ws.dm_channel(self.id)
        form = payloads.slash_command(self.ws, user=self.user, channel=where, command=command, text=text,
                                      trigger_id=self.ws.issue_trigger(self.id),
                                      response_url=self._response_url(where.id))
        reply = await self.slack.send_command(form)
        self.slack.record_ack_message(reply, channel=where.id, user=self.id)
        return reply

    async def open_home(self) -> Reply:
        return await self.slack.send_event(payloads.app_home_opened(self.ws, user=self.user))

    def fill(self, values: dict[str, Any]) -> View:
        view = self._require_modal()
        forms.fill(view, values)
        return view

    async def submit(self, values: dict[str, Any] | None = None) -> Reply:
        """Fill `values` into the open modal and press its submit button."""
        view = self._require_modal()
        if values:
            forms.fill(view, values)
        if not view.state:
            view.state = forms.initial_state(view)
        forms.check_submittable(view)
        async with self.ws.submission_in_flight():
            reply = await self.slack.send_interaction(payloads.view_submission(
                self.ws, user=self.user, view=view, trigger_id=self.ws.issue_trigger(self.id)))
            self._apply_submission_reply(view, reply)
        return reply

    async def close_modal(self) -> Reply | None:
        view = self._require_modal()
        stack = self.ws.modal_stacks[self.id]
        if view.clear_on_close:
            stack.clear()
        else:
            stack.pop()
        if view.notify_on_close:
            return await self.slack.send_interaction(payloads.view_closed(self.ws, user=self.user, view=view))
        return None

    async def click(self, action_id: str, *, message: Message | Ephemeral | None = None,
                    in_home: bool = False, value: Any = None, block_id: str | None = None) -> Reply:
        """Press a button (or choose `value` in a select) in a message, the open modal, or the App Home."""
        if message is not None:
            return await self._click_message(message, action_id, value, block_id)
        view = self.home if in_home else self._require_modal()
        if view is None:
            raise ModalInputError(f"{self.id} has no App Home view to click in")
        block, element = self._find(view.blocks, action_id, block_id)
        chosen = forms.element_value(element, value) if element["type"] != "button" else {}
        if element["type"] != "button" and block.get("type") == "input":
            forms.fill(view, {block["block_id"]: value})
        payload = payloads.block_actions_on_view(self.ws, user=self.user, view=view,
                                                 actions=[payloads.action(block, element, chosen)],
                                                 trigger_id=self.ws.issue_trigger(self.id))
        return await self.slack.send_interaction(payload)

    async def _click_message(self, message: Message | Ephemeral, action_id: str, value: Any,
                             block_id: str | None) -> Reply:
        block, element = self._find(message.blocks, action_id, block_id)
        chosen = forms.element_value(element, value) if element["type"] != "button" else {}
        channel = self.ws.channels[message.channel]
        is_ephemeral = isinstance(message, Ephemeral)
        if not is_ephemeral and self.id not in channel.members and not channel.is_im:
            raise ModalInputError(f"{self.id} is not in #{channel.name} and cannot see that message")
        as_message = message if isinstance(message, Message) else Message(
            channel=message.channel, ts=message.ts, user=self.ws.bot_user_id, text=message.text,
            blocks=message.blocks)
        payload = payloads.block_actions_on_message(
            self.ws, user=self.user, channel=channel, message=as_message, is_ephemeral=is_ephemeral,
            actions=[payloads.action(block, element, chosen)], trigger_id=self.ws.issue_trigger(self.id),
            response_url=self._response_url(channel.id, None if is_ephemeral else message.ts), state={})
        return await self.slack.send_interaction(payload)

    # -- helpers --------------------------------------------------------------------------------------------
    def _require_modal(self) -> View:
        view = self.modal
        if view is None:
            raise ModalInputError(f"{self.id} has no modal open")
        return view

    @staticmethod
    def _find(blocks: list[dict[str, Any]], action_id: str,
              block_id: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
        for block, element in forms.elements(blocks):
            if element.get("action_id") == action_id and (block_id is None or block.get("block_id") == block_id):
                return block, element
        raise ModalInputError(f"nothing with action_id {action_id!r} to click")

    def _apply_submission_reply(self, view: View, reply: Reply) -> None:
        """Do what Slack does with a view_submission's ack: errors, update, push, clear, or close."""
        self.modal_errors = {}
        body = reply.json
        stack = self.ws.modal_stacks.get(self.id, [])
        action = body.get("response_action")
        if reply.status != 200:
            return  # Slack shows "We had some trouble connecting" and keeps the modal open
        if action == "errors":
            self.modal_errors = dict(body.get("errors") or {})
        elif action == "update":
            updated = _parse_view(self.slack.api, body["view"], user_id=self.id, previous=view)
            self.ws.views[updated.id] = updated
            stack[stack.index(view)] = updated
        elif action == "push":
            pushed = _parse_view(self.slack.api, body["view"], user_id=self.id)
            pushed.root_view_id, pushed.previous_view_id = stack[0].id, view.id
            self.ws.views[pushed.id] = pushed
            stack.append(pushed)
        elif action == "clear":
            stack.clear()
        elif view in stack:
            stack.remove(view)

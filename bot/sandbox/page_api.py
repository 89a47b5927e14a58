"""The sandbox page's JSON API: what a person in the local workspace sees, and what they do, as Slack's client
would show and send it. Every action goes to Beacon as the signed request Slack would send (`bot.local_slack`).

The contract with the page (`static/`) is written out in docs/SANDBOX.md.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from beacon.bot.local_slack import Person
from beacon.bot.local_slack.forms import ModalInputError
from beacon.bot.local_slack.workspace import Ephemeral, Message, View
from beacon.bot.runtime import in_flight_tasks
from beacon.bot.sandbox.demo_trust import BY_ID

if TYPE_CHECKING:
    from beacon.bot.sandbox.server import Sandbox

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_MENTION = re.compile(r"(?<![<\w])@([a-z0-9._-]+)")
_CHANNEL = re.compile(r"(?<![<\w])#([a-z0-9_-]+)")


_STATE_TO_INITIAL = {
    "value": "initial_value", "rich_text_value": "initial_value", "selected_option": "initial_option",
    "selected_options": "initial_options", "selected_user": "initial_user", "selected_users": "initial_users",
    "selected_conversation": "initial_conversation", "selected_conversations": "initial_conversations",
    "selected_channel": "initial_channel", "selected_channels": "initial_channels", "selected_date": "initial_date",
    "selected_time": "initial_time", "selected_date_time": "initial_date_time",
}


def with_state(view: View) -> list[dict[str, Any]]:
    """The view's blocks with what the person has already entered shown as each input's value: Slack keeps an
    input's state across views.update when its block_id and action_id stay, so the page must show it too."""
    blocks = []
    for block in view.blocks:
        element = block.get("element") or {}
        entry = view.state.get(block.get("block_id", ""), {}).get(element.get("action_id", ""))
        if block.get("type") == "input" and entry:
            shown = {k: v for k, v in element.items() if not k.startswith("initial_")}
            shown.update({_STATE_TO_INITIAL[k]: v for k, v in entry.items()
                          if k in _STATE_TO_INITIAL and v not in (None, [], "")})
            block = {**block, "element": shown}
        blocks.append(block)
    return blocks


class Refused(Exception):
    """A request the page should not have made; the sentence is shown to the person."""


async def settled(within: float = 5.0) -> None:
    """Wait for the work Beacon does after acking (opening modals, posting replies), so the page shows it."""
    import asyncio

    for _ in range(20):
        pending = in_flight_tasks()
        if not pending:
            return
        await asyncio.wait(pending, timeout=within / 20)


def routes(sandbox: Sandbox) -> list[web.RouteDef]:
    api = PageApi(sandbox)
    return [
        web.get("/api/people", api.json(api.people)),
        web.get("/api/state", api.json(api.state)),
        web.get("/api/conversation/{channel}", api.json(api.conversation)),
        web.get("/api/home", api.json(api.home)),
        web.post("/api/command", api.json(api.command)),
        web.post("/api/action", api.json(api.action)),
        web.post("/api/submit", api.json(api.submit)),
        web.post("/api/close", api.json(api.close)),
        web.get("/api/clock/presets", api.json(api.presets)),
        web.post("/api/clock", api.json(api.clock)),
        web.get("/files/{file_id}", api.download),
    ]


class PageApi:
    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.ws = sandbox.slack.workspace
        self._errors: dict[str, tuple[str, dict[str, str]]] = {}  # person: (view id, inline errors shown)

    # -- plumbing --------------------------------------------------------------------------------------------
    def json(self, handler: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]) -> Handler:
        async def wrapped(request: web.Request) -> web.Response:
            body: dict[str, Any] = dict(request.query)
            body.update(request.match_info)
            if request.method == "POST":
                try:
                    body.update(await request.json())
                except ValueError:
                    return web.json_response({"ok": False, "error": "The request was not JSON."}, status=400)
            try:
                return web.json_response({"ok": True, **await handler(body)})
            except (Refused, ModalInputError) as problem:
                return web.json_response({"ok": False, "error": str(problem)}, status=400)
        return wrapped

    def _person(self, body: dict[str, Any]) -> Person:
        user_id = body.get("as") or ""
        if user_id not in BY_ID:
            raise Refused("Choose who you are first.")
        return self.sandbox.slack.person(user_id)

    def _person_json(self, user_id: str) -> dict[str, Any]:
        person = BY_ID[user_id]
        return {"id": person.id, "name": person.name, "real_name": person.real_name, "title": person.title,
                "roles": [person.role] if person.role else [], "label": person.label}

    def _time(self) -> dict[str, str]:
        now = self.sandbox.clock.now().astimezone(self.sandbox.tz)
        return {"now": now.isoformat(timespec="seconds"),
                "now_label": now.strftime("%A %-d %B %Y, %H:%M (%Z)")}

    # -- reads -----------------------------------------------------------------------------------------------
    async def people(self, _body: dict[str, Any]) -> dict[str, Any]:
        return {"people": [self._person_json(user_id) for user_id in BY_ID]}

    async def state(self, body: dict[str, Any]) -> dict[str, Any]:
        person = self._person(body)
        ws = self.ws
        channels = [{"id": c.id, "name": c.name, "is_private": c.is_private} for c in ws.channels.values()
                    if not c.is_im and person.id in c.members]
        return {
            "version": ws.revision, **self._time(), "me": self._person_json(person.id),
            "channels": sorted(channels, key=lambda c: c["name"]),
            "dm": {"id": ws.dm_channel(person.id).id, "name": "Beacon"},
            "users": {u.id: {"name": u.name, "real_name": u.real_name} for u in ws.users.values()},
            "channel_names": {c.id: c.name for c in ws.channels.values() if not c.is_im},
            "modal": self._modal(person),
            "commands": self.sandbox.commands,
        }

    def _modal(self, person: Person) -> dict[str, Any] | None:
        view = person.modal
        if view is None:
            return None
        shown_for, errors = self._errors.get(person.id, ("", {}))
        return {"id": view.id, "title": view.title, "submit": view.submit, "close": view.close,
                "blocks": with_state(view), "errors": errors if shown_for == view.id else {},
                "depth": len(self.ws.modal_stacks.get(person.id, []))}

    async def conversation(self, body: dict[str, Any]) -> dict[str, Any]:
        person = self._person(body)
        channel = self.ws.channels.get(body["channel"])
        if channel is None or person.id not in channel.members:
            raise Refused("That conversation is not one of yours.")
        shown: list[dict[str, Any]] = [self._message(m) for m in channel.messages]
        shown += [self._message(e) for e in person.ephemerals() if e.channel == channel.id]
        return {"messages": sorted(shown, key=lambda m: float(m["ts"]))}

    def _message(self, message: Message | Ephemeral) -> dict[str, Any]:
        author = self.ws.users.get(message.user) if isinstance(message, Message) else None
        is_bot = isinstance(message, Ephemeral) or bool(message.bot_id)
        files = message.files if isinstance(message, Message) else []
        return {
            "ts": message.ts, "user": message.user, "is_bot": is_bot,
            "user_name": "Beacon" if is_bot else (author.real_name if author else message.user),
            "text": message.text, "blocks": message.blocks,
            "thread_ts": message.thread_ts if isinstance(message, Message) and message.thread_ts != message.ts
            else None,
            "edited": isinstance(message, Message) and message.edited,
            "files": [{"id": f.get("id"), "name": f.get("name"), "title": f.get("title"),
                       "url": f"/files/{f.get('id')}"} for f in files],
            "ephemeral": isinstance(message, Ephemeral),
        }

    async def home(self, body: dict[str, Any]) -> dict[str, Any]:
        person = self._person(body)
        if body.get("open") in ("1", "true") or person.home is None:
            # Slack sends app_home_opened when the person opens the tab, not each time the page re-reads it:
            # Beacon's publish would change the version, and the page would read (and open) it again, for ever.
            await person.open_home()
            await settled()
        view = person.home
        return {"view": None if view is None else {"blocks": view.blocks}}

    # -- actions ---------------------------------------------------------------------------------------------
    async def command(self, body: dict[str, Any]) -> dict[str, Any]:
        person = self._person(body)
        typed = str(body.get("text") or "").strip()
        channel = str(body.get("channel") or self.ws.dm_channel(person.id).id)
        if channel not in self.ws.channels or person.id not in self.ws.channels[channel].members:
            raise Refused("You can only type in a conversation you are in.")
        command, _, text = typed.partition(" ")
        known = {c["command"]: c for c in self.sandbox.commands}
        if not command.startswith("/"):
            raise Refused("This sandbox only sends slash commands to Beacon: try /beacon, /nominate or /pulse.")
        if command not in known:
            raise Refused(f"{command} is not a valid command. In Slack, this message would not be sent.")
        if known[command]["should_escape"]:
            text = self._escape_mentions(text.strip())
        reply = await person.command(command, text.strip(), channel=channel)
        await settled()
        if reply.status != 200:
            raise Refused(f"{command} failed with the error \"dispatch_failed\" (Beacon answered {reply.status}).")
        return {}

    def _escape_mentions(self, text: str) -> str:
        """What Slack does to a command's text when its manifest entry says `should_escape: true`."""
        names = {u.name: u for u in self.ws.users.values()}
        channels = {c.name: c for c in self.ws.channels.values() if not c.is_im}
        text = _MENTION.sub(lambda m: f"<@{names[m[1]].id}|{m[1]}>" if m[1] in names else m[0], text)
        return _CHANNEL.sub(lambda m: f"<#{channels[m[1]].id}|{m[1]}>" if m[1] in channels else m[0], text)

    async def action(self, body: dict[str, Any]) -> dict[str, Any]:
        person = self._person(body)
        surface, action_id = body.get("surface"), str(body.get("action_id") or "")
        block_id, value = body.get("block_id") or None, body.get("value")
        if surface == "modal":
            self._open_modal(person)
            if body.get("values"):  # what the person typed so far travels with the action, as view.state
                person.fill({k: v for k, v in body["values"].items() if k != block_id})
            await person.click(action_id, block_id=block_id, value=value)
        elif surface == "home":
            await person.click(action_id, in_home=True, block_id=block_id, value=value)
        elif surface in ("message", "ephemeral"):
            await person.click(action_id, message=self._find_message(person, body), block_id=block_id, value=value)
        else:
            raise Refused("Unknown surface: choose message, ephemeral, home or modal.")
        await settled()
        return {}

    def _find_message(self, person: Person, body: dict[str, Any]) -> Message | Ephemeral:
        channel, ts = str(body.get("channel") or ""), str(body.get("ts") or "")
        if body.get("surface") == "ephemeral":
            found: Message | Ephemeral | None = next(
                (e for e in person.ephemerals() if e.ts == ts and e.channel == channel), None)
        else:
            messages = self.ws.channels[channel].messages if channel in self.ws.channels else []
            found = next((m for m in messages if m.ts == ts), None)
        if found is None:
            raise Refused("That message is no longer there.")
        return found

    def _open_modal(self, person: Person) -> View:
        view = person.modal
        if view is None:
            raise Refused("That form has already closed.")
        return view

    async def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        person = self._person(body)
        view = self._open_modal(person)
        reply = await person.submit(dict(body.get("values") or {}))
        await settled()
        if reply.status != 200:
            raise Refused("We had some trouble connecting. Try again? (Beacon did not answer in time.)")
        self._errors[person.id] = (view.id, person.modal_errors)
        return {"errors": person.modal_errors}

    async def close(self, body: dict[str, Any]) -> dict[str, Any]:
        person = self._person(body)
        self._open_modal(person)
        await person.close_modal()
        await settled()
        return {}

    # -- the clock -------------------------------------------------------------------------------------------
    def _presets(self) -> list[dict[str, str]]:
        now = self.sandbox.clock.now().astimezone(self.sandbox.tz)
        monday = (now + timedelta(days=(7 - now.weekday()) or 7)).replace(hour=8, minute=0, second=0, microsecond=0)
        tomorrow = (now + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
        return [{"label": "Next Monday 08:00 (the weekly digest)", "to": monday.strftime("%Y-%m-%dT%H:%M")},
                {"label": "Tomorrow 09:00", "to": tomorrow.strftime("%Y-%m-%dT%H:%M")}]

    async def presets(self, _body: dict[str, Any]) -> dict[str, Any]:
        return {"presets": self._presets()}

    async def clock(self, body: dict[str, Any]) -> dict[str, Any]:
        now = self.sandbox.clock.now()
        if body.get("advance_minutes") is not None:
            try:
                target = now + timedelta(minutes=float(body["advance_minutes"]))
            except (TypeError, ValueError):
                raise Refused("advance_minutes should be a number of minutes.") from None
        elif body.get("to"):
            try:
                target = datetime.fromisoformat(str(body["to"])).replace(tzinfo=self.sandbox.tz)
            except ValueError:
                raise Refused("`to` should be a local time like 2026-11-30T08:00.") from None
        else:
            raise Refused("Say how far to move the clock: advance_minutes or to.")
        try:
            ran = await self.sandbox.timeline.jump_to(target)
        except ValueError as problem:
            raise Refused(f"{str(problem).capitalize()}.") from None
        await settled()
        return {**self._time(), "ran": ran}

    async def download(self, request: web.Request) -> web.StreamResponse:
        uploaded = self.ws.files.get(request.match_info["file_id"])
        if uploaded is None or uploaded.content is None:
            raise web.HTTPNotFound(text="That file is not in this workspace.")
        return web.Response(body=uploaded.content, content_type="text/csv" if uploaded.filename.endswith(".csv")
                            else "application/octet-stream",
                            headers={"Content-Disposition": f'attachment; filename="{uploaded.filename}"'})

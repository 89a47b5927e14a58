"""The local Slack Web API: the methods Beacon calls, answered in Slack's shapes and with Slack's errors."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from beacon.bot.blocks.limits import Problem, message_problems, text_too_long, view_problems
from beacon.bot.local_slack.limits import FaultPlan, RateLimits
from beacon.bot.local_slack.workspace import (
    MAX_MODAL_STACK,
    TRIGGER_LIFETIME_SECONDS,
    ApiCall,
    Ephemeral,
    Message,
    UploadedFile,
    View,
    Workspace,
    parse_json_arg,
)


class SlackError(Exception):
    """An `ok: false` answer."""

    def __init__(self, error: str, **extra: Any):
        super().__init__(error)
        self.error = error
        self.extra = extra


Handler = Callable[["WebApi", dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Method:
    handler: Handler
    scopes: tuple[str, ...] = ()   # any one of these is enough, as Slack documents them
    token_kind: str = "bot"        # "bot" or "app"


METHODS: dict[str, Method] = {}


def method(name: str, *, scopes: tuple[str, ...] = (), token_kind: str = "bot") -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        METHODS[name] = Method(handler, scopes, token_kind)
        return handler
    return register


def required_scopes() -> dict[str, tuple[str, ...]]:
    """Each method's scopes, so a test can compare them with what manifest.yaml requests."""
    return {name: spec.scopes for name, spec in METHODS.items()}


class WebApi:
    """aiohttp routes for /api/{method} over one Workspace."""

    def __init__(self, workspace: Workspace, *, socket_url: Callable[[], str], base_url: Callable[[], str]):
        self.workspace = workspace
        self.faults = FaultPlan()
        self.limits = RateLimits()
        self.socket_url = socket_url
        self.base_url = base_url

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/api/{method}", self.handle), web.get("/api/{method}", self.handle),
                web.post("/upload/{file_id}", self.upload)]

    async def upload(self, request: web.Request) -> web.Response:
        """Step 2 of files upload v2: the bytes go to the URL files.getUploadURLExternal gave."""
        pending = self.workspace.files.get(request.match_info["file_id"])
        if pending is None:
            return web.Response(status=404, text="unknown upload")
        pending.content = await request.read()
        return web.Response(text=f"OK - {len(pending.content)}")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["method"]
        args = await _read_args(request)
        channel = args.get("channel") if isinstance(args.get("channel"), str) else None
        status, body, headers = 200, {}, {}
        fault = self.faults.take(name, channel)
        retry_after = self.limits.check(name, channel) if fault is None else 0
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.disconnect:
            self._record(name, args, 0, {"ok": False, "error": "connection_dropped"})
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=499)
        if retry_after or (fault is not None and fault.status == 429):
            wait = retry_after or (fault.retry_after if fault is not None else 0)
            status, body, headers = 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)}
        elif fault is not None and fault.status >= 500:
            self._record(name, args, fault.status, {"ok": False, "error": f"http_{fault.status}"})
            return web.Response(status=fault.status, text="upstream error", content_type="text/plain")
        elif fault is not None and fault.error:
            body = {"ok": False, "error": fault.error}
            self._record(name, args, status, body)
            return web.json_response(body, status=status, headers=headers)
        else:
            body = await self._call(name, args, request)
        self._record(name, args, status, body)
        if fault is not None and fault.delay_after:
            await asyncio.sleep(fault.delay_after)
        if fault is not None and fault.disconnect_after:
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=499)
        return web.json_response(body, status=status, headers=headers)

    async def _call(self, name: str, args: dict[str, Any], request: web.Request) -> dict[str, Any]:
        spec = METHODS.get(name)
        if spec is None:
            return {"ok": False, "error": "unknown_method"}
        token = _token(request, args)
        if not token:
            return {"ok": False, "error": "not_authed"}
        ws = self.workspace
        if token not in (ws.bot_token, ws.app_token):
            return {"ok": False, "error": "invalid_auth"}
        if (spec.token_kind == "app") != (token == ws.app_token):
            return {"ok": False, "error": "not_allowed_token_type"}
        granted = ws.app_token_scopes if spec.token_kind == "app" else ws.scopes
        if spec.scopes and granted is not None and not set(spec.scopes) & granted:
            return {"ok": False, "error": "missing_scope", "needed": ",".join(spec.scopes),
                    "provided": ",".join(sorted(granted))}
        try:
            return {"ok": True, **await spec.handler(self, args)}
        except SlackError as error:
            return {"ok": False, "error": error.error, **error.extra}

    def _record(self, name: str, args: dict[str, Any], status: int, body: dict[str, Any]) -> None:
        shown = {k: v for k, v in args.items() if k != "token"}
        self.workspace.calls.append(ApiCall(method=name, args=shown, status=status, response=body))
        self.workspace.revision += 1

    # helpers for method handlers
    def channel_for_post(self, channel_id: str) -> str:
        ws = self.workspace
        if channel_id.startswith(("U", "W")):
            user = ws.users.get(channel_id)
            if user is None:
                raise SlackError("channel_not_found")
            if user.deleted:
                raise SlackError("user_disabled")
            if user.is_bot:
                raise SlackError("cannot_dm_bot")
            return ws.dm_channel(channel_id).id
        channel = ws.channels.get(channel_id)
        if channel is None:
            raise SlackError("channel_not_found")
        if channel.is_archived:
            raise SlackError("is_archived")
        if ws.bot_user_id not in channel.members:
            raise SlackError("channel_not_found" if channel.is_private else "not_in_channel")
        return channel.id

    def message(self, channel_id: str, ts: str) -> Message:
        channel = self.workspace.channels.get(channel_id)
        if channel is None:
            raise SlackError("channel_not_found")
        for message in channel.messages:
            if message.ts == ts:
                return message
        raise SlackError("message_not_found")

    def view_out(self, view: View) -> dict[str, Any]:
        ws = self.workspace
        return view.to_api(team_id=ws.team_id, app_id=ws.app_id, bot_id=ws.bot_id)


async def _read_args(request: web.Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            args.update(await request.json())
        else:
            args.update((await request.post()).items())
    return args


def _token(request: web.Request, args: dict[str, Any]) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip()
    return args.get("token")


def _flag(value: Any) -> bool:
    return value in (True, "true", "1", 1, "True")


def _invalid_blocks(problems: list[Problem]) -> SlackError:
    """Slack's answer to blocks it will not display: each problem with its JSON pointer."""
    return SlackError("invalid_blocks", errors=[str(p) for p in problems],
                      response_metadata={"messages": [f"[ERROR] {p}" for p in problems]})


def _validate_blocks(blocks: Any, *, limits: bool = True) -> list[dict[str, Any]]:
    """A message's blocks; `limits=False` for a view's, which views.* check as part of the view."""
    blocks = parse_json_arg(blocks) or []
    if not isinstance(blocks, list) or any(not isinstance(b, dict) or "type" not in b for b in blocks):
        raise SlackError("invalid_blocks", errors=["must be an array of blocks, each with a type"])
    problems = message_problems(text=None, blocks=blocks) if limits else []
    if problems:
        raise _invalid_blocks(problems)
    return blocks


def _validate_message(args: dict[str, Any], *, text: str) -> list[dict[str, Any]]:
    """A message's blocks and text as Slack checks them: `invalid_blocks` first, then `msg_too_long`."""
    blocks = _validate_blocks(args.get("blocks"))
    if text_too_long(text):
        raise SlackError("msg_too_long")
    return blocks


# ---- auth, apps --------------------------------------------------------------------------------------
@method("auth.test")
async def auth_test(api: WebApi, args: dict[str, Any]) -> dict[str, Any]:
    ws = api.workspace
    return {"url": f"https://{ws.team_domain}.slack.com/", "team": "Local Trust", "user": "beacon",
            "team_id": ws.team_id, "user_id": ws.bot_user_id, "bot_id": ws.bot_id, "is_enterprise_install": False}


@method("bots.info", scopes=("users:read",))
async def bots_info(api: WebApi, args: dict[str, Any]) -> dict[str, Any]:
    ws = api.workspace
    if args.get("bot") != ws.bot_id:
        raise SlackError("bot_not_found")
    return {"bot": {"id": ws.bot_id, "deleted": False, "name": "beacon", "updated": 1700000000,
                    "app_id": ws.app_id, "user_id": ws.bot_user_id, "icons": {}}}


@method("apps.connections.open", scopes=("connections:write",), token_kind="app")
async def apps_connections_open(api: WebApi, args: dict[str, Any]) -> dict[str, Any]:
    return {"url": api.socket_url()}


# ---- chat ----------------------------------------------------------------------------------------------
@method("chat.postMessage", scopes=("chat:write",))
async def chat_post_message(api: WebApi, args: dict[str, Any]) -> dict[str, Any]:
    ws = api.workspace
    text = args.get("text") or ""
    blocks = _validate_message(args, text=text)
    if not text and not blocks:
        raise SlackError("no_text")
    channel_id = api.channel_for_post(str(args.get("channel", "")))
    metadata = parse_json_arg(args.get("metadata"))
    message = ws.post(channel_id, user=ws.bot_user_id, text=text, blocks=blocks,
                      metadata=metadata if isinstance(metadata, dict) else None,
                      thread_ts=args.get("thread_ts") or None, as_bot=True,
                      broadcast=_flag(args.get("reply_broadcast")))
    return {"channel": channel_id, "ts": message.ts, "message": message.to_api()}


@method("chat.postEphemeral", scopes=("chat:write",))
async def chat_post_ephemeral(api: WebApi, args: dict[str, Any]) -> dict[str, Any]:
    ws = api.workspace
    channel_id, user_id = str(args.get("channel", "")), str(args.get("user", ""))
    channel = ws.channels.get(channel_id)
    if channel is None:
        raise SlackError("channel_not_found")
    if user_id not in ws.users:
        raise SlackError("user_not_found")
    if user_id not in channel.members:
        raise SlackError("user_not_in_channel")
    blocks = _validate_message(args, text=args.get("text") or "")
    ts = ws.next_ts()
    ws.ephemerals.append(Ephemeral(channel=channel_id, user=user_id, text=args.get("text") or "", blocks=blocks,
                                   ts=ts, via="chat.postEphemeral"))
    return {"message_ts": ts}


@method("chat.update", scopes=("chat:write",))
async def chat_update(api: WebApi, args: dict[str, Any]) -> dict[str, Any]:
    ws = api.workspace
    channel_id = str(args.get("channel", ""))
    message = api.message(channel_id, str(args.get("ts", "")))
    if message.bot_id != ws.bot_id:
        raise SlackError("cant_update_message")
    blocks = _validate_message(args, text=args.get("text") or "")
    if "blocks" in args:
        message.blocks = blocks
    if "text" in args:
        message.text = args.get("text") or ""
    metadata = parse_json_arg(args.get("metadata"))
    if isinstance(metadata, dict):
        message.metadata = metadata
    message.edited = True
    return {"channel": channel_id, "ts": message.ts, "text": message.text, "message": message.to_api()}


@method("chat.delete", scopes=("chat:write",))
async def chat_delete(api: WebApi, args: dict[str, Any]) -> dict[str, Any]:
    ws = api.workspace
    channel_id = str(args.get("channel", ""))
    message = api.message(channel_id, str(args.get("ts", "")))
    if message.bot_id != ws.bot_id:
        raise SlackError("cant_delete_message")
    ws.channels[channel_id].messages.remove(message)
    return {"channel": channel_id, "ts": message.ts}


@method("chat.getPermalink")
async def chat_get_permalink(api: WebApi, args: dict[str, Any]) -> dict[str, Any]:
    channel_id, ts = str(args.get("channel", "")), str(args.get("message_ts", ""))
    api.message(channel_id, ts)
    return {"channel": channel_id,
            "permalink": f"https://{api.workspace.team_domain}.slack.com/archives/{channel_id}/p{ts.replace('.', '')}"}


# ---- conversations -----------------------------------------------------------------------------------
@method("conversations.info", scopes=("channels:read", "groups:read", "im:read"))
async def conversations_info(api: WebApi, args: dict[str, Any]) -> dict[str, Any]:
    ws = api.workspace
    channel = ws.channels.get(str(args.get("channel", "")))
    if channel is None or (channel.is_private and ws.bot_user_id not in channel.members):
        raise SlackError("channel_not_found")
    return {"channel": channel.to_api(bot_user_id=ws.bot_user_id,
                                      include_num_members=_flag(args.get("include_num_members")))}


@method("conversations.open", scopes=("im:write",))
async def conversations_open(api: WebApi, args: dict[str, Any]) -> dict[str, Any]:
    ws = api.workspace
    users = [u for u in str(args.get("users", "")).split(",") if u]
    if len(users) != 1:
        raise SlackError("not_enough_users" if not users else "too_many_users")
    user = ws.users.get(users[0])
    if user is None:
        raise SlackError("user_not_found")
    if user.deleted:
        raise SlackError("user_disabled")
    channel = ws.dm_channel(user.id)
    return {"channel": {"id": channel.id}, "no_op": True, "already_open": True}


@method("conversations.history", scopes=("channels:history", "groups:history", "im:history"))
async def conversations_history(api: WebApi, args: dict[str, Any]) -> dict[str, Any]:
    ws = api.workspace
    channel = ws.channels.get(str(args.get("channel", "")))
    if channel is None:
        raise SlackError("channel_not_found")
    if ws.bot_user_id not in channel.members:
        raise SlackError("not_in_channel")
    limit = min(int(args.get("limit") or 100), 999)
    oldest = float(args.get("oldest") or 0)
    latest = float(args.get("latest") or ws.clock() + 1)
    top_level = [m for m in channel.messages
                 if (m.thread_ts in (None, m.ts) or m.broadcast) and oldest <= float(m.ts) <= latest]
    newest_first = sorted(top_level, key=lambda m: float(m.ts), reverse=True)
    start = int(args.get("cursor") or 0)
    page = newest_first[start:start + limit]
    more = start + limit < len(newest_first)
    include_metadata = _flag(args.get("include_all_metadata"))
    return {"messages": [m.to_api(include_metadata=include_metadata) for m in page], "has_more": more,
            "pin_count": 0, "response_metadata": {"next_cursor": str(start + limit) if more else ""}}


@method("conversations.replies", scopes=("channels:history", "groups:history", "im:history"))
async def conversations_replies(api: WebApi, args: dict[str, Any]) -> dict[str, Any]:
    """The thread's parent, then its replies oldest first, paged; replies live here, never in history."""
    ws = api.workspace
    channel = ws.channels.get(str(args.get("channel", "")))
    if channel is None:
        raise SlackError("channel_not_found")
    if ws.bot_user_id not in channel.members:
        raise SlackError("not_in_channel")
    ts = str(args.get("ts", ""))
    parent = next((m for m in channel.messages if m.ts == ts), None)
    if parent is None:
        raise SlackError("thread_not_found")
    if parent.thread_ts not in (None, parent.ts):  # the ts of a reply: Slack answers with that reply alone
        thread = [parent]
    else:
        thread = [parent, *sorted((m for m in channel.messages if m.thread_ts == ts and m.ts != ts),
                                  key=lambda m: float(m.ts))]
    oldest = float(args.get("oldest") or 0)
    latest = float(args.get("latest") or ws.clock() + 1)
    thread = [m for m in thread if m is parent or oldest <= float(m.ts) <= latest]
    limit = min(int(args.get("limit") or 100), 1000)
    start = int(args.get("cursor") or 0)
    page = thread[start:start + limit]
    more = start + limit < len(thread)
    include_metadata = _flag(args.get("include_all_metadata"))
    return {"messages": [m.to_api(include_metadata=include_metadata) for m in page], "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""}}


@method("conversations.members", scopes=("channels:read", "groups:read", "im:read"))
async def conversations_members(api: WebApi, args: dict[str, Any]) -> dict[str, Any]:
    ws = api.workspace
    channel = ws.channels.get(str(args.get("channel", "")))
    if channel is None:
        raise SlackError("channel_not_found")
    members = sorted(channel.members)
    limit, start = int(args.get("limit") or 100), int(args.get("cursor") or 0)
    more = start + limit < len(members)
    return {"members": members[start:start + limit],
            "response_metadata": {"next_cursor": str(start + limit) if more else ""}}


# ---- users and user groups --------------------------------------------------------------------------------
@method("users.info", scopes=("users:read",))
async def users_info(api: WebApi, args: dict[str, Any]) -> dict[str, Any]:
    ws = api.workspace
    user = ws.users.get(str(args.get("user", "")))
    if user is None:
        raise SlackError("user_not_found")
    return {"user": user.to_api(ws.team_id)}


@method("users.list", scopes=("users:read",))
async def users_list(api: WebApi, args: dict[str, Any]) -> dict[str, Any]:
    ws = api.workspace
    people = sorted(ws.users.values(), key=lambda u: u.id)
    limit, start = min(int(args.get("limit") or 200), 1000), int(args.get("cursor") or 0)
    more = start + limit < len(people)
    return {"members": [u.to_api(ws.team_id) for u in people[start:start + limit]], "cache_ts": 1700000000,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""}}


@method("usergroups.list", scopes=("usergroups:read",))
async def usergroups_list(api: WebApi, args: dict[str, Any]) -> dict[str, Any]:
    ws = api.workspace
    include_users = _flag(args.get("include_users"))
    return {"usergroups": [g.to_api(ws.team_id, include_users=include_users) for g in ws.usergroups.values()]}


@method("usergroups.users.list", scopes=("usergroups:read",))
async def usergroups_users_list(api: WebApi, args: dict[str, Any]) -> dict[str, Any]:
    group = api.workspace.usergroups.get(str(args.get("usergroup", "")))
    if group is None:
        raise SlackError("no_such_subteam")
    return {"users": list(group.users)}


# ---- files (upload v2) --------------------------------------------------------------------------------------
@method("files.getUploadURLExternal", scopes=("files:write",))
async def files_get_upload_url_external(api: WebApi, args: dict[str, Any]) -> dict[str, Any]:
    filename, length = str(args.get("filename") or ""), int(args.get("length") or 0)
    if not filename or length <= 0:
        raise SlackError("invalid_arguments")
    file = UploadedFile(id=api.workspace.next_id("F"), filename=filename, length=length)
    api.workspace.files[file.id] = file
    return {"upload_url": f"{api.base_url()}/upload/{file.id}", "file_id": file.id}


@method("files.completeUploadExternal", scopes=("files:write",))
async def files_complete_upload_external(api: WebApi, args: dict[str, Any]) -> dict[str, Any]:
    ws = api.workspace
    wanted = parse_json_arg(args.get("files")) or []
    completed = []
    for entry in wanted:
        file = ws.files.get(str(entry.get("id")))
        if file is None or file.content is None:
            raise SlackError("file_not_found")
        if len(file.content) != file.length:
            raise SlackError("file_upload_size_mismatch")
        file.title = entry.get("title") or file.filename
        completed.append(file)
    channel_id = args.get("channel_id")
    if channel_id:
        channel = api.channel_for_post(str(channel_id))
        for file in completed:
            file.channels.append(channel)
        message = ws.post(channel, user=ws.bot_user_id, text=args.get("initial_comment") or "", as_bot=True,
                          thread_ts=args.get("thread_ts") or None)
        message.files = [f.to_api() for f in completed]
    return {"files": [f.to_api() for f in completed]}


# ---- views -------------------------------------------------------------------------------------------------
def _invalid(message: str) -> SlackError:
    return SlackError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {message}"]})


def _parse_view(api: WebApi, raw: Any, *, user_id: str, expected_type: str | None = None,
                previous: View | None = None) -> View:
    data = parse_json_arg(raw)
    if not isinstance(data, dict) or "type" not in data:
        raise _invalid("missing required field: view")
    kind = data["type"]
    if expected_type and kind != expected_type:
        raise _invalid(f"view type must be {expected_type}")
    blocks = _validate_blocks(data.get("blocks"), limits=False)
    problems = view_problems(data)
    if problems:
        raise SlackError("invalid_arguments",
                         response_metadata={"messages": [f"[ERROR] {p}" for p in problems]})
    title = data.get("title")
    if kind == "modal":
        has_inputs = any(b.get("type") == "input" for b in blocks)
        if has_inputs and not data.get("submit"):
            raise _invalid("submit is required when inputs are present [json-pointer:/view/submit]")
    view = View(
        id=previous.id if previous else api.workspace.next_id("V"), type=kind, user_id=user_id, blocks=blocks,
        title=title, submit=data.get("submit"), close=data.get("close"), callback_id=data.get("callback_id", ""),
        private_metadata=data.get("private_metadata", ""), external_id=data.get("external_id", ""),
        clear_on_close=bool(data.get("clear_on_close")), notify_on_close=bool(data.get("notify_on_close")),
        hash=f"{int(time.time())}.{secrets.token_hex(4)}",
        root_view_id=previous.root_view_id if previous else None,
        previous_view_id=previous.previous_view_id if previous else None,
    )
    view.state = _carry_state(previous.state if previous else {}, blocks)
    return view


def _carry_state(old: dict[str, dict[str, dict[str, Any]]], blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """Slack keeps what a person typed in inputs whose block_id and action_id survive an update."""
    kept: dict[str, dict[str, dict[str, Any]]] = {}
    for block in blocks:
        block_id, element = block.get("block_id"), block.get("element") or {}
        action_id = element.get("action_id")
        if block_id in old and action_id in old[block_id]:
            kept[block_id] = {action_id: old[block_id][action_id]}
    return kept


def _use_trigger(api: WebApi, trigger_id: str) -> str:
    ws = api.workspace
    issued = ws.triggers.get(trigger_id)
    if issued is None:
        raise SlackError("invalid_trigger_id")
    if trigger_id in ws.used_triggers:
        raise SlackError("exchanged_trigger_id")
    user_id, at = issued
    if time.monotonic() - at > TRIGGER_LIFETIME_SECONDS:
        raise SlackError("expired_trigger_id")
    ws.used_triggers.add(trigger_id)
    return user_id


@method("views.open")
async def views_open(api: WebApi, args: dict[str, Any]) -> dict[str, Any]:
    user_id = _use_trigger(api, str(args.get("trigger_id", "")))
    view = _parse_view(api, args.get("view"), user_id=user_id, expected_type="modal")
    api.workspace.views[view.id] = view
    api.workspace.modal_stacks[user_id] = [view]
    return {"view": api.view_out(view)}


@method("views.push")
async def views_push(api: WebApi, args: dict[str, Any]) -> dict[str, Any]:
    ws = api.workspace
    await ws.submissions_settled()
    user_id = _use_trigger(api, str(args.get("trigger_id", "")))
    stack = ws.modal_stacks.setdefault(user_id, [])
    if not stack:
        raise SlackError("not_found")
    if len(stack) >= MAX_MODAL_STACK:
        raise SlackError("push_limit_reached")
    view = _parse_view(api, args.get("view"), user_id=user_id, expected_type="modal")
    view.root_view_id, view.previous_view_id = stack[0].id, stack[-1].id
    ws.views[view.id] = view
    stack.append(view)
    return {"view": api.view_out(view)}


@method("views.update")
async def views_update(api: WebApi, args: dict[str, Any]) -> dict[str, Any]:
    ws = api.workspace
    await ws.submissions_settled()
    view_id, external_id = args.get("view_id"), args.get("external_id")
    current = ws.views.get(str(view_id)) if view_id else next(
        (v for v in ws.views.values() if external_id and v.external_id == external_id), None)
    if current is None:
        raise SlackError("not_found")
    if args.get("hash") and args["hash"] != current.hash:
        raise SlackError("hash_conflict")
    view = _parse_view(api, args.get("view"), user_id=current.user_id, previous=current)
    ws.views[view.id] = view
    stack = ws.modal_stacks.get(current.user_id, [])
    for index, open_view in enumerate(stack):
        if open_view.id == view.id:
            stack[index] = view
    if ws.home_views.get(current.user_id) is current:
        ws.home_views[current.user_id] = view
    return {"view": api.view_out(view)}


@method("views.publish")
async def views_publish(api: WebApi, args: dict[str, Any]) -> dict[str, Any]:
    ws = api.workspace
    user_id = str(args.get("user_id", ""))
    if user_id not in ws.users:
        raise SlackError("user_not_found")
    previous = ws.home_views.get(user_id)
    if args.get("hash") and previous and args["hash"] != previous.hash:
        raise SlackError("hash_conflict")
    view = _parse_view(api, args.get("view"), user_id=user_id, expected_type="home", previous=previous)
    ws.views[view.id] = view
    ws.home_views[user_id] = view
    return {"view": api.view_out(view)}

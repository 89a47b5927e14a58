"""The state of a local Slack workspace: people, channels, user groups, messages and open views."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

TRIGGER_LIFETIME_SECONDS = 3.0
MAX_MODAL_STACK = 3


@dataclass
class User:
    id: str
    name: str
    real_name: str
    is_bot: bool = False
    deleted: bool = False
    tz: str = "Europe/London"
    title: str = ""
    # An uploaded photo, as the start of Slack's avatar addresses ("https://avatars.slack-edge.com/2026-12-01/
    # 123_abc"), each size ending "_72.jpg" and so on; empty: the default avatar Slack serves from Gravatar.
    image: str = ""
    guest: bool = False  # a multi-channel guest (is_restricted)

    def to_api(self, team_id: str) -> dict[str, Any]:
        # As Slack: image_24 ... image_512 always, image_1024 and image_original only for an uploaded photo.
        avatar_hash = hashlib.sha256(self.id.encode()).hexdigest()[:12]
        sizes = (24, 32, 48, 72, 192, 512) + ((1024,) if self.image else ())
        images = {f"image_{size}": (f"{self.image}_{size}.jpg" if self.image else
                                    f"https://secure.gravatar.com/avatar/{avatar_hash}.jpg?s={size}&d=mp")
                  for size in sizes}
        if self.image:
            images["image_original"] = f"{self.image}_original.jpg"
        return {
            "id": self.id, "team_id": team_id, "name": self.name, "deleted": self.deleted,
            "real_name": self.real_name, "tz": self.tz, "tz_label": "Greenwich Mean Time", "tz_offset": 0,
            "is_bot": self.is_bot, "is_app_user": False, "is_admin": False, "is_owner": False,
            "is_restricted": self.guest, "is_ultra_restricted": False, "updated": 1700000000,
            "profile": {"real_name": self.real_name, "display_name": self.name, "title": self.title,
                        "real_name_normalized": self.real_name, "display_name_normalized": self.name,
                        "team": team_id, "avatar_hash": avatar_hash, "is_custom_image": bool(self.image),
                        **images},
        }


@dataclass
class Message:
    channel: str
    ts: str
    user: str
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    thread_ts: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    edited: bool = False
    files: list[dict[str, Any]] = field(default_factory=list)
    broadcast: bool = False  # a thread reply also shown in the channel

    def to_api(self, *, include_metadata: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {"type": "message", "user": self.user, "text": self.text, "ts": self.ts}
        if self.blocks:
            body["blocks"] = self.blocks
        if self.bot_id:
            body.update(bot_id=self.bot_id, app_id=self.app_id)
        if self.thread_ts:
            body["thread_ts"] = self.thread_ts
        if self.edited:
            body["edited"] = {"user": self.user, "ts": self.ts}
        if self.metadata and include_metadata:
            body["metadata"] = self.metadata
        if self.files:
            body["files"] = self.files
        return body


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    is_im: bool = False
    im_user: str | None = None
    members: set[str] = field(default_factory=set)
    messages: list[Message] = field(default_factory=list)

    def to_api(self, *, bot_user_id: str, include_num_members: bool = False) -> dict[str, Any]:
        if self.is_im:
            return {"id": self.id, "is_im": True, "user": self.im_user, "is_open": True,
                    "created": 1700000000, "is_archived": False, "is_org_shared": False}
        body: dict[str, Any] = {
            "id": self.id, "name": self.name, "name_normalized": self.name, "is_channel": not self.is_private,
            "is_group": self.is_private, "is_im": False, "is_mpim": False, "is_private": self.is_private,
            "is_archived": self.is_archived, "is_general": False, "is_shared": False, "is_ext_shared": False,
            "is_org_shared": False, "is_member": bot_user_id in self.members, "created": 1700000000,
            "creator": "", "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }
        if include_num_members:
            body["num_members"] = len(self.members)
        return body


@dataclass
class Ephemeral:
    """A message only `user` sees; it never enters channel history."""

    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]]
    ts: str
    via: str


@dataclass
class UserGroup:
    id: str
    handle: str
    name: str
    users: list[str] = field(default_factory=list)

    def to_api(self, team_id: str, *, include_users: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id, "team_id": team_id, "is_usergroup": True, "name": self.name, "description": "",
            "handle": self.handle, "is_external": False, "date_create": 1700000000, "date_update": 1700000000,
            "date_delete": 0, "auto_type": None, "created_by": "", "updated_by": "", "deleted_by": None,
            "prefs": {"channels": [], "groups": []}, "user_count": len(self.users),
        }
        if include_users:
            body["users"] = list(self.users)
        return body


@dataclass
class View:
    id: str
    type: str
    user_id: str
    blocks: list[dict[str, Any]]
    title: dict[str, Any] | None = None
    submit: dict[str, Any] | None = None
    close: dict[str, Any] | None = None
    callback_id: str = ""
    private_metadata: str = ""
    external_id: str = ""
    clear_on_close: bool = False
    notify_on_close: bool = False
    hash: str = ""
    root_view_id: str | None = None
    previous_view_id: str | None = None
    state: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def to_api(self, *, team_id: str, app_id: str, bot_id: str) -> dict[str, Any]:
        return {
            "id": self.id, "team_id": team_id, "type": self.type, "blocks": self.blocks,
            "private_metadata": self.private_metadata, "callback_id": self.callback_id,
            "state": {"values": self.state}, "hash": self.hash, "title": self.title, "submit": self.submit,
            "close": self.close, "clear_on_close": self.clear_on_close, "notify_on_close": self.notify_on_close,
            "previous_view_id": self.previous_view_id, "root_view_id": self.root_view_id or self.id,
            "app_id": app_id, "external_id": self.external_id, "app_installed_team_id": team_id,
            "bot_id": bot_id,
        }


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    title: str = ""
    content: bytes | None = None
    channels: list[str] = field(default_factory=list)

    @property
    def mimetype(self) -> str:
        """What Slack would say the file is; only the kinds Beacon uploads are named, anything else is bytes."""
        return _MIMETYPES.get(self.filename.rpartition(".")[2].lower(), "application/octet-stream")

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.filename, "title": self.title or self.filename, "size": self.length,
                "mimetype": self.mimetype, "channels": self.channels}


_MIMETYPES = {"csv": "text/csv", "png": "image/png", "json": "application/json"}


@dataclass
class ApiCall:
    method: str
    args: dict[str, Any]
    status: int
    response: dict[str, Any]
    at: float = field(default_factory=time.perf_counter)  # when it arrived, for latency measurements

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return None if self.ok else str(self.response.get("error"))


@dataclass
class ResponseTarget:
    """Where a response_url posts: the channel and person a command or click came from."""

    channel: str
    user: str
    message_ts: str | None = None


class Workspace:
    """Everything the local Slack knows. Mutated by the Web API server and by the people in it."""

    def __init__(self, *, team_id: str = "T0BEACON01", team_domain: str = "beacon-local",
                 scopes: set[str] | None = None):
        self.team_id = team_id
        self.team_domain = team_domain
        self.app_id = "A0BEACON01"
        self.bot_id = "B0BEACON01"
        self.bot_user_id = "U0BEACONBOT"
        self.bot_token = "xoxb-local-" + secrets.token_hex(12)
        self.app_token = "xapp-1-local-" + secrets.token_hex(12)
        self.signing_secret = secrets.token_hex(16)
        self.scopes = scopes  # the bot token's scopes; None grants every scope the local Web API knows
        self.app_token_scopes = {"connections:write"}  # an app-level token is made with this scope
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.usergroups: dict[str, UserGroup] = {}
        self.views: dict[str, View] = {}
        self.home_views: dict[str, View] = {}
        self.modal_stacks: dict[str, list[View]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.files: dict[str, UploadedFile] = {}
        self.calls: list[ApiCall] = []
        self.triggers: dict[str, tuple[str, float]] = {}
        self.used_triggers: set[str] = set()
        self.response_targets: dict[str, ResponseTarget] = {}
        self._ids = itertools.count(1)
        self._last_ts = 0.0
        self._submissions_in_flight: set[asyncio.Event] = set()
        self.clock: Callable[[], float] = time.time  # message timestamps; the sandbox gives its own clock
        self.revision = 0  # goes up whenever the app calls the Web API or a response URL (the sandbox page polls it)
        self.add_user(self.bot_user_id, "beacon", "Beacon", is_bot=True)

    # -- people, channels and groups -------------------------------------------------------------------
    def add_user(self, user_id: str, name: str, real_name: str, **extra: Any) -> User:
        user = User(id=user_id, name=name, real_name=real_name, **extra)
        self.users[user_id] = user
        return user

    def add_channel(self, channel_id: str, name: str, *, members: set[str] | None = None,
                    bot_is_member: bool = True, **extra: Any) -> Channel:
        members = set(members or ())
        if bot_is_member:
            members.add(self.bot_user_id)
        channel = Channel(id=channel_id, name=name, members=members, **extra)
        self.channels[channel_id] = channel
        return channel

    def add_usergroup(self, group_id: str, handle: str, name: str, users: list[str]) -> UserGroup:
        group = UserGroup(id=group_id, handle=handle, name=name, users=list(users))
        self.usergroups[group_id] = group
        return group

    def dm_channel(self, user_id: str) -> Channel:
        """The direct-message conversation between the bot and `user_id`, opened on first use."""
        channel_id = "D" + user_id[1:]
        if channel_id not in self.channels:
            self.channels[channel_id] = Channel(id=channel_id, name=user_id, is_im=True, im_user=user_id,
                                                members={user_id, self.bot_user_id})
        return self.channels[channel_id]

    # -- identifiers ---------------------------------------------------------------------------------
    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def next_ts(self) -> str:
        now = max(self.clock(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"

    def issue_trigger(self, user_id: str) -> str:
        trigger_id = f"{next(self._ids)}.{secrets.token_hex(6)}"
        self.triggers[trigger_id] = (user_id, time.monotonic())
        return trigger_id

    def issue_response_url_token(self, target: ResponseTarget) -> str:
        token = secrets.token_urlsafe(16)
        self.response_targets[token] = target
        return token

    # -- ordering ------------------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def submission_in_flight(self) -> AsyncIterator[None]:
        """Slack applies a view_submission's response_action before it serves the app's next views call;
        calls made meanwhile wait here, as they would queue behind it in Slack."""
        done = asyncio.Event()
        self._submissions_in_flight.add(done)
        try:
            yield
        finally:
            done.set()
            self._submissions_in_flight.discard(done)

    async def submissions_settled(self, within: float = 3.0) -> None:
        pending = [event.wait() for event in self._submissions_in_flight]
        if pending:
            await asyncio.wait_for(asyncio.gather(*pending), within)

    # -- what people see -------------------------------------------------------------------------------
    def messages(self, channel_id: str) -> list[Message]:
        return list(self.channels[channel_id].messages)

    def dms(self, user_id: str) -> list[Message]:
        """What the bot has sent `user_id` directly, oldest first."""
        channel = self.channels.get("D" + user_id[1:])
        return list(channel.messages) if channel else []

    def ephemerals_for(self, user_id: str) -> list[Ephemeral]:
        return [e for e in self.ephemerals if e.user == user_id]

    def top_modal(self, user_id: str) -> View | None:
        stack = self.modal_stacks.get(user_id) or []
        return stack[-1] if stack else None

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    def post(self, channel_id: str, *, user: str, text: str = "", blocks: list[dict[str, Any]] | None = None,
             metadata: dict[str, Any] | None = None, thread_ts: str | None = None,
             as_bot: bool = False, broadcast: bool = False) -> Message:
        message = Message(channel=channel_id, ts=self.next_ts(), user=user, text=text, blocks=blocks or [],
                          metadata=metadata, thread_ts=thread_ts, broadcast=broadcast and thread_ts is not None,
                          bot_id=self.bot_id if as_bot else None, app_id=self.app_id if as_bot else None)
        self.channels[channel_id].messages.append(message)
        return message


def parse_json_arg(value: Any) -> Any:
    """Form-encoded Web API calls carry blocks, views and metadata as JSON strings."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value

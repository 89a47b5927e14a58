"""Requests in the exact shapes Slack sends them: slash commands, interactivity and Events API callbacks."""

from __future__ import annotations

import secrets
import time
from typing import Any

from beacon.bot.local_slack.workspace import Channel, Message, User, View, Workspace

VERIFICATION_TOKEN = "legacy-verification-token"  # deprecated by Slack, still sent


def _user(ws: Workspace, user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": ws.team_id}


def _team(ws: Workspace) -> dict[str, Any]:
    return {"id": ws.team_id, "domain": ws.team_domain}


def slash_command(ws: Workspace, *, user: User, channel: Channel, command: str, text: str,
                  trigger_id: str, response_url: str) -> dict[str, str]:
    return {
        "token": VERIFICATION_TOKEN, "team_id": ws.team_id, "team_domain": ws.team_domain,
        "channel_id": channel.id, "channel_name": "directmessage" if channel.is_im else channel.name,
        "user_id": user.id, "user_name": user.name, "command": command, "text": text,
        "api_app_id": ws.app_id, "is_enterprise_install": "false", "response_url": response_url,
        "trigger_id": trigger_id,
    }


def action(block: dict[str, Any], element: dict[str, Any], chosen: dict[str, Any]) -> dict[str, Any]:
    entry = {"type": element["type"], "action_id": element["action_id"], "block_id": block.get("block_id", ""),
             "action_ts": f"{time.time():.6f}"}
    if element["type"] == "button":
        entry["text"] = element.get("text")
        if "value" in element:
            entry["value"] = element["value"]
        if "style" in element:
            entry["style"] = element["style"]
    entry.update({k: v for k, v in chosen.items() if k != "type"})
    return entry


def block_actions_on_message(ws: Workspace, *, user: User, channel: Channel, message: Message,
                             is_ephemeral: bool, actions: list[dict[str, Any]], trigger_id: str,
                             response_url: str, state: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "block_actions", "user": _user(ws, user), "api_app_id": ws.app_id, "token": VERIFICATION_TOKEN,
        "container": {"type": "message", "message_ts": message.ts, "channel_id": channel.id,
                      "is_ephemeral": is_ephemeral},
        "trigger_id": trigger_id, "team": _team(ws), "enterprise": None, "is_enterprise_install": False,
        "channel": {"id": channel.id, "name": "directmessage" if channel.is_im else channel.name},
        "state": {"values": state}, "response_url": response_url, "actions": actions,
    }
    if not is_ephemeral:
        payload["message"] = message.to_api()
    return payload


def block_actions_on_view(ws: Workspace, *, user: User, view: View, actions: list[dict[str, Any]],
                          trigger_id: str) -> dict[str, Any]:
    return {
        "type": "block_actions", "user": _user(ws, user), "api_app_id": ws.app_id, "token": VERIFICATION_TOKEN,
        "container": {"type": "view", "view_id": view.id}, "trigger_id": trigger_id, "team": _team(ws),
        "enterprise": None, "is_enterprise_install": False,
        "view": view.to_api(team_id=ws.team_id, app_id=ws.app_id, bot_id=ws.bot_id), "actions": actions,
    }


def view_submission(ws: Workspace, *, user: User, view: View, trigger_id: str) -> dict[str, Any]:
    return {
        "type": "view_submission", "team": _team(ws), "user": _user(ws, user), "api_app_id": ws.app_id,
        "token": VERIFICATION_TOKEN, "trigger_id": trigger_id,
        "view": view.to_api(team_id=ws.team_id, app_id=ws.app_id, bot_id=ws.bot_id),
        "response_urls": [], "is_enterprise_install": False, "enterprise": None,
    }


def view_closed(ws: Workspace, *, user: User, view: View) -> dict[str, Any]:
    return {
        "type": "view_closed", "team": _team(ws), "user": _user(ws, user), "api_app_id": ws.app_id,
        "token": VERIFICATION_TOKEN, "view": view.to_api(team_id=ws.team_id, app_id=ws.app_id, bot_id=ws.bot_id),
        "is_cleared": False, "is_enterprise_install": False, "enterprise": None,
    }


def event_callback(ws: Workspace, event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    now = int(time.time())
    return {
        "token": VERIFICATION_TOKEN, "team_id": ws.team_id, "context_team_id": ws.team_id,
        "context_enterprise_id": None, "api_app_id": ws.app_id, "event": {"event_ts": f"{time.time():.6f}", **event},
        "type": "event_callback", "event_id": event_id or "Ev" + secrets.token_hex(5).upper(), "event_time": now,
        "authorizations": [{"enterprise_id": None, "team_id": ws.team_id, "user_id": ws.bot_user_id,
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False, "event_context": "4-" + secrets.token_hex(20),
    }


def app_home_opened(ws: Workspace, *, user: User) -> dict[str, Any]:
    channel = ws.dm_channel(user.id)
    home = ws.home_views.get(user.id)
    event: dict[str, Any] = {"type": "app_home_opened", "user": user.id, "channel": channel.id, "tab": "home"}
    if home is not None:
        event["view"] = home.to_api(team_id=ws.team_id, app_id=ws.app_id, bot_id=ws.bot_id)
    return event

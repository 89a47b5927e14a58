"""manifest.yaml, the code and content/commands.yaml name the same commands; every needed scope is requested."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

from beacon.bot.content import load_content
from beacon.bot.ids import Command
from beacon.bot.local_slack.web_api import METHODS
from beacon.handlers.verbs import Verbs
from tests.harness import ALICE, GRACE, Beacon, manifest, manifest_scopes, settle

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIRS = ("bot", "handlers", "scheduler")


def test_manifest_code_and_help_name_the_same_commands() -> None:
    in_manifest = {c["command"] for c in manifest()["features"]["slash_commands"]}
    in_code = {c.value for c in Command}
    in_help = set(load_content().commands)
    assert in_manifest == in_code == in_help


@pytest.mark.parametrize("command", [c.value for c in Command])
async def test_every_command_reaches_a_listener(command: str, beacon: Beacon) -> None:
    for user in (ALICE, GRACE):
        reply = await beacon.slack.person(user).command(command, "help")
        assert reply.status == 200, f"{command} is in the manifest but nothing in Beacon answers it"
    await settle()


def _verb_tables() -> dict[str, Verbs]:
    """Every command's table of verbs, wherever in handlers/ it is declared."""
    import beacon.handlers as handlers

    found: dict[str, Verbs] = {}
    for module in pkgutil.iter_modules(handlers.__path__):
        for value in vars(importlib.import_module(f"beacon.handlers.{module.name}")).values():
            if isinstance(value, Verbs):
                assert value.command not in found, f"{value.command} has two tables of verbs"
                found[value.command] = value
    return found


def test_every_documented_verb_is_routed_and_every_routed_verb_is_documented() -> None:
    tables, commands = _verb_tables(), load_content().commands
    assert {"/awards", "/pulse", "/schedule", "/digest"} <= set(tables)
    for command, table in tables.items():
        examples = {action.usage: action.usage.removeprefix(command).strip() for action in commands[command].actions}
        documented = {text.split(" ", 1)[0].lower() for text in examples.values()}
        assert set(table.patterns) == documented, f"{command}: routed and documented verbs differ"
        for usage, text in examples.items():
            found = table.verb_of(text.lower() if table.lowercase else text)
            assert found is not None and found[0] == text.split(" ", 1)[0].lower(), \
                f"commands.yaml's `{usage}` does not reach its verb"


def test_a_verb_without_a_coroutine_or_a_coroutine_without_a_verb_stops_the_app_being_built() -> None:
    async def anything(_: object) -> None: ...

    table = Verbs("/pulse", {"": "", "close": r"close\s+(?P<id>\d+)"})
    with pytest.raises(ValueError, match="verbs"):
        table.router(None, {"": anything})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="verbs"):
        table.router(None, {"": anything, "close": anything, "open": anything})  # type: ignore[arg-type]


def _web_api_methods_called() -> set[str]:
    """Every Slack Web API method the product code calls (slack_sdk names them family_methodName)."""
    pattern = re.compile(r"\.((?:auth|chat|conversations|users|usergroups|views|files|apps)_[A-Za-z_]+)\(")
    called = set()
    for directory in SOURCE_DIRS:
        for path in (ROOT / directory).rglob("*.py"):
            if "local_slack" not in path.parts:
                called.update(name.replace("_", ".") for name in pattern.findall(path.read_text()))
    return called


def test_every_scope_the_code_needs_is_requested() -> None:
    called = _web_api_methods_called()
    assert "chat.postMessage" in called and "views.publish" in called  # the scan works
    unknown = called - set(METHODS)
    assert not unknown, f"the local Slack does not answer {unknown}: add them so tests cover them"
    scopes = manifest_scopes()
    missing = {m: METHODS[m].scopes for m in called if METHODS[m].scopes and not set(METHODS[m].scopes) & scopes}
    assert not missing, f"manifest.yaml lacks scopes for {missing}"
    assert "commands" in scopes


def test_manifest_turns_on_what_beacon_uses() -> None:
    data = manifest()
    assert data["settings"]["socket_mode_enabled"] is True
    assert data["settings"]["interactivity"]["is_enabled"] is True
    assert "app_home_opened" in data["settings"]["event_subscriptions"]["bot_events"]
    assert data["features"]["app_home"]["home_tab_enabled"] is True
    for command in data["features"]["slash_commands"]:
        assert len(command["description"]) <= 100

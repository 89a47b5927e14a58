"""Loads and validates the files in `content/`; a fault names the file and what is wrong."""

from __future__ import annotations

import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.config_errors import ConfigError
from bot.organisation import Role

M = TypeVar("M", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CommandAction(_Strict):
    usage: str = Field(pattern=r"^/[a-z0-9_-]+( .+)?$")
    summary: str = Field(min_length=1)
    role: Role | None = None


class CommandSpec(_Strict):
    name: str = Field(pattern=r"^/[a-z0-9_-]+$")
    summary: str = Field(min_length=1)
    actions: list[CommandAction] = Field(min_length=1)

    @property
    def role(self) -> Role | None:
        """The role every action needs, when they all need the same one."""
        roles = {action.role for action in self.actions}
        return roles.pop() if len(roles) == 1 else None


class Messages(_Strict):
    not_permitted: str
    not_permitted_holders: str
    not_permitted_nobody: str
    unknown_arguments: str
    something_went_wrong: str
    slack_refused: str
    home_heading: str
    home_intro: str
    home_you_are: str
    home_roles: str
    home_no_roles: str
    home_can_do: str
    home_footer: str


@dataclass(frozen=True)
class Content:
    commands: dict[str, CommandSpec]
    messages: Messages


def load_content(directory: Path | None = None) -> Content:
    """Read every content file; all faults are reported together."""
    root = Path(directory) if directory else Path(str(resources.files("content")))
    problems: list[str] = []

    commands_raw = _read(root / "commands.yaml", problems)
    commands: dict[str, CommandSpec] = {}
    if isinstance(commands_raw, dict):
        for name, spec in commands_raw.items():
            body = spec if isinstance(spec, dict) else {}
            parsed = _validate(CommandSpec, {"name": name, **body}, root / "commands.yaml", problems,
                               prefix=str(name))
            if parsed:
                commands[parsed.name] = parsed
    elif commands_raw is not None:
        problems.append(f"{root / 'commands.yaml'}: should map each /command to its summary and actions")

    messages_raw = _read(root / "messages.yaml", problems)
    messages = _validate(Messages, messages_raw, root / "messages.yaml", problems)
    if messages:
        _check_placeholders(messages, root / "messages.yaml", problems)

    if problems or messages is None:
        raise ConfigError(problems or [f"{root}: content could not be read"])
    return Content(commands=commands, messages=messages)


def _read(path: Path, problems: list[str]) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{path}: file is missing")
    except yaml.YAMLError as error:
        problems.append(f"{path}: is not valid YAML: {error}")
    return None


def _validate(model: type[M], data: Any, path: Path, problems: list[str], *,
                            prefix: str = "") -> M | None:
    if data is None:
        return None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        for e in error.errors():
            key = ".".join([prefix, *[str(p) for p in e["loc"]]]).strip(".") or "(top level)"
            problems.append(f"{path}: {key}: {e['msg']}")
        return None


# Placeholders each message is filled with; a reworded text must not invent or lose one.
_PLACEHOLDERS = {
    "not_permitted": {"action", "role", "holders"},
    "not_permitted_holders": {"names"},
    "not_permitted_nobody": {"role_key"},
    "unknown_arguments": {"command", "text"},
    "something_went_wrong": {"what", "reference"},
    "slack_refused": {"error", "what"},
    "home_intro": {"organisation"},
    "home_you_are": {"user"},
    "home_roles": {"roles"},
}


def _check_placeholders(messages: Messages, path: Path, problems: list[str]) -> None:
    for key, text in messages.model_dump().items():
        used = {name for _, name, _, _ in string.Formatter().parse(text) if name}
        expected = _PLACEHOLDERS.get(key, set())
        if used - expected:
            problems.append(f"{path}: {key}: unknown placeholder(s) {sorted(used - expected)}; "
                            f"this text may use {sorted(expected) or 'none'}")

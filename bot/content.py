"""Loads and validates the files in `content/`; a fault names the file and what is wrong."""

from __future__ import annotations

import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from beacon.bot.config_errors import ConfigError
from beacon.bot.organisation import Organisation, Role

M = TypeVar("M", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CommandAction(_Strict):
    usage: str = Field(pattern=r"^/[a-z0-9_-]+( .+)?$")
    summary: str = Field(min_length=1)
    roles: list[Role] = Field(default_factory=list)  # any one of these; empty: everyone


class CommandSpec(_Strict):
    name: str = Field(pattern=r"^/[a-z0-9_-]+$")
    summary: str = Field(min_length=1)
    actions: list[CommandAction] = Field(min_length=1)



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
    ask_intro: str
    ask_home: str


_KEY = r"^[a-z][a-z0-9_]*$"


class TrustValue(_Strict):
    key: str = Field(pattern=_KEY)
    name: str = Field(min_length=1, max_length=40)
    emoji: str = Field(pattern=r"^:[a-z0-9_+'-]+:$")
    description: str = Field(min_length=1, max_length=200)
    retired: bool = False


class Behaviour(_Strict):
    key: str = Field(pattern=_KEY)
    name: str = Field(min_length=1, max_length=75)
    description: str = Field(min_length=1, max_length=200)
    levels: list[str] = Field(default_factory=list)


class Framework(_Strict):
    name: str = Field(min_length=1)
    source: str = ""
    levels: list[str] = Field(min_length=1)
    behaviours: list[Behaviour] = Field(min_length=1, max_length=10)


class Requirement(_Strict):
    values: int = Field(default=1, ge=0)
    behaviours: int = Field(default=0, ge=0)


DEFAULT_RUBRIC = ["Little evidence in the story.", "Some evidence.", "Clear evidence, with a difference made.",
                  "Strong, consistent evidence.", "Outstanding."]


class Award(_Strict):
    key: str = Field(pattern=_KEY)
    name: str = Field(min_length=1, max_length=75)
    description: str = Field(min_length=1, max_length=200)
    requires: Requirement = Field(default_factory=Requirement)
    rubric: list[str] = Field(default_factory=lambda: list(DEFAULT_RUBRIC), min_length=5, max_length=5)


class _ValuesFile(_Strict):
    values: list[TrustValue] = Field(min_length=1)


class _LeadershipFile(_Strict):
    frameworks: dict[str, Framework] = Field(min_length=1)


class _AwardsFile(_Strict):
    awards: list[Award] = Field(min_length=1)
    thank_you: Award


class BankQuestion(_Strict):
    key: str = Field(pattern=_KEY)
    theme: str = Field(pattern=_KEY)
    scale: str = Field(pattern=_KEY)
    text: str = Field(min_length=1, max_length=150)


class PulseBank(_Strict):
    scales: dict[str, list[str]] = Field(min_length=1)
    themes: dict[str, str] = Field(min_length=1)
    questions: list[BankQuestion] = Field(min_length=1)

    def question(self, key: str) -> BankQuestion | None:
        return next((q for q in self.questions if q.key == key), None)


class NoticeSection(_Strict):
    heading: str = Field(min_length=1, max_length=150)
    text: str = Field(min_length=1, max_length=2500)


class PrivacyNotice(_Strict):
    title: str = Field(min_length=1, max_length=24 * 6)
    intro: str = Field(min_length=1, max_length=2500)
    sections: list[NoticeSection] = Field(min_length=1, max_length=20)


@dataclass(frozen=True)
class Content:
    commands: dict[str, CommandSpec]
    messages: Messages
    values: list[TrustValue]
    frameworks: dict[str, Framework]
    awards: list[Award]
    thank_you: Award
    pulse: PulseBank
    privacy: PrivacyNotice

    def active_values(self) -> list[TrustValue]:
        return [v for v in self.values if not v.retired]

    def value(self, key: str) -> TrustValue | None:
        return next((v for v in self.values if v.key == key), None)

    def award(self, key: str) -> Award | None:
        return next((a for a in [*self.awards, self.thank_you] if a.key == key), None)

    def behaviour(self, framework: str, key: str) -> Behaviour | None:
        found = self.frameworks.get(framework)
        return next((b for b in found.behaviours if b.key == key), None) if found else None


PACKAGED = Path(str(resources.files("beacon.content")))
FILES = ("commands.yaml", "messages.yaml", "values.yaml", "leadership.yaml", "awards.yaml", "pulse_questions.yaml",
         "privacy.yaml")


def load_content(directory: Path | None = None) -> Content:
    """Read every content file; all faults are reported together.

    `directory` (BEACON_CONTENT) holds a trust's own versions of any of the files; a file it lacks is read
    from Beacon's own `content/`.
    """
    if directory is not None and not Path(directory).is_dir():
        raise ConfigError([f"BEACON_CONTENT: {directory} is not a folder; give the folder holding the trust's own "
                           f"copies of {', '.join(sorted(FILES)[:2])} ..., or leave it unset for Beacon's own"])
    paths = {name: (Path(directory) / name if directory and (Path(directory) / name).exists() else PACKAGED / name)
             for name in FILES}
    problems: list[str] = []

    commands_raw = _read(paths["commands.yaml"], problems)
    commands: dict[str, CommandSpec] = {}
    if isinstance(commands_raw, dict):
        for name, spec in commands_raw.items():
            body = spec if isinstance(spec, dict) else {}
            parsed = _validate(CommandSpec, {"name": name, **body}, paths["commands.yaml"], problems,
                               prefix=str(name))
            if parsed:
                commands[parsed.name] = parsed
    elif commands_raw is not None:
        problems.append(f"{paths['commands.yaml']}: should map each /command to its summary and actions")

    messages_raw = _read(paths["messages.yaml"], problems)
    messages = _validate(Messages, messages_raw, paths["messages.yaml"], problems)
    if messages:
        _check_placeholders(messages, paths["messages.yaml"], problems)

    values = _validate(_ValuesFile, _read(paths["values.yaml"], problems), paths["values.yaml"], problems)
    leadership = _validate(_LeadershipFile, _read(paths["leadership.yaml"], problems), paths["leadership.yaml"],
                           problems)
    awards = _validate(_AwardsFile, _read(paths["awards.yaml"], problems), paths["awards.yaml"], problems)
    if values:
        _check_unique([v.key for v in values.values], paths["values.yaml"], "values", problems)
        if not any(not v.retired for v in values.values):
            problems.append(f"{paths['values.yaml']}: every value is retired; at least one must be offered")
    if leadership:
        for name, framework in leadership.frameworks.items():
            _check_unique([b.key for b in framework.behaviours], paths["leadership.yaml"], name, problems)
            for b in framework.behaviours:
                if b.levels and len(b.levels) != len(framework.levels):
                    problems.append(f"{paths['leadership.yaml']}: {name}.{b.key}: has {len(b.levels)} levels; "
                                    f"the framework has {len(framework.levels)}")
    if awards:
        _check_unique([a.key for a in [*awards.awards, awards.thank_you]], paths["awards.yaml"], "awards", problems)

    pulse = _validate(PulseBank, _read(paths["pulse_questions.yaml"], problems), paths["pulse_questions.yaml"],
                      problems)
    if pulse:
        _check_unique([q.key for q in pulse.questions], paths["pulse_questions.yaml"], "questions", problems)
        for q in pulse.questions:
            if q.scale not in pulse.scales or len(pulse.scales[q.scale]) != 5:
                problems.append(f"{paths['pulse_questions.yaml']}: {q.key}: scale {q.scale!r} should be one of the "
                                "five-point scales under `scales:`")
            if q.theme not in pulse.themes:
                problems.append(f"{paths['pulse_questions.yaml']}: {q.key}: theme {q.theme!r} is not under `themes:`")

    privacy = _validate(PrivacyNotice, _read(paths["privacy.yaml"], problems), paths["privacy.yaml"], problems)

    if (problems or messages is None or values is None or leadership is None or awards is None or pulse is None
            or privacy is None):
        raise ConfigError(problems or ["content could not be read"])
    return Content(commands=commands, messages=messages, values=values.values, frameworks=leadership.frameworks,
                   awards=awards.awards, thank_you=awards.thank_you, pulse=pulse, privacy=privacy)


def _check_unique(keys: list[str], path: Path, where: str, problems: list[str]) -> None:
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        problems.append(f"{path}: {where}: each key must be used once; repeated: {', '.join(repeated)}")


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


def check_organisation(content: Content, organisation: Organisation) -> list[str]:
    """Faults where the organisation file names content that does not exist."""
    framework = organisation.recognition.leadership_framework
    if framework not in content.frameworks:
        return [f"recognition.leadership_framework: {framework!r} is not a framework in content/leadership.yaml "
                f"(choose one of {', '.join(sorted(content.frameworks))})"]
    return []

"""Services name the messages they queue from one list (bot/templates.py), and every name on it can be built."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from beacon.bot.blocks.notices import TEMPLATES, UnknownTemplate, outgoing, render
from beacon.bot.templates import Template

ROOT = Path(__file__).resolve().parents[1]


def test_every_template_has_a_builder_and_every_builder_a_name() -> None:
    assert set(TEMPLATES) == set(Template) - {Template.PULSE_CHART}, "the chart is uploaded as a file"
    chart = outgoing({"template": Template.PULSE_CHART, "params": {"title": "Rest breaks", "questions": []}})
    assert chart.file is not None and chart.file[2].startswith(b"\x89PNG")


def _literal_names(path: Path) -> list[str]:
    """Template names written as strings: `{"template": "x"}` or `template="x"`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "template" and isinstance(value, ast.Constant):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {value.value!r}")
        elif isinstance(node, ast.keyword) and node.arg == "template" and isinstance(node.value, ast.Constant):
            found.append(f"{path.relative_to(ROOT)}:{node.value.lineno} {node.value.value!r}")
    return found


def test_services_handlers_and_jobs_name_templates_from_the_list_only() -> None:
    """A misspelt string would only fail when the message is sent; a Template member fails the type check."""
    found = [hit for directory in ("bot", "handlers", "scheduler") for path in (ROOT / directory).rglob("*.py")
             for hit in _literal_names(path)]
    assert found == []


def test_stored_names_stay_the_same() -> None:
    """Outbox rows keep the name as text: renaming a member's value would strand every row already queued."""
    assert all(member.value == member.name.lower() for member in Template)


@pytest.mark.parametrize("name", ["", "leaders_next_month", "TEMPLATES"])
def test_a_name_this_release_does_not_know_is_refused_plainly(name: str) -> None:
    with pytest.raises(UnknownTemplate):
        render({"template": name, "params": {}})

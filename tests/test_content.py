"""Values, frameworks and awards are data: a trust swaps a file, and a bad file is named with its fault."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from beacon.bot.config_errors import ConfigError
from beacon.bot.content import PACKAGED, check_organisation, load_content
from beacon.bot.local_slack import LocalSlack
from beacon.bot.organisation import Organisation, parse_organisation
from tests.harness import ALICE, BOB, Beacon, organisation_for
from tests.nominating import choose_award, open_modal
from tests.processes import run_beacon, slack_env, write_config

REVISED_VALUES = {"values": [
    {"key": "accountable", "name": "Accountable", "emoji": ":white_check_mark:",
     "description": "Takes ownership and follows through."},
    {"key": "respectful", "name": "Respectful", "emoji": ":raised_hands:", "description": "Treats all with dignity."},
    {"key": "excellent", "name": "Excellent", "emoji": ":star2:", "description": "Strives for the best care."},
    {"key": "care", "name": "Care", "emoji": ":heart:", "description": "Our value until 2024.", "retired": True},
]}


def test_the_trusts_content_as_shipped() -> None:
    content = load_content()
    assert [v.name for v in content.active_values()] == ["Care", "Teamwork", "Quality", "Respect", "Honesty"]
    hlm = content.frameworks["healthcare_leadership_model"]
    assert len(hlm.behaviours) == 9 and hlm.levels == ["Essential", "Proficient", "Strong", "Exemplary"]
    assert all(len(b.levels) == 4 for b in hlm.behaviours)
    assert len(content.frameworks["our_leadership_way"].behaviours) == 6
    assert [a.name for a in content.awards] == ["Delivering Excellence through Values",
                                                "Delivering Excellence through Leadership"]
    assert content.award("leadership").requires.behaviours == 1  # type: ignore[union-attr]


def test_a_trust_swaps_its_values_file_and_old_tags_still_read(tmp_path: Path) -> None:
    (tmp_path / "values.yaml").write_text(yaml.safe_dump(REVISED_VALUES))
    content = load_content(tmp_path)
    assert [v.name for v in content.active_values()] == ["Accountable", "Respectful", "Excellent"]
    assert content.value("care").name == "Care", "nominations tagged before the change still show it"  # type: ignore[union-attr]
    assert len(content.frameworks) == 2, "files the trust did not replace come from Beacon's own content"


@pytest.mark.parametrize(("file", "data", "fault"), [
    ("values.yaml", {"values": [{"key": "care", "name": "Care", "description": "x"}]},
     "values.0.emoji: Field required"),
    ("values.yaml", {"values": [{"key": "Care!", "name": "Care", "emoji": ":heart:", "description": "x"}]},
     "values.0.key: String should match pattern"),
    ("values.yaml", {"values": REVISED_VALUES["values"][:1] * 2}, "each key must be used once; repeated: accountable"),
    ("values.yaml", {"values": [REVISED_VALUES["values"][3]]}, "every value is retired"),
    ("awards.yaml", {"awards": [{"key": "values", "name": "V", "description": "d", "requires": {"values": -1}}],
                     "thank_you": {"key": "thanks", "name": "T", "description": "d"}},
     "awards.0.requires.values: Input should be greater than or equal to 0"),
    ("leadership.yaml", {"frameworks": {"hlm": {"name": "H", "levels": ["A", "B"], "behaviours": [
        {"key": "x", "name": "X", "description": "d", "levels": ["only one"]}]}}}, "hlm.x: has 1 levels"),
])
def test_a_faulty_file_is_named_with_its_fault(tmp_path: Path, file: str, data: dict, fault: str) -> None:
    (tmp_path / file).write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as caught:
        load_content(tmp_path)
    report = "\n".join(caught.value.problems)
    assert str(tmp_path / file) in report and fault in report, report


def test_the_organisation_file_must_name_a_framework_that_exists() -> None:
    organisation = parse_organisation({"channels": {"recognition": "C01", "engagement": "C02", "forum": "C03",
                                                    "admin": "C04"},
                                       "recognition": {"leadership_framework": "made_up"}}, source="beacon.yaml")
    [problem] = check_organisation(load_content(), organisation)
    assert "'made_up' is not a framework in content/leadership.yaml" in problem
    assert "healthcare_leadership_model, our_leadership_way" in problem


async def test_beacon_refuses_to_start_on_broken_content(slack: LocalSlack, tmp_path: Path,
                                                        database_url: str) -> None:
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(PACKAGED / "awards.yaml", content / "awards.yaml")
    (content / "values.yaml").write_text("values:\n  - key: care\n    name: [unclosed\n")
    env = slack_env(slack, write_config(tmp_path / "beacon.yaml"), database_url) | {"BEACON_CONTENT": str(content)}
    code, _, err = await run_beacon("check", env=env, cwd=tmp_path)
    assert code == 2 and "Traceback" not in err
    assert f"{content / 'values.yaml'}: is not valid YAML" in err


@pytest.fixture
def organisation(slack: LocalSlack) -> Organisation:
    return organisation_for(slack.workspace, recognition={"leadership_framework": "our_leadership_way"})


async def test_the_leadership_award_uses_the_framework_the_trust_chose(beacon: Beacon) -> None:
    bob = beacon.slack.person(BOB)
    await open_modal(bob, f"<@{ALICE}>")
    await choose_award(bob, "leadership")
    shown = json.dumps(bob.modal.blocks)  # type: ignore[union-attr]
    assert "Celebrates success (collaborative)" in shown and "From the Our Leadership Way." in shown
    assert "Inspiring shared purpose" not in shown

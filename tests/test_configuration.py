"""Bad configuration gets one readable list of every problem, and safe settings are insisted on."""

from pathlib import Path

import pytest

from beacon.bot.config_errors import ConfigError
from beacon.bot.organisation import load_organisation, parse_organisation
from beacon.bot.settings import Mode, load_settings

GOOD = {"channels": {"recognition": "C01", "engagement": "C02", "forum": "C03", "admin": "G04"}}


def test_missing_secrets_are_named_for_socket_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "BEACON_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(_env_file=None)
    with pytest.raises(ConfigError) as caught:
        settings.require(Mode.SOCKET)
    report = caught.value.report()
    assert "3 configuration problems" in report
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "BEACON_SECRET_KEY"):
        assert name in report
    assert "SLACK_SIGNING_SECRET" not in report  # Socket Mode does not need it


def test_http_mode_needs_the_signing_secret_not_the_app_token() -> None:
    settings = load_settings(_env_file=None, slack_bot_token="xoxb-1", beacon_secret_key="k" * 40)
    assert settings.missing_for(Mode.HTTP) == ["SLACK_SIGNING_SECRET"]


def test_tokens_of_the_wrong_kind_and_unsafe_secret_keys_are_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, slack_bot_token="xoxp-user-token", slack_app_token="xoxb-not-app",
                      beacon_secret_key="changeme")
    problems = "\n".join(caught.value.problems)
    assert "SLACK_BOT_TOKEN: should be the Bot User OAuth Token, which starts with xoxb-" in problems
    assert "SLACK_APP_TOKEN: should be an app-level token" in problems
    assert "BEACON_SECRET_KEY: should be a random value of at least 32 characters" in problems


def test_every_fault_in_the_organisation_file_is_named_with_its_key() -> None:
    data = {
        "timezone": "Europe/Londres",
        "channels": {"recognition": "general", "engagement": "C02", "admin": "C04", "digest": "C05"},
        "roles": {"comms": ["bob@trust.nhs.uk"], "wizards": ["U1"]},
        "sites": [{"name": "Chelmsford"}],
    }
    with pytest.raises(ConfigError) as caught:
        parse_organisation(data, source="beacon.yaml")
    problems = caught.value.problems
    text = "\n".join(problems)
    assert "beacon.yaml: timezone: should be an IANA time zone such as Europe/London, not 'Europe/Londres'" in text
    assert "channels.recognition: should be a Slack channel ID such as C0123ABCDEF, not 'general'" in text
    assert "channels.forum is missing" in text
    assert "channels.digest: input should be a valid list" in text
    assert "roles.comms.0: should be a Slack user ID such as U0123ABCDEF or a user-group handle" in text
    assert "roles.wizards is not a setting Beacon knows" in text
    assert "sites.0.area is missing" in text
    assert len(problems) == 7


def test_a_missing_or_broken_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"copy beacon\.example\.yaml"):
        load_organisation(tmp_path / "beacon.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("channels:\n  recognition: [C01\n")
    with pytest.raises(ConfigError, match=r"is not valid YAML at line \d+"):
        load_organisation(broken)


def test_the_example_file_is_valid() -> None:
    organisation = load_organisation(Path(__file__).parents[1] / "beacon.example.yaml")
    assert organisation.timezone == "Europe/London"
    assert organisation.sites, "the example shows how to list sites"


def test_a_good_minimal_file_has_safe_defaults() -> None:
    organisation = parse_organisation(GOOD, source="beacon.yaml")
    assert organisation.timezone == "Europe/London"
    assert organisation.channels.digest == []
    assert organisation.roles.comms == []

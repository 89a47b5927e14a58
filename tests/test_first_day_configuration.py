"""A trust's first day, as its IT team meets it: the example file copied as it is, the placeholder tokens left in,
and several mistakes at once. `beacon` runs as a real process against the local Slack; every problem comes in one
list, with exit code 2 and no traceback."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from beacon.bot.local_slack import LocalSlack
from beacon.bot.local_slack.workspace import Workspace
from beacon.bot.organisation import Role, load_organisation
from tests.harness import SECRET_KEY, manifest_scopes
from tests.processes import clean_env, run_beacon, slack_env

EXAMPLE = Path(__file__).parents[1] / "beacon.example.yaml"


@pytest.fixture
async def example_workspace() -> AsyncIterator[LocalSlack]:
    """A workspace holding every channel, person and user group that beacon.example.yaml names, as a trust's
    would once its IDs are filled in."""
    example = load_organisation(EXAMPLE)
    ws = Workspace(scopes=manifest_scopes())
    members = {m for role in Role for m in example.roles.members(role)}
    for user_id in sorted(m for m in members if not m.startswith("@")):
        ws.add_user(user_id, user_id.lower(), f"Person {user_id}")
    for n, handle in enumerate(sorted(m for m in members if m.startswith("@"))):
        ws.add_usergroup(f"S0{n}", handle[1:], handle[1:], [])
    channels = [*example.channels.all().values(), *(s.channel for s in example.sites if s.channel),
                *(g.channel for g in example.staff_groups if g.channel),
                *([example.calendar.coordinator_channel] if example.calendar.coordinator_channel else [])]
    for channel_id in channels:
        ws.add_channel(channel_id, channel_id.lower(), is_private=channel_id.startswith("G"))
    local = LocalSlack(ws)
    await local.start()
    yield local
    await local.stop()


async def test_the_example_file_as_copied_passes_beacon_check(example_workspace: LocalSlack, tmp_path: Path,
                                                              database_url: str) -> None:
    config = tmp_path / "beacon.yaml"
    shutil.copy(EXAMPLE, config)  # cp beacon.example.yaml beacon.yaml
    code, out, err = await run_beacon("check", env=slack_env(example_workspace, config, database_url), cwd=tmp_path)
    assert code == 0, out + err
    assert "FAIL" not in out
    assert "Traceback" not in err
    assert not load_organisation(config).calendar.sources  # no Graph credentials needed, no placeholder feed fetched
    example_text = EXAMPLE.read_text()
    assert "# sources:" in example_text and "type: graph" in example_text and "type: ics" in example_text


async def test_placeholder_tokens_are_refused_before_slack_is_asked(slack: LocalSlack, tmp_path: Path) -> None:
    config = tmp_path / "beacon.yaml"
    shutil.copy(EXAMPLE, config)
    env = clean_env(SLACK_BOT_TOKEN="xoxb-replace-me", SLACK_APP_TOKEN="xapp-replace-me", BEACON_SECRET_KEY="changeme",
                    SLACK_API_URL=slack.api_url, BEACON_CONFIG=str(config),
                    DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'beacon.db'}")
    for command in ("run", "check"):
        code, _, err = await run_beacon(command, env=env, cwd=tmp_path)
        assert code == 2, err
        assert "SLACK_BOT_TOKEN: 'xoxb-replace-me' is a placeholder: replace it with the real token from Slack app > " \
               "OAuth & Permissions > Bot User OAuth Token" in err
        assert "SLACK_APP_TOKEN: 'xapp-replace-me' is a placeholder: replace it with the real token from Slack app " \
               "> Basic Information > App-Level Tokens" in err
        assert "BEACON_SECRET_KEY: should be a random value of at least 32 characters" in err
        assert "Traceback" not in err
    assert not slack.workspace.calls, "the placeholder was sent to Slack"


BROKEN_YAML = """\
timezone: Europe/Londres
channels:
  recognition: #recognition
  engagement: C0123ENGAGE
  forum: C0123FORUM
  admin: G0123ADMIN
rolse:
  comms: ["@comms-team"]
"""


@pytest.mark.parametrize("command", ["run", "check", "serve"])
async def test_one_bad_value_does_not_hide_the_rest(tmp_path: Path, command: str) -> None:
    config = tmp_path / "beacon.yaml"
    config.write_text(BROKEN_YAML)
    env = clean_env(LOG_LEVEL="verbose", BEACON_METRICS_PORT="x", BEACON_CONFIG=str(config),
                    DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'beacon.db'}")
    code, out, err = await run_beacon(command, env=env, cwd=tmp_path)
    assert code == 2, out + err
    assert "Traceback" not in err
    problems = [line for line in err.splitlines() if line.startswith("  - ")]
    expected = [
        "LOG_LEVEL: should be one of DEBUG, INFO, WARNING, ERROR, not 'verbose'",
        "BEACON_METRICS_PORT: should be a port number from 1 to 65535 (0: any free port; unset: none), not 'x'",
        "SLACK_BOT_TOKEN is not set",
        "timezone: should be an IANA time zone such as Europe/London, not 'Europe/Londres'",
        "channels.recognition is empty: it needs a channel ID such as C0123ABCD, not a channel's name such as "
        "#recognition: `#` starts a comment in YAML",
        "rolse is not a setting Beacon knows",
    ]
    if command == "run":
        expected += ["SLACK_APP_TOKEN is not set", "BEACON_SECRET_KEY is not set"]
    if command == "serve":
        expected += ["SLACK_SIGNING_SECRET is not set", "BEACON_SECRET_KEY is not set"]
    for problem in expected:
        assert any(problem in line for line in problems), f"{problem!r} not in:\n{err}"
    assert err.startswith(f"Beacon cannot start: {len(problems)} configuration problems:"), err
    assert len(problems) == len(expected), err


async def test_a_bad_value_stops_even_the_commands_that_need_no_secret(tmp_path: Path) -> None:
    env = clean_env(LOG_LEVEL="verbose", DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'beacon.db'}")
    code, out, err = await run_beacon("db", "upgrade", env=env, cwd=tmp_path)
    assert (code, out) == (2, ""), err
    assert "LOG_LEVEL: should be one of DEBUG, INFO, WARNING, ERROR, not 'verbose'" in err
    assert not (tmp_path / "beacon.db").exists()


async def test_a_real_token_is_never_taken_for_a_placeholder(slack: LocalSlack, tmp_path: Path,
                                                            database_url: str) -> None:
    """Slack's tokens go on with digits after the prefix: a word in their random tail is not a placeholder."""
    config = tmp_path / "beacon.yaml"
    shutil.copy(EXAMPLE, config)
    env = slack_env(slack, config, database_url) | {"SLACK_BOT_TOKEN": "xoxb-1234567890-0987654321-ReplaceYourTodo1",
                                                     "BEACON_SECRET_KEY": SECRET_KEY}
    code, out, err = await run_beacon("check", env=env, cwd=tmp_path)
    assert code == 1, out + err  # it reached Slack, which refused it
    assert "invalid_auth" in out


@pytest.mark.parametrize(("database_url", "said", "secret"), [
    ("postgresql://beacon:Summer24@Secret@127.0.0.1:5432/beacon", "percent-encode", "Secret"),
    ("postgres://beacon:Summer24Secret@127.0.0.1:notaport/beacon", "percent-encode", "Summer24Secret"),
    ("postgresql://beacon:Summer24Secret@127.0.0.1:99999/beacon", "port 99999 is not a port", "Summer24Secret"),
    ("postgresql://beacon:Summer24Secret@127.0.0.1/beacon?application_name=x", "?application_name=",
     "Summer24Secret"),
    ("postgresql://beacon:Summer24Secret@127.0.0.1/beacon?sslmode=sometimes", "not an SSL mode", "Summer24Secret"),
    ("sqlite+aiosqlite:///", "give SQLite a file", None),
    ("sqlite:///:memory:", "give SQLite a file", None),
])
async def test_a_database_address_beacon_cannot_use_is_one_line_and_keeps_its_password(
        slack: LocalSlack, tmp_path: Path, database_url: str, said: str, secret: str | None) -> None:
    """Mistakes in DATABASE_URL are a person's to fix (exit 2, so systemd does not restart for ever), reported with
    the other settings, and no part of the password is printed, even where an @ in it moved the host."""
    config = tmp_path / "beacon.yaml"
    shutil.copy(EXAMPLE, config)
    for command in (["run"], ["db", "upgrade"]):  # serve and check read the settings the same way
        env = {**slack_env(slack, config, "sqlite+aiosqlite:///unused.db"), "DATABASE_URL": database_url,
               "LOG_LEVEL": "verbose"}
        code, out, err = await run_beacon(*command, env=env, cwd=tmp_path)
        assert code == 2, (command, out, err)
        assert "DATABASE_URL: " in err and said in err and "LOG_LEVEL" in err, err
        assert "Traceback" not in err + out
        if secret:
            assert secret not in err + out


def test_libpq_sslmode_is_understood() -> None:
    """psql, Heroku and cloud consoles write ?sslmode=require; asyncpg calls it ssl."""
    from beacon.bot.db import async_url

    assert async_url("postgres://b:p%40ss@db.trust.nhs.uk/beacon?sslmode=require") == (
        "postgresql+asyncpg://b:p%40ss@db.trust.nhs.uk/beacon?ssl=require")


@pytest.mark.parametrize(("make", "said"), [
    (lambda path: path.mkdir(), "is a folder"),
    (lambda path: path.write_bytes(b"\xff\xfechannels: {}\n"), "is not UTF-8 text"),
])
async def test_an_organisation_file_that_cannot_be_read_is_one_line(
        slack: LocalSlack, tmp_path: Path, make: Callable[[Path], object], said: str) -> None:
    config = tmp_path / "beacon.yaml"
    make(config)
    code, out, err = await run_beacon("run", env=slack_env(slack, config, f"sqlite+aiosqlite:///{tmp_path}/b.db"),
                                      cwd=tmp_path)
    assert code == 2 and said in err and "Traceback" not in err + out, err


async def test_a_missing_content_folder_and_a_fractional_timeout_are_reported_not_ignored(
        slack: LocalSlack, tmp_path: Path) -> None:
    config = tmp_path / "beacon.yaml"
    shutil.copy(EXAMPLE, config)
    env = {**slack_env(slack, config, f"sqlite+aiosqlite:///{tmp_path}/b.db"),
           "BEACON_CONTENT": str(tmp_path / "our-content"), "BEACON_CONNECT_TIMEOUT": "1.5"}
    code, out, err = await run_beacon("check", env=env, cwd=tmp_path)
    assert code == 2 and "Traceback" not in err + out, err
    assert "BEACON_CONTENT: " in err and "is not a folder" in err
    assert "BEACON_CONNECT_TIMEOUT: should be whole seconds from 1 to 300" in err

"""The `beacon` command as an operator runs it: a real process, its exit codes and what it prints."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import pytest
import yaml

from beacon.bot.local_slack import LocalSlack
from tests.harness import ALICE
from tests.processes import (
    beacon_process,
    clean_env,
    eventually,
    free_port,
    run_beacon,
    slack_env,
    wait_healthy,
    write_config,
)

_env = clean_env
_free_port = free_port
_run = run_beacon
_eventually = eventually


def _write_config(path: Path, slack: LocalSlack, **channels: str) -> Path:
    return write_config(path, **channels)


def _slack_env(slack: LocalSlack, config: Path, database_url: str) -> dict[str, str]:
    return slack_env(slack, config, database_url)


async def test_help_lists_every_command(tmp_path: Path) -> None:
    code, out, _ = await _run("--help", env=_env(), cwd=tmp_path)
    assert code == 0
    for command in ("run", "serve", "db", "check", "calendar", "digest", "privacy", "audit", "reload"):
        assert command in out


async def test_run_without_configuration_names_what_is_missing_and_exits_2(tmp_path: Path) -> None:
    code, _, err = await _run("run", env=_env(), cwd=tmp_path)
    assert code == 2
    assert "Traceback" not in err
    for missing in ("SLACK_BOT_TOKEN is not set", "SLACK_APP_TOKEN is not set", "BEACON_SECRET_KEY is not set",
                    "beacon.yaml does not exist"):
        assert missing in err


async def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    code, out, err = await _run("db", "upgrade", env=_env(DATABASE_URL=url), cwd=tmp_path)
    assert code == 0, err
    assert "up to date" in out
    assert (tmp_path / "fresh.db").exists()


async def test_check_passes_when_everything_is_in_place(slack: LocalSlack, tmp_path: Path, database_url: str) -> None:
    config = _write_config(tmp_path / "beacon.yaml", slack)
    slack.workspace.channels["C0ADMIN"].members.add(slack.workspace.bot_user_id)
    code, out, err = await _run("check", env=_slack_env(slack, config, database_url), cwd=tmp_path)
    assert code == 0, out + err
    assert "FAIL" not in out
    assert "channels.recognition (C0RECOG)" in out and "Beacon is a member" in out


async def test_check_reports_each_problem_with_its_fix(slack: LocalSlack, tmp_path: Path, database_url: str) -> None:
    ws = slack.workspace
    ws.add_channel("C0QUIET", "quiet", members={ALICE}, bot_is_member=False)
    ws.add_channel("C0OLD", "old-news", is_archived=True)
    config = _write_config(tmp_path / "beacon.yaml", slack, forum="C0QUIET", engagement="C0MISSING",
                           recognition="C0OLD")
    code, out, _ = await _run("check", env=_slack_env(slack, config, database_url), cwd=tmp_path)
    assert code == 1
    assert "Beacon is not in #quiet: type /invite @Beacon there" in out
    assert "channel_not_found" in out
    assert "#old-news is archived" in out
    assert "check(s) failed" in out


async def test_check_with_a_revoked_token(slack: LocalSlack, tmp_path: Path, database_url: str) -> None:
    config = _write_config(tmp_path / "beacon.yaml", slack)
    env = _slack_env(slack, config, database_url) | {"SLACK_BOT_TOKEN": "xoxb-revoked"}
    code, out, _ = await _run("check", env=env, cwd=tmp_path)
    assert code == 1
    assert "invalid_auth: Slack refused the token" in out


async def test_check_says_which_way_beacon_can_run_and_refuses_a_revoked_app_token(
        slack: LocalSlack, tmp_path: Path, database_url: str) -> None:
    """`beacon check` passing while `beacon run` would refuse to start misleads the person deploying it."""
    config = _write_config(tmp_path / "beacon.yaml", slack)
    slack.workspace.channels["C0ADMIN"].members.add(slack.workspace.bot_user_id)
    both = _slack_env(slack, config, database_url)
    code, out, _ = await _run("check", env=both, cwd=tmp_path)
    assert code == 0 and "beacon run (Socket Mode)" in out and "beacon serve (HTTP)" in out, out

    http_only = {k: v for k, v in both.items() if k != "SLACK_APP_TOKEN"}
    code, out, _ = await _run("check", env=http_only, cwd=tmp_path)
    assert code == 0 and "not set up (needs SLACK_APP_TOKEN); fine if you use the other way" in out, out

    neither = {k: v for k, v in both.items() if k not in ("SLACK_APP_TOKEN", "BEACON_SECRET_KEY")}
    code, out, _ = await _run("check", env=neither, cwd=tmp_path)
    assert code == 1 and "needs SLACK_APP_TOKEN, BEACON_SECRET_KEY" in out, out

    revoked = both | {"SLACK_APP_TOKEN": "xapp-1-A0-revoked"}
    code, out, _ = await _run("check", env=revoked, cwd=tmp_path)
    assert code == 1 and "Slack refused SLACK_APP_TOKEN (invalid_auth)" in out, out


async def test_serve_answers_slack_and_stops_cleanly_on_sigterm(slack: LocalSlack, tmp_path: Path,
                                                               database_url: str) -> None:
    config = _write_config(tmp_path / "beacon.yaml", slack)
    port = _free_port()
    async with beacon_process("serve", "--port", str(port), env=_slack_env(slack, config, database_url),
                               cwd=tmp_path) as process:
        health = await wait_healthy(port)
        assert health["scheduler"] == "running"
        slack.app_url = f"http://127.0.0.1:{port}/slack/events"
        alice = slack.person(ALICE)

        reply = await alice.command("/beacon")
        assert reply.status == 200
        await _eventually(lambda: alice.ephemerals())

        # A slow Slack: the home tab is still being published when the stop signal arrives.
        slack.faults.add("views.publish", delay=1.5)
        await alice.open_home()
        await asyncio.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
        err = (await process.stderr.read()).decode()  # type: ignore[union-attr]

    assert code == 0, err
    assert alice.home is not None, "the in-flight handler finished before Beacon exited"
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["msg"] == "slack request"]
    command = next(r for r in requests if r["request_type"] == "command /beacon")
    assert command["user"] == ALICE and command["outcome"] == "ok" and command["latency_ms"] < 3000
    assert slack.workspace.bot_token not in err and slack.workspace.signing_secret not in err


async def test_run_over_socket_mode_end_to_end(slack: LocalSlack, tmp_path: Path, database_url: str) -> None:
    config = _write_config(tmp_path / "beacon.yaml", slack)
    slack.app_url = None
    async with beacon_process("run", env=_slack_env(slack, config, database_url), cwd=tmp_path) as process:
        await asyncio.wait_for(slack.hub.connected.wait(), 30)
        alice = slack.person(ALICE)
        reply = await alice.command("/beacon", "help")
        assert reply.status == 200
        await _eventually(lambda: alice.ephemerals())
        process.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(process.wait(), 30)
    assert code == 0
    assert "<@U0ALICE>" in json.dumps(alice.last_ephemeral().blocks)


@pytest.mark.parametrize("mode", ["run", "serve"])
async def test_a_token_slack_refuses_stops_start_up_with_a_clear_message(
        mode: str, slack: LocalSlack, tmp_path: Path, database_url: str) -> None:
    config = _write_config(tmp_path / "beacon.yaml", slack)
    env = _slack_env(slack, config, database_url) | {"SLACK_BOT_TOKEN": "xoxb-revoked"}
    code, _, err = await _run(mode, "--port", str(_free_port()), env=env, cwd=tmp_path) if mode == "serve" else (
        await _run(mode, env=env, cwd=tmp_path))
    assert code == 2
    assert "SLACK_BOT_TOKEN: Slack refused it (invalid_auth)" in err
    assert "Traceback" not in err


async def test_check_covers_staff_group_channels_and_the_visit_coordinators_channel(
        slack: LocalSlack, tmp_path: Path, database_url: str) -> None:
    ws = slack.workspace
    ws.add_channel("C0CONTROL", "control-room", members={ALICE}, bot_is_member=False)
    config = _write_config(tmp_path / "beacon.yaml", slack)
    data = yaml.safe_load(config.read_text())
    data["staff_groups"] = [{"name": "Control room", "channel": "C0CONTROL"}]
    data["calendar"] = {"coordinator_channel": "C0NOWHERE"}
    config.write_text(yaml.safe_dump(data))
    code, out, _ = await _run("check", env=_slack_env(slack, config, database_url), cwd=tmp_path)
    assert code == 1
    assert "staff_groups: Control room (C0CONTROL)" in out and "Beacon is not in #control-room" in out
    assert "calendar.coordinator_channel (C0NOWHERE)" in out and "channel_not_found" in out

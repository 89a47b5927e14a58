"""The first day in production: each failure IT will meet is one message, the right exit code, and a prompt stop.

Every test runs `beacon` as a process, as systemd would, against local endpoints only: the local Slack, a TLS
endpoint whose certificate nobody trusts, a listener that accepts and never answers, a name under `.invalid`
(RFC 2606: it never resolves), a port nobody listens on. Exit 1 means "worth a restart", exit 2 "fix the
configuration" (README "Exit codes"; deploy/*.service have RestartPreventExitStatus=2).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy.engine.url import make_url

from beacon.bot.listening import listen
from beacon.bot.local_slack import LocalSlack
from tests.fakes.tls import make_certificates
from tests.harness import ALICE
from tests.processes import beacon_process, clean_env, free_port, run_beacon, slack_env, write_config

STOP_WITHIN = 5.0  # seconds: what "SIGTERM stops Beacon within seconds" means here


def _args(command: str) -> list[str]:
    return ["serve", "--port", str(free_port())] if command == "serve" else [command]


def _one_message(err: str) -> None:
    """No traceback, and what is printed for a person (the log's JSON lines aside) is one short message."""
    assert "Traceback" not in err, err
    printed = [line for line in err.splitlines() if line.strip() and not line.startswith("{")]
    assert 1 <= len(printed) <= 3, err


class SilentHost:
    """Accepts connections and never answers: a firewall that swallows traffic, a proxy that hangs."""

    def __init__(self) -> None:
        self.accepted = asyncio.Event()
        self._held: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> SilentHost:
        async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self._held.append(writer)
            self.accepted.set()

        self._server = await asyncio.start_server(hold, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        for writer in self._held:
            writer.close()
        assert self._server is not None
        self._server.close()


@pytest.fixture
async def untrusted_tls(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    """An HTTPS 'Slack' whose certificate comes from a CA the system does not trust (a TLS-inspecting proxy).
    It answers every method with invalid_auth, so getting that far proves the certificate was accepted."""
    certificates = make_certificates(tmp_path)
    app = web.Application()
    app.router.add_route("*", "/api/{method}", lambda _: web.json_response({"ok": False, "error": "invalid_auth"}))
    runner, port = await listen(app, "127.0.0.1", 0, ssl_context=certificates.server_context())
    try:
        yield f"https://127.0.0.1:{port}/api/", certificates.ca_file
    finally:
        await runner.cleanup()


def _env(slack: LocalSlack, tmp_path: Path, database_url: str, **values: str) -> dict[str, str]:
    config = write_config(tmp_path / "beacon.yaml")
    return slack_env(slack, config, database_url) | values


# ---- Slack refuses a token -------------------------------------------------------------------------------------

async def test_a_refused_app_token_is_one_message_and_exit_2(slack: LocalSlack, tmp_path: Path,
                                                             database_url: str) -> None:
    env = _env(slack, tmp_path, database_url, SLACK_APP_TOKEN="xapp-1-revoked")
    code, _, err = await run_beacon("run", env=env, cwd=tmp_path)
    assert code == 2, err
    assert "SLACK_APP_TOKEN: Slack refused it (invalid_auth)" in err
    assert "Failed to retrieve WSS URL" not in err
    assert "Traceback" not in err


# ---- Slack cannot be reached -----------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["check", "run", "serve"])
async def test_a_name_that_does_not_resolve(command: str, slack: LocalSlack, tmp_path: Path,
                                            database_url: str) -> None:
    env = _env(slack, tmp_path, database_url, SLACK_API_URL="https://slack.invalid/api/",
               BEACON_CONNECT_TIMEOUT="3")
    code, _, err = await run_beacon(*_args(command), env=env, cwd=tmp_path)
    assert code == 1, err
    assert "slack.invalid could not be resolved" in err and "SLACK_API_URL" in err and "HTTPS_PROXY" in err
    _one_message(err)


@pytest.mark.parametrize("command", ["check", "run", "serve"])
async def test_a_certificate_nobody_trusts(command: str, slack: LocalSlack, tmp_path: Path, database_url: str,
                                           untrusted_tls: tuple[str, Path]) -> None:
    url, _ = untrusted_tls
    env = _env(slack, tmp_path, database_url, SLACK_API_URL=url, BEACON_CONNECT_TIMEOUT="3")
    code, _, err = await run_beacon(*_args(command), env=env, cwd=tmp_path)
    assert code == 2, err
    assert "TLS certificate could not be verified" in err and "SSL_CERT_FILE" in err
    _one_message(err)


async def test_the_proxy_ca_given_in_ssl_cert_file_is_trusted(slack: LocalSlack, tmp_path: Path, database_url: str,
                                                              untrusted_tls: tuple[str, Path]) -> None:
    url, ca_file = untrusted_tls
    env = _env(slack, tmp_path, database_url, SLACK_API_URL=url, SSL_CERT_FILE=str(ca_file))
    code, out, err = await run_beacon("check", env=env, cwd=tmp_path)
    assert code == 1, err
    assert "invalid_auth: Slack refused the token" in out  # the answer came through TLS: the CA was trusted


@pytest.mark.parametrize("command", ["check", "run", "serve"])
async def test_a_host_that_never_answers_is_waited_for_a_bounded_time(command: str, slack: LocalSlack,
                                                                      tmp_path: Path, database_url: str) -> None:
    async with SilentHost() as silent:
        env = _env(slack, tmp_path, database_url, SLACK_API_URL=f"http://127.0.0.1:{silent.port}/api/",
                   BEACON_CONNECT_TIMEOUT="1")
        code, _, err = await run_beacon(*_args(command), env=env, cwd=tmp_path)
    assert code == 1, err
    assert "did not answer within 1 s (BEACON_CONNECT_TIMEOUT)" in err
    _one_message(err)


async def test_an_unreachable_proxy_is_named(slack: LocalSlack, tmp_path: Path, database_url: str) -> None:
    env = _env(slack, tmp_path, database_url, SLACK_API_URL="https://slack.invalid/api/",
               HTTPS_PROXY=f"http://127.0.0.1:{free_port()}", BEACON_CONNECT_TIMEOUT="3")
    code, _, err = await run_beacon("check", env=env, cwd=tmp_path)
    assert code == 1, err
    assert "HTTPS_PROXY" in err
    _one_message(err)


# ---- SIGTERM in every state ------------------------------------------------------------------------------------

async def _stops_promptly(process: asyncio.subprocess.Process, sig: int = signal.SIGTERM) -> str:
    process.send_signal(sig)
    try:
        await asyncio.wait_for(process.wait(), STOP_WITHIN)
    except TimeoutError:
        raise AssertionError(f"beacon did not stop within {STOP_WITHIN} s of the signal") from None
    return (await process.stderr.read()).decode()  # type: ignore[union-attr]


@pytest.mark.parametrize("command", ["run", "serve"])
async def test_sigterm_while_connecting_to_a_silent_host(command: str, slack: LocalSlack, tmp_path: Path,
                                                         database_url: str) -> None:
    async with SilentHost() as silent:
        env = _env(slack, tmp_path, database_url, SLACK_API_URL=f"http://127.0.0.1:{silent.port}/api/",
                   BEACON_CONNECT_TIMEOUT="120")
        async with beacon_process(*_args(command), env=env, cwd=tmp_path) as process:
            await asyncio.wait_for(silent.accepted.wait(), 30)
            err = await _stops_promptly(process)
    assert process.returncode == 0, err
    assert "Traceback" not in err


async def test_sigterm_while_the_socket_mode_connection_is_silent(slack: LocalSlack, tmp_path: Path,
                                                                 database_url: str) -> None:
    """apps.connections.open answers with the address of a WebSocket that never answers."""
    async with SilentHost() as silent:
        slack.api.socket_url = lambda: f"ws://127.0.0.1:{silent.port}/link/"
        env = _env(slack, tmp_path, database_url, BEACON_CONNECT_TIMEOUT="120")
        async with beacon_process("run", env=env, cwd=tmp_path) as process:
            await asyncio.wait_for(silent.accepted.wait(), 30)
            err = await _stops_promptly(process)
    assert process.returncode == 0, err


async def test_a_silent_socket_mode_endpoint_is_one_message(slack: LocalSlack, tmp_path: Path,
                                                            database_url: str) -> None:
    async with SilentHost() as silent:
        slack.api.socket_url = lambda: f"ws://127.0.0.1:{silent.port}/link/"
        env = _env(slack, tmp_path, database_url, BEACON_CONNECT_TIMEOUT="1")
        code, _, err = await run_beacon("run", env=env, cwd=tmp_path)
    assert code == 1, err
    assert "Socket Mode connection was not established within 1 s" in err and "HTTPS_PROXY" in err
    _one_message(err)


async def test_sigterm_while_reconnecting(slack: LocalSlack, tmp_path: Path, database_url: str) -> None:
    env = _env(slack, tmp_path, database_url)
    slack.app_url = None
    async with SilentHost() as silent, beacon_process("run", env=env, cwd=tmp_path) as process:
        await asyncio.wait_for(slack.hub.connected.wait(), 30)
        # Slack drops the connection, and the next connection's address leads to a host that never answers.
        slack.api.socket_url = lambda: f"ws://127.0.0.1:{silent.port}/link/"
        for socket_ in list(slack.hub._sockets):
            await socket_.close()
        await asyncio.wait_for(silent.accepted.wait(), 30)
        err = await _stops_promptly(process)
    assert process.returncode == 0, err


async def test_a_second_sigterm_ends_the_drain(slack: LocalSlack, tmp_path: Path, database_url: str) -> None:
    env = _env(slack, tmp_path, database_url)
    slack.app_url = None
    async with beacon_process("run", env=env, cwd=tmp_path) as process:
        await asyncio.wait_for(slack.hub.connected.wait(), 30)
        slack.faults.add("views.publish", delay=300)  # a listener that will not finish within the grace period
        await slack.person(ALICE).open_home()
        await asyncio.sleep(1)  # the listener is now waiting for views.publish
        process.send_signal(signal.SIGTERM)  # the drain begins: it would wait up to 20 s
        await asyncio.sleep(0.5)
        assert process.returncode is None, "the first SIGTERM drains rather than ending at once"
        err = await _stops_promptly(process)
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(line["msg"] == "waiting for in-flight work" for line in lines), err
    assert any(line["msg"] == "stopping now" for line in lines), err


# ---- The database ----------------------------------------------------------------------------------------------

def _postgres() -> str:
    url = os.environ.get("BEACON_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: set BEACON_TEST_DATABASE_URL=postgresql+asyncpg://...")
    return url


async def test_an_sqlite_file_that_cannot_be_opened(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'no-such-folder' / 'beacon.db'}"
    code, _, err = await run_beacon("db", "upgrade", env=clean_env(DATABASE_URL=url), cwd=tmp_path)
    assert code == 2, err
    assert "DATABASE_URL: the SQLite database" in err and "cannot be opened" in err and "folder exists" in err
    _one_message(err)


async def test_an_unreachable_postgresql_exits_1_and_never_shows_the_password(tmp_path: Path) -> None:
    url = f"postgresql://beacon:s3cret-Pa55@127.0.0.1:{free_port()}/beacon"
    code, _, err = await run_beacon("db", "upgrade", env=clean_env(DATABASE_URL=url), cwd=tmp_path)
    assert code == 1, err
    assert "DATABASE_URL: PostgreSQL at 127.0.0.1" in err and "could not be reached" in err
    assert "s3cret-Pa55" not in err
    _one_message(err)


async def test_a_database_url_of_another_kind_is_named(tmp_path: Path) -> None:
    env = clean_env(DATABASE_URL="mysql://beacon:s3cret-Pa55@db.invalid/beacon")
    code, _, err = await run_beacon("db", "upgrade", env=env, cwd=tmp_path)
    assert code == 2, err
    assert "DATABASE_URL: mysql://... is not a database Beacon can use" in err
    assert "s3cret-Pa55" not in err
    _one_message(err)


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
async def test_postgres_urls_as_other_tools_write_them_are_accepted(scheme: str, tmp_path: Path) -> None:
    url = make_url(_postgres()).set(drivername=scheme).render_as_string(hide_password=False)
    code, out, err = await run_beacon("db", "upgrade", env=clean_env(DATABASE_URL=url), cwd=tmp_path)
    assert code == 0, err
    assert "up to date" in out


@pytest.mark.parametrize("missing", ["database", "role"])
async def test_a_postgresql_database_or_role_that_does_not_exist(missing: str, tmp_path: Path) -> None:
    url = make_url(_postgres())
    url = url.set(database="beacon_nobody_made") if missing == "database" else url.set(username="nobody_made")
    code, _, err = await run_beacon("db", "upgrade", env=clean_env(
        DATABASE_URL=url.render_as_string(hide_password=False)), cwd=tmp_path)
    assert code == 2, err
    assert "DATABASE_URL: PostgreSQL at" in err
    assert ("no database 'beacon_nobody_made'" in err) if missing == "database" else ("'nobody_made'" in err)
    _one_message(err)


# ---- systemd ---------------------------------------------------------------------------------------------------

DEPLOY = Path(__file__).parent.parent / "deploy"


@pytest.mark.parametrize("unit", ["beacon.service", "beacon-serve@.service"])
def test_the_units_restart_on_a_blip_and_not_on_a_configuration_mistake(unit: str) -> None:
    text = (DEPLOY / unit).read_text()
    assert "Restart=on-failure" in text
    assert "RestartPreventExitStatus=2" in text


@pytest.mark.parametrize("unit", ["beacon.service", "beacon-serve@.service"])
def test_the_units_pass_systemd_analyze_verify(unit: str, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed on this machine")
    name = unit.replace("@.service", "@3000.service")
    # The unit as installed: its ExecStart must exist; this machine has no /opt/beacon, so point it at the venv.
    beacon = Path(sys.executable).parent / "beacon"
    (tmp_path / name).write_text((DEPLOY / unit).read_text().replace("/opt/beacon/.venv/bin/beacon", str(beacon)))
    command = [analyze, "verify", str(tmp_path / name)]  # the systemd-analyze on PATH, on our own file
    result = subprocess.run(command, capture_output=True, text=True,  # noqa: S603
                            env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"}, timeout=60, check=False)
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if name in line or unit in line]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr


# ---- The command line ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["run"], ["serve"], ["check"], ["db", "upgrade"], ["calendar", "sync"],
                                     ["digest"], ["privacy", "export"], ["audit"], ["sandbox"], ["reload"]])
async def test_every_command_describes_itself(command: list[str], tmp_path: Path) -> None:
    code, out, _ = await run_beacon(*command, "--help", env=clean_env(), cwd=tmp_path)
    assert code == 0
    _, _, rest = out.partition("\n\n")
    description = rest.split("\n\n")[0]
    assert description and not description.startswith(("positional", "options")), out


async def test_a_port_out_of_range_is_one_message(tmp_path: Path) -> None:
    code, _, err = await run_beacon("sandbox", "--port", "99999", env=clean_env(), cwd=tmp_path)
    assert code == 2
    assert "99999 is not a port number (1 to 65535)" in err
    _one_message(err)


async def test_an_unknown_host_is_not_blamed_on_another_sandbox(tmp_path: Path) -> None:
    code, out, err = await run_beacon("sandbox", "--host", "nowhere.invalid", "--port", str(free_port()),
                                      env=clean_env(), cwd=tmp_path)
    assert code == 2
    assert "nowhere.invalid" in out and "another sandbox" not in out
    assert "Traceback" not in err


async def test_reload_with_a_bad_file_says_the_running_beacon_keeps_its_own(tmp_path: Path,
                                                                          database_url: str) -> None:
    config = tmp_path / "beacon.yaml"
    config.write_text("channels: [not, a, mapping]\n")
    code, _, err = await run_beacon("reload", "--pid", "1", env=clean_env(
        BEACON_CONFIG=str(config), DATABASE_URL=database_url), cwd=tmp_path)
    assert code == 2
    assert "Beacon cannot start" not in err
    assert "the running Beacon keeps the file it has" in err


async def test_start_up_is_quiet(slack: LocalSlack, tmp_path: Path, database_url: str) -> None:
    """No warning about the token Bolt would not use, no line per scheduled job."""
    env = _env(slack, tmp_path, database_url)
    port = free_port()
    async with beacon_process("serve", "--port", str(port), env=env, cwd=tmp_path) as process:
        from tests.processes import wait_healthy

        await wait_healthy(port)
        err = await _stops_promptly(process)
    assert "will be unused" not in err
    assert "Adding job" not in err


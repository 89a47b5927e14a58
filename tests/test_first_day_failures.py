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
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from aiohttp import web
from sqlalchemy.engine.url import make_url

from beacon.bot.db import MIGRATION_LOCK_ID
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


@pytest.mark.parametrize("unit", ["beacon.service", "beacon-serve@.service", "beacon-worker@.service"])
def test_the_units_restart_on_a_blip_and_not_on_a_configuration_mistake(unit: str) -> None:
    text = (DEPLOY / unit).read_text()
    assert "Restart=on-failure" in text
    assert "RestartPreventExitStatus=2" in text


@pytest.mark.parametrize("unit", ["beacon.service", "beacon-serve@.service", "beacon-worker@.service"])
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



# ---- Review: the advisory lock, listening addresses, interrupted commands, the PID file, a later refusal ----------

async def _until_logged(process: asyncio.subprocess.Process, message: str, seconds: float = 30) -> None:
    """Read the process's log until a line with this `msg` (JSON) appears."""
    assert process.stderr is not None
    async with asyncio.timeout(seconds):
        while line := await process.stderr.readline():
            if line.startswith(b"{") and json.loads(line).get("msg") == message:
                return
    raise AssertionError(f"beacon ended without logging {message!r}")


@asynccontextmanager
async def _another_replica_migrating(url: str) -> AsyncIterator[asyncpg.Connection]:
    """Holds the migration lock, as a replica in the middle of a migration does."""
    holder = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
        yield holder
    finally:
        await holder.close()


WAITING = "waiting for another replica's migration to finish"


@pytest.mark.parametrize("command", ["db upgrade", "serve"])
async def test_sigterm_while_waiting_for_another_replicas_migration(command: str, slack: LocalSlack,
                                                                    tmp_path: Path) -> None:
    url = _postgres()
    env = _env(slack, tmp_path, url)
    args = command.split() if command != "serve" else _args("serve")
    async with _another_replica_migrating(url), beacon_process(*args, env=env, cwd=tmp_path) as process:
        await _until_logged(process, WAITING)
        err = await _stops_promptly(process)
    assert process.returncode == (143 if command == "db upgrade" else 0), err
    assert "Traceback" not in err


async def test_a_migration_waits_for_another_replicas_and_then_runs(tmp_path: Path) -> None:
    url = _postgres()
    async with _another_replica_migrating(url) as holder, beacon_process(
            "db", "upgrade", env=clean_env(DATABASE_URL=url), cwd=tmp_path) as process:
        await _until_logged(process, WAITING)
        await holder.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_ID)
        assert await asyncio.wait_for(process.wait(), 30) == 0


class _TakenPort:
    def __enter__(self) -> int:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen()
        return int(self._socket.getsockname()[1])

    def __exit__(self, *_: object) -> None:
        self._socket.close()


@pytest.mark.parametrize("case", ["serve --port", "BEACON_METRICS_PORT", "serve --host"])
async def test_an_address_that_cannot_be_listened_on_is_one_message(case: str, slack: LocalSlack, tmp_path: Path,
                                                                   database_url: str) -> None:
    with _TakenPort() as taken:
        env = _env(slack, tmp_path, database_url)
        if case == "serve --port":
            args, setting = ["serve", "--port", str(taken)], "--port"
        elif case == "serve --host":
            args, setting = ["serve", "--host", "nowhere.invalid", "--port", str(free_port())], "--host"
        else:
            args, setting = ["run"], "BEACON_METRICS_PORT"
            env["BEACON_METRICS_PORT"] = str(taken)
        code, _, err = await run_beacon(*args, env=env, cwd=tmp_path)
    assert code == 2, err
    assert f"{setting}: Beacon could not listen on" in err, err
    assert ("nowhere.invalid" in err) if setting == "--host" else ("the port is in use" in err), err
    _one_message(err)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
async def test_an_interrupted_check_does_not_exit_0(sig: int, code: int, slack: LocalSlack, tmp_path: Path,
                                                   database_url: str) -> None:
    """`beacon check && deploy` must not deploy after a check that never finished."""
    async with SilentHost() as silent:
        env = _env(slack, tmp_path, database_url, SLACK_API_URL=f"http://127.0.0.1:{silent.port}/api/",
                   BEACON_CONNECT_TIMEOUT="120")
        async with beacon_process("check", env=env, cwd=tmp_path) as process:
            await asyncio.wait_for(silent.accepted.wait(), 30)
            err = await _stops_promptly(process, sig)
    assert process.returncode == code, err
    assert "Traceback" not in err


async def test_a_pid_file_in_a_missing_folder_is_reported_before_starting(slack: LocalSlack, tmp_path: Path,
                                                                          database_url: str) -> None:
    env = _env(slack, tmp_path, database_url, BEACON_PID_FILE=str(tmp_path / "nonexistent" / "dir" / "pid"))
    code, _, err = await run_beacon("run", env=env, cwd=tmp_path)
    assert code == 2, err
    assert "BEACON_PID_FILE: the folder" in err and "does not exist" in err
    assert "connected to Slack" not in err  # found with the rest of the configuration, before anything started
    _one_message(err)


async def test_an_app_token_refused_on_a_reconnection_says_so(slack: LocalSlack, tmp_path: Path,
                                                             database_url: str) -> None:
    env = _env(slack, tmp_path, database_url)
    slack.app_url = None
    async with beacon_process("run", env=env, cwd=tmp_path) as process:
        await asyncio.wait_for(slack.hub.connected.wait(), 30)
        slack.workspace.app_token = "xapp-1-local-revoked"  # the token Beacon holds is revoked ...
        for socket_ in list(slack.hub._sockets):  # ... and Slack drops the connection, so Beacon reconnects
            await socket_.close()
        code = await asyncio.wait_for(process.wait(), 30)
        err = (await process.stderr.read()).decode()  # type: ignore[union-attr]
    assert code == 2, err
    assert "Slack refused the app token while Beacon was running" in err
    assert "SLACK_APP_TOKEN: Slack refused it (invalid_auth)" in err
    assert "cannot start" not in err
    _one_message(err)

"""The `beacon` command: run (Socket Mode), serve (HTTP), db upgrade, check."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import getpass
import json
import logging
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlmodel import col

from beacon.bot import __version__
from beacon.bot.blocks import visibility as visibility_blocks
from beacon.bot.blocks.notices import render
from beacon.bot.blocks.terminal import render_text
from beacon.bot.check import check_ways_to_run, format_table, run_checks
from beacon.bot.config_errors import ConfigError
from beacon.bot.content import check_organisation, load_content
from beacon.bot.db import Database
from beacon.bot.deps import build_slack_client
from beacon.bot.errors import InvalidInput
from beacon.bot.http_server import build_web_app
from beacon.bot.listening import cannot_listen, listen, next_port
from beacon.bot.logs import configure_logging
from beacon.bot.models import CalendarSource, OutboxMessage, OutboxStatus
from beacon.bot.organisation import Organisation, load_organisation
from beacon.bot.reachability import Unreachable, explain_slack, is_refusal, refused_token
from beacon.bot.reload import reload_organisation
from beacon.bot.runtime import Runtime, prepare_database, running
from beacon.bot.services import visibility
from beacon.bot.services.digests import DIGEST_POST, PERSONAL_DIGEST
from beacon.bot.services.recurrence import to_utc
from beacon.bot.settings import Mode, Settings, load_settings
from beacon.bot.socket_mode import LoggedSocketModeHandler
from beacon.bot.templates import Template
from beacon.bot.worker import Worker

# Exit codes (README "Exit codes"): 1 when a later try may succeed (Slack or the database briefly unreachable, a
# check that failed), so systemd restarts Beacon; 2 when only a person can fix it (configuration, a refused token,
# an untrusted certificate, a missing database), so the units' RestartPreventExitStatus=2 leaves it stopped.
EXIT_UNREACHABLE = Unreachable.exit_code
EXIT_CONFIG = 2
EXIT_USAGE = 2  # as argparse exits for a word it cannot read
BOT_REFUSAL_ADVICE = "copy the Bot User OAuth Token again (Slack app > OAuth & Permissions)"
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
log = logging.getLogger("beacon.cli")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="beacon",
        description="Beacon: leader visibility and staff recognition in Slack.",
        epilog="Configuration comes from the environment (or .env) and the organisation file "
               "(BEACON_CONFIG, default ./beacon.yaml). See README.md.",
    )
    parser.add_argument("--version", action="version", version=f"beacon {__version__}")
    commands = _Commands(parser.add_subparsers(dest="command", metavar="COMMAND"))
    commands.add_parser("run", help="connect to Slack over Socket Mode (the default; no public URL needed)",
                        description="Connect to Slack over Socket Mode and serve until stopped (SIGTERM or "
                                    "Ctrl-C). Needs SLACK_BOT_TOKEN, SLACK_APP_TOKEN and BEACON_SECRET_KEY; brings "
                                    "the database schema up to date first. Exit 1: Slack or the database could "
                                    "not be reached (worth a restart); exit 2: configuration to fix.")
    serve = commands.add_parser("serve", help="serve Slack's requests over HTTP at POST /slack/events",
                                description="Serve Slack's requests over HTTP at POST /slack/events (and GET "
                                            "/healthz, /metrics) until stopped. Needs SLACK_BOT_TOKEN, "
                                            "SLACK_SIGNING_SECRET and BEACON_SECRET_KEY. Exit codes as for run.")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=3000, help="port to listen on (default 3000)")
    worker = commands.add_parser("worker", help="run the heavy work (exports, insight, calendar syncs, digests) "
                                                "that run and serve queue",
                        description="Claim and run the heavy work that `beacon run` and `beacon serve` queue in the "
                                    "database, until stopped; the job under way is finished first. run and serve "
                                    "start BEACON_WORKERS of these themselves (default 1); run it as units of its "
                                    "own, on any number of machines sharing one PostgreSQL database, with "
                                    "BEACON_WORKERS=0. Needs SLACK_BOT_TOKEN and BEACON_SECRET_KEY.")
    worker.add_argument("--parent", type=int, help="stop when this process ends (how run and serve start theirs)")
    db = commands.add_parser("db", help="database maintenance")
    db_commands = _Commands(db.add_subparsers(dest="db_command", metavar="DB_COMMAND", required=True))
    db_commands.add_parser("upgrade", help="bring the database schema up to date (also done at start-up)",
                           description="Bring the database at DATABASE_URL up to date with this version of "
                                       "Beacon (run and serve also do this at every start). Safe to repeat.")
    commands.add_parser("check", help="check configuration, the Slack token, channels and roles; "
                                      "exit 1 when anything is wrong",
                        description="Check the configuration, that Slack accepts SLACK_BOT_TOKEN, and that Beacon "
                                    "can post in every channel and find every role holder in beacon.yaml. Prints "
                                    "one line a check. Exit 0 all well, 1 a check failed or Slack could not be "
                                    "reached, 2 configuration to fix.")
    calendar = commands.add_parser("calendar", help="the leader engagement calendar")
    calendar_commands = _Commands(calendar.add_subparsers(dest="calendar_command", metavar="CALENDAR_COMMAND",
                                                          required=True))
    calendar_commands.add_parser("sync", help="read every calendar source now and report what changed")
    digest = commands.add_parser("digest", help="the weekly digest: print the next one, or send one now")
    what = digest.add_mutually_exclusive_group(required=True)
    what.add_argument("--preview", action="store_true", help="print the next digest as text, as it stands now")
    what.add_argument("--send", action="store_true", help="send this week's digest to the digest channels now "
                                                          "(the scheduled one still goes as usual)")
    privacy = commands.add_parser("privacy", help="UK GDPR: a person's data, erasure, retention")
    privacy_commands = _Commands(privacy.add_subparsers(dest="privacy_command", metavar="PRIVACY_COMMAND",
                                                        required=True))
    export = privacy_commands.add_parser("export", help="everything Beacon holds about a person, as JSON")
    export.add_argument("user_id", help="their Slack user ID, e.g. U0123ABCDEF")
    export.add_argument("--output", "-o", help="write to this file instead of standard output")
    erase = privacy_commands.add_parser("erase", help="forget a person: their ID becomes a random code, their "
                                                      "words are removed, counts stay right")
    erase.add_argument("user_id", help="their Slack user ID, e.g. U0123ABCDEF")
    erase.add_argument("--yes", action="store_true", help="confirm; without it, nothing is changed")
    retention = privacy_commands.add_parser("retention", help="remove what is older than `retention:` allows "
                                                              "(also done daily)")
    retention.add_argument("--dry-run", action="store_true", help="only report what would be removed")
    report = commands.add_parser("report", help="reports for the board")
    report_commands = _Commands(report.add_subparsers(dest="report_command", metavar="REPORT_COMMAND", required=True))
    visibility = report_commands.add_parser(
        "visibility", help="where leaders have been: engagements by leader, site, area and kind, and the sites no "
                           "leader visited")
    visibility.add_argument("--from", dest="first", type=_day, help="first day (YYYY-MM-DD, trust time); with --to")
    visibility.add_argument("--to", dest="last", type=_day, help="last day, included (YYYY-MM-DD)")
    visibility.add_argument("--period", default="month",
                            help="month (so far, the default), 'last month', quarter (financial: April to June is "
                                 "Q1), 'last quarter' or year, when --from and --to are not given")
    visibility.add_argument("--csv", action="store_true", help="print CSV (every row) instead of text")
    visibility.add_argument("--png", metavar="FILE", help="also write the chart (by area) to this PNG file")
    audit = commands.add_parser("audit", help="read or verify the audit log of privileged actions")
    audit.add_argument("--since", type=_day, help="from this day (YYYY-MM-DD, trust time); default: 30 days ago")
    audit.add_argument("--until", type=_day, help="up to the start of this day (YYYY-MM-DD)")
    audit.add_argument("--actor", help="only this person's actions (a Slack user ID)")
    audit.add_argument("--json", action="store_true", help="one JSON object a line instead of a table")
    audit.add_argument("--verify", action="store_true", help="check that no entry was changed or removed")
    sandbox = commands.add_parser("sandbox", help="try Beacon in a browser: a local demo workspace, no Slack needed")
    sandbox.add_argument("--host", default="127.0.0.1", help="address to serve the page on (default 127.0.0.1)")
    sandbox.add_argument("--port", type=_port, default=8000, help="port to serve the page on (default 8000)")
    sandbox.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                         help="how much Beacon logs while the sandbox runs (default WARNING)")
    reload = commands.add_parser("reload", help="check the organisation file and tell the running Beacon to "
                                                "apply it (roles, channels and sites; no restart)")
    reload.add_argument("--pid", type=int, help="the running process (default: the number in BEACON_PID_FILE)")
    return parser


class _Commands:
    """Subcommands whose --help opens with what the command does (its one-line help, unless given more)."""

    def __init__(self, actions: Any):
        self._actions = actions

    def add_parser(self, name: str, *, help: str, **options: Any) -> argparse.ArgumentParser:
        options.setdefault("description", help[:1].upper() + help[1:] + ".")
        parser: argparse.ArgumentParser = self._actions.add_parser(name, help=help, **options)
        return parser


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1 to 65535)")
    return port


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day such as 2026-11-23") from None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    if command == "sandbox":  # needs no configuration: it makes its own workspace, database and trust
        from beacon.bot.sandbox.server import serve as serve_sandbox

        configure_logging(args.log_level)
        return asyncio.run(_with_signals(
            lambda life: serve_sandbox(host=args.host, port=args.port, stop=life.stop,
                                       ready=lambda: setattr(life, "serving", True)),
            service=True))
    try:
        settings = load_settings()
    except ConfigError as error:
        print(error.report(), file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log_level)
    try:
        if command == "db":
            settings.require(Mode.DATABASE)  # no secret needed, but an invalid value is still reported
            return asyncio.run(_with_signals(lambda _: _db_upgrade(settings)))
        mode = {"run": Mode.SOCKET, "serve": Mode.HTTP, "check": Mode.CHECK, "calendar": Mode.CHECK,
                "digest": Mode.CHECK, "privacy": Mode.ADMIN, "audit": Mode.ADMIN, "reload": Mode.DATABASE,
                "report": Mode.DATABASE,
                "worker": Mode.WORKER}[command]
        try:
            organisation = _load_everything(settings, mode)
        except ConfigError as error:
            if command == "reload":  # the running Beacon is not affected: say so, rather than "cannot start"
                print(f"{settings.beacon_config} was not applied; the running Beacon keeps the file it has:",
                      file=sys.stderr)
                print("\n".join(f"  - {problem}" for problem in error.problems), file=sys.stderr)
                return EXIT_CONFIG
            raise
        if command == "reload":
            return _signal_reload(settings, args.pid)
        runners: dict[str, Callable[[_Lifecycle], Coroutine[Any, Any, int]]] = {
            "check": lambda _: _check(settings, organisation),
            "calendar": lambda _: _calendar_sync(settings, organisation),
            "digest": lambda _: _digest(settings, organisation, send=args.send),
            "privacy": lambda _: _privacy(settings, organisation, args),
            "audit": lambda _: _audit(settings, organisation, args),
            "report": lambda _: _report_visibility(settings, organisation, args),
            "serve": lambda life: _serve(settings, organisation, args.host, args.port, life),
            "run": lambda life: _run_socket(settings, organisation, life),
            "worker": lambda life: _worker(settings, organisation, life, parent=args.parent),
        }
        return asyncio.run(_with_signals(runners[command], service=command in SERVICES))
    except ConfigError as error:
        print(error.report(), file=sys.stderr)
        return EXIT_CONFIG
    except Unreachable as error:
        print(f"Beacon could not start: {error}", file=sys.stderr)
        return EXIT_UNREACHABLE


def _load_everything(settings: Settings, mode: Mode) -> Organisation:
    """Every configuration problem at once, not one per attempt."""
    problems: list[str] = []
    content = organisation = None
    try:
        settings.require(mode)
    except ConfigError as error:
        problems += error.problems
    try:
        content = load_content(settings.beacon_content)
    except ConfigError as error:
        problems += error.problems
    try:
        organisation = load_organisation(settings.beacon_config)
    except ConfigError as error:
        problems += error.problems
    if content is not None and organisation is not None:
        problems += check_organisation(content, organisation)
    if organisation is not None and any(s.type == "graph" for s in organisation.calendar.sources):
        problems += settings.missing_for_graph()
    if mode in (Mode.SOCKET, Mode.HTTP):
        problems += settings.pid_file_problems()
    if problems or organisation is None:
        raise ConfigError(problems)
    return organisation


class _Lifecycle:
    """What SIGTERM and SIGINT do. Once Beacon serves, the first asks for a graceful stop (`stop`): no new work,
    in-flight work drains. Before that (connecting, migrating, an admin command) or a second time (draining), the
    signal ends the work at once: nothing is waited for that could take longer than a few seconds."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.serving = False
        self.interrupted: int | None = None  # the signal that ended the work at once


# The services stop on a signal as systemd asks them to, so they exit 0 whenever it comes. A one-off command
# interrupted has not done its work, so it exits as the shell reports a signal (128 + its number: 130 for SIGINT,
# 143 for SIGTERM), and `beacon check && deploy` does not go ahead.
SERVICES = frozenset({"run", "serve", "sandbox", "worker"})


async def _with_signals(body: Callable[[_Lifecycle], Coroutine[Any, Any, int]], *, service: bool = False) -> int:
    life = _Lifecycle()
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None

    def on_signal(sig: signal.Signals) -> None:
        if life.serving and not life.stop.is_set():
            life.stop.set()
            return
        if life.interrupted is None:
            log.warning("stopping now" if life.serving else
                        "stopped before Beacon was ready" if service else "interrupted: the command did not finish")
            life.interrupted = sig
        task.cancel()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        return await body(life)
    except asyncio.CancelledError:
        if life.interrupted is None:
            raise
        return 0 if service else 128 + life.interrupted
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def _db_upgrade(settings: Settings) -> int:
    db = Database(settings.database_url, connect_timeout=settings.beacon_connect_timeout)
    try:
        await prepare_database(db, settings.beacon_connect_timeout)
    finally:
        await db.dispose()
    print("Database schema is up to date.")
    return 0


async def _signed_in(settings: Settings) -> dict[str, Any]:
    """auth.test, before anything starts: a refused or unreachable Slack stops Beacon with one clear line."""
    timeout = settings.beacon_connect_timeout
    client = build_slack_client(settings, retries=False)
    try:
        async with asyncio.timeout(timeout):
            return dict((await client.auth_test()).data)  # type: ignore[arg-type]
    except SlackApiError as error:
        if is_refusal(error):
            raise refused_token("SLACK_BOT_TOKEN", error, BOT_REFUSAL_ADVICE) from None
        raise explain_slack(error, url=settings.slack_api_url, timeout=timeout) or error from None
    except Exception as error:
        raise explain_slack(error, url=settings.slack_api_url, timeout=timeout) or error from None


@asynccontextmanager
async def _serving(settings: Settings, organisation: Organisation) -> AsyncIterator[Runtime]:
    auth = await _signed_in(settings)
    async with running(settings, organisation, workers=settings.beacon_workers) as runtime:
        gc.freeze()  # what start-up made lives as long as the process: later collections need not walk it
        log.info("connected to Slack", extra={"team": auth.get("team"), "bot_user": auth.get("user_id")})
        _reload_on_sighup(runtime)
        if settings.beacon_pid_file:
            await asyncio.to_thread(settings.beacon_pid_file.write_text, f"{os.getpid()}\n")
        yield runtime


def _reload_on_sighup(runtime: Runtime) -> None:
    """SIGHUP (`beacon reload`, `systemctl reload beacon`) re-reads the organisation file without a restart."""
    reloading: set[asyncio.Task[Any]] = set()

    def reload() -> None:
        task = asyncio.get_running_loop().create_task(reload_organisation(runtime.deps))
        reloading.add(task)
        task.add_done_callback(reloading.discard)

    asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload)


async def _serve(settings: Settings, organisation: Organisation, host: str, port: int, life: _Lifecycle) -> int:
    async with _serving(settings, organisation) as runtime:
        try:
            runner, _ = await listen(build_web_app(runtime), host, port, handle_signals=False)
        except OSError as problem:
            raise cannot_listen(problem, host, port, host_setting="--host", port_setting="--port",
                                other_port=f"beacon serve --port {next_port(port)}") from None
        try:
            log.info("serving Slack requests", extra={"url": f"http://{host}:{port}/slack/events"})
            life.serving = True
            await life.stop.wait()
            log.info("stopping: no new requests are taken")
        finally:
            await runner.cleanup()
    return 0


WORKER_NICENESS = 10  # a worker child runs below its serving parent: a click never waits for an export's CPU


async def _worker(settings: Settings, organisation: Organisation, life: _Lifecycle, *, parent: int | None) -> int:
    async with running(settings, organisation, serve=False) as runtime:
        worker = Worker(runtime.deps)
        gc.freeze()
        life.serving = True  # the first stop signal lets the job under way finish
        if parent is None:
            await worker.run_forever(life.stop)
        else:  # a child of run/serve: it yields the CPU to its parent, and a parent killed (-9) must not leave it
            os.nice(WORKER_NICENESS)
            async with asyncio.TaskGroup() as group:
                group.create_task(worker.run_forever(life.stop))
                while not life.stop.is_set():
                    if os.getppid() != parent:
                        log.warning("the serving process has gone; the worker stops")
                        life.stop.set()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(life.stop.wait(), timeout=1)
    return 0


async def _run_socket(settings: Settings, organisation: Organisation, life: _Lifecycle) -> int:
    async with _serving(settings, organisation) as runtime:
        handler = LoggedSocketModeHandler(runtime.app, settings.secret("slack_app_token"))
        try:
            await handler.open(seconds=settings.beacon_connect_timeout)
            log.info("connected over Socket Mode")
            life.serving = True
            stopping = asyncio.ensure_future(life.stop.wait())
            either: set[asyncio.Future[Any]] = {stopping, handler.client.refused}
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if handler.client.refused.done():  # on a reconnection, after Beacon had been serving
                raise ConfigError(handler.client.refused.result().problems,
                                  heading="Slack refused the app token while Beacon was running; Beacon has stopped")
            log.info("stopping: disconnecting from Socket Mode")
        finally:
            await handler.close_quickly()
    return 0


async def _check(settings: Settings, organisation: Organisation) -> int:
    async with running(settings, organisation, serve=False, migrate=False) as runtime:
        try:
            results = await run_checks(organisation, runtime.deps.slack)
        except Exception as error:  # Slack unreachable: one message, not a table of the same failure
            timeout = settings.beacon_connect_timeout
            failure = explain_slack(error, url=settings.slack_api_url, timeout=timeout)
            if failure is None:
                raise
            print(f"Slack could not be checked: {failure}" if isinstance(failure, Unreachable) else
                  f"Slack could not be checked: {'; '.join(failure.problems)}", file=sys.stderr)
            return EXIT_UNREACHABLE if isinstance(failure, Unreachable) else EXIT_CONFIG
        if all(r.ok for r in results):
            results += await check_ways_to_run(
                runtime.deps.slack,
                app_token=settings.slack_app_token.get_secret_value() if settings.slack_app_token else None,
                missing_for_run=settings.missing_for(Mode.SOCKET), missing_for_serve=settings.missing_for(Mode.HTTP))
    print(format_table(results), end="")
    return 0 if all(r.ok for r in results) else 1


async def _calendar_sync(settings: Settings, organisation: Organisation) -> int:
    async with running(settings, organisation, serve=False) as runtime:
        deps = runtime.deps
        reports = await deps.calendar_sync.run()
        async with deps.db.transaction() as session:
            states = {s.key: s for s in (await session.scalars(select(CalendarSource))).all()}
    failed = 0
    for reader in deps.calendar_sync.readers:
        report, state = reports.get(reader.name), states.get(reader.key)
        if report is None or (state and state.consecutive_failures):
            failed += 1
            print(f"{reader.name}: FAILED ({state.last_error if state else 'see the log'}); last good data kept")
        else:
            print(f"{reader.name}: {report.added} new, {report.changed} changed, {report.cancelled} cancelled"
                  + (f", {report.skipped} unreadable event(s) skipped" if report.skipped else "")
                  + (" (answer looked empty; last good data kept)" if report.kept else ""))
    if not deps.calendar_sync.readers:
        print("No calendar sources are configured (calendar.sources in beacon.yaml).")
    return 1 if failed else 0


async def _digest(settings: Settings, organisation: Organisation, *, send: bool) -> int:
    async with running(settings, organisation, serve=False) as runtime:
        deps = runtime.deps
        await deps.people.refresh_all()  # the names of those celebrated
        if not send:
            week = deps.digests.next_week()
            params = await deps.digests.gather(db=deps.db, week=week)
            _, blocks = render({"template": Template.WEEKLY_DIGEST, "params": params})
            where = ", ".join(organisation.channels.digest) or "no channel (channels.digest is empty)"
            print(f"The next digest goes to {where} {deps.digests.when(week.fired_at)}; as it stands now:")
            print(render_text(blocks), end="")
            return 0
        if not organisation.channels.digest:
            print("channels.digest in the organisation file is empty: there is nowhere to send the digest.",
                  file=sys.stderr)
            return 1
        started = deps.clock.now()
        sent = await deps.digests.send_now(db=deps.db)
        await deps.dispatcher.run_once()
        async with deps.db.transaction() as session:
            rows = (await session.scalars(select(OutboxMessage).where(
                col(OutboxMessage.source).in_((DIGEST_POST, PERSONAL_DIGEST)),
                col(OutboxMessage.created_at) >= started))).all()
    failed = [r for r in rows if r.status != OutboxStatus.SENT]
    for row in rows:
        if row.source == DIGEST_POST:
            print(f"{row.channel}: {'sent' if row.status == OutboxStatus.SENT else row.status}"
                  + (f" ({row.last_error})" if row.last_error else ""))
    if sent.personal:
        print(f"Personal digests: {sent.personal - sum(1 for r in failed if r.source == PERSONAL_DIGEST)} of "
              f"{sent.personal} sent.")
    if failed:
        print("Anything not sent stays queued; a running Beacon retries it.", file=sys.stderr)
    return 1 if failed else 0


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


async def _privacy(settings: Settings, organisation: Organisation, args: argparse.Namespace) -> int:
    if args.privacy_command in ("export", "erase") and not USER_ID.match(args.user_id):
        print(f"{args.user_id!r} is not a Slack user ID (they look like U0123ABCDEF: in Slack, open the person's "
              "profile, the three dots, Copy member ID).", file=sys.stderr)
        return EXIT_CONFIG
    async with running(settings, organisation, serve=False) as runtime:
        deps = runtime.deps
        if args.privacy_command == "export":
            async with deps.db.transaction() as session:
                document = await deps.privacy.export(session=session, user_id=args.user_id, actor=_actor())
            text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
            if args.output:
                await asyncio.to_thread(Path(args.output).write_text, text, encoding="utf-8")
                print(f"Written to {args.output}.", file=sys.stderr)
            else:
                print(text, end="")
            return 0
        if args.privacy_command == "erase":
            if not args.yes:
                print(f"This forgets {args.user_id} for good. Run again with --yes to go ahead.", file=sys.stderr)
                return 1
            async with deps.db.transaction() as session:
                report = await deps.privacy.erase(session=session, user_id=args.user_id, actor=_actor())
            if not report.total:
                print(f"Beacon holds nothing about {args.user_id} (nothing changed).")
                return 0
            print(f"{args.user_id} is now {report.pseudonym} in Beacon's database; nothing links the two.")
            for name, count in report.changed.items():
                print(f"  {name}: {count}")
            for channel, ts in report.slack_posts:
                print(f"  A celebration naming them is still in Slack: channel {channel}, message {ts}; delete it "
                      "there if they wish (Slack keeps its own copy of messages).")
            return 0
        async with deps.db.transaction() as session:
            plan = await deps.privacy.retention(session=session, dry_run=args.dry_run, actor=_actor())
        verb = "Would remove" if args.dry_run else "Removed"
        for name, count in plan.counts.items():
            print(f"{verb} {count} {name}")
        print("Cut-off dates: " + ", ".join(f"{k} before {v}" for k, v in plan.cutoffs.items()))
        return 0


async def _audit(settings: Settings, organisation: Organisation, args: argparse.Namespace) -> int:
    tz = organisation.tz
    async with running(settings, organisation, serve=False) as runtime:
        deps = runtime.deps
        async with deps.db.transaction() as session:
            if args.verify:
                result = await deps.audit.verify(session=session)
                if result.ok:
                    print(f"The audit log is intact: {result.checked} entries checked.")
                elif result.unverifiable:
                    print(f"The audit log cannot be fully checked: {result.problem}.")
                else:
                    print(f"The audit log has been altered: {result.problem}.")
                return 0 if result.ok else 1
            since = args.since or (deps.clock.now().astimezone(tz).date() - timedelta(days=30))
            entries = await deps.audit.entries(
                session=session, since=to_utc(datetime.combine(since, time(0, 0)), tz), actor=args.actor,
                until=to_utc(datetime.combine(args.until, time(0, 0)), tz) if args.until else None)
    for e in entries:
        if args.json:
            print(json.dumps({"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
                              "subject": e.subject, "details": e.details}, ensure_ascii=False))
        else:
            details = json.dumps(e.details, ensure_ascii=False) if e.details else ""
            print(f"{e.at.astimezone(tz):%Y-%m-%d %H:%M:%S}  {e.actor:<16} {e.action:<28} {e.subject:<24} {details}")
    if not entries and not args.json:
        print(f"No audit entries since {since:%-d %B %Y}.")
    return 0


async def _report_visibility(settings: Settings, organisation: Organisation, args: argparse.Namespace) -> int:
    """`beacon report visibility`: read only, from the database; no Slack token is needed."""
    today = datetime.now(organisation.tz).date()
    try:
        if (args.first is None) != (args.last is None):
            raise InvalidInput("Give both --from and --to, or neither (then --period says which).")
        text = f"{args.first} {args.last}" if args.first else args.period
        period = visibility.period_named(text, today=today)
    except InvalidInput as problem:
        print(f"beacon report visibility: {problem.user_message.replace('`', '')}", file=sys.stderr)
        return EXIT_USAGE
    db = Database(settings.database_url, connect_timeout=settings.beacon_connect_timeout)
    try:
        async with db.transaction() as session:
            report = await visibility.build_report(session=session, organisation=organisation, period=period,
                                                   now=datetime.now(UTC))
    finally:
        await db.dispose()
    if args.png:
        await asyncio.to_thread(Path(args.png).write_bytes, visibility_blocks.report_chart(report))
    print(visibility_blocks.report_csv(report) if args.csv else visibility_blocks.report_text(report), end="")
    return 0


def _signal_reload(settings: Settings, pid: int | None) -> int:
    """The organisation file has already been checked (main loads it); tell the running process."""
    if pid is None and settings.beacon_pid_file and settings.beacon_pid_file.exists():
        pid = int(settings.beacon_pid_file.read_text().strip() or 0) or None
    if pid is None:
        print(f"{settings.beacon_config} is valid. To apply it, give the running Beacon's process ID (--pid), set "
              "BEACON_PID_FILE, or use `systemctl reload beacon`.", file=sys.stderr)
        return 1
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        print(f"No process {pid} is running.", file=sys.stderr)
        return 1
    print(f"{settings.beacon_config} is valid; process {pid} was asked to reload it (its log says what changed).")
    return 0

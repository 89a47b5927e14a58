"""The `beacon` command: run (Socket Mode), serve (HTTP), db upgrade, check."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import os
import re
import signal
import sys
from collections.abc import Callable, Coroutine
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlmodel import col

from beacon.bot import __version__
from beacon.bot.blocks.notices import render
from beacon.bot.blocks.terminal import render_text
from beacon.bot.check import format_table, run_checks
from beacon.bot.config_errors import ConfigError
from beacon.bot.content import check_organisation, load_content
from beacon.bot.db import upgrade, upgrade_sync
from beacon.bot.deps import Deps, build_deps, build_slack_client
from beacon.bot.http_server import build_web_app
from beacon.bot.logs import configure_logging
from beacon.bot.models import CalendarSource, OutboxMessage, OutboxStatus
from beacon.bot.organisation import Organisation, load_organisation
from beacon.bot.reload import reload_organisation
from beacon.bot.runtime import Runtime
from beacon.bot.services.digests import DIGEST_POST, PERSONAL_DIGEST
from beacon.bot.services.recurrence import to_utc
from beacon.bot.settings import Mode, Settings, load_settings
from beacon.bot.socket_mode import LoggedSocketModeHandler
from beacon.bot.templates import Template

EXIT_CONFIG = 2
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
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="connect to Slack over Socket Mode (the default; no public URL needed)")
    serve = commands.add_parser("serve", help="serve Slack's requests over HTTP at POST /slack/events")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=3000, help="port to listen on (default 3000)")
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="DB_COMMAND", required=True)
    db_commands.add_parser("upgrade", help="bring the database schema up to date (also done at start-up)")
    commands.add_parser("check", help="check configuration, the Slack token, channels and roles; "
                                      "exit 1 when anything is wrong")
    calendar = commands.add_parser("calendar", help="the leader engagement calendar")
    calendar_commands = calendar.add_subparsers(dest="calendar_command", metavar="CALENDAR_COMMAND", required=True)
    calendar_commands.add_parser("sync", help="read every calendar source now and report what changed")
    digest = commands.add_parser("digest", help="the weekly digest: print the next one, or send one now")
    what = digest.add_mutually_exclusive_group(required=True)
    what.add_argument("--preview", action="store_true", help="print the next digest as text, as it stands now")
    what.add_argument("--send", action="store_true", help="send this week's digest to the digest channels now "
                                                          "(the scheduled one still goes as usual)")
    privacy = commands.add_parser("privacy", help="UK GDPR: a person's data, erasure, retention")
    privacy_commands = privacy.add_subparsers(dest="privacy_command", metavar="PRIVACY_COMMAND", required=True)
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
    audit = commands.add_parser("audit", help="read or verify the audit log of privileged actions")
    audit.add_argument("--since", type=_day, help="from this day (YYYY-MM-DD, trust time); default: 30 days ago")
    audit.add_argument("--until", type=_day, help="up to the start of this day (YYYY-MM-DD)")
    audit.add_argument("--actor", help="only this person's actions (a Slack user ID)")
    audit.add_argument("--json", action="store_true", help="one JSON object a line instead of a table")
    audit.add_argument("--verify", action="store_true", help="check that no entry was changed or removed")
    sandbox = commands.add_parser("sandbox", help="try Beacon in a browser: a local demo workspace, no Slack needed")
    sandbox.add_argument("--host", default="127.0.0.1", help="address to serve the page on (default 127.0.0.1)")
    sandbox.add_argument("--port", type=int, default=8000, help="port to serve the page on (default 8000)")
    sandbox.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                         help="how much Beacon logs while the sandbox runs (default WARNING)")
    reload = commands.add_parser("reload", help="check the organisation file and tell the running Beacon to "
                                                "apply it (roles, channels and sites; no restart)")
    reload.add_argument("--pid", type=int, help="the running process (default: the number in BEACON_PID_FILE)")
    return parser


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
        return asyncio.run(_with_signals(lambda stop: serve_sandbox(host=args.host, port=args.port, stop=stop)))
    try:
        settings = load_settings()
    except ConfigError as error:
        print(error.report(), file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log_level)
    try:
        if command == "db":
            upgrade_sync(settings.database_url)
            print("Database schema is up to date.")
            return 0
        mode = {"run": Mode.SOCKET, "serve": Mode.HTTP, "check": Mode.CHECK, "calendar": Mode.CHECK,
                "digest": Mode.CHECK, "privacy": Mode.ADMIN, "audit": Mode.ADMIN, "reload": Mode.DATABASE}[command]
        organisation = _load_everything(settings, mode)
        if command == "check":
            return asyncio.run(_check(settings, organisation))
        if command == "calendar":
            return asyncio.run(_calendar_sync(settings, organisation))
        if command == "digest":
            return asyncio.run(_digest(settings, organisation, send=args.send))
        if command == "privacy":
            return asyncio.run(_privacy(settings, organisation, args))
        if command == "audit":
            return asyncio.run(_audit(settings, organisation, args))
        if command == "reload":
            return _signal_reload(settings, args.pid)
        if command == "serve":
            return asyncio.run(_with_signals(lambda stop: _serve(settings, organisation, args.host, args.port,
                                                                 stop)))
        return asyncio.run(_with_signals(lambda stop: _run_socket(settings, organisation, stop)))
    except ConfigError as error:
        print(error.report(), file=sys.stderr)
        return EXIT_CONFIG


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
    if problems or organisation is None:
        raise ConfigError(problems)
    return organisation


async def _with_signals(body: Callable[[asyncio.Event], Coroutine[Any, Any, int]]) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return await body(stop)


async def _start(settings: Settings, organisation: Organisation) -> Runtime:
    await upgrade(settings.database_url)
    try:  # before anything starts, so that a bad token stops Beacon with one clear line
        auth = await build_slack_client(settings).auth_test()
    except SlackApiError as error:
        raise ConfigError([f"SLACK_BOT_TOKEN: Slack refused it ({error.response.get('error')}); "
                           "copy the Bot User OAuth Token again"]) from None
    runtime = Runtime(build_deps(settings, organisation))
    await runtime.start()
    log.info("connected to Slack", extra={"team": auth.get("team"), "bot_user": auth.get("user_id")})
    _reload_on_sighup(runtime)
    if settings.beacon_pid_file:
        await asyncio.to_thread(settings.beacon_pid_file.write_text, f"{os.getpid()}\n")
    return runtime


def _reload_on_sighup(runtime: Runtime) -> None:
    """SIGHUP (`beacon reload`, `systemctl reload beacon`) re-reads the organisation file without a restart."""
    reloading: set[asyncio.Task[Any]] = set()

    def reload() -> None:
        task = asyncio.get_running_loop().create_task(reload_organisation(runtime.deps))
        reloading.add(task)
        task.add_done_callback(reloading.discard)

    asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload)


async def _serve(settings: Settings, organisation: Organisation, host: str, port: int,
                 stop: asyncio.Event) -> int:
    runtime = await _start(settings, organisation)
    runner = web.AppRunner(build_web_app(runtime), handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("serving Slack requests", extra={"url": f"http://{host}:{port}/slack/events"})
    await stop.wait()
    log.info("stopping: no new requests are taken")
    await runner.cleanup()
    await runtime.stop()
    return 0


async def _run_socket(settings: Settings, organisation: Organisation, stop: asyncio.Event) -> int:
    runtime = await _start(settings, organisation)
    handler = LoggedSocketModeHandler(runtime.app, settings.secret("slack_app_token"))
    await handler.connect_async()
    log.info("connected over Socket Mode")
    await stop.wait()
    log.info("stopping: disconnecting from Socket Mode")
    await handler.close_async()
    await runtime.stop()
    return 0


async def _check(settings: Settings, organisation: Organisation) -> int:
    client = build_slack_client(settings)
    results = await run_checks(organisation, client)
    print(format_table(results), end="")
    return 0 if all(r.ok for r in results) else 1


async def _calendar_sync(settings: Settings, organisation: Organisation) -> int:
    await upgrade(settings.database_url)
    deps = build_deps(settings, organisation)
    http = await deps.http.open()
    deps.slack.session = deps.slack_delivery.session = http
    try:
        reports = await deps.calendar_sync.run()
        async with deps.db.transaction() as session:
            states = {s.key: s for s in (await session.scalars(select(CalendarSource))).all()}
    finally:
        await deps.http.close()
        await deps.db.dispose()
    failed = 0
    for reader in deps.calendar_sync.readers:
        report, state = reports.get(reader.name), states.get(reader.key)
        if report is None or (state and state.consecutive_failures):
            failed += 1
            print(f"{reader.name}: FAILED ({state.last_error if state else 'see the log'}); last good data kept")
        else:
            print(f"{reader.name}: {report.added} new, {report.changed} changed, {report.cancelled} cancelled"
                  + (" (answer looked empty; last good data kept)" if report.kept else ""))
    if not deps.calendar_sync.readers:
        print("No calendar sources are configured (calendar.sources in beacon.yaml).")
    return 1 if failed else 0


async def _digest(settings: Settings, organisation: Organisation, *, send: bool) -> int:
    await upgrade(settings.database_url)
    deps = build_deps(settings, organisation)
    http = await deps.http.open()
    deps.slack.session = deps.slack_delivery.session = http
    try:
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
    finally:
        await deps.http.close()
        await deps.db.dispose()
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


async def _admin_deps(settings: Settings, organisation: Organisation) -> Deps:
    await upgrade(settings.database_url)
    return build_deps(settings, organisation)


async def _privacy(settings: Settings, organisation: Organisation, args: argparse.Namespace) -> int:
    if args.privacy_command in ("export", "erase") and not USER_ID.match(args.user_id):
        print(f"{args.user_id!r} is not a Slack user ID (they look like U0123ABCDEF: in Slack, open the person's "
              "profile, the three dots, Copy member ID).", file=sys.stderr)
        return EXIT_CONFIG
    deps = await _admin_deps(settings, organisation)
    try:
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
    finally:
        await deps.db.dispose()


async def _audit(settings: Settings, organisation: Organisation, args: argparse.Namespace) -> int:
    deps = await _admin_deps(settings, organisation)
    tz = organisation.tz
    try:
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
    finally:
        await deps.db.dispose()
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

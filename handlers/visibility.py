"""`/calendar report` and the App Home's visibility section: where leaders have been, for executives, comms and
administrators. The report is read in the handler (four statements, well inside the ack budget); the chart and the
CSV are made and uploaded by a worker (`files_job`), into the requester's direct messages."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import date
from pathlib import Path

from slack_sdk.models.blocks import Block, SectionBlock
from slack_sdk.models.blocks.basic_components import MarkdownTextObject

from beacon.bot.blocks.visibility import build_report_blocks, chart_alt_text, headline, report_chart, report_csv
from beacon.bot.deps import Deps
from beacon.bot.errors import BeaconError
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.integrations.slack_files import upload_file
from beacon.bot.organisation import Role
from beacon.bot.services import visibility
from beacon.bot.services.work_queue import Work, WorkKind
from beacon.bot.worker import PermanentFailure
from beacon.handlers.home import HomeTab

REPORT_ROLES = (Role.EXECUTIVES, Role.COMMS, Role.ADMINS)
ACTION = "Seeing the leader visibility report"


async def report_blocks(deps: Deps, *, user_id: str, text: str) -> tuple[str, list[dict]]:
    """`/calendar report [period]`: the report for the requester, and the chart and CSV queued for their DMs."""
    await deps.authorisation.require_any(user_id, REPORT_ROLES, action=ACTION)
    period = visibility.period_named(text, today=deps.clock.now().astimezone(deps.organisation.tz).date())
    async with deps.db.transaction() as session:
        report = await visibility.build_report(session=session, organisation=deps.organisation, period=period,
                                               now=deps.clock.now())
    await deps.work.submit(WorkKind.VISIBILITY_FILES, {"first": period.first.isoformat(),
                                                       "last": period.last.isoformat(), "label": period.label},
                           requested_by=user_id)
    blocks = build_report_blocks(report, files_note="The chart (PNG) and every row (CSV) are on their way to your "
                                                    "direct messages.")
    return f"Leader visibility: {period.label}", [b.to_dict() for b in blocks]


async def files_job(deps: Deps, item: Work) -> None:
    """Run by `beacon worker`: the period's chart and CSV, uploaded into the requester's DM."""
    user_id = item.requested_by or ""
    try:
        await deps.authorisation.require_any(user_id, REPORT_ROLES, action=ACTION)  # still entitled when it runs
    except BeaconError as refusal:  # not worth retrying: failed for good, and the requester is told
        raise PermanentFailure(refusal.user_message) from None
    period = visibility.Period(date.fromisoformat(str(item.params["first"])),
                               date.fromisoformat(str(item.params["last"])), str(item.params["label"]))
    async with deps.db.transaction() as session:
        report = await visibility.build_report(session=session, organisation=deps.organisation, period=period,
                                               now=deps.clock.now())
    dm = (await deps.slack.conversations_open(users=user_id))["channel"]["id"]
    stem = f"leader-visibility-{period.first}-{period.last}"
    with tempfile.TemporaryDirectory(prefix="beacon-visibility-") as folder:
        chart, table = Path(folder) / f"{stem}.png", Path(folder) / f"{stem}.csv"
        await asyncio.to_thread(chart.write_bytes, report_chart(report))
        await asyncio.to_thread(table.write_text, report_csv(report), encoding="utf-8")
        await upload_file(deps.slack, path=chart, filename=chart.name, title=chart_alt_text(report)[:250], channel=dm,
                          initial_comment=f"Leader visibility, {period.label}: {headline(report)}")
        await upload_file(deps.slack, path=table, filename=table.name, title=f"Leader visibility, {period.label}",
                          channel=dm, initial_comment="Every row of the report, for a spreadsheet.")


def register(deps: Deps, home_tab: HomeTab) -> None:
    async def home_section(user_id: str, roles: frozenset[Role]) -> list[Block]:
        if not roles.intersection(REPORT_ROLES):
            return []
        period = visibility.period_named("month", today=deps.clock.now().astimezone(deps.organisation.tz).date())
        async with deps.db.transaction() as session:
            report = await visibility.build_report(session=session, organisation=deps.organisation, period=period,
                                                   now=deps.clock.now())
        missing = ", ".join(escape_mrkdwn(u.site) for u in report.unvisited[:8])
        more = f" and {len(report.unvisited) - 8} more" if len(report.unvisited) > 8 else ""
        lines = [f"*Leader visibility, {period.label}*", headline(report)]
        if missing:
            lines.append(f"Not visited yet: {missing}{more}.")
        lines.append("`/calendar report` for the whole report, `/calendar report quarter` for the quarter.")
        return [SectionBlock(text=MarkdownTextObject(text="\n".join(lines)[:3000]))]

    home_tab.add_section(home_section)

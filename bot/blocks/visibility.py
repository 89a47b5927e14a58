"""The visibility report (bot/services/visibility.py) as Slack blocks, plain text for the command line, CSV, and a
bar chart (PNG) of each area's engagements and sites visited. Pure functions of the report."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from PIL import Image, ImageDraw, ImageFont
from slack_sdk.models.blocks import Block, ContextBlock, DividerBlock, HeaderBlock, SectionBlock
from slack_sdk.models.blocks.basic_components import MarkdownTextObject

from beacon.bot.blocks.limits import SECTION_TEXT
from beacon.bot.blocks.mrkdwn import shorten, truncate
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.services.visibility import Tally, Unvisited, VisibilityReport

SHOWN = 12  # lines of each list in Slack; the CSV has them all
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP's CSV injection list


def _count(tally: Tally) -> str:
    planned = f", {tally.planned} planned" if tally.planned else ""
    return f"{tally.held} held{planned}"


def _last(unvisited: Unvisited) -> str:
    return f"last visit {unvisited.last_visit:%-d %b %Y}" if unvisited.last_visit else "no leader visit on record"


def headline(report: VisibilityReport) -> str:
    people = []
    if report.attending is not None:
        people.append(f"{report.attending} said they would be there")
    if report.questions is not None:
        people.append(f"{report.questions} questions asked, {report.answered or 0} answered")
        if report.median_days_to_answer is not None:
            people.append(f"answered in a median of {report.median_days_to_answer:.1f} days")
    tail = f"; {', '.join(people)}" if people else ""
    return (f"{report.held} engagements held and {report.planned} planned; {report.sites_visited} of "
            f"{report.sites} sites visited{tail}.")


def _lines(heading: str, rows: list[str], more: int) -> SectionBlock:
    text = f"*{heading}*\n" + "\n".join(rows) + (f"\n…and {more} more (in the CSV)" if more else "")
    return SectionBlock(text=MarkdownTextObject(text=shorten(text, SECTION_TEXT)))


def build_report_blocks(report: VisibilityReport, *, files_note: str | None = None) -> list[Block]:
    """The report as a message: headline, the sites not visited (longest first), then by area, leader and kind."""
    blocks: list[Block] = [HeaderBlock(text=truncate(f"Leader visibility: {report.period.label}", 150)),
                           SectionBlock(text=MarkdownTextObject(text=headline(report)))]
    if report.unvisited:
        rows = [f"• *{escape_mrkdwn(u.site)}* ({escape_mrkdwn(u.area)}): {_last(u)}" for u in report.unvisited[:SHOWN]]
        blocks.append(_lines(f"Not visited by a leader in this period ({len(report.unvisited)})", rows,
                             len(report.unvisited) - SHOWN))
    elif report.sites:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="*Every site had a leader visit in this period.*")))
    if report.groups_unvisited:
        blocks.append(_lines(f"Staff groups no leader engaged with in this period ({len(report.groups_unvisited)})",
                             [f"• *{escape_mrkdwn(g)}*" for g in report.groups_unvisited[:SHOWN]],
                             len(report.groups_unvisited) - SHOWN))
    blocks.append(DividerBlock())
    for heading, tallies in (("By area", report.by_area), ("By staff group", report.by_group),
                             ("By leader", report.by_leader), ("By kind", report.by_kind)):
        if tallies:
            rows = [f"• {escape_mrkdwn(t.name)}: {_count(t)}" + (f" · {escape_mrkdwn(t.detail)}" if t.detail else "")
                    for t in tallies[:SHOWN]]
            blocks.append(_lines(heading, rows, len(tallies) - SHOWN))
    notes = [f"Figures about people are shown from {report.minimum} up."]
    if report.elsewhere:
        notes.append(f"{report.elsewhere} engagements were at no listed site or staff group (a meeting room, "
                     "online).")
    if files_note:
        notes.append(files_note)
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=truncate(" ".join(notes), 3000))]))
    return blocks


def report_text(report: VisibilityReport) -> str:
    """For `beacon report visibility`: every row, no Slack markup."""
    out = [f"Leader visibility: {report.period.label} ({report.period.first} to {report.period.last})",
           headline(report), ""]
    out.append(f"Not visited by a leader in this period ({len(report.unvisited)}):")
    out += [f"  {u.site} ({u.area}): {_last(u)}" for u in report.unvisited] or ["  none"]
    if report.groups_unvisited:
        out += ["", f"Staff groups no leader engaged with in this period ({len(report.groups_unvisited)}):"]
        out += [f"  {g}" for g in report.groups_unvisited]
    for heading, tallies in (("By area", report.by_area), ("By site", report.by_site),
                             ("By staff group", report.by_group), ("By leader", report.by_leader),
                             ("By kind", report.by_kind)):
        out += ["", f"{heading}:"]
        out += [f"  {t.name}: {_count(t)}" + (f" ({t.detail})" if t.detail else "") for t in tallies] or ["  none"]
    if report.elsewhere:
        out += ["", f"At no listed site: {report.elsewhere}"]
    return "\n".join(out) + "\n"


def _csv_rows(report: VisibilityReport) -> Iterator[list[str | int]]:
    yield ["section", "name", "area_or_detail", "held", "planned", "last_visit"]
    for group, tallies in (("area", report.by_area), ("site", report.by_site), ("staff_group", report.by_group),
                           ("leader", report.by_leader), ("kind", report.by_kind)):
        for t in tallies:
            yield [group, t.name, t.detail, t.held, t.planned, ""]
    for name in report.groups_unvisited:
        yield ["staff_group_not_visited", name, "", 0, 0, ""]
    for u in report.unvisited:
        yield ["not_visited", u.site, u.area, 0, 0, u.last_visit.isoformat() if u.last_visit else ""]


def report_csv(report: VisibilityReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in _csv_rows(report):  # a cell starting = + - @ tab or CR would be a formula in Excel: neutralised
        writer.writerow([f"'{c}" if isinstance(c, str) and c[:1] in FORMULA_STARTS else c for c in row])
    return buffer.getvalue()


WIDTH, ROW, MARGIN, LABEL = 900, 30, 24, 260
NHS_BLUE, PALE_BLUE, GREY, DARK = (0, 94, 184), (65, 182, 230), (216, 221, 224), (33, 43, 50)


def report_chart(report: VisibilityReport) -> bytes:
    """One bar per area: engagements held (dark) and planned (light), with the sites visited written beside it."""
    areas = report.by_area[:20]
    height = MARGIN * 2 + 70 + max(len(areas), 1) * ROW
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    title, small = ImageFont.load_default(size=20), ImageFont.load_default(size=14)
    draw.text((MARGIN, MARGIN), f"Leader visibility: {report.period.label}", fill=DARK, font=title)
    draw.text((MARGIN, MARGIN + 28), headline(report), fill=DARK, font=small)
    top = MARGIN + 64
    most = max((a.total for a in areas), default=0) or 1
    span = WIDTH - LABEL - MARGIN * 2 - 170
    if not areas:
        draw.text((MARGIN, top), "No sites are listed in the organisation file.", fill=DARK, font=small)
    for i, area in enumerate(areas):
        y = top + i * ROW
        name = area.name if len(area.name) <= 30 else area.name[:29] + "…"
        draw.text((MARGIN, y + 6), name, fill=DARK, font=small)
        held = round(span * area.held / most)
        planned = round(span * area.planned / most)
        x = MARGIN + LABEL
        draw.rectangle((x, y + 4, x + span, y + ROW - 6), fill=GREY)
        if held:
            draw.rectangle((x, y + 4, x + held, y + ROW - 6), fill=NHS_BLUE)
        if planned:
            draw.rectangle((x + held, y + 4, x + held + planned, y + ROW - 6), fill=PALE_BLUE)
        draw.text((x + span + 10, y + 6), f"{area.total} · {area.detail}", fill=DARK, font=small)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def chart_alt_text(report: VisibilityReport) -> str:
    """What the chart shows, for screen readers (Slack's file title and the message beside it)."""
    parts = [f"{a.name}: {a.total} engagements, {a.detail}" for a in report.by_area[:20]]
    return truncate(f"Leader visibility, {report.period.label}. {headline(report)} " + "; ".join(parts), 2000)

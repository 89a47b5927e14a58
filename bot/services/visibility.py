"""Where leaders have been: the visibility report the board asks for (issue 18, "Visibility you can show the board").

Engagements held or planned in a period, counted by leader, by site and area and by kind; the sites no leader has
visited in the period (what the strategy cares about most), each with when a leader was last there; the people who
said they would be there, the questions staff asked, how many were answered ("you said, we did") and the median
time to an answer. Everything is counted by the database in a fixed number of
set-based statements (four, whatever the size of the year), and a figure about people (attendance, questions) is
shown only when it reaches the trust's reporting minimum.

Periods are in the trust's time: a month, a financial quarter (April to June is Q1, as NHS boards report), or two
days given. A cancelled engagement is not counted; one that has not ended yet is "planned", not "held".
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from beacon.bot.errors import InvalidInput
from beacon.bot.models import (
    Engagement,
    EngagementAttendee,
    EngagementMode,
    EngagementQuestion,
    EngagementStatus,
)
from beacon.bot.organisation import Organisation
from beacon.bot.services.engagements import SLACK_VISITS

KINDS = {"visit": "Visits announced in Slack", "calendar": "From leaders' calendars", "online": "Online",
         "hybrid": "Hybrid (in person and online)"}
LONGEST = 366  # the report covers at most a year (and a day, for a leap year)
_DAY = r"\d{4}-\d{2}-\d{2}"


@dataclass(frozen=True)
class Period:
    """Days `first` to `last` inclusive, in the trust's time."""

    first: date
    last: date
    label: str

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The period as instants: from the first day's midnight to the midnight after the last (local, DST-aware)."""
        return (datetime.combine(self.first, time(), tz), datetime.combine(self.last + timedelta(days=1), time(), tz))


def period_named(text: str, *, today: date) -> Period:
    """`month` (this month so far, the default), `last month`, `quarter` (this financial quarter), `last quarter`,
    `year` (this financial year), or `YYYY-MM-DD YYYY-MM-DD`."""
    words = " ".join(text.lower().split())
    if words in ("", "month"):
        return Period(today.replace(day=1), today, f"{today:%B %Y} so far")
    if words == "last month":
        last = today.replace(day=1) - timedelta(days=1)
        return Period(last.replace(day=1), last, f"{last:%B %Y}")
    if words in ("quarter", "last quarter"):
        start = _quarter_start(today)
        if words == "last quarter":
            start = _quarter_start(start - timedelta(days=1))
        end = min(_add_months(start, 3) - timedelta(days=1), today)
        number = (start.month - 4) % 12 // 3 + 1
        year = start.year if start.month >= 4 else start.year - 1
        return Period(start, end, f"Q{number} {year}/{(year + 1) % 100:02d}" + (" so far" if end == today else ""))
    if words == "year":
        start = date(today.year if today.month >= 4 else today.year - 1, 4, 1)
        return Period(start, today, f"{start.year}/{(start.year + 1) % 100:02d} so far")
    found = re.fullmatch(f"({_DAY})(?: to | )({_DAY})", words)
    if found is None:
        raise InvalidInput("Say which period: `month`, `last month`, `quarter`, `last quarter`, `year`, or two days "
                           "as `2026-11-01 2026-11-30`.")
    try:
        first, last = date.fromisoformat(found[1]), date.fromisoformat(found[2])
    except ValueError:
        raise InvalidInput(f"`{found[1]}` or `{found[2]}` is not a day in the calendar: write it as YYYY-MM-DD.") \
            from None
    if last < first:
        raise InvalidInput("The period ends before it starts: give the earlier day first.")
    if (last - first).days >= LONGEST:
        raise InvalidInput(f"A report covers at most {LONGEST} days: split a longer period.")
    return Period(first, last, f"{first:%-d %b %Y} to {last:%-d %b %Y}")


def _quarter_start(day: date) -> date:
    """Financial quarters start in April, July, October and January, as calendar quarters do; only their numbers
    differ (April to June is Q1)."""
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    return date(day.year + index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Tally:
    """Engagements of one leader, site, area or kind: held (ended) and planned (still to come in the period)."""

    name: str
    held: int = 0
    planned: int = 0
    detail: str = ""  # an area's "7 of 12 sites", a leader's "5 sites"

    @property
    def total(self) -> int:
        return self.held + self.planned


@dataclass(frozen=True)
class Unvisited:
    site: str
    area: str
    last_visit: date | None  # the last engagement there, ever (None: never)


@dataclass(frozen=True)
class VisibilityReport:
    period: Period
    held: int
    planned: int
    by_leader: list[Tally]
    by_site: list[Tally]
    by_area: list[Tally]
    by_kind: list[Tally]
    by_group: list[Tally]                 # staff groups (control room, 111...): engagements for them
    groups_unvisited: list[str]           # staff groups no leader engaged with in the period
    elsewhere: int                        # engagements at no configured site or staff group (a meeting room)
    unvisited: list[Unvisited]
    sites: int                            # sites configured
    attending: int | None                 # "I'll be there" across the period; None under the reporting minimum
    questions: int | None                 # questions asked; None under the reporting minimum
    answered: int | None                  # of them answered ("you said, we did"); None with `questions`
    median_days_to_answer: float | None   # from the day asked to the answer; None with `questions`, or none answered
    minimum: int
    notes: list[str] = field(default_factory=list)

    @property
    def sites_visited(self) -> int:
        return self.sites - len(self.unvisited)


async def build_report(*, session: AsyncSession, organisation: Organisation, period: Period,
                       now: datetime) -> VisibilityReport:
    """The report for `period`, read in four statements whatever the number of engagements."""
    tz = organisation.tz
    start, end = period.bounds(tz)
    in_period = and_(col(Engagement.starts_at) >= start, col(Engagement.starts_at) < end,
                     col(Engagement.status) == EngagementStatus.SCHEDULED)
    kind = case((col(Engagement.mode) == EngagementMode.ONLINE, "online"),
                (col(Engagement.mode) == EngagementMode.HYBRID, "hybrid"),
                (col(Engagement.source_key) == SLACK_VISITS, "visit"), else_="calendar")
    ended = case((col(Engagement.ends_at) <= now, 1), else_=0)
    grouped = (await session.execute(
        select(col(Engagement.leader), col(Engagement.site), col(Engagement.staff_group), kind.label("kind"),
               func.sum(ended).label("held"), func.count().label("total"))
        .where(in_period).group_by(col(Engagement.leader), col(Engagement.site), col(Engagement.staff_group),
                                   kind))).all()
    last_seen = {site: last for site, last in (await session.execute(
        select(col(Engagement.site), func.max(col(Engagement.starts_at)))
        .where(col(Engagement.site).is_not(None), col(Engagement.status) == EngagementStatus.SCHEDULED,
               col(Engagement.starts_at) < now)
        .group_by(col(Engagement.site)))).all()}
    attending = (await session.scalar(
        select(func.count()).select_from(EngagementAttendee)
        .join(Engagement, col(Engagement.id) == col(EngagementAttendee.engagement_id)).where(in_period))) or 0
    asked = (await session.execute(
        select(col(EngagementQuestion.created_at), col(EngagementQuestion.answered_at))
        .join(Engagement, col(Engagement.id) == col(EngagementQuestion.engagement_id)).where(in_period))).all()
    waits = sorted((answered - created).total_seconds() / 86400 for created, answered in asked if answered)
    return _assemble(organisation, period, grouped, last_seen, attending=attending, questions=len(asked),
                     answered=len(waits), median_days=statistics.median(waits) if waits else None)


def _assemble(organisation: Organisation, period: Period, grouped: Sequence[Any], last_seen: dict[str | None, datetime],
              *, attending: int, questions: int, answered: int, median_days: float | None) -> VisibilityReport:
    tz = organisation.tz
    area_of = {s.name: s.area for s in organisation.sites}
    held: Counter[tuple[str, str]] = Counter()
    total: Counter[tuple[str, str]] = Counter()
    leader_sites: dict[str, set[str]] = defaultdict(set)
    visited: set[str] = set()
    groups = {g.name for g in organisation.staff_groups}
    groups_seen: set[str] = set()
    for leader, site, group, kind, done, count in grouped:
        site_key = site if site in area_of else None
        keys = [("leader", leader), ("kind", kind)]
        if group in groups:
            keys.append(("group", group))
            if done:
                groups_seen.add(group)
        if site_key is not None:
            keys += [("site", site_key), ("area", area_of[site_key])]
            leader_sites[leader].add(site_key)
            if done:
                visited.add(site_key)
        elif group not in groups:
            keys.append(("elsewhere", ""))
        for key in keys:
            held[key] += int(done or 0)
            total[key] += int(count)

    def tallies(group: str, detail: dict[str, str] | None = None) -> list[Tally]:
        names = [name for g, name in total if g == group]
        rows = [Tally(name, held[(group, name)], total[(group, name)] - held[(group, name)],
                      (detail or {}).get(name, "")) for name in names]
        return sorted(rows, key=lambda t: (-t.total, t.name))

    areas: dict[str, list[str]] = defaultdict(list)
    for site in organisation.sites:
        areas[site.area].append(site.name)
    area_detail = {area: f"{sum(s in visited for s in names)} of {len(names)} sites visited"
                   for area, names in areas.items()}
    by_area = tallies("area", area_detail)
    by_area += [Tally(area, detail=area_detail[area]) for area in sorted(areas) if ("area", area) not in total]
    unvisited = [Unvisited(s.name, s.area, last_seen[s.name].astimezone(tz).date() if s.name in last_seen else None)
                 for s in organisation.sites if s.name not in visited]
    unvisited.sort(key=lambda u: (u.last_visit or date.min, u.area, u.site))  # longest without a leader first
    minimum = organisation.pulse.reporting_minimum
    return VisibilityReport(
        period=period, held=sum(held[("kind", k)] for k in KINDS),
        planned=sum(total[("kind", k)] - held[("kind", k)] for k in KINDS),
        by_leader=tallies("leader", {leader: f"{len(s)} site{'s' * (len(s) != 1)}"
                                     for leader, s in leader_sites.items()}),
        by_site=tallies("site", area_of), by_area=by_area,
        by_kind=[Tally(KINDS[t.name], t.held, t.planned) for t in tallies("kind")],
        by_group=tallies("group"),
        groups_unvisited=[g.name for g in organisation.staff_groups if g.name not in groups_seen],
        elsewhere=total[("elsewhere", "")], unvisited=unvisited, sites=len(organisation.sites),
        attending=attending if attending >= minimum else None,
        questions=questions if questions >= minimum else None,
        answered=answered if questions >= minimum else None,
        median_days_to_answer=median_days if questions >= minimum else None, minimum=minimum)

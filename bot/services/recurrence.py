"""When a scheduled post runs: wall-clock times in the trust's time zone, correct across DST changes."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.errors import InvalidInput


class Repeat(StrEnum):
    NONE = "none"
    DAILY = "daily"
    WEEKDAYS = "weekdays"
    WEEKLY = "weekly"
    MONTHLY = "monthly"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def phrase(self) -> str:
        """The label as it reads inside a sentence: "every weekday (Monday to Friday)"."""
        return self.label[0].lower() + self.label[1:]


_LABELS = {Repeat.NONE: "Once", Repeat.DAILY: "Every day", Repeat.WEEKDAYS: "Every weekday (Monday to Friday)",
           Repeat.WEEKLY: "Every week", Repeat.MONTHLY: "Every month"}


def exists_locally(wall: datetime, tz: ZoneInfo) -> bool:
    """False for a wall-clock time skipped when the clocks go forward (e.g. 01:30 on the March change)."""
    aware = wall.replace(tzinfo=tz)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall


def to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    """A wall-clock time in `tz` as UTC. A skipped time moves forward by the gap (01:30 becomes 02:30 BST);
    a repeated time (the October change) means its first occurrence."""
    if not exists_locally(wall, tz):
        wall += timedelta(hours=1)
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def local_start(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The wall-clock start a person picked, refused when that time does not exist that day."""
    wall = datetime.combine(day, at)
    if not exists_locally(wall, tz):
        raise InvalidInput(f"{at:%H:%M} does not exist on {day:%-d %B %Y}: the clocks go forward that night. "
                           "Pick a time after 02:00.")
    return wall


def _add_months(wall: datetime, months: int, day_of_month: int) -> datetime:
    month_index = wall.month - 1 + months
    year, month = wall.year + month_index // 12, month_index % 12 + 1
    day = min(day_of_month, calendar.monthrange(year, month)[1])  # the 31st becomes the month's last day
    return wall.replace(year=year, month=month, day=day)


def wall_times(start: datetime, repeat: Repeat) -> Iterator[datetime]:
    """Every wall-clock run time from `start` on (naive, in the trust's zone)."""
    if repeat is Repeat.NONE:
        yield start
        return
    n = 0
    while True:
        if repeat is Repeat.MONTHLY:
            candidate = _add_months(start, n, start.day)
        elif repeat is Repeat.WEEKLY:
            candidate = start + timedelta(weeks=n)
        else:
            candidate = start + timedelta(days=n)
        n += 1
        if repeat is Repeat.WEEKDAYS and candidate.weekday() >= 5:
            continue
        yield candidate


def next_run(start: datetime, repeat: Repeat, tz: ZoneInfo, *, after: datetime, until: date | None = None,
             inclusive: bool = False) -> datetime | None:
    """The first run (UTC) after `after` (or at it, when inclusive), or None when the series has ended."""
    for wall in wall_times(start, repeat):
        if until is not None and wall.date() > until:
            return None
        moment = to_utc(wall, tz)
        if moment > after or (inclusive and moment == after):
            return moment
    return None


"""When a scheduled post runs: wall-clock times in the trust's time zone, correct across DST changes."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


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
    """A naive wall-clock time in `tz` as UTC, by zoneinfo's PEP 495 rules alone (fold=0).

    A time skipped when the clocks go forward is read with the offset in force before the change, which is the
    time the clock would have shown had it not jumped: it moves forward by the size of the gap, whatever that
    is (London 01:30 becomes 02:30 BST; Lord Howe's 02:10 becomes 02:40 across its 30-minute gap; Troll's 02:00
    becomes 04:00 across its 2-hour gap). A time that happens twice when the clocks go back means its first
    occurrence."""
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


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


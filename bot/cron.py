"""Standard five-field cron expressions ("0 8 * * mon") as APScheduler triggers, read the way crontab(5) reads
them. APScheduler 3 numbers weekdays from Monday (0 = Monday), where cron numbers them from Sunday (0 and 7 =
Sunday); `from_crontab` passes numbers straight through, so "0 8 * * 1" would run on Tuesdays. Here the
weekday field is expanded to day names first."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # cron numbering: 0 (and 7) is Sunday


def _day_number(token: str) -> int:
    token = token.strip().lower()
    if token in DAY_NAMES:
        return DAY_NAMES.index(token)
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token) % 7
    raise ValueError(f"“{token}” is not a day of the week (0 to 7, or sun to sat)")


def _weekdays(field: str) -> str:
    """A cron weekday field ("1-5", "mon,wed", "*/2", "0") as APScheduler day names ("mon,tue,...")."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError("a step must be 1 or more")
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            start, end = base.split("-", 1)
            first, last = _day_number(start), _day_number(end)
            if end.strip() == "7":
                last = 7
            if last < first:
                raise ValueError(f"“{base}” runs backwards")
        else:
            first = last = _day_number(base)
            if step_text:
                last = 6
        days.update(d % 7 for d in range(first, last + 1, step))
    # APScheduler's names, in its Monday-first order
    ordered = sorted(days, key=lambda d: (d + 6) % 7)
    return ",".join(DAY_NAMES[d] for d in ordered)


def parse_cron(expression: str, tz: ZoneInfo) -> CronTrigger:
    """The trigger for a five-field cron expression in `tz`; ValueError says what is wrong."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError("a cron expression has five fields: minute hour day-of-month month day-of-week, "
                         "for example “0 8 * * mon”")
    minute, hour, day, month, weekday = fields
    named = {"minute": minute, "hour": hour, "day": day, "month": month, "day_of_week": _weekdays(weekday)}
    for name, value in named.items():  # say which field is wrong, in words
        try:
            CronTrigger(**{name: value}, timezone=tz)
        except ValueError as error:
            reason = str(error).split(": ", 1)[-1]
            raise ValueError(f"the {name.replace('_', ' ').replace('day of week', 'day-of-week')} field "
                             f"“{value}” is not valid ({reason})") from None
    return CronTrigger(**named, timezone=tz)


def latest_fire(trigger: CronTrigger, *, now: datetime, within: timedelta) -> datetime | None:
    """The most recent time the trigger fired at or before `now`, looking back no further than `within`."""
    moment = trigger.get_next_fire_time(None, now - within)
    latest = None
    for _ in range(10_000):  # a trigger firing every minute over a long window stops here
        if moment is None or moment > now:
            break
        latest = moment
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    return latest


def next_fire(trigger: CronTrigger, *, after: datetime) -> datetime | None:
    fire: datetime | None = trigger.get_next_fire_time(None, after + timedelta(seconds=1))  # APScheduler is untyped
    return fire

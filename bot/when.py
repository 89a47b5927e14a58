"""How Beacon tells people when: the one set of formats for moments, days and spans, in the trust's time zone.

Services and builders both use it (it depends on nothing of Beacon's), so a time reads the same in every message.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo


def day(on: date, *, long: bool = False, year: bool = False) -> str:
    """`Mon 30 Nov`; `long`: `Monday 30 November`; `year` adds the year. Give a datetime already in the trust's
    time zone."""
    text = f"{on:%A %-d %B}" if long else f"{on:%a %-d %b}"
    return f"{text} {on:%Y}" if year else text


def moment(at: datetime, tz: tzinfo, *, year: bool = False, zone: bool = True, joined: str = ", ") -> str:
    """`Mon 30 Nov, 17:00 GMT`: a moment as people read it. `year` adds the year (`Mon 23 Nov 2026, 09:00 GMT`),
    `zone=False` leaves out the zone, and `joined` is what stands between the day and the time (`" at "` in a
    sentence)."""
    local = at.astimezone(tz)
    text = f"{day(local, year=year)}{joined}{local:%H:%M}"
    return f"{text} {local.tzname()}" if zone else text


def span(starts: datetime, ends: datetime, tz: tzinfo, *, all_day: bool) -> str:
    """From when to when: `Tue 1 Dec, 10:00–11:30 GMT` within a day (both zones named when the clocks change in
    between), `Fri 4 Dec, 22:00 to 02:00 GMT (next day)` over one midnight (a night shift, up to 24 hours),
    `Sat 28 Mar 22:00 to Mon 30 Mar 02:00 BST` across more days, `Mon 30 Nov to Tue 1 Dec (all day)`."""
    start, end = starts.astimezone(tz), ends.astimezone(tz)
    if all_day:
        last = (end - timedelta(seconds=1)).date()
        return day(start) + ("" if last == start.date() else f" to {day(last)}") + " (all day)"
    first = f"{start:%H:%M}" + (f" {start.tzname()}" if start.tzname() != end.tzname() else "")
    if start.date() == end.date():
        return f"{day(start)}, {first}–{end:%H:%M} {end.tzname()}"
    if end.date() == start.date() + timedelta(days=1) and ends - starts <= timedelta(hours=24):
        return f"{day(start)}, {first} to {end:%H:%M} {end.tzname()} (next day)"
    return f"{moment(start, tz, zone=False, joined=' ')} to {moment(end, tz, joined=' ')}"


def last_minute(closes_at: datetime, tz: tzinfo, *, year: bool = True) -> str:
    """The last minute before a midnight deadline: `Wednesday 31 March 2027 at 23:59`."""
    return f"{day(closes_at.astimezone(tz) - timedelta(minutes=1), long=True, year=year)} at 23:59"

"""How Beacon says when (bot/when.py): the formats every message shares, across the clocks changing."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from beacon.bot import when

LONDON = ZoneInfo("Europe/London")


def test_a_moment_reads_the_same_everywhere() -> None:
    at = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    assert when.moment(at, LONDON) == "Mon 30 Nov, 17:00 GMT"
    assert when.moment(at, LONDON, year=True) == "Mon 30 Nov 2026, 17:00 GMT"
    assert when.moment(at, LONDON, zone=False) == "Mon 30 Nov, 17:00"
    assert "on " + when.moment(at, LONDON, joined=" at ") == "on Mon 30 Nov at 17:00 GMT"
    assert when.moment(datetime(2027, 6, 1, 8, 30, tzinfo=UTC), LONDON) == "Tue 1 Jun, 09:30 BST"


def test_spans_within_a_day_across_days_and_all_day() -> None:
    def span(a: datetime, b: datetime, *, all_day: bool = False) -> str:
        return when.span(a.replace(tzinfo=UTC), b.replace(tzinfo=UTC), LONDON, all_day=all_day)

    assert span(datetime(2026, 12, 1, 10), datetime(2026, 12, 1, 11, 30)) == "Tue 1 Dec, 10:00–11:30 GMT"
    # The clocks go back at 02:00 BST on 25 October 2026: both zones are named.
    assert span(datetime(2026, 10, 24, 23), datetime(2026, 10, 25, 3)) == "Sun 25 Oct, 00:00 BST–03:00 GMT"
    assert span(datetime(2026, 12, 1, 22), datetime(2026, 12, 2, 2)) == "Tue 1 Dec, 22:00 to 02:00 GMT (next day)"
    # Over the midnight the clocks change at (both zones named), and more than a day (both days named).
    back, forward = "Sat 24 Oct, 22:00 BST to 02:00 GMT (next day)", "Sat 27 Mar, 22:00 GMT to 02:00 BST (next day)"
    assert span(datetime(2026, 10, 24, 21), datetime(2026, 10, 25, 2)) == back
    assert span(datetime(2027, 3, 27, 22), datetime(2027, 3, 28, 1)) == forward
    assert span(datetime(2026, 12, 1, 10), datetime(2026, 12, 2, 11)) == "Tue 1 Dec 10:00 to Wed 2 Dec 11:00 GMT"
    assert span(datetime(2026, 12, 1), datetime(2026, 12, 2), all_day=True) == "Tue 1 Dec (all day)"
    assert span(datetime(2026, 12, 1), datetime(2026, 12, 3), all_day=True) == "Tue 1 Dec to Wed 2 Dec (all day)"


def test_a_deadline_is_the_minute_before_midnight() -> None:
    closes = datetime(2027, 3, 31, 23, 0, tzinfo=UTC)  # midnight BST at the start of 1 April
    assert when.last_minute(closes, LONDON) == "Wednesday 31 March 2027 at 23:59"
    assert when.last_minute(closes, LONDON, year=False) == "Wednesday 31 March at 23:59"

"""Run times in Europe/London: the same wall-clock time every day, through both DST changes."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from beacon.bot.services.recurrence import Repeat, next_run, to_utc
from beacon.bot.when import moment

LONDON = ZoneInfo("Europe/London")


def _runs(start: datetime, repeat: Repeat, count: int, until: date | None = None) -> list[datetime]:
    runs, after = [], datetime(2000, 1, 1, tzinfo=UTC)
    for _ in range(count):
        run = next_run(start, repeat, LONDON, after=after, until=until)
        if run is None:
            break
        runs.append(run)
        after = run
    return runs


def test_a_daily_post_keeps_its_wall_clock_time_across_the_october_change() -> None:
    runs = _runs(datetime(2027, 10, 30, 9, 0), Repeat.DAILY, 3)
    assert [r.isoformat() for r in runs] == ["2027-10-30T08:00:00+00:00", "2027-10-31T09:00:00+00:00",
                                             "2027-11-01T09:00:00+00:00"]
    assert [moment(r, LONDON, year=True) for r in runs[:2]] == ["Sat 30 Oct 2027, 09:00 BST",
                                                                 "Sun 31 Oct 2027, 09:00 GMT"]


def test_a_daily_post_keeps_its_wall_clock_time_across_the_march_change() -> None:
    runs = _runs(datetime(2027, 3, 27, 9, 0), Repeat.DAILY, 2)
    assert [r.isoformat() for r in runs] == ["2027-03-27T09:00:00+00:00", "2027-03-28T08:00:00+00:00"]


def test_a_recurring_post_at_a_skipped_time_runs_after_the_gap_that_day() -> None:
    runs = _runs(datetime(2027, 3, 27, 1, 30), Repeat.DAILY, 3)
    assert [moment(r, LONDON, year=True) for r in runs] == [
        "Sat 27 Mar 2027, 01:30 GMT", "Sun 28 Mar 2027, 02:30 BST", "Mon 29 Mar 2027, 01:30 BST"]


def test_a_repeated_time_in_october_means_its_first_occurrence() -> None:
    assert to_utc(datetime(2027, 10, 31, 1, 30), LONDON).isoformat() == "2027-10-31T00:30:00+00:00"


def test_weekdays_skip_the_weekend_and_until_ends_the_series() -> None:
    runs = _runs(datetime(2026, 11, 27, 8, 0), Repeat.WEEKDAYS, 10, until=date(2026, 12, 2))
    assert [r.astimezone(LONDON).strftime("%a %d") for r in runs] == ["Fri 27", "Mon 30", "Tue 01", "Wed 02"]


def test_monthly_on_the_31st_uses_the_last_day_of_shorter_months() -> None:
    runs = _runs(datetime(2027, 1, 31, 10, 0), Repeat.MONTHLY, 3)
    assert [r.astimezone(LONDON).date().isoformat() for r in runs] == ["2027-01-31", "2027-02-28", "2027-03-31"]


def test_a_one_off_runs_once() -> None:
    assert len(_runs(datetime(2027, 1, 5, 10, 0), Repeat.NONE, 5)) == 1


@pytest.mark.parametrize(("zone", "wall", "expected"), [
    # clocks go forward: a skipped time moves on by the size of the gap
    ("Europe/London", datetime(2027, 3, 28, 1, 30), "2027-03-28T02:30:00+01:00"),
    ("Australia/Lord_Howe", datetime(2027, 10, 3, 2, 10), "2027-10-03T02:40:00+11:00"),  # a 30-minute gap
    ("America/St_Johns", datetime(2027, 3, 14, 2, 30), "2027-03-14T03:30:00-02:30"),
    ("Asia/Kathmandu", datetime(1986, 1, 1, 0, 10), "1986-01-01T00:25:00+05:45"),  # +05:30 to +05:45
    ("Antarctica/Troll", datetime(2027, 3, 28, 2, 0), "2027-03-28T04:00:00+02:00"),  # a 2-hour gap
    # clocks go back: a repeated time means its first occurrence
    ("Europe/London", datetime(2027, 10, 31, 1, 30), "2027-10-31T01:30:00+01:00"),
    ("Australia/Lord_Howe", datetime(2027, 4, 4, 1, 45), "2027-04-04T01:45:00+11:00"),  # a 30-minute overlap
    ("America/St_Johns", datetime(2027, 11, 7, 1, 30), "2027-11-07T01:30:00-02:30"),
    ("Antarctica/Troll", datetime(2027, 10, 31, 1, 30), "2027-10-31T01:30:00+02:00"),  # a 2-hour overlap
    # ordinary times are untouched
    ("Australia/Lord_Howe", datetime(2027, 10, 3, 2, 40), "2027-10-03T02:40:00+11:00"),
    ("Asia/Kathmandu", datetime(2027, 6, 1, 9, 0), "2027-06-01T09:00:00+05:45"),
])
def test_to_utc_follows_zoneinfo_in_every_zone(zone: str, wall: datetime, expected: str) -> None:
    tz = ZoneInfo(zone)
    moment = to_utc(wall, tz)
    assert moment.tzinfo is UTC
    assert moment.astimezone(tz).isoformat() == expected

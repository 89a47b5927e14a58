"""Run times in Europe/London: the same wall-clock time every day, through both DST changes."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.errors import InvalidInput
from bot.services.recurrence import Repeat, local_start, next_run, to_utc
from bot.when import moment

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


def test_a_time_skipped_by_the_march_change_is_refused_when_picked() -> None:
    with pytest.raises(InvalidInput, match="01:30 does not exist on 28 March 2027"):
        local_start(date(2027, 3, 28), time(1, 30), LONDON)


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

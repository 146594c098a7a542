"""Working-time arithmetic, worked by hand across the 2026 Spring Festival and National Day breaks.

2026 facts used below (official schedule):
  Spring Festival: holidays Feb 15 (Sun) - Feb 23 (Mon); make-up workdays Feb 14 (Sat) and Feb 28 (Sat).
  Mid-Autumn: holidays Sep 25 - 27; National Day: holidays Oct 1 - 7; make-up Sep 20 (Sun) and Oct 10 (Sat).
Office hours 08:30-12:00 and 13:30-17:30: 7.5 working hours a day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from sla import (
    WorkCalendar,
    add_working_days,
    add_working_seconds,
    build_calendar,
    next_working_moment,
    working_seconds_between,
)

CST = timezone(timedelta(hours=8))
HOUR = 3600


def cst(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A wall-clock time in China Standard Time (+08:00)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=CST)


# ---- add_working_days: the day of receipt does not count --------------------------------------------------


@pytest.mark.parametrize(
    ("received", "n", "due", "why"),
    [
        (
            cst(2026, 2, 13, 10, 0),
            2,
            cst(2026, 2, 24, 17, 30),
            "Fri Feb 13 is the receipt day; day 1 = Sat Feb 14 (make-up); Feb 15-23 holidays; day 2 = Tue Feb 24",
        ),
        (
            cst(2026, 9, 30, 10, 0),
            1,
            cst(2026, 10, 8, 17, 30),
            "Sep 30 is the receipt day; Oct 1-7 holidays; day 1 = Oct 8",
        ),
        (
            cst(2026, 2, 17, 23, 0),
            1,
            cst(2026, 2, 24, 17, 30),
            "received 23:00 on a holiday: that day does not count; Feb 18-23 holidays; day 1 = Feb 24",
        ),
        (
            cst(2026, 2, 13, 23, 0),
            1,
            cst(2026, 2, 14, 17, 30),
            "received Friday night: day 1 is the make-up Saturday Feb 14",
        ),
        (
            cst(2026, 2, 14, 9, 0),
            1,
            cst(2026, 2, 24, 17, 30),
            "received on the make-up Saturday itself: it is the receipt day; day 1 = Feb 24",
        ),
        (
            cst(2026, 10, 9, 17, 29, 59),
            1,
            cst(2026, 10, 10, 17, 30),
            "one second before closing on Fri Oct 9: day 1 is the make-up Saturday Oct 10",
        ),
        (
            cst(2026, 10, 10, 12, 30),
            1,
            cst(2026, 10, 12, 17, 30),
            "during lunch on the make-up Saturday: Sun Oct 11 rests; day 1 = Mon Oct 12",
        ),
        (
            cst(2026, 9, 18, 10, 0),
            3,
            cst(2026, 9, 22, 17, 30),
            "Fri Sep 18; Sat 19 rests; day 1 = Sun Sep 20 (make-up); day 2 = Mon 21; day 3 = Tue 22",
        ),
        (
            cst(2026, 9, 24, 10, 0),
            2,
            cst(2026, 9, 29, 17, 30),
            "Thu Sep 24; Sep 25-27 Mid-Autumn holidays; day 1 = Mon 28; day 2 = Tue 29",
        ),
    ],
)
def test_add_working_days(calendar: WorkCalendar, received: datetime, n: int, due: datetime, why: str) -> None:
    result = add_working_days(calendar, received, n)
    assert result == due, why
    assert result.tzinfo is UTC


def test_add_working_days_in_a_year_without_data_never_raises(calendar: WorkCalendar) -> None:
    # 2027 has no data: plain Monday-Friday. Fri Feb 5 -> day 1 = Mon Feb 8.
    assert add_working_days(calendar, cst(2027, 2, 5, 10, 0), 1) == cst(2027, 2, 8, 17, 30)
    # Far outside the precomputed table (2000-2060) in both directions.
    assert add_working_days(calendar, cst(2099, 12, 31, 10, 0), 1) == cst(2100, 1, 1, 17, 30)  # a Friday
    assert add_working_days(calendar, cst(1990, 1, 5, 10, 0), 1) == cst(1990, 1, 8, 17, 30)  # Fri -> Mon


def test_add_working_days_refuses_bad_input(calendar: WorkCalendar) -> None:
    with pytest.raises(ValueError):
        add_working_days(calendar, cst(2026, 3, 2, 10, 0), 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_days(calendar, datetime(2026, 3, 2, 10, 0), 1)


# ---- add_working_seconds -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "seconds", "expected", "why"),
    [
        (cst(2026, 2, 13, 12, 15), 1 * HOUR, cst(2026, 2, 13, 14, 30), "lunch does not count: 13:30 + 1h"),
        (cst(2026, 2, 13, 17, 29, 59), 1, cst(2026, 2, 13, 17, 30), "exactly used up at closing: 17:30 itself"),
        (cst(2026, 2, 13, 17, 29, 59), 2, cst(2026, 2, 14, 8, 30, 1), "1 s today, 1 s on the make-up Saturday"),
        (cst(2026, 2, 13, 16, 0), 1.5 * HOUR, cst(2026, 2, 13, 17, 30), "a whole remainder ends at 17:30, not 08:30"),
        (cst(2026, 2, 13, 9, 0), 3 * HOUR, cst(2026, 2, 13, 12, 0), "a morning's worth ends at 12:00, not 13:30"),
        (
            cst(2026, 2, 13, 16, 0),
            8 * HOUR,
            cst(2026, 2, 14, 16, 30),
            "1.5h Fri; 6.5h on Sat Feb 14: 08:30-12:00 (3.5h) + 13:30-16:30 (3h)",
        ),
        (cst(2026, 2, 14, 16, 0), 2 * HOUR, cst(2026, 2, 24, 9, 0), "1.5h Sat; the break; 0.5h on Feb 24"),
        (cst(2026, 2, 17, 23, 0), 1 * HOUR, cst(2026, 2, 24, 9, 30), "on a holiday night: starts at Feb 24 08:30"),
        (cst(2026, 9, 30, 17, 0), 1 * HOUR, cst(2026, 10, 8, 9, 0), "0.5h Sep 30; 0.5h on Oct 8"),
    ],
)
def test_add_working_seconds(
    calendar: WorkCalendar, start: datetime, seconds: float, expected: datetime, why: str
) -> None:
    assert add_working_seconds(calendar, start, seconds) == expected, why


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (cst(2026, 2, 13, 10, 0), cst(2026, 2, 13, 10, 0)),  # already a working moment: unchanged
        (cst(2026, 2, 13, 12, 0), cst(2026, 2, 13, 13, 30)),  # 12:00 is closed (periods are [start, end))
        (cst(2026, 2, 13, 12, 45), cst(2026, 2, 13, 13, 30)),
        (cst(2026, 2, 13, 17, 30), cst(2026, 2, 14, 8, 30)),  # closing time -> make-up Saturday morning
        (cst(2026, 2, 14, 7, 0), cst(2026, 2, 14, 8, 30)),
        (cst(2026, 2, 21, 10, 0), cst(2026, 2, 24, 8, 30)),  # inside the break
        (cst(2026, 10, 10, 18, 0), cst(2026, 10, 12, 8, 30)),
    ],
)
def test_next_working_moment_and_adding_zero(calendar: WorkCalendar, start: datetime, expected: datetime) -> None:
    assert next_working_moment(calendar, start) == expected
    assert add_working_seconds(calendar, start, 0) == expected


def test_add_working_seconds_refuses_negative(calendar: WorkCalendar) -> None:
    with pytest.raises(ValueError):
        add_working_seconds(calendar, cst(2026, 3, 2, 10, 0), -1)


# ---- working_seconds_between -------------------------------------------------------------------------------


def test_working_seconds_between(calendar: WorkCalendar) -> None:
    a, b = cst(2026, 2, 13, 10, 0), cst(2026, 2, 24, 17, 30)
    # Fri 10:00-12:00 (2h) + 13:30-17:30 (4h) + Sat Feb 14 (7.5h) + Tue Feb 24 (7.5h) = 21h.
    assert working_seconds_between(calendar, a, b) == 21 * HOUR
    assert working_seconds_between(calendar, b, a) == -21 * HOUR
    assert working_seconds_between(calendar, a, a) == 0
    # 11:00-12:00 and 13:30-14:00 across lunch.
    assert working_seconds_between(calendar, cst(2026, 3, 2, 11), cst(2026, 3, 2, 14)) == 1.5 * HOUR
    # Two instants inside the same break measure nothing.
    assert working_seconds_between(calendar, cst(2026, 10, 2, 9), cst(2026, 10, 6, 15)) == 0


def test_results_do_not_depend_on_the_input_offset(calendar: WorkCalendar) -> None:
    local = cst(2026, 2, 13, 23, 30)
    in_utc = local.astimezone(UTC)  # 15:30 UTC on Feb 13
    in_ny = local.astimezone(timezone(timedelta(hours=-5)))  # 10:30 on Feb 13 at -05
    for t in (in_utc, in_ny):
        assert add_working_days(calendar, t, 1) == cst(2026, 2, 14, 17, 30)
        assert add_working_seconds(calendar, t, HOUR) == cst(2026, 2, 14, 9, 30)
        assert working_seconds_between(calendar, t, cst(2026, 2, 14, 9, 30)) == HOUR


def test_local_midnight_in_another_offset_is_the_local_date(calendar: WorkCalendar) -> None:
    # 2026-02-12 16:30 UTC is already 00:30 on Feb 13 in Shanghai: the receipt day is Feb 13.
    t = datetime(2026, 2, 12, 16, 30, tzinfo=UTC)
    assert add_working_days(calendar, t, 1) == cst(2026, 2, 14, 17, 30)


def test_single_period_calendar() -> None:
    cal = build_calendar(office_hours=(("09:00", "17:00"),))
    assert add_working_seconds(cal, cst(2026, 3, 2, 16, 0), 2 * HOUR) == cst(2026, 3, 3, 10, 0)
    assert add_working_days(cal, cst(2026, 3, 2, 16, 0), 1) == cst(2026, 3, 3, 17, 0)

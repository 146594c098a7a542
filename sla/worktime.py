"""Working-time arithmetic on a WorkCalendar: add working days or seconds, measure working time, find the next
working moment.

Everything here reduces to one idea, a *working-time line*: W(t) is the number of working microseconds from the
start of the calendar's table to the instant t. W is flat outside office hours (nights, lunch, holidays) and rises
one-for-one inside them. Adding working time is inverting W; measuring it is subtracting two W values. Using the
same function both ways is what makes "add, then measure" give back exactly what was added.

Integers (microseconds, the resolution of datetime) are used throughout so the round trip is exact.
Instants are converted to the calendar's zone on the way in and returned in UTC; the caller's offset never matters.
Office hours are read as local wall-clock times: a daylight-saving jump inside an office period is not modelled
(Asia/Shanghai has none).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import NamedTuple

from sla.bounds import HORIZON_YEARS
from sla.calendar import DayTable, WorkCalendar
from sla.errors import InvalidDuration, NaiveInstant, OutOfRange

__all__ = [
    "add_working_days",
    "add_working_seconds",
    "next_working_moment",
    "working_seconds_between",
    "require_aware",
]

UTC = UTC
_US = 1_000_000


def require_aware(t: datetime, what: str = "datetime") -> None:
    """Refuse naive datetimes: a wall-clock time without an offset is ambiguous across zones."""
    if not isinstance(t, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(t).__name__}")
    if t.tzinfo is None or t.utcoffset() is None:
        raise NaiveInstant(f"{what} must be timezone-aware, got naive {t.isoformat()}")


def local_position(cal: WorkCalendar, t: datetime, *, checked: bool = False) -> tuple[int, int]:
    """(local date ordinal, microseconds since local midnight) of instant t in the calendar's zone.
    `checked=True` skips the awareness check when the caller has just made it."""
    if not checked:
        require_aware(t)
    try:
        lt = t.astimezone(cal.tz)
    except OverflowError as exc:  # year 1 or 9999 with an offset that pushes it past datetime's range
        raise OutOfRange(f"{t.isoformat()} is outside the range working time is counted in") from exc
    return lt.toordinal(), ((lt.hour * 60 + lt.minute) * 60 + lt.second) * _US + lt.microsecond


def _intra(cal: WorkCalendar, s_us: int) -> int:
    """Working microseconds of a working day elapsed at local time s_us."""
    for start, end, before in cal.periods:
        if s_us < start:
            return before
        if s_us < end:
            return before + s_us - start
    return cal.day_us


def _inverse_end(cal: WorkCalendar, rem: int) -> int:
    """Local time at which `rem` (0 < rem <= day) working microseconds of the day have elapsed, the earliest such
    moment: exactly a period's worth lands on that period's *end* (12:00, 17:30), not the next start."""
    for start, end, before in cal.periods:
        if rem <= before + (end - start):
            return start + rem - before
    return cal.close_us


def _inverse_start(cal: WorkCalendar, rem: int) -> int:
    """Like _inverse_end but always a working moment: for 0 <= rem < day, exactly a period's worth lands on the
    next period's *start* (13:30), not on the close. Used for "the next working moment"."""
    for start, end, before in cal.periods:
        if rem < before + (end - start):
            return start + rem - before
    return cal.close_us


def position_w(cal: WorkCalendar, table: DayTable, o: int, s_us: int) -> int:
    """W at local (ordinal, time), relative to the table's first day."""
    ords = table.ords
    i = bisect_left(ords, o)
    if i < len(ords) and ords[i] == o:
        return i * cal.day_us + _intra(cal, s_us)
    return i * cal.day_us


def _table_for_index(cal: WorkCalendar, table: DayTable, o: int, k: int) -> DayTable | None:
    """None when working-day index k is inside `table`; otherwise a table extended far enough past ordinal o
    (the caller then recomputes everything from the new snapshot)."""
    if k < len(table.ords):
        return None
    # Roughly 250 working days a year; over-extend a little so one extension is enough, but never past the
    # horizon: a calendar with no working day left before it has no answer, and searching on would not end.
    missing = k - len(table.ords) + 1
    horizon = date(HORIZON_YEARS[1], 12, 31).toordinal()
    hi = min(table.hi + missing * 2 + 370, horizon)
    if hi <= table.hi:
        raise OutOfRange(f"no working day left before the end of {HORIZON_YEARS[1]} on calendar {cal.name!r}")
    return cal.cover(o, hi)


class Reach(NamedTuple):
    """Where adding working time lands: the table snapshot used, the index `k` of the landing working day in it,
    the local time there, and W at the start and at the landing (so callers can place the warning and the
    supervision day in the same snapshot without converting instants again)."""

    table: DayTable
    k: int
    local_us: int
    w_start: int
    w_end: int


def split_end(cal: WorkCalendar, target: int) -> tuple[int, int]:
    """(working-day index, working microseconds into that day) of W = target (> 0), preferring a day's close:
    exactly whole days land on the close of the last of them, not on the next day's opening."""
    k, rem = divmod(target, cal.day_us)
    if rem == 0:
        return k - 1, cal.day_us
    return k, rem


def landing(cal: WorkCalendar, table: DayTable, target: int) -> tuple[int, int]:
    """Local (ordinal, time) where W = target (> 0) is reached, for a target inside `table`."""
    k, rem = split_end(cal, target)
    return table.ords[k], _inverse_end(cal, rem)


def _reach(cal: WorkCalendar, o: int, s_us: int, target_of: Callable[[DayTable, int], int]) -> Reach:
    table = cal.cover(o, o)
    while True:
        w_start = position_w(cal, table, o, s_us)
        target = target_of(table, w_start)
        k, rem = split_end(cal, target)
        bigger = _table_for_index(cal, table, o, k)
        if bigger is None:
            return Reach(table, k, _inverse_end(cal, rem), w_start, target)
        table = bigger


def advance_w(cal: WorkCalendar, o: int, s_us: int, added_us: int) -> Reach:
    """Where `added_us` (> 0) working microseconds from local (o, s_us) run out."""
    return _reach(cal, o, s_us, lambda table, w_start: w_start + added_us)


def working_days_after_w(cal: WorkCalendar, o: int, s_us: int, days: float) -> Reach:
    """Deadline for a limit in (possibly fractional) working days, counted by Chinese law.

    The day of receipt does not count: counting starts at the opening of the first working day after local
    date o, and `days` whole days end at the close of the Nth working day. A fraction continues into the next
    working day's office hours (1.5 days = day 2 at 13:45 with default hours).
    """
    added = round(days * cal.day_us)
    return _reach(cal, o, s_us, lambda table, w_start: bisect_right(table.ords, o) * cal.day_us + added)


def nth_working_day_after(cal: WorkCalendar, o: int, n: int) -> int:
    """Ordinal of the nth (n >= 1) working day strictly after local ordinal o."""
    table = cal.cover(o, o)
    while True:
        k = bisect_right(table.ords, o) + n - 1
        bigger = _table_for_index(cal, table, o, k)
        if bigger is None:
            return table.ords[k]
        table = bigger


# ---- public API -----------------------------------------------------------------------------------------


def add_working_days(cal: WorkCalendar, t: datetime, n: int) -> datetime:
    """End of the last office period of the nth working day after t's local date (the day of receipt does not
    count), as UTC. Works whatever t is: a holiday at 23:00, a make-up Saturday, lunch, a second before closing.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidDuration(f"n must be an integer >= 1, got {n!r}")
    o, _ = local_position(cal, t)
    return cal.close_utc(nth_working_day_after(cal, o, n))


def add_working_seconds(cal: WorkCalendar, t: datetime, seconds: float) -> datetime:
    """The instant at which `seconds` of office time have passed since t, as UTC.

    Time outside office hours does not count, so a t outside them effectively starts at the next working
    moment. A total that ends exactly at a period's close gives that close (17:30), not the next opening;
    adding 0 returns next_working_moment(t).
    """
    if seconds < 0:
        raise InvalidDuration(f"seconds must be >= 0, got {seconds!r}")
    added = round(seconds * _US)
    if added == 0:
        return next_working_moment(cal, t)
    o, s = local_position(cal, t)
    reach = advance_w(cal, o, s, added)
    return cal.to_utc(reach.table.ords[reach.k], reach.local_us)


def working_seconds_between(cal: WorkCalendar, a: datetime, b: datetime) -> float:
    """Office-time seconds from a to b; negative when b is before a."""
    oa, sa = local_position(cal, a)
    ob, sb = local_position(cal, b)
    table = cal.cover(min(oa, ob), max(oa, ob))
    return (position_w(cal, table, ob, sb) - position_w(cal, table, oa, sa)) / _US


def next_working_moment(cal: WorkCalendar, t: datetime) -> datetime:
    """t itself (in UTC) when it is inside an office period of a working day, else the next period's opening."""
    o, s = local_position(cal, t)
    table = cal.cover(o, o)
    while True:
        k, rem = divmod(position_w(cal, table, o, s), cal.day_us)
        bigger = _table_for_index(cal, table, o, k)
        if bigger is None:
            break
        table = bigger
    day, local = table.ords[k], _inverse_start(cal, rem)
    if day == o and local == s:
        return t.astimezone(UTC)
    return cal.to_utc(day, local)

"""How a period splits into whole months and days read from the rollups and receipt ranges computed live."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hotline.reports.query import midnight


@dataclass
class Plan:
    """How a period splits into months and days read from rollups, and receipt ranges computed live."""

    live: list[tuple[datetime, datetime]] = field(default_factory=list)
    days: list[date] = field(default_factory=list)
    months: list[date] = field(default_factory=list)
    dirty: list[date] = field(default_factory=list)
    lo: date = date(1970, 1, 1)  # the whole days [lo, hi) the rollups and the boundary look-up cover
    hi: date = date(1970, 1, 1)

    @property
    def rollup_days(self) -> int:
        return len(self.days) + sum(_month_length(m) for m in self.months)


def _month_length(m: date) -> int:
    return ((m.replace(day=28) + timedelta(days=4)).replace(day=1) - m).days


def plan(start: datetime, end: datetime, tz: ZoneInfo, dirty_days: set[date], use_rollups: bool) -> Plan:
    """Whole clean months from the monthly rollups, other whole clean days from the daily ones, queued days and
    the partial days at the edges live."""
    if not use_rollups:
        return Plan(live=[(start, end)])
    first = start.astimezone(tz).date()
    d0 = first if midnight(first, tz) == start else first + timedelta(days=1)
    d1 = end.astimezone(tz).date()
    if d0 >= d1:
        return Plan(live=[(start, end)])
    live: list[tuple[datetime, datetime]] = []
    if start < midnight(d0, tz):
        live.append((start, midnight(d0, tz)))
    dirty = sorted(d for d in dirty_days if d0 <= d < d1)
    live += [(midnight(d, tz), midnight(d + timedelta(days=1), tz)) for d in dirty]
    if midnight(d1, tz) < end:
        live.append((midnight(d1, tz), end))
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in sorted(live):
        if merged and merged[-1][1] >= lo:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    dirty_months = {d.replace(day=1) for d in dirty}
    days: list[date] = []
    months: list[date] = []
    d = d0
    while d < d1:
        month_end = d + timedelta(days=_month_length(d.replace(day=1)) - d.day + 1)
        if d.day == 1 and month_end <= d1 and d not in dirty_months:
            months.append(d)
            d = month_end
            continue
        if d not in dirty_days:
            days.append(d)
        d += timedelta(days=1)
    return Plan(merged, days, months, dirty, d0, d1)


def flat_ranges(ranges: list[tuple[datetime, datetime]]) -> list[datetime]:
    return [x for pair in ranges for x in pair]


def day_ranges(days: list[date], tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """Consecutive days as one range each run."""
    ranges: list[tuple[datetime, datetime]] = []
    for d in sorted(days):
        lo, hi = midnight(d, tz), midnight(d + timedelta(days=1), tz)
        if ranges and ranges[-1][1] == lo:
            ranges[-1] = (ranges[-1][0], hi)
        else:
            ranges.append((lo, hi))
    return ranges

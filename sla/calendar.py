"""Working calendars: which local dates are working days, and the office hours of a working day.

This module owns the *data* side of working time: the official China schedule (statutory holidays and the
make-up workdays of 调休) read from the `chinese_calendar` package, the local overrides of
`config/data/calendar.toml` (validated by `sla.overrides`), and a precomputed, sorted table of working-day
ordinals that `worktime` bisects. It knows nothing about deadlines or policies.

Precedence for one date, highest first:
  1. a local exception (`[[exceptions]]`: a typhoon day off, a declared working Saturday);
  2. a `[years.YYYY]` table from the overrides (authoritative for that whole year, even over the package);
  3. the package's official data for the years it covers;
  4. plain Monday-Friday. Such a year is *not known*: deadlines touching it are provisional.
"""

from __future__ import annotations

import hashlib
import json
import re
from bisect import bisect_left
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar

from sla.bounds import HORIZON_YEARS
from sla.errors import CalendarError, OutOfRange
from sla.overrides import Exceptions, Reasons, YearTables, parse_overrides

__all__ = ["CalendarError", "DayTable", "WorkCalendar", "build_calendar"]

UTC = UTC
_US = 1_000_000
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
# Years precomputed when a calendar is built; anything outside is added on first use (see cover).
_PRELOAD_YEARS = (2000, 2060)


def _official_tables() -> tuple[dict[date, Any], dict[date, Any], int, int]:
    """The package's holiday and make-up-workday tables and the years they cover.

    We read the tables instead of calling `chinese_calendar.is_workday` per date: that function rescans its whole
    table on every call and raises NotImplementedError outside its range, which must never reach intake.
    """
    holidays = dict(getattr(chinese_calendar, "holidays", {}))
    workdays = dict(getattr(chinese_calendar, "workdays", {}))
    if not holidays:
        return {}, {}, 1, 0  # an empty range: every year falls back to Mon-Fri, unknown
    years = [d.year for d in holidays]
    return holidays, workdays, min(years), max(years)


_CN_HOLIDAYS, _CN_WORKDAYS, _CN_FIRST_YEAR, _CN_LAST_YEAR = _official_tables()


def _contiguous_span(known_years: frozenset[int], anchor: int) -> tuple[int, int]:
    """Ordinal span of the run of consecutive known years around `anchor` (empty span when there is none)."""
    if anchor not in known_years:
        return 1, 0
    first = last = anchor
    while first - 1 in known_years:
        first -= 1
    while last + 1 in known_years:
        last += 1
    return date(first, 1, 1).toordinal(), date(last, 12, 31).toordinal()


class DayTable:
    """An immutable snapshot: working-day ordinals for the whole years [first_year, last_year].

    `ords` is the sorted list of working-day ordinals, `lo`/`hi` the first and last date ordinals covered; the
    index of a day in `ords` is its working-day number, which `worktime` bisects. `worktime` computes every
    quantity of one call from a single snapshot, so a concurrent extension of the table (which replaces the
    snapshot, never mutates it) cannot mix two numberings.
    """

    __slots__ = ("first_year", "last_year", "lo", "hi", "ords")

    def __init__(self, first_year: int, last_year: int, ords: list[int]) -> None:
        self.first_year = first_year
        self.last_year = last_year
        self.lo = date(first_year, 1, 1).toordinal()
        self.hi = date(last_year, 12, 31).toordinal()
        self.ords = ords


def _parse_hhmm(text: str) -> int:
    if not isinstance(text, str) or not _HHMM.match(text):
        raise CalendarError(f"office hours: {text!r} is not HH:MM")
    h, m = text.split(":")
    return (int(h) * 3600 + int(m) * 60) * _US


class WorkCalendar:
    """A working calendar: working days (official schedule + overrides) and office hours in one time zone.

    Immutable from the outside. Internally it keeps a snapshot table of working-day ordinals that grows by whole
    years when an instant outside it is asked about; that growth is invisible to callers.

    Besides the questions about dates, it offers `worktime` and `deadline` the pieces of their arithmetic, in
    integers: local instants are (date ordinal, microseconds since local midnight).
      `periods`   the office periods of a working day: (start_us, end_us, working microseconds before it);
      `day_us`    working microseconds in one working day;  `close_us`  the local time of the day's close;
      `cover()`   a `DayTable` snapshot of working-day ordinals spanning a range of local dates;
      `to_utc()`  a local (ordinal, microseconds) as UTC;  `close_utc()`  a date's close of office hours in UTC.
    These attributes are read-only by contract, like `name`, `tz` and `office_hours`.
    """

    __slots__ = (
        "name",
        "tz",
        "office_hours",
        "version",
        "periods",
        "day_us",
        "close_us",
        "_years",
        "_exceptions",
        "_reasons",
        "_known_years",
        "_known_span",
        "_table",
        "_end_utc",
        "_midnight_utc",
    )

    name: str
    tz: ZoneInfo
    office_hours: tuple[tuple[str, str], ...]
    version: str
    periods: tuple[tuple[int, int, int], ...]
    day_us: int
    close_us: int

    def __init__(
        self,
        *,
        name: str,
        tz: ZoneInfo,
        office_hours: tuple[tuple[str, str], ...],
        years: YearTables,
        exceptions: Exceptions,
        reasons: Reasons,
    ) -> None:
        periods: list[tuple[int, int, int]] = []  # (start_us, end_us, working_us_before_this_period)
        worked = 0
        previous_end = -1
        for start_text, end_text in office_hours:
            start, end = _parse_hhmm(start_text), _parse_hhmm(end_text)
            if start >= end or start < previous_end:
                raise CalendarError(f"office hours: {office_hours!r} must be increasing, non-overlapping periods")
            periods.append((start, end, worked))
            worked += end - start
            previous_end = end
        if not periods:
            raise CalendarError("office hours: at least one period is needed")
        self.name = name
        self.tz = tz
        self.office_hours = office_hours
        self.periods = tuple(periods)
        self.day_us = worked
        self.close_us = periods[-1][1]
        self._years = years
        self._exceptions = exceptions
        self._reasons = reasons
        self._known_years = frozenset(range(_CN_FIRST_YEAR, _CN_LAST_YEAR + 1)) | frozenset(years)
        self._known_span = _contiguous_span(self._known_years, _CN_LAST_YEAR)
        self.version = self._fingerprint()
        self._table = self._build_table(*_PRELOAD_YEARS)
        # End of office hours per working-day ordinal, in UTC: due dates and supervision dates reuse a few hundred.
        self._end_utc: dict[int, datetime] = {}
        self._midnight_utc: dict[int, datetime | None] = {}

    # ---- public questions -------------------------------------------------------------------------------

    @property
    def day_seconds(self) -> int:
        """Length of one working day's office hours, in seconds."""
        return self.day_us // _US

    def is_working_day(self, d: date) -> bool:
        """True when `d` (a local date) is a working day; never raises for any year."""
        if isinstance(d, datetime):
            d = d.date()
        t = self._table
        o = d.toordinal()
        if t.lo <= o <= t.hi:
            i = bisect_left(t.ords, o)
            return i < len(t.ords) and t.ords[i] == o
        return self._classify(d)

    def is_known(self, d: date) -> bool:
        """True when the year of `d` has official data (package) or a whole-year override."""
        return d.year in self._known_years

    def unknown_years(self, first: date, last: date) -> tuple[int, ...]:
        """Years in [first.year, last.year] with no official data and no whole-year override."""
        return tuple(y for y in range(first.year, last.year + 1) if y not in self._known_years)

    def exceptions_between(self, first: date, last: date) -> list[tuple[date, bool, str]]:
        """Local exceptions (date, working, reason) falling in [first, last]."""
        return [(d, w, self._reasons.get(d, "")) for d, w in sorted(self._exceptions.items()) if first <= d <= last]

    def all_known(self, first_ordinal: int, last_ordinal: int) -> bool:
        """True when every local date in [first_ordinal, last_ordinal] lies in a known year (hot path)."""
        lo, hi = self._known_span
        if lo <= first_ordinal and last_ordinal <= hi:
            return True
        return not self.unknown_years(date.fromordinal(first_ordinal), date.fromordinal(last_ordinal))

    def exception_reason(self, d: date) -> str | None:
        """The reason given for a local exception on `d`, or None when `d` has none."""
        return self._reasons.get(d) if d in self._exceptions else None

    def overlaid(self, exceptions: Exceptions, reasons: Reasons, *, name: str) -> WorkCalendar:
        """This calendar with more local exceptions on top (a territory's typhoon day): they win over this
        calendar's own exception for their day. Built by patching a copy of the table, not from scratch, so a set
        of per-territory calendars costs little to rebuild; `sla.calendars` checks it against a full build."""
        new = object.__new__(WorkCalendar)
        for slot in ("tz", "office_hours", "periods", "day_us", "close_us", "_years", "_known_years", "_known_span"):
            setattr(new, slot, getattr(self, slot))
        new.name = name
        new._exceptions = {**self._exceptions, **exceptions}
        new._reasons = {**{d: r for d, r in self._reasons.items() if d not in exceptions}, **reasons}
        base = self._table
        ords = list(base.ords)
        for d, working in exceptions.items():
            o = d.toordinal()
            if not base.lo <= o <= base.hi:
                continue  # outside the table: _classify sees the exception when the table grows
            i = bisect_left(ords, o)
            present = i < len(ords) and ords[i] == o
            if working and not present:
                ords.insert(i, o)
            elif not working and present:
                del ords[i]
        new._table = DayTable(base.first_year, base.last_year, ords)
        new.version = new._fingerprint()
        # Local close and midnight instants do not depend on which days work: shared with this calendar.
        new._end_utc = self._end_utc
        new._midnight_utc = self._midnight_utc
        return new

    def __repr__(self) -> str:
        return (
            f"WorkCalendar(name={self.name!r}, tz={self.tz.key!r}, office_hours={self.office_hours!r}, "
            f"version={self.version!r})"
        )

    # ---- classification ---------------------------------------------------------------------------------

    def _classify(self, d: date) -> bool:
        exception = self._exceptions.get(d)
        if exception is not None:
            return exception
        year_data = self._years.get(d.year)
        if year_data is not None:
            holidays, workdays = year_data
            return d in workdays or (d.weekday() < 5 and d not in holidays)
        if _CN_FIRST_YEAR <= d.year <= _CN_LAST_YEAR:
            return d in _CN_WORKDAYS or (d.weekday() < 5 and d not in _CN_HOLIDAYS)
        return d.weekday() < 5

    def _year_ordinals(self, year: int) -> list[int]:
        first = date(year, 1, 1).toordinal()
        last = date(year, 12, 31).toordinal()
        classify = self._classify
        return [o for o in range(first, last + 1) if classify(date.fromordinal(o))]

    def _build_table(self, first_year: int, last_year: int) -> DayTable:
        ords: list[int] = []
        for year in range(first_year, last_year + 1):
            ords.extend(self._year_ordinals(year))
        return DayTable(first_year, last_year, ords)

    def cover(self, lo: int, hi: int) -> DayTable:
        """A snapshot covering local date ordinals [lo, hi], extended by whole years (plus one spare) when needed.

        Raises OutOfRange past the horizon years (`sla.bounds`). Compute everything of one question from one
        snapshot: a later call may return a bigger one, numbered from another first day."""
        t = self._table
        if t.lo <= lo and hi <= t.hi:
            return t
        first_ok, last_ok = HORIZON_YEARS
        if lo < date(first_ok, 1, 1).toordinal() or hi > date(last_ok, 12, 31).toordinal():
            # Growing without bound is what once made a far instant loop for ever: refuse instead.
            raise OutOfRange(f"working time is counted only between {first_ok} and {last_ok}")
        want_first = min(t.first_year, max(first_ok, date.fromordinal(lo).year - 1))
        want_last = max(t.last_year, min(last_ok, date.fromordinal(hi).year + 1))
        before: list[int] = []
        for year in range(want_first, t.first_year):
            before.extend(self._year_ordinals(year))
        after: list[int] = []
        for year in range(t.last_year + 1, want_last + 1):
            after.extend(self._year_ordinals(year))
        new = DayTable(want_first, want_last, before + t.ords + after)
        self._table = new  # replace, never mutate: readers holding the old snapshot stay consistent
        return new

    # ---- arithmetic for worktime and deadline -------------------------------------------------------------

    def close_utc(self, o: int) -> datetime:
        """The close of office hours (end of the last period) of local date ordinal `o`, as UTC (cached)."""
        hit = self._end_utc.get(o)
        if hit is None:
            hit = self.to_utc(o, self.close_us)
            if len(self._end_utc) < 100_000:  # bounded: a pathological caller cannot grow it forever
                self._end_utc[o] = hit
        return hit

    def to_utc(self, o: int, s_us: int) -> datetime:
        """Local (ordinal, microseconds since midnight) as a UTC datetime."""
        if o in self._midnight_utc:
            base = self._midnight_utc[o]
        else:
            base = self._linear_midnight(o)
            if len(self._midnight_utc) < 100_000:
                self._midnight_utc[o] = base
        if base is not None:
            return base + timedelta(microseconds=s_us)
        return self._to_utc_exact(o, s_us)

    def _linear_midnight(self, o: int) -> datetime | None:
        """UTC instant of local midnight of `o` when the zone's offset is the same from midnight to the close of
        office hours (every day in China), so that a local time is midnight plus an offset; else None."""
        midnight = self._to_utc_exact(o, 0)
        close = self._to_utc_exact(o, self.close_us)
        if close - midnight == timedelta(microseconds=self.close_us):
            return midnight
        return None

    def _to_utc_exact(self, o: int, s_us: int) -> datetime:
        d = date.fromordinal(o)
        seconds, micro = divmod(s_us, _US)
        if seconds >= 86400:  # a period ending at 24:00 ends at the next midnight
            d = date.fromordinal(o + 1)
            seconds -= 86400
        h, rest = divmod(seconds, 3600)
        m, s = divmod(rest, 60)
        return datetime(d.year, d.month, d.day, h, m, s, micro, tzinfo=self.tz).astimezone(UTC)

    def _fingerprint(self) -> str:
        """A stable hash of everything that decides a deadline: name, zone, hours, official data, overrides."""
        doc = {
            "name": self.name,
            "tz": self.tz.key,
            "office_hours": [list(p) for p in self.office_hours],
            "official": {
                "years": [_CN_FIRST_YEAR, _CN_LAST_YEAR],
                "holidays": sorted(d.isoformat() for d in _CN_HOLIDAYS),
                "workdays": sorted(d.isoformat() for d in _CN_WORKDAYS),
            },
            "years": {
                str(y): {"holidays": sorted(d.isoformat() for d in h), "workdays": sorted(d.isoformat() for d in w)}
                for y, (h, w) in sorted(self._years.items())
            },
            "exceptions": {d.isoformat(): v for d, v in sorted(self._exceptions.items())},
        }
        blob = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def build_calendar(
    overrides: dict[str, Any] | None = None,
    *,
    tz: str = "Asia/Shanghai",
    office_hours: Iterable[Iterable[str]] = (("08:30", "12:00"), ("13:30", "17:30")),
    name: str = "china",
) -> WorkCalendar:
    """Build the calendar: official China schedule + `overrides` (the parsed config/data/calendar.toml).

    Raises CalendarError (a ValueError) naming the offending entry when the overrides, the zone or the office
    hours are invalid. Never raises for dates outside the package's range: those years are plain Mon-Fri.
    """
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError(f"unknown time zone {tz!r}") from exc
    try:
        hours = tuple((str(a), str(b)) for a, b in office_hours)
    except (TypeError, ValueError) as exc:
        raise CalendarError(f"office hours: {office_hours!r} must be (start, end) pairs") from exc
    years, exceptions, reasons = parse_overrides(overrides)
    return WorkCalendar(name=name, tz=zone, office_hours=hours, years=years, exceptions=exceptions, reasons=reasons)

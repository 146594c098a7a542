"""The local calendar overrides (`config/data/calendar.toml`, parsed): whole-year tables and local exceptions.

This module owns their validation only: what a `[years.YYYY]` table and an `[[exceptions]]` entry may hold, with
errors that name the entry. `sla.calendar` decides what they mean for a date (their precedence is documented there).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sla.errors import CalendarError

__all__ = ["CalendarError", "Exceptions", "Reasons", "YearTables", "parse_overrides"]

_OVERRIDE_KEYS = {"format", "years", "exceptions"}
_YEAR_KEYS = {"holidays", "workdays", "source", "note"}
_EXCEPTION_KEYS = {"date", "working", "reason"}

# Per overridden year: (holidays, workdays). Per exception date: working or not, and the reason given.
YearTables = dict[int, tuple[frozenset[date], frozenset[date]]]
Exceptions = dict[date, bool]
Reasons = dict[date, str]


def parse_overrides(overrides: Mapping[str, Any] | None) -> tuple[YearTables, Exceptions, Reasons]:
    """Validate the parsed calendar.toml; return per-year (holidays, workdays), exceptions and their reasons."""
    if not overrides:
        return {}, {}, {}
    if not isinstance(overrides, Mapping):
        raise CalendarError("calendar overrides must be a table")
    unknown = set(overrides) - _OVERRIDE_KEYS
    if unknown:
        raise CalendarError(f"calendar overrides: unknown keys {sorted(unknown)} (expected {sorted(_OVERRIDE_KEYS)})")
    fmt = overrides.get("format", 1)
    if fmt != 1:
        raise CalendarError(f"calendar overrides: format {fmt!r} is not supported (expected 1)")
    years = _parse_years(overrides.get("years", {}))
    exceptions, reasons = _parse_exceptions(overrides.get("exceptions", []))
    return years, exceptions, reasons


def _as_date(value: Any, where: str) -> date:
    # tomllib gives datetime.date for a bare TOML date; JSON round-trips give ISO strings. Accept both.
    if isinstance(value, datetime):
        raise CalendarError(f"{where}: {value!r} is a date-time, expected a date")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise CalendarError(f"{where}: {value!r} is not a date (YYYY-MM-DD)")


def _parse_years(raw_years: Any) -> YearTables:
    if not isinstance(raw_years, Mapping):
        raise CalendarError("calendar overrides: [years] must be a table of [years.YYYY] tables")
    years: YearTables = {}
    for key, table in raw_years.items():
        year, days = _parse_year(key, table)
        years[year] = days
    return years


def _parse_year(key: Any, table: Any) -> tuple[int, tuple[frozenset[date], frozenset[date]]]:
    """One `[years.YYYY]` table: its year and its (holidays, workdays), every date inside that year."""
    where = f"[years.{key}]"
    if not (isinstance(key, int) or (isinstance(key, str) and key.isdigit() and len(key) == 4)):
        raise CalendarError(f"{where}: the key must be a four-digit year")
    year = int(key)
    if not isinstance(table, Mapping):
        raise CalendarError(f"{where}: must be a table with holidays and workdays lists")
    extra = set(table) - _YEAR_KEYS
    if extra:
        raise CalendarError(f"{where}: unknown keys {sorted(extra)} (expected {sorted(_YEAR_KEYS)})")
    holidays = _dates_of_year(table.get("holidays", []), year, f"{where}.holidays")
    workdays = _dates_of_year(table.get("workdays", []), year, f"{where}.workdays")
    both = sorted(d.isoformat() for d in holidays & workdays)
    if both:
        raise CalendarError(f"{where}: dates listed both as holiday and workday: {both}")
    return year, (holidays, workdays)


def _dates_of_year(values: Any, year: int, where: str) -> frozenset[date]:
    if not isinstance(values, list):
        raise CalendarError(f"{where}: must be a list of dates")
    parsed = frozenset(_as_date(v, where) for v in values)
    stray = sorted(d.isoformat() for d in parsed if d.year != year)
    if stray:
        raise CalendarError(f"{where}: dates outside {year}: {stray}")
    return parsed


def _parse_exceptions(raw_exc: Any) -> tuple[Exceptions, Reasons]:
    if not isinstance(raw_exc, list):
        raise CalendarError("calendar overrides: exceptions must be an array of tables ([[exceptions]])")
    exceptions: Exceptions = {}
    reasons: Reasons = {}
    for i, entry in enumerate(raw_exc, start=1):
        where = f"[[exceptions]] #{i}"
        d, working, reason = _parse_exception(entry, where)
        if d in exceptions:
            raise CalendarError(f"{where}: {d} is listed twice")
        exceptions[d] = working
        reasons[d] = reason
    return exceptions, reasons


def _parse_exception(entry: Any, where: str) -> tuple[date, bool, str]:
    """One `[[exceptions]]` entry: (date, working, reason)."""
    if not isinstance(entry, Mapping):
        raise CalendarError(f"{where}: must be a table with date, working, reason")
    extra = set(entry) - _EXCEPTION_KEYS
    if extra:
        raise CalendarError(f"{where}: unknown keys {sorted(extra)} (expected {sorted(_EXCEPTION_KEYS)})")
    if "date" not in entry or "working" not in entry:
        raise CalendarError(f"{where}: needs date and working")
    d = _as_date(entry["date"], where)
    working = entry["working"]
    if not isinstance(working, bool):
        raise CalendarError(f"{where} ({d}): working must be true or false")
    return d, working, str(entry.get("reason", ""))

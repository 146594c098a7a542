"""The administrator's view of the working calendar: the years with official data, the overrides and local
exceptions in force (config/data/calendar.toml, and those saved through hotline.admin.calendar_store), and what a
new local exception (a typhoon day off, or a declared working day) would do to the running clocks, before anything
is saved.

An exception applies to the whole city or to the territories it names (属地: a typhoon day in 启东市 moves only the
deadlines of tickets in 320681); deadlines are computed on the calendar of their ticket's territory
(sla.TerritoryCalendars, Runtime.calendar_for). At most one exception is in force per day and territory, a
city-wide one covering them all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any

import msgspec

import sla
from config.reference import load_calendar_config
from hotline.auth.tokens import Principal
from hotline.errors import InvalidInput
from hotline.infra.runtime import Runtime
from hotline.infra.sql import load
from hotline.policies.recompute import recomputed
from hotline.vocab import ADMIN

PREVIEW_LIST = 50  # moved deadlines listed one by one; the count covers all
PREVIEW_BATCH = 500
RUNNING_CLOCKS_SQL = load(__file__, "running_clocks_in")
Territories = Annotated[list[Annotated[str, msgspec.Meta(max_length=12)]], msgspec.Meta(max_length=64)]


class ExceptionPreview(msgspec.Struct, forbid_unknown_fields=True):
    """A local exception: its day, why, whether the day works, and the territories (GB/T 2260 codes) it applies
    to, none for the whole city."""

    date: date
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    working: bool = False
    territories: Territories = msgspec.field(default_factory=list)


class YearOverride(msgspec.Struct):
    year: int
    source: str


class CalendarException(msgspec.Struct):
    """A local exception in force: a day off (`working` false) or a declared working day, for the territories
    named (none: the whole city); `source` is `file` (config/data/calendar.toml) or `saved` (by an administrator,
    listed with its id by GET /api/admin/calendar/exceptions)."""

    date: str
    working: bool
    reason: str
    territories: list[str] = msgspec.field(default_factory=list)
    source: str = "file"


class CalendarOverview(msgspec.Struct):
    """The working calendar in force: its version and zone, office hours (pairs of "HH:MM"), the years with official
    data, whole-year overrides and local exceptions."""

    version: str
    time_zone: str
    office_hours: list[list[str]]
    known_years: list[int]
    year_overrides: list[YearOverride]
    exceptions: list[CalendarException]


class MovedDeadline(msgspec.Struct):
    """A running clock the exception would move: its ticket, clock, deadline now and with the exception."""

    number: str
    clock: str
    due_at: str
    new_due_at: str
    territory: str | None = None


class CalendarExceptionEffect(msgspec.Struct):
    """What the exception would do: the running clocks examined (those of its territories, or all for the whole
    city), how many it would move, and the first of them (at most 50, earliest deadline first)."""

    date: str
    working: bool
    open_clocks: int
    would_move: int
    moved: list[MovedDeadline]
    territories: list[str] = msgspec.field(default_factory=list)


def overview(rt: Runtime, principal: Principal) -> CalendarOverview:
    principal.require(ADMIN)
    overrides, office_hours = load_calendar_config()
    cal = rt.calendar
    known = [y for y in range(sla.SUPPORTED_YEARS[0], sla.SUPPORTED_YEARS[1] + 1) if cal.is_known(date(y, 1, 1))]
    years = overrides.get("years") or {}
    first, last = date(sla.SUPPORTED_YEARS[0], 1, 1), date(sla.SUPPORTED_YEARS[1], 12, 31)
    in_file = {
        (str(e.get("date")), bool(e.get("working")), str(e.get("reason", "")))
        for e in overrides.get("exceptions") or []
    }
    exceptions = [
        CalendarException(d.isoformat(), w, r, [], "file" if (d.isoformat(), w, r) in in_file else "saved")
        for d, w, r in cal.exceptions_between(first, last)
    ]
    by_day: dict[tuple[date, bool, str], list[str]] = {}
    calendars = rt.calendars or sla.TerritoryCalendars(cal)
    for territory in calendars.territories:
        for entry in calendars.local_exceptions(territory):
            by_day.setdefault(entry, []).append(territory)
    exceptions += [CalendarException(d.isoformat(), w, r, ts, "saved") for (d, w, r), ts in by_day.items()]
    exceptions.sort(key=lambda e: (e.date, e.territories))
    return CalendarOverview(
        version=cal.version,
        time_zone=cal.tz.key,
        office_hours=[list(p) for p in office_hours],
        known_years=known,
        year_overrides=[YearOverride(int(y), (v or {}).get("source", "")) for y, v in sorted(years.items())],
        exceptions=exceptions,
    )


def territories_of(rt: Runtime, data: ExceptionPreview) -> list[str]:
    """The exception's territories, sorted and without repeats (none: the whole city), or InvalidInput naming
    `territories` when one is not a territory of the reference data."""
    unknown = [t for t in data.territories if t not in rt.names.territories]
    if unknown:
        problem = f"unknown territory {unknown[0]!r} (expected GB/T 2260 codes of the reference data)"
        raise InvalidInput(f"territories: {problem}", fields={"territories": problem})
    return sorted(set(data.territories))


def _taken(calendars: sla.TerritoryCalendars, day: date, territories: list[str]) -> bool:
    """Whether an exception is already in force on `day` for one of `territories` (none: any territory)."""
    if calendars.city.exception_reason(day) is not None:
        return True
    named = territories or calendars.territories
    return any(calendars.for_territory(t).exception_reason(day) is not None for t in named)


def with_exception(rt: Runtime, data: ExceptionPreview) -> sla.TerritoryCalendars:
    """The calendars in force with the exception added, or InvalidInput naming `date` when the exception is out of
    range, would change nothing, or falls on a day that already has a local exception in one of its territories
    (`territories` when one is unknown)."""
    problem = sla.out_of_range(data.date)
    if problem:
        raise InvalidInput(f"date: {problem}", fields={"date": problem})
    territories = territories_of(rt, data)
    calendars = rt.calendars or sla.TerritoryCalendars(rt.calendar)
    if _taken(calendars, data.date, territories):
        raise InvalidInput(
            f"date: {data.date} already has a local exception",
            fields={"date": "already has a local exception: withdraw it first"},
        )
    # No exception that day in these territories: each of them works that day exactly when the city does.
    if data.working == calendars.city.is_working_day(data.date):
        state = "a working day" if data.working else "a day off"
        raise InvalidInput(
            f"date: {data.date} is already {state}",
            fields={"date": f"already {state}: the exception would change nothing"},
        )
    if territories:
        return calendars.adding(territories, (data.date, data.working, data.reason))
    overrides = rt.calendar_overrides
    extra = {"date": data.date.isoformat(), "working": data.working, "reason": data.reason}
    changed = {**overrides, "exceptions": [*(overrides.get("exceptions") or []), extra]}
    try:
        city = sla.build_calendar(changed, tz=rt.calendar.tz.key, office_hours=rt.calendar.office_hours)
    except sla.CalendarError as exc:
        raise InvalidInput(f"date: {exc}", fields={"date": str(exc)}) from exc
    return calendars.with_city(city)


async def _running_clocks(rt: Runtime, territories: list[str]) -> AsyncIterator[Any]:
    """The running clocks of tickets in `territories` (none: every one), in id order and in batches (keyset)."""
    after_id = 0
    async with rt.pool.acquire() as conn:
        while True:
            rows = await conn.fetch(RUNNING_CLOCKS_SQL, after_id, PREVIEW_BATCH, territories or None)
            if not rows:
                return
            after_id = rows[-1]["id"]
            for row in rows:
                yield row


async def preview_exception(rt: Runtime, principal: Principal, data: ExceptionPreview) -> CalendarExceptionEffect:
    """The running clocks in the exception's territories whose deadline it would move, computed as a recomputation
    would (under the policies in force, from each clock's start), against the same computation today."""
    principal.require(ADMIN)
    await rt.reload_policies()  # another process may have saved or withdrawn an exception
    calendars = with_exception(rt, data)
    territories = territories_of(rt, data)
    moved: list[MovedDeadline] = []
    count = examined = 0
    async for row in _running_clocks(rt, territories):
        examined += 1
        old = sla.Deadline.from_dict(row["deadline"])
        what = {"channel": row["channel"], "kind": row["kind"], "urgent": row["urgent"]}
        try:
            now = recomputed(old, rt.policies, rt.calendar_for(row["territory"]), **what)
            new = recomputed(old, rt.policies, calendars.for_territory(row["territory"]), **what)
        except sla.SlaError:
            continue
        if now is None or new is None or now.due_at == new.due_at:
            continue
        count += 1
        if len(moved) < PREVIEW_LIST:
            moved.append(
                MovedDeadline(
                    row["number"], row["clock"], now.due_at.isoformat(), new.due_at.isoformat(), row["territory"]
                )
            )
    moved.sort(key=lambda m: m.due_at)
    return CalendarExceptionEffect(
        date=data.date.isoformat(),
        working=data.working,
        open_clocks=examined,
        would_move=count,
        moved=moved,
        territories=territories,
    )

"""The administrator's view of the working calendar: the years with official data, the overrides and local
exceptions in force (config/data/calendar.toml, and those saved through hotline.admin.calendar_store), and what a
new local exception (a typhoon day off, or a declared working day) would do to the running clocks, before anything
is saved.

The calendar is one per installation (the whole city): an exception applies to every territory.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec

import sla
from config.reference import load_calendar_config
from hotline.auth.tokens import Principal
from hotline.errors import InvalidInput
from hotline.infra.runtime import Runtime
from hotline.policies.store import recomputed, running_clocks
from hotline.vocab import ADMIN

PREVIEW_LIST = 50  # moved deadlines listed one by one; the count covers all


class ExceptionPreview(msgspec.Struct, forbid_unknown_fields=True):
    date: date
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    working: bool = False


class YearOverride(msgspec.Struct):
    year: int
    source: str


class CalendarException(msgspec.Struct):
    """A local exception in force: a day off (`working` false) or a declared working day."""

    date: str
    working: bool
    reason: str


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


class CalendarExceptionEffect(msgspec.Struct):
    """What the exception would do: the running clocks examined, how many it would move, and the first of them
    (at most 50, earliest deadline first)."""

    date: str
    working: bool
    open_clocks: int
    would_move: int
    moved: list[MovedDeadline]


def overview(rt: Runtime, principal: Principal) -> CalendarOverview:
    principal.require(ADMIN)
    overrides, office_hours = load_calendar_config()
    cal = rt.calendar
    known = [y for y in range(sla.SUPPORTED_YEARS[0], sla.SUPPORTED_YEARS[1] + 1) if cal.is_known(date(y, 1, 1))]
    years = overrides.get("years") or {}
    exceptions = cal.exceptions_between(date(sla.SUPPORTED_YEARS[0], 1, 1), date(sla.SUPPORTED_YEARS[1], 12, 31))
    return CalendarOverview(
        version=cal.version,
        time_zone=cal.tz.key,
        office_hours=[list(p) for p in office_hours],
        known_years=known,
        year_overrides=[YearOverride(int(y), (v or {}).get("source", "")) for y, v in sorted(years.items())],
        exceptions=[CalendarException(d.isoformat(), w, r) for d, w, r in exceptions],
    )


def with_exception(rt: Runtime, data: ExceptionPreview) -> sla.WorkCalendar:
    """The calendar in force with the exception added, or InvalidInput naming `date` when the exception is out of
    range, would change nothing, or falls on a day that already has a local exception."""
    problem = sla.out_of_range(data.date)
    if problem:
        raise InvalidInput(f"date: {problem}", fields={"date": problem})
    if rt.calendar.exception_reason(data.date) is not None:
        raise InvalidInput(
            f"date: {data.date} already has a local exception",
            fields={"date": "already has a local exception: withdraw it first"},
        )
    if data.working == rt.calendar.is_working_day(data.date):
        state = "a working day" if data.working else "a day off"
        raise InvalidInput(
            f"date: {data.date} is already {state}",
            fields={"date": f"already {state}: the exception would change nothing"},
        )
    overrides = rt.calendar_overrides
    extra = {"date": data.date.isoformat(), "working": data.working, "reason": data.reason}
    changed = {**overrides, "exceptions": [*(overrides.get("exceptions") or []), extra]}
    try:
        return sla.build_calendar(changed, tz=rt.calendar.tz.key, office_hours=rt.calendar.office_hours)
    except sla.CalendarError as exc:
        raise InvalidInput(f"date: {exc}", fields={"date": str(exc)}) from exc


async def preview_exception(rt: Runtime, principal: Principal, data: ExceptionPreview) -> CalendarExceptionEffect:
    """The running clocks whose deadline the exception would move, computed as a recomputation would (under the
    policies in force, from each clock's start), against the same computation under today's calendar."""
    principal.require(ADMIN)
    await rt.reload_policies()  # another process may have saved or withdrawn an exception
    calendar = with_exception(rt, data)
    moved: list[MovedDeadline] = []
    count = examined = 0
    async for row in running_clocks(rt):
        examined += 1
        old = sla.Deadline.from_dict(row["deadline"])
        try:
            now = recomputed(
                old, rt.policies, rt.calendar, channel=row["channel"], kind=row["kind"], urgent=row["urgent"]
            )
            new = recomputed(old, rt.policies, calendar, channel=row["channel"], kind=row["kind"], urgent=row["urgent"])
        except sla.SlaError:
            continue
        if now is None or new is None or now.due_at == new.due_at:
            continue
        count += 1
        if len(moved) < PREVIEW_LIST:
            moved.append(MovedDeadline(row["number"], row["clock"], now.due_at.isoformat(), new.due_at.isoformat()))
    moved.sort(key=lambda m: m.due_at)
    return CalendarExceptionEffect(
        date=data.date.isoformat(), working=data.working, open_clocks=examined, would_move=count, moved=moved
    )

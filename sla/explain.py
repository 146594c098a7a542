"""The explanation of a deadline (全程留痕): how it was reached, in facts a person can check.

This module owns the wording and the facts: the rule applied, the local times, the holidays skipped and make-up
workdays counted, local exceptions, why a deadline is provisional and what capped it. The part that comes from the
calendar (`calendar_facts`) is what a stored deadline keeps; the rest (`assemble`) is rebuilt from its fields.
It is computed only when asked: computing a deadline runs on every intake and must stay cheap.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sla.calendar import WorkCalendar
from sla.policy_row import UPSTREAM_BREACH_MINIMUM_WORKING_DAYS

if TYPE_CHECKING:
    from sla.deadline import Deadline

__all__ = ["FACT_KEYS", "assemble", "calendar_facts"]


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def _local_iso(cal: WorkCalendar | None, t: datetime | None) -> str | None:
    if t is None:
        return None
    return t.astimezone(cal.tz).isoformat() if cal is not None else t.isoformat()


def _ordinal_suffix(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def _rule_text(unit: str, limit_value: float, start_day: str, close: str) -> str:
    limit = limit_value if not float(limit_value).is_integer() else int(limit_value)
    if unit == "working_days":
        nth = _ordinal_suffix(int(limit)) if isinstance(limit, int) else f"{limit}"
        return (
            f"{limit} working day(s): the day of receipt ({start_day}) does not count; due at {close} on the "
            f"{nth} working day after it"
        )
    if unit == "working_hours":
        return f"{limit} working hour(s), counted inside office hours on working days only"
    return f"{limit} {unit} of natural time (nights, weekends and holidays count)"


# What an explanation takes from the calendar, as opposed to the deadline's own fields: what a stored deadline
# keeps as `explained` (migration 0016 names the same keys).
FACT_KEYS = (
    "calendar",
    "rule",
    "start_local",
    "due_local",
    "holidays_skipped",
    "makeup_workdays_counted",
    "local_exceptions",
    "provisional_reason",
)


def calendar_facts(d: Deadline, cal: WorkCalendar | None) -> dict[str, Any]:
    """What the explanation of `d` takes from the calendar (the FACT_KEYS), from `cal` or, without one, from the
    deadline's fields alone (no local times, no days skipped)."""
    if cal is None:
        facts = _facts_without_calendar(d)
    else:
        start_day = d.start.astimezone(cal.tz).date()
        facts = dict(
            _day_facts(
                cal,
                d.basis,
                d.unit,
                d.limit,
                d.provisional,
                d.calendar_version,
                start_day,
                d.due_at.astimezone(cal.tz).date(),
                d.supervision_at.astimezone(cal.tz).date(),
            )
        )
    facts["start_local"] = _local_iso(cal, d.start)
    facts["due_local"] = _local_iso(cal, d.due_at)
    return facts


@lru_cache(maxsize=4096)
def _day_facts(
    cal: WorkCalendar,
    basis: str,
    unit: str,
    limit: float,
    provisional: bool,
    version: str,
    start_day: date,
    due_day: date,
    sup_day: date,
) -> dict[str, Any]:
    """The explanation's part that depends on the days only, not the instants: the same for every ticket of a day
    under one policy row, so computed once per calendar, row and day span. Callers copy it before adding to it."""
    # The receipt day never counts for day limits, so a holiday on it was not "skipped".
    day = start_day + timedelta(days=1) if unit == "working_days" else start_day
    last = due_day if basis == "working" else day - timedelta(days=1)
    holidays_skipped: list[str] = []
    makeup_counted: list[str] = []
    while day <= last:
        working = cal.is_working_day(day)
        if day.weekday() < 5 and not working:
            holidays_skipped.append(day.isoformat())
        elif day.weekday() >= 5 and working:
            makeup_counted.append(day.isoformat())
        day += timedelta(days=1)
    exceptions = [
        {"date": x.isoformat(), "working": w, "reason": r} for x, w, r in cal.exceptions_between(start_day, sup_day)
    ]
    unknown = cal.unknown_years(min(start_day, sup_day), max(start_day, sup_day))
    return {
        "calendar": {
            "name": cal.name,
            "version": version,
            "tz": cal.tz.key,
            "office_hours": [list(p) for p in cal.office_hours],
        },
        "rule": _rule_text(unit, limit, start_day.isoformat(), cal.office_hours[-1][1]),
        "holidays_skipped": holidays_skipped,
        "makeup_workdays_counted": makeup_counted,
        "local_exceptions": exceptions,
        "provisional_reason": _provisional_reason(provisional, unknown),
    }


def _facts_without_calendar(d: Deadline) -> dict[str, Any]:
    return {
        "calendar": {"name": None, "version": d.calendar_version, "tz": None, "office_hours": None},
        "rule": _rule_text(d.unit, d.limit, "the day of receipt", "the close of office hours"),
        "holidays_skipped": [],
        "makeup_workdays_counted": [],
        "local_exceptions": [],
        "provisional_reason": _provisional_reason(d.provisional, ()),
    }


def _provisional_reason(provisional: bool, unknown: tuple[int, ...]) -> str | None:
    if not provisional:
        return None
    years = ", ".join(str(y) for y in unknown) or "a year in range"
    return f"no official holiday data for {years}: counted Monday-Friday; recompute when the schedule is published"


def assemble(d: Deadline, facts: dict[str, Any]) -> dict[str, Any]:
    """The whole explanation of `d`: its calendar facts (copied, they may be shared) and what its fields say."""
    cap_reason = None
    if d.cap is not None:
        if d.upstream_breached:
            cap_reason = (
                f"the upstream deadline {d.cap.isoformat()} had already passed when this clock started "
                f"({d.start.isoformat()}): a breach upstream or by an earlier unit, not this one's; this "
                f"clock gets its minimum, {UPSTREAM_BREACH_MINIMUM_WORKING_DAYS} working day(s) or the "
                f"policy's limit if shorter"
            )
        elif d.capped:
            cap_reason = (
                f"capped by the upstream deadline {d.cap.isoformat()}, earlier than the policy's "
                f"{_iso(d.computed_due_at)}"
            )
        elif any(a.kind == "extension" for a in d.adjustments) and d.computed_due_at and d.cap < d.computed_due_at:
            cap_reason = f"was capped by the upstream deadline {d.cap.isoformat()} before an extension moved it"
        else:
            cap_reason = f"upstream deadline {d.cap.isoformat()} is not earlier than the policy's; not binding"
    return {
        "clock": d.clock,
        "policy": d.policy.to_dict() if d.policy is not None else {"id": d.policy_id, "limit": d.limit, "unit": d.unit},
        "policy_version": d.policy_version,
        "calendar": dict(facts["calendar"]),  # copies: the facts may be shared with other deadlines of the day
        "rule": facts["rule"],
        "basis": d.basis,
        "limit": d.limit,
        "unit": d.unit,
        "start": d.start.isoformat(),
        "start_local": facts["start_local"],
        "due_at": d.due_at.isoformat(),
        "due_local": facts["due_local"],
        "warning_at": d.warning_at.isoformat(),
        "warning_ratio": d.warning_ratio,
        "supervision_at": d.supervision_at.isoformat(),
        "supervision_after_working_days": d.supervision_after_working_days,
        "allowed_seconds": d.allowed_seconds,
        "holidays_skipped": list(facts["holidays_skipped"]),
        "makeup_workdays_counted": list(facts["makeup_workdays_counted"]),
        "local_exceptions": [dict(x) for x in facts["local_exceptions"]],
        "provisional": d.provisional,
        "provisional_reason": facts["provisional_reason"],
        "capped": d.capped,
        "cap": _iso(d.cap),
        "cap_reason": cap_reason,
        "upstream_breached": d.upstream_breached,
        "warning_reason": (
            "no working time is allowed before the deadline: the warning falls at receipt"
            if d.allowed_seconds <= 0
            else None
        ),
        "computed_due_at": _iso(d.computed_due_at),
        "suspended": d.suspended,
        "suspended_at": _iso(d.suspended_at),
        "adjustments": [a.to_dict() for a in d.adjustments],
    }

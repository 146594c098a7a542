"""Deadlines: computing one clock's due instant, warning and supervision instants from a policy and a calendar,
and moving it afterwards (extension 延期, suspension 挂起 / resume).

This module owns the Deadline value and its explanation. A Deadline is immutable; every change returns a new one
that remembers what was done to it (`adjustments`), so the stored JSON is the full trace (全程留痕).
The explanation (holidays skipped, make-up workdays counted, why provisional, what capped it) is computed only when
asked: compute_deadline runs on every intake and every reprojection and must stay cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

from sla.bounds import check_date, check_instant
from sla.calendar import WorkCalendar
from sla.policy import PolicyRow, PolicySet
from sla.worktime import (
    Reach,
    add_working_days,
    add_working_seconds,
    advance_w,
    landing,
    local_position,
    nth_working_day_after,
    require_aware,
    working_days_after_w,
    working_seconds_between,
)

__all__ = [
    "MAX_EXTENSION_WORKING_DAYS",
    "UPSTREAM_BREACH_MINIMUM_WORKING_DAYS",
    "Adjustment",
    "Deadline",
    "compute_deadline",
    "extend_deadline",
    "resume_deadline",
    "suspend_deadline",
]

UTC = UTC
_US = 1_000_000
_NATURAL_SECONDS = {"hours": 3600.0, "minutes": 60.0}
# An extension moves a deadline by at most this many working days, given as a count or as a date.
MAX_EXTENSION_WORKING_DAYS = 60
# What a clock gets when its upstream deadline had already passed as it started (a late transfer, a re-dispatch
# after the upstream deadline): the close of the Nth working day after it starts, or the policy's own limit if
# that is shorter. The upstream breach is the earlier holder's (or upstream's), not this unit's.
UPSTREAM_BREACH_MINIMUM_WORKING_DAYS = 1


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def _parse_dt(value: str | None) -> datetime | None:
    if value is None:
        return None
    t = datetime.fromisoformat(value)
    require_aware(t, "stored datetime")
    return t.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One change made to a deadline after it was computed."""

    kind: Literal["extension", "suspension", "resume"]
    old_due_at: datetime
    new_due_at: datetime
    at: datetime | None = None  # when suspended / resumed
    working_days: int | None = None  # extension by N working days
    until: date | None = None  # extension to a date
    remaining_seconds: float | None = None  # time left on the clock when suspended

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "old_due_at": self.old_due_at.isoformat(),
            "new_due_at": self.new_due_at.isoformat(),
            "at": _iso(self.at),
            "working_days": self.working_days,
            "until": self.until.isoformat() if self.until else None,
            "remaining_seconds": self.remaining_seconds,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Adjustment:
        return cls(
            kind=raw["kind"],
            old_due_at=_parse_dt(raw["old_due_at"]),  # type: ignore[arg-type]
            new_due_at=_parse_dt(raw["new_due_at"]),  # type: ignore[arg-type]
            at=_parse_dt(raw.get("at")),
            working_days=raw.get("working_days"),
            until=date.fromisoformat(raw["until"]) if raw.get("until") else None,
            remaining_seconds=raw.get("remaining_seconds"),
        )


@dataclass(frozen=True, slots=True)
class Deadline:
    """One clock of one assignment: when it started, when it is due, and when it warns and goes to supervision.

    Instants are aware UTC datetimes. `allowed_seconds` is working time for working bases, natural time for
    hours/minutes. While suspended (`suspended_at` set) the clock is paused: the instants are those in force at
    suspension and escalation stops at the step reached then; `resume_deadline` moves them.
    """

    clock: str
    start: datetime
    due_at: datetime
    warning_at: datetime
    supervision_at: datetime
    basis: Literal["working", "natural"]
    allowed_seconds: float
    provisional: bool
    capped: bool
    policy_id: str
    policy_version: int
    calendar_version: str
    warning_ratio: float
    supervision_after_working_days: int
    limit: float
    unit: str
    cap: datetime | None = None  # the upstream deadline offered, binding or not
    computed_due_at: datetime | None = None  # what the policy alone gave, before any cap
    suspended_at: datetime | None = None
    suspended_remaining_seconds: float | None = None
    adjustments: tuple[Adjustment, ...] = ()
    # The upstream deadline had passed when the clock started: not binding, the clock got its minimum instead.
    upstream_breached: bool = False
    # Not part of the value: what the explanation is built from (a stored deadline may come back without them).
    policy: PolicyRow | None = field(default=None, compare=False, repr=False)
    calendar: WorkCalendar | None = field(default=None, compare=False, repr=False)
    _explanation: dict[str, Any] | None = field(default=None, init=False, compare=False, repr=False)
    # The calendar's part of the explanation, as stored (see to_dict); the rest is rebuilt from the fields.
    _facts: dict[str, Any] | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def suspended(self) -> bool:
        return self.suspended_at is not None

    # ---- explanation -----------------------------------------------------------------------------------

    def explain(self, calendar: WorkCalendar | None = None) -> dict[str, Any]:
        """A JSON-serializable account of how this deadline was reached (computed once, on first call).

        Uses the calendar it was computed on, or `calendar` for a deadline read back from storage; a stored
        deadline read back without one returns the explanation that was stored with it.
        """
        cached = self._explanation
        if cached is not None and calendar is None:
            return cached
        built = _assemble(self, self._calendar_part(calendar))
        object.__setattr__(self, "_explanation", built)  # a cache on a frozen value: same inputs, same output
        return built

    def _calendar_part(self, calendar: WorkCalendar | None = None) -> dict[str, Any]:
        """What the explanation takes from the calendar: from `calendar`, else the one computed on, else as stored."""
        cal = calendar or self.calendar
        if cal is not None:
            if calendar is not None and calendar is not self.calendar:
                return _calendar_facts(self, cal)
            if self._facts is None:
                object.__setattr__(self, "_facts", _calendar_facts(self, cal))
        elif self._facts is None:
            legacy = self._explanation  # a deadline stored whole, before the calendar's part was split out
            facts = {key: legacy[key] for key in _FACT_KEYS} if legacy else _calendar_facts(self, None)
            object.__setattr__(self, "_facts", facts)
        assert self._facts is not None
        return self._facts

    # ---- storage ---------------------------------------------------------------------------------------

    def to_dict(self, *, datetimes: bool = False) -> dict[str, Any]:
        """JSON-serializable form for a JSONB column. It keeps what the explanation took from the calendar
        (`explained`: the rule, local times, holidays and make-up days, exceptions), so the explanation survives
        a change of calendar; the rest of it is rebuilt from the fields on reading, not stored twice.

        With `datetimes` the instants stay datetime objects, for an encoder that writes them itself (msgspec, the
        database codec: the same RFC 3339 instants, "Z" for UTC, at a tenth of the cost of isoformat())."""
        instants: tuple[Any, ...] = (
            self.start,
            self.due_at,
            self.warning_at,
            self.supervision_at,
            self.cap,
            self.computed_due_at,
            self.suspended_at,
        )
        if not datetimes:
            instants = tuple(_iso(t) for t in instants)
        start, due_at, warning_at, supervision_at, cap, computed_due_at, suspended_at = instants
        return {
            "clock": self.clock,
            "start": start,
            "due_at": due_at,
            "warning_at": warning_at,
            "supervision_at": supervision_at,
            "basis": self.basis,
            "allowed_seconds": self.allowed_seconds,
            "provisional": self.provisional,
            "capped": self.capped,
            "policy_id": self.policy_id,
            "policy_version": self.policy_version,
            "calendar_version": self.calendar_version,
            "warning_ratio": self.warning_ratio,
            "supervision_after_working_days": self.supervision_after_working_days,
            "limit": self.limit,
            "unit": self.unit,
            "cap": cap,
            "computed_due_at": computed_due_at,
            "suspended_at": suspended_at,
            "suspended_remaining_seconds": self.suspended_remaining_seconds,
            "adjustments": [a.to_dict() for a in self.adjustments],
            "upstream_breached": self.upstream_breached,
            "policy": dict(_policy_dict(self.policy)) if self.policy is not None else None,
            "explained": self._calendar_part(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], calendar: WorkCalendar | None = None) -> Deadline:
        """Rebuild from to_dict(); pass the calendar to adjust or re-explain it against current data."""
        policy = data.get("policy")
        d = cls(
            clock=data["clock"],
            start=_parse_dt(data["start"]),  # type: ignore[arg-type]
            due_at=_parse_dt(data["due_at"]),  # type: ignore[arg-type]
            warning_at=_parse_dt(data["warning_at"]),  # type: ignore[arg-type]
            supervision_at=_parse_dt(data["supervision_at"]),  # type: ignore[arg-type]
            basis=data["basis"],
            allowed_seconds=float(data["allowed_seconds"]),
            provisional=bool(data["provisional"]),
            capped=bool(data["capped"]),
            policy_id=data["policy_id"],
            policy_version=int(data["policy_version"]),
            calendar_version=data["calendar_version"],
            warning_ratio=float(data["warning_ratio"]),
            supervision_after_working_days=int(data["supervision_after_working_days"]),
            limit=data["limit"],
            unit=data["unit"],
            cap=_parse_dt(data.get("cap")),
            computed_due_at=_parse_dt(data.get("computed_due_at")),
            suspended_at=_parse_dt(data.get("suspended_at")),
            suspended_remaining_seconds=data.get("suspended_remaining_seconds"),
            adjustments=tuple(Adjustment.from_dict(a) for a in data.get("adjustments", ())),
            upstream_breached=bool(data.get("upstream_breached", False)),
            policy=PolicyRow.from_dict(policy) if policy else None,
            calendar=calendar,
        )
        if calendar is None:
            if data.get("explained") is not None:
                object.__setattr__(d, "_facts", data["explained"])
            elif data.get("explanation") is not None:  # stored whole before the calendar's part was split out
                object.__setattr__(d, "_explanation", data["explanation"])
        return d


# ---- computing --------------------------------------------------------------------------------------------


def _measure(cal: WorkCalendar, basis: str, a: datetime, b: datetime) -> float:
    if basis == "working":
        return working_seconds_between(cal, a, b)
    return (b - a).total_seconds()


def _advance(cal: WorkCalendar, basis: str, t: datetime, seconds: float) -> datetime:
    if basis == "working":
        return add_working_seconds(cal, t, seconds)
    return t.astimezone(UTC) + timedelta(seconds=seconds)


def _warning(cal: WorkCalendar, basis: str, start: datetime, due: datetime, ratio: float) -> tuple[float, datetime]:
    """(allowed seconds, warning instant) for a clock from `start` to `due`. Whenever any time is allowed the
    warning falls strictly before the due; when none is (a cap before the next opening), it falls at `start`:
    waiting for the next working moment would put it on or after the due, and the warning would say nothing."""
    allowed = max(0.0, _measure(cal, basis, start, due))
    if allowed <= 0:
        return 0.0, start.astimezone(UTC)
    warning = _advance(cal, basis, start, ratio * allowed)
    if warning >= due:  # a microsecond or so allowed: rounding reached the due
        warning = _advance(cal, basis, start, 0)
    return allowed, warning


def _supervision(cal: WorkCalendar, due: datetime, days: int) -> datetime:
    """Supervision (督办) instant: the close of office hours of the Nth working day after due's local date."""
    o, _ = local_position(cal, due)
    return cal.close_utc(nth_working_day_after(cal, o, days))


def compute_deadline(
    policies: PolicySet,
    calendar: WorkCalendar,
    *,
    clock: str,
    start: datetime,
    channel: str,
    kind: str,
    urgent: bool,
    cap: datetime | None = None,
) -> Deadline:
    """The deadline of `clock` for a ticket started at `start` (aware, any offset). `cap`, an upstream deadline
    (e.g. the one 12345 sets on a transfer), wins when it is earlier. Results are UTC."""
    require_aware(start, "start")
    check_instant(start, "start")
    if cap is not None:
        require_aware(cap, "cap")
        check_instant(cap, "cap")
    row = policies.select(clock, channel, kind, urgent)
    cal = calendar
    o, s = local_position(cal, start, checked=True)
    start_utc = start.astimezone(UTC)
    unit = row.unit
    ratio = row.warning_ratio
    days_after = row.supervision_after_working_days
    reach: Reach | None = None

    if unit == "working_days" or unit == "working_hours":
        basis: Literal["working", "natural"] = "working"
        if unit == "working_days":
            reach = working_days_after_w(cal, o, s, row.limit)
        else:
            reach = advance_w(cal, o, s, max(1, round(row.limit * 3600 * _US)))
        due_o = reach.table.ords[reach.k]
        if reach.local_us == cal.close_us:
            due = cal.close_utc(due_o)
        else:
            due = cal.to_utc(due_o, reach.local_us)
        allowed_us = reach.w_end - reach.w_start
    else:
        basis = "natural"
        allowed_s = row.limit * _NATURAL_SECONDS[unit]
        due = start_utc + timedelta(seconds=allowed_s)
        allowed_us = round(allowed_s * _US)

    computed = due
    # An upstream deadline already past at the start cannot be met by this clock: it gets its minimum instead
    # (UPSTREAM_BREACH_MINIMUM_WORKING_DAYS) rather than starting overdue with every step due at once.
    breached = cap is not None and cap <= start_utc
    capped = cap is not None and not breached and cap < due
    floor = None
    if breached:
        floor = cal.close_utc(nth_working_day_after(cal, o, UPSTREAM_BREACH_MINIMUM_WORKING_DAYS))
    if capped or (floor is not None and floor < due):
        due = cap.astimezone(UTC) if capped else floor  # type: ignore[union-attr,assignment]
        allowed, warning = _warning(cal, basis, start_utc, due, ratio)
        due_o, _ = local_position(cal, due)
        sup_o = nth_working_day_after(cal, due_o, days_after)
    elif reach is not None:
        # Hot path: the warning and the supervision day come from the same table snapshot as the due.
        allowed = allowed_us / _US
        warn_us = min(round(ratio * allowed_us), allowed_us - 1)  # strictly before the due, even for 1 us
        if warn_us > 0:
            warning = min(cal.to_utc(*landing(cal, reach.table, reach.w_start + warn_us)), due)
        else:
            warning = min(add_working_seconds(cal, start_utc, 0), due)
        k_sup = reach.k + days_after  # the due day is ords[k]; the Nth working day after it is ords[k + N]
        if k_sup < len(reach.table.ords):
            sup_o = reach.table.ords[k_sup]
        else:
            sup_o = nth_working_day_after(cal, due_o, days_after)
    else:
        allowed = allowed_us / _US
        warning = start_utc + timedelta(seconds=ratio * allowed)
        due_o, _ = local_position(cal, due)
        sup_o = nth_working_day_after(cal, due_o, days_after)
    supervision = cal.close_utc(sup_o)

    return Deadline(
        clock,
        start_utc,
        due,
        warning,
        supervision,
        basis,
        allowed,
        not cal.all_known(min(o, due_o), max(o, sup_o)),
        capped,
        row.id,
        policies.version,
        cal.version,
        ratio,
        row.supervision_after_working_days,
        row.limit,
        unit,
        cap.astimezone(UTC) if cap is not None else None,
        computed,
        None,
        None,
        (),
        breached,
        row,
        cal,
    )


def _provisional(cal: WorkCalendar, start: datetime, supervision: datetime) -> bool:
    a, _ = local_position(cal, start)
    b, _ = local_position(cal, supervision)
    return not cal.all_known(min(a, b), max(a, b))


def _moved(d: Deadline, cal: WorkCalendar, new_due: datetime, adjustment: Adjustment, **changes: Any) -> Deadline:
    supervision = _supervision(cal, new_due, d.supervision_after_working_days)
    return replace(
        d,
        due_at=new_due,
        supervision_at=supervision,
        provisional=_provisional(cal, d.start, supervision),
        calendar_version=cal.version,
        adjustments=(*d.adjustments, adjustment),
        calendar=cal,
        **changes,
    )


def extend_deadline(
    d: Deadline,
    calendar: WorkCalendar,
    *,
    working_days: int | None = None,
    until: date | datetime | None = None,
) -> Deadline:
    """An approved extension (延期): exactly one of `working_days` (due moves to the close of the Nth working
    day after the old due's day) or `until` (due moves to the close of that working date). The warning is
    recomputed from start with the same ratio; the extension is recorded.

    Refused (ValueError): a move of more than MAX_EXTENSION_WORKING_DAYS working days, an `until` outside the
    supported years (OutOfRange), and a new due past the upstream deadline (`cap`) of a transfer: the upstream
    platform's deadline binds whoever holds the case, and only the upstream can move it (the transfer would
    then come again with a new external_due_at)."""
    if (working_days is None) == (until is None):
        raise ValueError("give exactly one of working_days or until")
    if d.suspended_at is not None:
        raise ValueError("the clock is suspended: resume it before extending")
    cal = calendar
    until_date: date | None = None
    if working_days is not None:
        if not 1 <= working_days <= MAX_EXTENSION_WORKING_DAYS:
            raise ValueError(f"working_days must be between 1 and {MAX_EXTENSION_WORKING_DAYS}")
        new_due = add_working_days(cal, d.due_at, working_days)
    else:
        if isinstance(until, datetime):
            require_aware(until, "until")
            check_instant(until, "until")
            until_date = until.astimezone(cal.tz).date()
        elif isinstance(until, date):
            until_date = until
        else:
            raise TypeError(f"until must be a date or datetime, got {type(until).__name__}")
        check_date(until_date, "until")
        if not cal.is_working_day(until_date):
            raise ValueError(f"until {until_date} is not a working day on calendar {cal.name!r}")
        new_due = cal.close_utc(until_date.toordinal())
        if new_due > add_working_days(cal, d.due_at, MAX_EXTENSION_WORKING_DAYS):
            raise ValueError(
                f"until {until_date} is more than {MAX_EXTENSION_WORKING_DAYS} working days after the "
                f"current deadline {d.due_at.astimezone(cal.tz).date()}"
            )
    if new_due <= d.due_at:
        raise ValueError(f"the new due {new_due.isoformat()} is not later than the current {d.due_at.isoformat()}")
    if d.cap is not None and new_due > d.cap:
        raise ValueError(
            f"the new due {new_due.astimezone(cal.tz).isoformat()} is past the upstream deadline "
            f"{d.cap.astimezone(cal.tz).isoformat()}: only the upstream platform can grant that"
        )
    allowed, warning = _warning(cal, d.basis, d.start, new_due, d.warning_ratio)
    adjustment = Adjustment("extension", d.due_at, new_due, working_days=working_days, until=until_date)
    # The due no longer comes from the cap; the cap itself stays on record for the explanation.
    return _moved(d, cal, new_due, adjustment, warning_at=warning, allowed_seconds=allowed, capped=False)


def suspend_deadline(d: Deadline, calendar: WorkCalendar, *, suspended_at: datetime) -> Deadline:
    """Pause the clock (挂起) at `suspended_at`, remembering the time left (working or natural, per basis;
    negative when already overdue)."""
    require_aware(suspended_at, "suspended_at")
    if d.suspended_at is not None:
        raise ValueError(f"already suspended since {d.suspended_at.isoformat()}")
    at = suspended_at.astimezone(UTC)
    if at < d.start:
        raise ValueError("suspended_at is before the clock started")
    remaining = _measure(calendar, d.basis, at, d.due_at)
    adjustment = Adjustment("suspension", d.due_at, d.due_at, at=at, remaining_seconds=remaining)
    return replace(
        d,
        suspended_at=at,
        suspended_remaining_seconds=remaining,
        adjustments=(*d.adjustments, adjustment),
        calendar=calendar,
    )


def resume_deadline(d: Deadline, calendar: WorkCalendar, *, resumed_at: datetime) -> Deadline:
    """Restart a suspended clock: due = resumed moment + the time that remained at suspension. A clock that was
    already overdue when suspended keeps its due (a breach is not undone by a pause). A warning not yet reached
    at suspension moves by the same pause; one already reached stays."""
    require_aware(resumed_at, "resumed_at")
    if d.suspended_at is None or d.suspended_remaining_seconds is None:
        raise ValueError("the clock is not suspended")
    at = resumed_at.astimezone(UTC)
    if at < d.suspended_at:
        raise ValueError("resumed_at is before suspended_at")
    cal = calendar
    remaining = d.suspended_remaining_seconds
    new_due = _advance(cal, d.basis, at, remaining) if remaining > 0 else d.due_at
    warning = d.warning_at
    if warning > d.suspended_at and remaining > 0:
        warning = min(_advance(cal, d.basis, at, max(0.0, _measure(cal, d.basis, d.suspended_at, warning))), new_due)
    adjustment = Adjustment("resume", d.due_at, new_due, at=at, remaining_seconds=remaining)
    return _moved(d, cal, new_due, adjustment, warning_at=warning, suspended_at=None, suspended_remaining_seconds=None)


# ---- explanation ------------------------------------------------------------------------------------------


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


@lru_cache(maxsize=1024)
def _policy_dict(row: PolicyRow) -> dict[str, Any]:
    return row.to_dict()


# What an explanation takes from the calendar, as opposed to the deadline's own fields.
_FACT_KEYS = (
    "calendar",
    "rule",
    "start_local",
    "due_local",
    "holidays_skipped",
    "makeup_workdays_counted",
    "local_exceptions",
    "provisional_reason",
)


def _explain(d: Deadline, cal: WorkCalendar | None) -> dict[str, Any]:
    return _assemble(d, _calendar_facts(d, cal))


def _calendar_facts(d: Deadline, cal: WorkCalendar | None) -> dict[str, Any]:
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


def _assemble(d: Deadline, facts: dict[str, Any]) -> dict[str, Any]:
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

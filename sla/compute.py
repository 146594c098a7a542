"""Computing one clock's deadline (due, warning and supervision instants) from a policy and a calendar, and
moving it afterwards: an approved extension (延期), a suspension (挂起) and its resumption.

Every function is pure and returns a new Deadline; `now`, the policies and the calendar are arguments.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sla.bounds import check_date, check_instant
from sla.calendar import WorkCalendar
from sla.deadline import Adjustment, Deadline
from sla.errors import ClockStateError, InvalidExtension
from sla.policy import PolicySet
from sla.policy_row import MAX_EXTENSION_WORKING_DAYS, UPSTREAM_BREACH_MINIMUM_WORKING_DAYS
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
    "compute_deadline",
    "extend_deadline",
    "resume_deadline",
    "suspend_deadline",
]

UTC = UTC
_US = 1_000_000
_NATURAL_SECONDS = {"hours": 3600.0, "minutes": 60.0}


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

    Refused: InvalidExtension for not exactly one of the two, a move of more than MAX_EXTENSION_WORKING_DAYS
    working days, an `until` that is not a working day, a new due not later than the current one, and a new due
    past the upstream deadline (`cap`) of a transfer: the upstream platform's deadline binds whoever holds the
    case, and only the upstream can move it (the transfer would then come again with a new external_due_at);
    OutOfRange for an `until` outside the supported years; ClockStateError for a suspended clock."""
    if (working_days is None) == (until is None):
        raise InvalidExtension("give exactly one of working_days or until")
    if d.suspended_at is not None:
        raise ClockStateError("the clock is suspended: resume it before extending")
    cal = calendar
    until_date: date | None = None
    if working_days is not None:
        if not 1 <= working_days <= MAX_EXTENSION_WORKING_DAYS:
            raise InvalidExtension(f"working_days must be between 1 and {MAX_EXTENSION_WORKING_DAYS}")
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
            raise InvalidExtension(f"until {until_date} is not a working day on calendar {cal.name!r}")
        new_due = cal.close_utc(until_date.toordinal())
        if new_due > add_working_days(cal, d.due_at, MAX_EXTENSION_WORKING_DAYS):
            raise InvalidExtension(
                f"until {until_date} is more than {MAX_EXTENSION_WORKING_DAYS} working days after the "
                f"current deadline {d.due_at.astimezone(cal.tz).date()}"
            )
    if new_due <= d.due_at:
        raise InvalidExtension(
            f"the new due {new_due.isoformat()} is not later than the current {d.due_at.isoformat()}"
        )
    if d.cap is not None and new_due > d.cap:
        raise InvalidExtension(
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
        raise ClockStateError(f"already suspended since {d.suspended_at.isoformat()}")
    at = suspended_at.astimezone(UTC)
    if at < d.start:
        raise ClockStateError("suspended_at is before the clock started")
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
        raise ClockStateError("the clock is not suspended")
    at = resumed_at.astimezone(UTC)
    if at < d.suspended_at:
        raise ClockStateError("resumed_at is before suspended_at")
    cal = calendar
    remaining = d.suspended_remaining_seconds
    new_due = _advance(cal, d.basis, at, remaining) if remaining > 0 else d.due_at
    warning = d.warning_at
    if warning > d.suspended_at and remaining > 0:
        warning = min(_advance(cal, d.basis, at, max(0.0, _measure(cal, d.basis, d.suspended_at, warning))), new_due)
    adjustment = Adjustment("resume", d.due_at, new_due, at=at, remaining_seconds=remaining)
    return _moved(d, cal, new_due, adjustment, warning_at=warning, suspended_at=None, suspended_remaining_seconds=None)

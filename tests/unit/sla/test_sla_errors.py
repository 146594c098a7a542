"""sla/ refuses with its own error types, one per reason (sla/errors.py), so callers catch what they can act on
instead of ValueError wholesale. Every one is an SlaError and still a ValueError."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sla
from sla import (
    MAX_EXTENSION_WORKING_DAYS,
    CalendarError,
    ClockStateError,
    Deadline,
    InvalidDuration,
    InvalidExtension,
    NaiveInstant,
    OutOfRange,
    PolicyError,
    PolicySet,
    SlaError,
    WorkCalendar,
    add_working_days,
    add_working_seconds,
    build_calendar,
    compute_deadline,
    extend_deadline,
    next_working_moment,
    remaining_seconds,
    resume_deadline,
    step_due,
    suspend_deadline,
    working_seconds_between,
)

SLA = Path(__file__).resolve().parents[3] / "sla"
CALENDAR: WorkCalendar = build_calendar()
CST = timezone(timedelta(hours=8))
ROWS = [
    {"id": f"{clock}-all", "clock": clock, "channel": "*", "kind": "*", "urgent": "*", "limit": limit, "unit": unit}
    for clock, unit, limit in (("sign", "working_hours", 3), ("reply", "working_days", 10), ("callback", "hours", 24))
]
POLICIES = PolicySet.from_rows(ROWS)
props = settings(max_examples=150, deadline=None)

# Aware instants in 2025-2027 in a few offsets, and the same wall-clock times without an offset.
naive_instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31))
aware_instants = st.builds(
    lambda naive, tz: naive.replace(tzinfo=UTC).astimezone(tz),
    naive_instants,
    st.sampled_from([CST, UTC, timezone(timedelta(hours=-5))]),
)


def reply(start: datetime, cap: datetime | None = None) -> Deadline:
    return compute_deadline(
        POLICIES, CALENDAR, clock="reply", start=start, channel="96196", kind="help", urgent=False, cap=cap
    )


ERRORS = (NaiveInstant, OutOfRange, InvalidDuration, InvalidExtension, ClockStateError, CalendarError, PolicyError)


def test_every_sla_error_is_an_sla_error_and_a_value_error_exported_from_sla() -> None:
    for error in ERRORS:
        assert issubclass(error, SlaError) and issubclass(error, ValueError), error
        assert error.__name__ in sla.__all__ and getattr(sla, error.__name__) is error
    assert "SlaError" in sla.__all__ and len(set(ERRORS)) == len(ERRORS)
    # No error type is a subclass of another: catching one never catches a different reason.
    assert not any(issubclass(a, b) for a in ERRORS for b in ERRORS if a is not b)
    # The modules that raised them before still name them (sla.bounds.OutOfRange, sla.calendar.CalendarError).
    from sla import bounds, calendar, overrides, policy_row

    assert bounds.OutOfRange is OutOfRange and policy_row.PolicyError is PolicyError
    assert calendar.CalendarError is CalendarError and overrides.CalendarError is CalendarError


def test_sla_raises_no_bare_value_error() -> None:
    """Every `raise X(...)` in sla/ raises an SlaError subclass (or TypeError for a value of the wrong type)."""
    allowed = {e.__name__ for e in ERRORS} | {"TypeError"}
    for path in sorted(SLA.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name):
                assert node.exc.func.id in allowed, f"{path.name}:{node.lineno} raises {node.exc.func.id}"


# ---- NaiveInstant -------------------------------------------------------------------------------------------


@props
@given(naive_instants, aware_instants)
def test_a_naive_instant_is_refused_by_every_entry_point(naive: datetime, aware: datetime) -> None:
    d = reply(aware)
    calls = [
        lambda: add_working_days(CALENDAR, naive, 1),
        lambda: add_working_seconds(CALENDAR, naive, 60),
        lambda: working_seconds_between(CALENDAR, naive, aware),
        lambda: working_seconds_between(CALENDAR, aware, naive),
        lambda: next_working_moment(CALENDAR, naive),
        lambda: reply(naive),
        lambda: reply(aware, cap=naive),
        lambda: step_due(d, naive),
        lambda: remaining_seconds(d, CALENDAR, naive),
        lambda: suspend_deadline(d, CALENDAR, suspended_at=naive),
        lambda: extend_deadline(d, CALENDAR, until=naive),
    ]
    for call in calls:
        with pytest.raises(NaiveInstant, match="must be timezone-aware"):
            call()
    s = suspend_deadline(d, CALENDAR, suspended_at=d.start)
    with pytest.raises(NaiveInstant, match="resumed_at must be timezone-aware"):
        resume_deadline(s, CALENDAR, resumed_at=naive)


# ---- OutOfRange -------------------------------------------------------------------------------------------


@props
@given(
    st.one_of(
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(1999, 12, 31, 12)),
        st.datetimes(min_value=datetime(2101, 1, 2), max_value=datetime(9999, 12, 31)),
    )
)
def test_an_instant_outside_the_supported_years_is_out_of_range(naive: datetime) -> None:
    start = naive.replace(tzinfo=UTC)
    with pytest.raises(OutOfRange, match="must fall between 2000-01-01 and 2100-12-31"):
        reply(start)
    with pytest.raises(OutOfRange):
        reply(datetime(2026, 3, 2, 9, 0, tzinfo=CST), cap=start)
    d = reply(datetime(2026, 3, 2, 9, 0, tzinfo=CST))
    with pytest.raises(OutOfRange):
        extend_deadline(d, CALENDAR, until=start.date())


def test_arithmetic_past_the_horizon_is_out_of_range() -> None:
    # Year 1 with an offset cannot even be converted; a date past the working-day table's horizon is refused.
    with pytest.raises(OutOfRange):
        add_working_seconds(CALENDAR, datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))), 1)
    with pytest.raises(OutOfRange, match="counted only between"):
        add_working_days(CALENDAR, datetime(9000, 1, 1, tzinfo=UTC), 1)


# ---- InvalidDuration --------------------------------------------------------------------------------------


@props
@given(aware_instants, st.integers(max_value=0), st.floats(max_value=-1e-6, allow_nan=False, allow_infinity=False))
def test_less_than_one_working_day_or_negative_seconds_is_an_invalid_duration(
    t: datetime, days: int, seconds: float
) -> None:
    with pytest.raises(InvalidDuration, match="n must be an integer >= 1"):
        add_working_days(CALENDAR, t, days)
    with pytest.raises(InvalidDuration, match="seconds must be >= 0"):
        add_working_seconds(CALENDAR, t, seconds)
    assert add_working_days(CALENDAR, t, 1) > t  # the boundary itself is fine


# ---- InvalidExtension -------------------------------------------------------------------------------------


@props
@given(aware_instants, st.integers(min_value=-400, max_value=400))
def test_an_extension_of_working_days_outside_the_bounds_is_invalid(start: datetime, days: int) -> None:
    d = reply(start)
    if 1 <= days <= MAX_EXTENSION_WORKING_DAYS:
        assert extend_deadline(d, CALENDAR, working_days=days).due_at > d.due_at
    else:
        with pytest.raises(InvalidExtension, match="working_days must be between"):
            extend_deadline(d, CALENDAR, working_days=days)


@props
@given(aware_instants, st.integers(min_value=-30, max_value=30))
def test_an_extension_until_a_date_is_granted_only_to_a_later_working_day(start: datetime, shift: int) -> None:
    d = reply(start)
    until = d.due_at.astimezone(CALENDAR.tz).date() + timedelta(days=shift)
    if not CALENDAR.is_working_day(until):
        with pytest.raises(InvalidExtension, match="is not a working day"):
            extend_deadline(d, CALENDAR, until=until)
    elif shift <= 0:
        with pytest.raises(InvalidExtension, match="is not later than the current"):
            extend_deadline(d, CALENDAR, until=until)
    else:
        assert extend_deadline(d, CALENDAR, until=until).due_at.astimezone(CALENDAR.tz).date() == until


def test_other_refused_extensions_are_invalid_extensions() -> None:
    d = reply(datetime(2026, 3, 2, 9, 0, tzinfo=CST))
    with pytest.raises(InvalidExtension, match="exactly one"):
        extend_deadline(d, CALENDAR)
    with pytest.raises(InvalidExtension, match="exactly one"):
        extend_deadline(d, CALENDAR, working_days=1, until=date(2026, 3, 30))
    with pytest.raises(InvalidExtension, match=f"more than {MAX_EXTENSION_WORKING_DAYS} working days"):
        extend_deadline(d, CALENDAR, until=date(2027, 6, 1))
    capped = reply(datetime(2026, 3, 2, 9, 0, tzinfo=CST), cap=datetime(2026, 3, 10, 17, 0, tzinfo=CST))
    with pytest.raises(InvalidExtension, match="past the upstream deadline"):
        extend_deadline(capped, CALENDAR, working_days=1)


# ---- ClockStateError --------------------------------------------------------------------------------------


@props
@given(aware_instants, st.integers(min_value=1, max_value=10**6 * 86400 * 30))
def test_moves_the_clock_state_does_not_allow_are_clock_state_errors(start: datetime, us: int) -> None:
    d = reply(start)
    before_start = d.start - timedelta(microseconds=us)
    with pytest.raises(ClockStateError, match="before the clock started"):
        suspend_deadline(d, CALENDAR, suspended_at=before_start)
    with pytest.raises(ClockStateError, match="not suspended"):
        resume_deadline(d, CALENDAR, resumed_at=d.start + timedelta(microseconds=us))
    paused_at = d.start + timedelta(microseconds=us)
    s = suspend_deadline(d, CALENDAR, suspended_at=paused_at)
    with pytest.raises(ClockStateError, match="already suspended"):
        suspend_deadline(s, CALENDAR, suspended_at=paused_at)
    with pytest.raises(ClockStateError, match="resume it before extending"):
        extend_deadline(s, CALENDAR, working_days=1)
    with pytest.raises(ClockStateError, match="before suspended_at"):
        resume_deadline(s, CALENDAR, resumed_at=paused_at - timedelta(microseconds=1))
    assert not resume_deadline(s, CALENDAR, resumed_at=paused_at).suspended  # the same instant is fine


# ---- CalendarError and PolicyError ------------------------------------------------------------------------


def test_invalid_calendars_are_calendar_errors() -> None:
    for kwargs in (
        {"tz": "Mars/Olympus"},
        {"office_hours": (("17:30", "08:30"),)},
        {"office_hours": (("8h", "12:00"),)},
        {"office_hours": ()},
        {"office_hours": 5},
        {"overrides": {"format": 2}},
        {"overrides": {"years": {"2026": {"holidays": ["2026-13-01"], "workdays": []}}}},
    ):
        with pytest.raises(CalendarError):
            build_calendar(**kwargs)  # type: ignore[arg-type]


KINDS = ("help", "complaint")
# A complete set for two kinds, one row per clock and kind, no wildcard kind: any other kind has no row.
PER_KIND = PolicySet.from_rows(
    [{**r, "id": f"{r['clock']}-{k}", "kind": k} for r in ROWS for k in KINDS], channels=["96196"], kinds=KINDS
)


@props
@given(st.sampled_from(["sign", "reply", "callback"]), st.text(max_size=12), st.booleans())
def test_no_row_for_a_selection_is_a_policy_error(clock: str, kind: str, urgent: bool) -> None:
    if kind in KINDS:
        assert PER_KIND.select(clock, "96196", kind, urgent).kind == kind
    else:
        with pytest.raises(PolicyError, match="no policy row matches"):
            PER_KIND.select(clock, "96196", kind, urgent)
    with pytest.raises(PolicyError, match="unknown clock"):
        POLICIES.select(clock + "x", "96196", "help", urgent)


def test_invalid_policy_sets_are_policy_errors_naming_each_problem() -> None:
    with pytest.raises(PolicyError) as refused:
        PolicySet.from_rows([{**ROWS[0], "limit": -1, "unit": "fortnights"}, *ROWS[1:]])
    assert len(refused.value.problems) >= 2 and str(refused.value) == "; ".join(refused.value.problems)
    with pytest.raises(PolicyError, match="unknown keys"):
        PolicySet.from_config({"policy": ROWS, "colour": "blue"})
    with pytest.raises(PolicyError):
        PolicySet.from_rows(ROWS[:2])  # no callback row: an incomplete set

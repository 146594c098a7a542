"""Properties of working-time arithmetic and deadlines, over instants from mid-2025 to 2028 (known and unknown
years, holidays, make-up days, nights and lunch breaks) in several UTC offsets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sla import (
    PolicySet,
    WorkCalendar,
    add_working_days,
    add_working_seconds,
    build_calendar,
    compute_deadline,
    next_working_moment,
    working_seconds_between,
)

CALENDAR: WorkCalendar = build_calendar()
OFFSETS = [timezone(timedelta(hours=8)), UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=45))]
OPEN = [(8 * 3600 + 1800, 12 * 3600), (13 * 3600 + 1800, 17 * 3600 + 1800)]  # the default office periods

# Instants around the 2026 holidays and into 2027-2028 (no data), to the microsecond, in a random offset.
instants = st.builds(
    lambda naive, tz: naive.replace(tzinfo=UTC).astimezone(tz),
    st.datetimes(min_value=datetime(2025, 6, 1), max_value=datetime(2028, 6, 30)),
    st.sampled_from(OFFSETS),
)
# Working time to add: up to ~40 working days, in whole microseconds (datetime's resolution).
amounts = st.integers(min_value=0, max_value=40 * 27000 * 10**6).map(lambda us: us / 10**6)
seconds_of_day = st.integers(0, 86399)

props = settings(max_examples=300, deadline=None)


def local_seconds(t: datetime) -> float:
    lt = t.astimezone(CALENDAR.tz)
    return lt.hour * 3600 + lt.minute * 60 + lt.second + lt.microsecond / 1e6


def is_working_moment(t: datetime) -> bool:
    lt = t.astimezone(CALENDAR.tz)
    return CALENDAR.is_working_day(lt.date()) and any(a <= local_seconds(t) < b for a, b in OPEN)


@props
@given(instants, amounts)
def test_adding_then_measuring_gives_back_the_amount(t: datetime, seconds: float) -> None:
    due = add_working_seconds(CALENDAR, t, seconds)
    assert working_seconds_between(CALENDAR, t, due) == seconds
    assert working_seconds_between(CALENDAR, due, t) == -seconds


@props
@given(instants, instants)
def test_measuring_then_adding_lands_on_the_same_working_time(a: datetime, b: datetime) -> None:
    span = working_seconds_between(CALENDAR, a, b)
    assume(span > 0)
    reached = add_working_seconds(CALENDAR, a, span)
    # Same position on the working-time line; b itself may sit in a night or lunch that the result skips.
    assert working_seconds_between(CALENDAR, b, reached) == 0
    assert reached <= b


@props
@given(instants, amounts.filter(lambda s: s > 0))
def test_added_working_time_ends_inside_office_hours_on_a_working_day(t: datetime, seconds: float) -> None:
    due = add_working_seconds(CALENDAR, t, seconds)
    lt = due.astimezone(CALENDAR.tz)
    assert CALENDAR.is_working_day(lt.date())
    assert any(a < local_seconds(due) <= b for a, b in OPEN)  # (open, close]: 17:30 itself, never 08:30
    assert due > t


@props
@given(instants, st.integers(1, 30))
def test_day_limits_end_at_the_close_of_a_later_working_day(t: datetime, n: int) -> None:
    due = add_working_days(CALENDAR, t, n)
    local = due.astimezone(CALENDAR.tz)
    assert (local.hour, local.minute, local.second) == (17, 30, 0)
    assert CALENDAR.is_working_day(local.date())
    assert local.date() > t.astimezone(CALENDAR.tz).date()  # the day of receipt never counts
    # Exactly n working days in (receipt day, due day].
    receipt = t.astimezone(CALENDAR.tz).date()
    days = [receipt + timedelta(days=i) for i in range(1, (local.date() - receipt).days + 1)]
    assert sum(CALENDAR.is_working_day(d) for d in days) == n


@props
@given(instants, amounts, amounts)
def test_more_time_is_never_earlier(t: datetime, x: float, y: float) -> None:
    lo, hi = sorted((x, y))
    assert add_working_seconds(CALENDAR, t, lo) <= add_working_seconds(CALENDAR, t, hi)


@props
@given(instants, instants, st.integers(1, 20))
def test_a_later_start_is_never_earlier(a: datetime, b: datetime, n: int) -> None:
    early, late = sorted((a, b))
    assert add_working_days(CALENDAR, early, n) <= add_working_days(CALENDAR, late, n)
    assert add_working_seconds(CALENDAR, early, n * 3600) <= add_working_seconds(CALENDAR, late, n * 3600)


@props
@given(instants)
def test_next_working_moment(t: datetime) -> None:
    m = next_working_moment(CALENDAR, t)
    assert m >= t and is_working_moment(m)
    assert next_working_moment(CALENDAR, m) == m
    assert working_seconds_between(CALENDAR, t, m) == 0  # nothing counts in between


ROWS = [
    {"id": f"{clock}-{unit}", "clock": clock, "channel": "*", "kind": "*", "urgent": "*", "limit": limit, "unit": unit}
    for clock, unit, limit in (
        ("sign", "working_hours", 3.25),
        ("reply", "working_days", 7),
        ("callback", "minutes", 90),
    )
]
POLICIES = PolicySet.from_rows(ROWS)
SHANGHAI_DAY_LIMITS = PolicySet.from_rows(
    [{**r, "limit": 2.5, "unit": "working_days"} if r["clock"] == "reply" else r for r in ROWS]
)


@props
@given(instants, st.sampled_from(["sign", "reply", "callback"]), st.one_of(st.none(), instants))
def test_deadlines_do_not_depend_on_the_input_offset(t: datetime, clock: str, cap: datetime | None) -> None:
    results = {
        compute_deadline(
            POLICIES,
            CALENDAR,
            clock=clock,
            start=t.astimezone(tz),
            channel="web",
            kind="help",
            urgent=False,
            cap=cap.astimezone(tz) if cap else None,
        )
        for tz in OFFSETS
    }
    assert len(results) == 1  # same instant in +08, UTC, -05, +05:45: one and the same deadline


@props
@given(instants, st.sampled_from(["sign", "reply", "callback"]), st.one_of(st.none(), instants))
def test_ladder_is_ordered_and_day_limits_end_at_close(t: datetime, clock: str, cap: datetime | None) -> None:
    d = compute_deadline(POLICIES, CALENDAR, clock=clock, start=t, channel="12345", kind="report", urgent=True, cap=cap)
    assert d.warning_at <= d.due_at < d.supervision_at
    assert d.upstream_breached is (cap is not None and cap <= d.start)
    if d.upstream_breached:  # the upstream deadline had passed: the clock's minimum, or its policy if shorter
        assert d.due_at == min(d.computed_due_at, add_working_days(CALENDAR, d.start, 1))  # type: ignore[type-var]
    else:
        assert d.due_at == (min(d.computed_due_at, cap) if cap else d.computed_due_at)  # type: ignore[type-var]
    assert d.capped is (cap is not None and not d.upstream_breached and cap < d.computed_due_at)  # type: ignore[operator]
    # The warning falls strictly before the due whenever any time is allowed, and at receipt when none is.
    assert d.warning_at < d.due_at if d.allowed_seconds > 0 else d.warning_at == d.start
    if not d.capped:
        assert d.warning_at >= d.start
        if d.unit == "working_days":
            local = d.due_at.astimezone(CALENDAR.tz)
            assert (local.hour, local.minute) == (17, 30) and CALENDAR.is_working_day(local.date())
        elif d.unit == "working_hours":
            assert CALENDAR.is_working_day(d.due_at.astimezone(CALENDAR.tz).date())
            assert any(a < local_seconds(d.due_at) <= b for a, b in OPEN)
    assert d.provisional is (
        d.start.astimezone(CALENDAR.tz).year > 2026 or d.supervision_at.astimezone(CALENDAR.tz).year > 2026
    )


@props
@given(instants, instants)
def test_a_later_start_never_gets_an_earlier_deadline(a: datetime, b: datetime) -> None:
    early, late = sorted((a, b))
    for policies in (POLICIES, SHANGHAI_DAY_LIMITS):
        for clock in ("sign", "reply", "callback"):
            first = compute_deadline(
                policies, CALENDAR, clock=clock, start=early, channel="web", kind="help", urgent=False
            )
            second = compute_deadline(
                policies, CALENDAR, clock=clock, start=late, channel="web", kind="help", urgent=False
            )
            assert first.due_at <= second.due_at
            assert first.supervision_at <= second.supervision_at


def policies_with(limit: float, unit: str) -> PolicySet:
    return PolicySet.from_rows([{**r, "limit": limit, "unit": unit} if r["clock"] == "reply" else r for r in ROWS])


@props
@given(
    instants,
    st.sampled_from(["working_days", "working_hours", "hours"]),
    st.floats(0.01, 30, allow_nan=False),
    st.floats(0.01, 30, allow_nan=False),
)
def test_a_longer_limit_is_never_earlier(t: datetime, unit: str, x: float, y: float) -> None:
    short, long = sorted((x, y))
    due = [
        compute_deadline(
            policies_with(limit, unit), CALENDAR, clock="reply", start=t, channel="web", kind="help", urgent=False
        ).due_at
        for limit in (short, long)
    ]
    assert due[0] <= due[1]


@props
@given(
    instants,
    st.sampled_from(["sign", "reply", "callback"]),
    st.one_of(st.none(), instants),
    st.sampled_from(["complaint", "help", "report"]),
)
def test_a_stored_deadline_explains_itself_as_when_computed(
    t: datetime, clock: str, cap: datetime | None, kind: str
) -> None:
    import json

    from sla import Deadline

    d = compute_deadline(POLICIES, CALENDAR, clock=clock, start=t, channel="12345", kind=kind, urgent=False, cap=cap)
    stored = json.loads(json.dumps(d.to_dict()))  # what a JSONB column gives back
    assert "explanation" not in stored  # the calendar's part only: the rest is not stored twice
    again = Deadline.from_dict(stored)
    assert again == d
    assert again.explain() == d.explain()  # without the calendar
    assert json.loads(json.dumps(again.to_dict())) == stored  # stored again unchanged


@props
@given(instants, st.sampled_from(["sign", "reply", "callback"]), st.one_of(st.none(), instants))
def test_the_database_form_reads_back_as_the_json_form(t: datetime, clock: str, cap: datetime | None) -> None:
    """to_dict(datetimes=True), written by msgspec (the database codec), is the same deadline as to_dict()."""
    import json

    import msgspec

    from sla import Deadline

    d = compute_deadline(POLICIES, CALENDAR, clock=clock, start=t, channel="12345", kind="help", urgent=True, cap=cap)
    stored = msgspec.json.decode(msgspec.json.encode(d.to_dict(datetimes=True)))
    again = Deadline.from_dict(stored)
    assert again == d and again.explain() == d.explain()
    assert json.loads(json.dumps(again.to_dict())) == json.loads(json.dumps(d.to_dict()))

"""The supported range of instants and the termination of working-time arithmetic for any input.

`received_at=9999-12-31T23:00:00+08:00` once sent the deadline computation into an endless loop (the day table
could not grow past year 9998, so the search for the Nth working day never ended) and year 1 overflowed into a
500. Every example below runs under a hard alarm as well as hypothesis's deadline: a loop that never returns would
never reach the deadline check, the alarm turns it into a failure.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla import (
    SUPPORTED_YEARS,
    OutOfRange,
    PolicySet,
    WorkCalendar,
    add_working_days,
    add_working_seconds,
    build_calendar,
    compute_deadline,
    extend_deadline,
    next_working_moment,
    out_of_range,
    working_seconds_between,
)

HARD_LIMIT_SECONDS = 10  # the alarm; hypothesis's per-example deadline below is the real limit
bounded = settings(max_examples=150, deadline=timedelta(seconds=2))


@contextmanager
def alarm(seconds: int = HARD_LIMIT_SECONDS) -> Iterator[None]:
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"no answer within {seconds} s: the arithmetic does not terminate")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _whole_years_off(first: int, last: int) -> dict[str, object]:
    """Overrides declaring every day of the years [first, last] a holiday: calendars with no working day at all."""
    years = {}
    for year in range(first, last + 1):
        days = [date(year, 1, 1) + timedelta(days=i) for i in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)]
        years[str(year)] = {"holidays": days, "workdays": []}
    return {"years": years}


CALENDARS: list[WorkCalendar] = [
    build_calendar(),
    build_calendar(_whole_years_off(2030, 2030)),  # one year without a working day
    build_calendar(_whole_years_off(2095, 2110)),  # none left before the horizon
    build_calendar(_whole_years_off(1990, 2005)),  # none in the early years
    build_calendar(office_hours=(("00:00", "24:00"),), tz="Pacific/Kiritimati"),
]
ROWS = [
    {"id": f"{c}-row", "clock": c, "channel": "*", "kind": "*", "urgent": "*", "limit": limit, "unit": unit}
    for c, unit, limit in (("sign", "working_hours", 3.25), ("reply", "working_days", 15), ("callback", "minutes", 90))
]
POLICIES = PolicySet.from_rows(ROWS)
LONG_POLICIES = PolicySet.from_rows([{**r, "limit": 250, "unit": "working_days"} for r in ROWS])

OFFSETS = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
# Any instant datetime can hold, with any offset it allows: year 1 to year 9999, extreme offsets included.
extreme_instants = st.builds(lambda naive, tz: naive.replace(tzinfo=tz), st.datetimes(), OFFSETS)
edge_instants = st.sampled_from(
    [
        datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=8))),  # the request that hung the API
        datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=8))),  # the request that answered 500
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-23, minutes=-59))),
        datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2000, 1, 1, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2101, 1, 1, tzinfo=UTC),
    ]
)
# Around the edges of the supported range and the horizon, where the calendars without working days bite.
near_edges = st.builds(
    lambda naive: naive.replace(tzinfo=UTC),
    st.datetimes(min_value=datetime(1985, 1, 1), max_value=datetime(2115, 12, 31)),
)
instants = st.one_of(edge_instants, extreme_instants, near_edges)
calendars = st.sampled_from(CALENDARS)


def _answers_or_refuses(fn, *args, **kwargs) -> object:  # type: ignore[no-untyped-def]
    """Call fn under the alarm: a result, or a ValueError (OutOfRange is one) saying why not; nothing else."""
    with alarm():
        try:
            return fn(*args, **kwargs)
        except ValueError as exc:
            assert str(exc)
            return exc


@bounded
@given(
    instants,
    st.one_of(st.none(), instants),
    calendars,
    st.sampled_from(["sign", "reply", "callback"]),
    st.sampled_from([POLICIES, LONG_POLICIES]),
)
def test_a_deadline_is_computed_or_refused_for_any_instant_and_calendar(
    start: datetime, cap: datetime | None, cal: WorkCalendar, clock: str, policies: PolicySet
) -> None:
    result = _answers_or_refuses(
        compute_deadline, policies, cal, clock=clock, start=start, channel="12345", kind="help", urgent=False, cap=cap
    )
    if out_of_range(start) or (cap is not None and out_of_range(cap)):
        assert isinstance(result, OutOfRange)  # refused before any working time is counted
    if not isinstance(result, Exception):
        assert result.warning_at <= result.due_at < result.supervision_at  # type: ignore[attr-defined]


@bounded
@given(instants, instants, calendars, st.integers(0, 10**13).map(lambda us: us / 10**6), st.integers(1, 400))
def test_working_time_arithmetic_terminates_for_any_input(
    a: datetime, b: datetime, cal: WorkCalendar, seconds: float, days: int
) -> None:
    _answers_or_refuses(add_working_seconds, cal, a, seconds)
    _answers_or_refuses(add_working_days, cal, a, days)
    _answers_or_refuses(next_working_moment, cal, a)
    _answers_or_refuses(working_seconds_between, cal, a, b)


@bounded
@given(st.dates(), calendars)
def test_an_extension_to_any_date_is_granted_or_refused(until: date, cal: WorkCalendar) -> None:
    d = compute_deadline(
        POLICIES,
        CALENDARS[0],
        clock="reply",
        start=datetime(2026, 3, 2, 9, tzinfo=UTC),
        channel="12345",
        kind="help",
        urgent=False,
    )
    result = _answers_or_refuses(extend_deadline, d, cal, until=until)
    if not SUPPORTED_YEARS[0] <= until.year <= SUPPORTED_YEARS[1]:
        assert isinstance(result, OutOfRange)


@bounded
@given(
    st.datetimes(min_value=datetime(SUPPORTED_YEARS[0], 1, 1), max_value=datetime(SUPPORTED_YEARS[1], 12, 31)),
    st.sampled_from(["sign", "reply", "callback"]),
    st.sampled_from([POLICIES, LONG_POLICIES]),
)
def test_every_instant_in_the_supported_range_gets_a_deadline(naive: datetime, clock: str, policies: PolicySet) -> None:
    """The bound refuses nothing inside it: the horizon leaves room for the longest limit and its supervision."""
    with alarm():
        d = compute_deadline(
            policies,
            CALENDARS[0],
            clock=clock,
            start=naive.replace(tzinfo=UTC),
            channel="web",
            kind="help",
            urgent=False,
        )
    assert d.due_at < d.supervision_at


@pytest.mark.parametrize(
    "text",
    [
        "9999-12-31T23:00:00+08:00",
        "0001-01-01T00:00:00+08:00",
        "1999-12-31T23:59:59+00:00",
        "2101-01-01T00:00:00+00:00",
    ],
)
def test_the_instants_of_the_audit_are_refused_at_once(text: str) -> None:
    with alarm(), pytest.raises(OutOfRange, match="must fall between 2000-01-01 and 2100-12-31"):
        compute_deadline(
            POLICIES,
            CALENDARS[0],
            clock="reply",
            start=datetime.fromisoformat(text),
            channel="96196",
            kind="complaint",
            urgent=False,
        )
    with alarm(), pytest.raises(OutOfRange, match="cap"):
        compute_deadline(
            POLICIES,
            CALENDARS[0],
            clock="reply",
            start=datetime(2026, 3, 2, tzinfo=UTC),
            channel="12345",
            kind="complaint",
            urgent=False,
            cap=datetime.fromisoformat(text),
        )


def test_a_calendar_without_a_working_day_before_the_horizon_refuses_instead_of_searching() -> None:
    with alarm(), pytest.raises(OutOfRange, match="no working day"):
        add_working_days(CALENDARS[2], datetime(2094, 12, 30, 10, tzinfo=UTC), 3)

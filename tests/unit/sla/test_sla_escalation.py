"""Escalation ladder: which step a clock has reached, and the time left, on the Spring Festival example.

Reply to a consultation received Fri 2026-02-13 10:00 +08 (see test_sla_deadline): warning Feb 24 10:45,
due Feb 24 17:30, supervision Thu Feb 26 17:30.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from sla import (
    STEPS,
    Deadline,
    PolicySet,
    WorkCalendar,
    compute_deadline,
    ladder,
    remaining_seconds,
    step_due,
    suspend_deadline,
)

CST = timezone(timedelta(hours=8))
HOUR = 3600.0


def cst(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A wall-clock time in China Standard Time (+08:00)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=CST)


@pytest.fixture(scope="module")
def deadline(policies: PolicySet, calendar: WorkCalendar) -> Deadline:
    return compute_deadline(
        policies,
        calendar,
        clock="reply",
        start=cst(2026, 2, 13, 10, 0),
        channel="96196",
        kind="consultation",
        urgent=False,
    )


def test_steps_and_ladder(deadline: Deadline) -> None:
    assert STEPS == ("warning", "overdue", "supervision")
    assert ladder(deadline) == [
        ("warning", cst(2026, 2, 24, 10, 45)),
        ("overdue", cst(2026, 2, 24, 17, 30)),
        ("supervision", cst(2026, 2, 26, 17, 30)),
    ]


@pytest.mark.parametrize(
    ("now", "step"),
    [
        (cst(2026, 2, 13, 10, 0), None),
        (cst(2026, 2, 24, 10, 44, 59), None),
        (cst(2026, 2, 24, 10, 45), "warning"),  # a step is due at its instant exactly
        (cst(2026, 2, 24, 17, 29, 59), "warning"),
        (cst(2026, 2, 24, 17, 30), "overdue"),
        (cst(2026, 2, 26, 17, 29, 59), "overdue"),
        (cst(2026, 2, 26, 17, 30), "supervision"),
        (cst(2026, 12, 31, 0, 0), "supervision"),
    ],
)
def test_step_due(deadline: Deadline, now: datetime, step: str | None) -> None:
    assert step_due(deadline, now) == step
    assert step_due(deadline, now.astimezone(UTC)) == step


def test_remaining_seconds_in_working_time(deadline: Deadline, calendar: WorkCalendar) -> None:
    assert remaining_seconds(deadline, calendar, cst(2026, 2, 13, 10, 0)) == 21 * HOUR
    # During the break nothing runs: still the whole of Feb 24 left.
    assert remaining_seconds(deadline, calendar, cst(2026, 2, 20, 15, 0)) == 7.5 * HOUR
    # The overrun is measured the same way: 08:30-09:30 on Feb 25 is one working hour late; the night is not.
    assert remaining_seconds(deadline, calendar, cst(2026, 2, 25, 9, 30)) == -1 * HOUR
    assert remaining_seconds(deadline, calendar, cst(2026, 2, 25, 7, 0)) == 0


def test_remaining_seconds_in_natural_time(policies: PolicySet, calendar: WorkCalendar) -> None:
    d = compute_deadline(
        policies, calendar, clock="reply", start=cst(2026, 2, 16, 22, 0), channel="12345", kind="help", urgent=True
    )  # due Feb 17 22:00
    assert remaining_seconds(d, calendar, cst(2026, 2, 17, 20, 0)) == 2 * HOUR
    assert remaining_seconds(d, calendar, cst(2026, 2, 18, 0, 0)) == -2 * HOUR


def test_a_suspended_clock_stops_escalating(deadline: Deadline, calendar: WorkCalendar) -> None:
    s = suspend_deadline(deadline, calendar, suspended_at=cst(2026, 2, 24, 11, 0))  # after the warning
    assert step_due(s, cst(2026, 3, 30, 9, 0)) == "warning"  # frozen at the step reached when paused
    assert step_due(s, cst(2026, 2, 24, 10, 0)) is None
    assert remaining_seconds(s, calendar, cst(2026, 3, 30, 9, 0)) == 5 * HOUR  # 11:00-12:00 and 13:30-17:30


def test_naive_now_is_refused(deadline: Deadline, calendar: WorkCalendar) -> None:
    with pytest.raises(ValueError):
        step_due(deadline, datetime(2026, 2, 24, 11, 0))
    with pytest.raises(ValueError):
        remaining_seconds(deadline, calendar, datetime(2026, 2, 24, 11, 0))

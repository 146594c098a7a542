"""The escalation ladder of one clock: warning (预警), overdue (超期), supervision (督办).

This module owns the order of the steps and the questions workers ask of a deadline: which step has been
reached at `now`, when each step falls, and how much time is left. Recording a step once, notifying and
scheduling jobs belong to hotline/ and workers/; nothing here reads the clock.
"""

from __future__ import annotations

from datetime import datetime

from sla.calendar import WorkCalendar
from sla.deadline import Deadline
from sla.worktime import require_aware, working_seconds_between

__all__ = ["STEPS", "STEP_INSTANTS", "ladder", "remaining_seconds", "step_at", "step_due"]

# The ladder, once: each step in order and the Deadline field holding its instant (the clocks table's columns have
# the same names; hotline/escalation/ladder.py generates the SQL of the ladder from this).
STEP_INSTANTS: tuple[tuple[str, str], ...] = (
    ("warning", "warning_at"),
    ("overdue", "due_at"),
    ("supervision", "supervision_at"),
)
STEPS: tuple[str, ...] = tuple(step for step, _ in STEP_INSTANTS)


def ladder(d: Deadline) -> list[tuple[str, datetime]]:
    """The steps in order with their instants (UTC). While the clock is suspended these are the instants that
    were in force when it paused: step_due, which freezes at the suspension, is the authority on what fired."""
    return [(step, getattr(d, name)) for step, name in STEP_INSTANTS]


def step_at(now: datetime, instants: dict[str, datetime | None]) -> str | None:
    """The highest step whose instant (by Deadline field name, as in STEP_INSTANTS) is <= now; a missing or None
    instant is never reached."""
    reached = None
    for step, name in STEP_INSTANTS:
        at = instants.get(name)
        if at is not None and now >= at:
            reached = step
    return reached


def step_due(d: Deadline, now: datetime) -> str | None:
    """The highest step whose instant is <= now (a suspended clock stops at the step reached when it paused)."""
    require_aware(now, "now")
    if d.suspended_at is not None and d.suspended_at < now:
        now = d.suspended_at
    return step_at(now, {name: getattr(d, name) for _, name in STEP_INSTANTS})


def remaining_seconds(d: Deadline, calendar: WorkCalendar, now: datetime) -> float:
    """Time from now to the due: working seconds for working bases, natural seconds otherwise; negative when
    past, measuring the overrun the same way. A suspended clock reports what was left when it paused."""
    require_aware(now, "now")
    if d.suspended_remaining_seconds is not None:
        return d.suspended_remaining_seconds
    if d.basis == "working":
        return working_seconds_between(calendar, now, d.due_at)
    return (d.due_at - now).total_seconds()

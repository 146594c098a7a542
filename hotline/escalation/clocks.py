"""Stamp SLA clocks on assignments: compute deadlines with sla/ and turn them into rows and job arming."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sla


@dataclass(frozen=True, slots=True)
class ClockRow:
    clock: str
    deadline: sla.Deadline

    def params(self) -> dict[str, Any]:
        d = self.deadline
        return {
            "clock": self.clock,
            "due_at": d.due_at,
            "warning_at": d.warning_at,
            "supervision_at": d.supervision_at,
            "deadline": d.to_dict(datetimes=True),
            "provisional": d.provisional,
            "policy_version": d.policy_version,
            "calendar_version": d.calendar_version,
        }


def next_step_of(d: sla.Deadline, recorded: set[str] | frozenset[str] = frozenset()) -> tuple[str, datetime] | None:
    for step, at in sla.ladder(d):
        if step not in recorded:
            return step, at
    return None


def compute(
    policies: sla.PolicySet,
    calendar: sla.WorkCalendar,
    *,
    clock: str,
    start: datetime,
    channel: str,
    kind: str,
    urgent: bool,
    cap: datetime | None = None,
) -> ClockRow:
    """A transfer's upstream deadline caps the unit's clocks (sign and reply): a unit cannot be given longer to sign
    a case than the upstream platform gives to close it. The callback clock is the call center's own."""
    return ClockRow(
        clock,
        sla.compute_deadline(
            policies,
            calendar,
            clock=clock,
            start=start,
            channel=channel,
            kind=kind,
            urgent=urgent,
            cap=cap if clock in ("sign", "reply") else None,
        ),
    )


def view(row: dict[str, Any], calendar: sla.WorkCalendar, now: datetime, recorded_steps: list[str]) -> dict[str, Any]:
    """One clock as the API shows it: deadline, time left in working time, step reached, explanation."""
    d = sla.Deadline.from_dict(row["deadline"])
    stopped = row["stopped_at"]
    at = stopped or now
    return {
        "clock": row["clock"],
        "started_at": row["started_at"].isoformat(),
        "due_at": row["due_at"].isoformat(),
        "warning_at": row["warning_at"].isoformat(),
        "supervision_at": row["supervision_at"].isoformat(),
        "running": stopped is None,
        "stopped_at": stopped.isoformat() if stopped else None,
        "suspended_at": row["suspended_at"].isoformat() if row.get("suspended_at") else None,
        "remaining_seconds": round(sla.remaining_seconds(d, calendar, at)),
        "basis": d.basis,
        "step": sla.step_due(d, at),
        "steps_recorded": recorded_steps,
        "provisional": row["provisional"],
        "version": row["version"],
        "explanation": d.explain(calendar),
    }

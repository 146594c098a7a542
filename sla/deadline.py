"""Deadlines: the Deadline value of one clock and its stored form.

A Deadline is immutable; every change (`sla.compute`: extension 延期, suspension 挂起 / resume) returns a new one
that remembers what was done to it (`adjustments`), so the stored JSON is the full trace (全程留痕). Its
explanation (`explain()`, worded in `sla.explain`) is computed only when asked; what the explanation took from the
calendar is stored with it (`explained`), so it survives a change of calendar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Literal

from sla.calendar import WorkCalendar
from sla.explain import assemble, calendar_facts
from sla.policy_row import PolicyRow
from sla.worktime import require_aware

__all__ = ["Adjustment", "Deadline"]

UTC = UTC


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
        deadline read back without one is explained from the calendar facts stored with it (`explained`).
        """
        cached = self._explanation
        if cached is not None and calendar is None:
            return cached
        built = assemble(self, self._calendar_part(calendar))
        object.__setattr__(self, "_explanation", built)  # a cache on a frozen value: same inputs, same output
        return built

    def _calendar_part(self, calendar: WorkCalendar | None = None) -> dict[str, Any]:
        """What the explanation takes from the calendar: from `calendar`, else the one computed on, else as stored."""
        if calendar is not None and calendar is not self.calendar:
            return calendar_facts(self, calendar)
        if self._facts is None:
            object.__setattr__(self, "_facts", calendar_facts(self, self.calendar))
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
        if calendar is None and data.get("explained") is not None:
            object.__setattr__(d, "_facts", data["explained"])
        return d


@lru_cache(maxsize=1024)
def _policy_dict(row: PolicyRow) -> dict[str, Any]:
    return row.to_dict()

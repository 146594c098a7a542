"""The explanation of a deadline (全程留痕) as the API sends it: sla.explain's account of how a clock's deadline was
reached (the rule, the calendar and its days skipped or counted, caps, adjustments), typed.

sla/ builds the explanation as plain data (it knows no msgspec); `typed()` turns it into these Structs, which encode
to exactly the same JSON (fields in sla.explain's order, numbers as they were: 5 stays 5, 0.5 stays 0.5) and which
OpenAPI documents. A deadline stored without its policy row explains its policy by id, limit and unit only.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from hotline.policies.documents import Number, Urgent


class ExplainedPolicy(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The SLA policy row the deadline was counted by ("*" matches anything); a deadline stored without its row
    names only its id, limit and unit."""

    id: str
    clock: str | UnsetType = UNSET
    channel: str | UnsetType = UNSET
    kind: str | UnsetType = UNSET
    urgent: Urgent | UnsetType = UNSET
    limit: Number
    unit: str
    warning_ratio: Number | UnsetType = UNSET
    supervision_after_working_days: int | UnsetType = UNSET


class CalendarFacts(msgspec.Struct, forbid_unknown_fields=True):
    """The calendar counted on: name, data version, time zone and office hours as [opening, closing] local times
    ("08:30", "12:00"); name, tz and office hours are null for a deadline explained without its calendar."""

    name: str | None
    version: str
    tz: str | None
    office_hours: list[list[str]] | None


class LocalException(msgspec.Struct, forbid_unknown_fields=True):
    """A local calendar exception (a day made working or not) that fell inside the clock's span."""

    date: str
    working: bool
    reason: str


class DeadlineAdjustment(msgspec.Struct, forbid_unknown_fields=True):
    """A change made to the deadline after it was computed: an extension (延期) by working days or to a date, a
    suspension (挂起) with the time left then, or a resumption."""

    kind: Literal["extension", "suspension", "resume"]
    old_due_at: str
    new_due_at: str
    at: str | None
    working_days: int | None
    until: str | None
    remaining_seconds: Number | None


class DeadlineExplanation(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """How one clock's deadline was reached: the policy row and rule applied, the start and due instants (UTC and
    local), the holidays skipped and make-up workdays counted, local exceptions, why it is provisional, what capped
    it (an upstream deadline), when it warns and goes to supervision, and every adjustment since."""

    clock: str
    policy: ExplainedPolicy
    policy_version: int
    calendar: CalendarFacts
    rule: str
    basis: Literal["working", "natural"]
    limit: Number
    unit: str
    start: str
    start_local: str | None
    due_at: str
    due_local: str | None
    warning_at: str
    warning_ratio: Number
    supervision_at: str
    supervision_after_working_days: int
    allowed_seconds: Number
    holidays_skipped: list[str]
    makeup_workdays_counted: list[str]
    local_exceptions: list[LocalException]
    provisional: bool
    provisional_reason: str | None
    capped: bool
    cap: str | None
    cap_reason: str | None
    upstream_breached: bool
    warning_reason: str | None
    computed_due_at: str | None
    suspended: bool
    suspended_at: str | None
    adjustments: list[DeadlineAdjustment]


def typed(explanation: dict[str, Any]) -> DeadlineExplanation:
    """sla's explanation (Deadline.explain()) as its Struct. A key sla adds without declaring it here is refused
    (forbid_unknown_fields), so the ticket tests fail rather than the key silently leaving the JSON."""
    return msgspec.convert(explanation, DeadlineExplanation)

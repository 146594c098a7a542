"""The administrators' audit trail as it is read back (GET /api/admin/events): each event with the thing before and
after, typed by the kind of thing changed. hotline.auth.audit writes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

import msgspec

from hotline import inputs
from hotline.auth.tokens import Principal
from hotline.infra.runtime import Runtime
from hotline.policies.documents import SlaPolicyDiffEntry
from hotline.vocab import ADMIN


class AccountSnapshot(TypedDict):
    """`account.create` (after) and `account.change`: the account as it was or became."""

    username: str
    role: str
    unit: str | None
    channel: str | None
    display_name: str
    active: bool


class PasswordResetSnapshot(TypedDict):
    """`account.reset_password`: whether the account had to choose a new password (after: it must)."""

    must_change_password: bool


class UnlockSnapshot(TypedDict):
    """`account.unlock`: seconds the account still had to wait before its next sign-in (after: 0)."""

    locked_seconds: int


class UnitSnapshot(TypedDict):
    """`unit.change`: the unit (territory null for a city-wide unit, contacts null when not given)."""

    code: str
    name: str
    territory: str | None
    active: bool
    contact_person: str | None
    contact_phone: str | None


class TerritorySnapshot(TypedDict):
    """`territory.change`: the territory (GB/T 2260 code, display name, the code of the one above it or null)."""

    code: str
    name: str
    parent: str | None


class RoutingRuleSnapshot(TypedDict):
    """`routing_rule.create` (after) and `routing_rule.change`: the rule ("*" any territory, "{territory}-bureau"
    the local bureau)."""

    id: int
    category: str
    territory: str
    unit: str
    active: bool


class _ExceptionDay(TypedDict):
    date: str
    working: bool
    reason: str


class CalendarExceptionSnapshot(_ExceptionDay, total=False):
    """`calendar.exception`: the local exception (its date, whether it is a working day, why, the territories it
    applies to: empty for the whole city, absent in events recorded before exceptions named territories); on
    withdrawal `withdrawn` before and after; after a save or a withdrawal the SLA policy version that put it in
    force."""

    territories: list[str]
    withdrawn: bool
    policy_version: int


class _PolicyVersion(TypedDict):
    version: int


class SlaPolicyVersionSnapshot(_PolicyVersion, total=False):
    """`sla_policy.version`: the version in force before; after, the new version, its reason, whether running clocks
    are recomputed and the rows added, removed and changed."""

    reason: str | None
    recompute_open: bool
    diff: list[SlaPolicyDiffEntry]


# What an event holds before and after, by the kind of thing changed: the JSON `record()` stored, so typed as the
# dicts they are. Each shape has required keys of its own, so a snapshot is one of them only.
AdminSnapshot = (
    AccountSnapshot
    | PasswordResetSnapshot
    | UnlockSnapshot
    | UnitSnapshot
    | TerritorySnapshot
    | RoutingRuleSnapshot
    | CalendarExceptionSnapshot
    | SlaPolicyVersionSnapshot
)


@dataclass
class AdminEvent:
    """One change: its actor, time, what (`account.create`, `sla_policy.version`...), subject, and the thing before
    and after, whose shape depends on `what` (null where there was none).

    The snapshots are sent as they were stored (JSON written by `record()`); the union describes them, and
    tests/integration/test_admin_event_snapshots.py checks each kind of event against the served document. A
    dataclass, as what holds a union of records must be (msgspec describes no such union; see
    hotline.policies.documents)."""

    id: int
    at: str
    actor: str
    what: str
    subject: str
    before: AdminSnapshot | None
    after: AdminSnapshot | None


@dataclass
class AdminEventPage:
    items: list[AdminEvent]


async def recent(
    rt: Runtime,
    principal: Principal,
    *,
    what_prefix: str | None = None,
    subject: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> AdminEventPage:
    principal.require(ADMIN)
    inputs.require_limit(limit)
    rows = await rt.pool.fetch(
        """SELECT e.id, e.at, u.username AS actor, e.what, e.subject, e.before, e.after
           FROM admin_events e JOIN users u ON u.id = e.actor
           WHERE ($1::text IS NULL OR starts_with(e.what, $1)) AND ($2::text IS NULL OR e.subject = $2)
             AND ($3::bigint IS NULL OR e.id < $3)
           ORDER BY e.id DESC LIMIT $4""",
        what_prefix,
        subject,
        before_id,
        limit,
    )
    return AdminEventPage(items=[_view(r) for r in rows])


def _view(r: Any) -> AdminEvent:
    at: datetime = r["at"]
    decode = lambda v: msgspec.json.decode(v) if isinstance(v, str) else v  # noqa: E731  (older rows: JSON text)
    return AdminEvent(
        id=r["id"],
        at=at.isoformat(),
        actor=r["actor"],
        what=r["what"],
        subject=r["subject"],
        before=decode(r["before"]),
        after=decode(r["after"]),
    )

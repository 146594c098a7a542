"""Unified intake (统一受理): one ticket store, one numbering, one set of rules for every channel.

A transfer is idempotent on (channel, external_ref), any submission on its Idempotency-Key: a replay returns the
ticket already made. The ticket, its routing decision, the first assignment, its clocks and the events are written
by one SQL statement, so a failure leaves nothing behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from hotline import clocks as clock_rows
from hotline.auth import Principal
from hotline.errors import Forbidden, InvalidInput
from hotline.jobs import ArmedStep
from hotline.runtime import Runtime

PHONE_RE = r"^\+?[0-9][0-9\- ]{2,19}$"


class Caller(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(max_length=50)] | None = None
    phone: Annotated[str, msgspec.Meta(pattern=PHONE_RE)] | None = None


class Location(msgspec.Struct):
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lng: Annotated[float, msgspec.Meta(ge=-180, le=180)]


class TicketIn(msgspec.Struct):
    channel: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    content: Annotated[str, msgspec.Meta(min_length=1, max_length=10000)]
    category: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    territory: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")] | None = None
    caller: Caller | None = None
    urgent: bool = False
    address: Annotated[str, msgspec.Meta(max_length=300)] | None = None
    location: Location | None = None
    external_ref: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    external_due_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class IntakeResult:
    ticket_id: int
    created: bool
    armed: list[ArmedStep]
    unit: str | None


INSERT_SQL = """
WITH t AS (
    INSERT INTO tickets (number, channel, kind, category, territory, title, content, caller_name, caller_phone,
                         urgent, address, lat, lng, external_ref, external_due_at, idempotency_key, status, unit,
                         current_assignment_id, routing, created_by, received_at, created_at, updated_at,
                         sign_due_at, reply_due_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
            $22, $22, $23, $24)
    ON CONFLICT DO NOTHING
    RETURNING id, received_at
), a AS (
    INSERT INTO assignments (id, ticket_id, seq, unit, origin, started_at)
    OVERRIDING SYSTEM VALUE
    SELECT $19, t.id, 1, $18, 'route', t.received_at FROM t WHERE $18::text IS NOT NULL
    RETURNING id, ticket_id
), c AS (
    INSERT INTO clocks (ticket_id, assignment_id, clock, unit, started_at, due_at, warning_at, supervision_at,
                        deadline, provisional, policy_version, calendar_version, next_step, next_step_at)
    SELECT a.ticket_id, a.id, k.clock, $18, $22, k.due_at, k.warning_at, k.supervision_at, k.deadline,
           k.provisional, $31, $32, 'warning', k.warning_at
    FROM a, unnest($25::text[], $26::timestamptz[], $27::timestamptz[], $28::timestamptz[], $29::jsonb[],
                   $30::boolean[]) AS k(clock, due_at, warning_at, supervision_at, deadline, provisional)
    RETURNING id, clock, version, warning_at
), e AS (
    INSERT INTO events (ticket_id, assignment_id, at, actor_id, actor, role, unit, action, status_before,
                        status_after, version, payload)
    SELECT t.id, CASE WHEN ev.action = 'route' THEN $19 END, $22, $21, $33, $34, $35, ev.action, ev.status_b,
           ev.status_a, 1, ev.payload
    FROM t, unnest($36::text[], $37::text[], $38::text[], $39::jsonb[]) AS ev(action, status_b, status_a, payload)
)
SELECT t.id, (SELECT coalesce(array_agg(c.id || ':' || c.version || ':' || c.clock), '{}') FROM c) AS clocks
FROM t
"""

NEXT_NUMBER_SQL = """
WITH n AS (
    INSERT INTO ticket_counters AS tc (channel, day, last) VALUES ($1, $2, 1)
    ON CONFLICT (channel, day) DO UPDATE SET last = tc.last + 1
    RETURNING last
)
SELECT n.last, nextval(pg_get_serial_sequence('assignments', 'id')) AS assignment_id FROM n
"""

FIND_EXISTING_SQL = """
SELECT id FROM tickets
WHERE ($1::text IS NOT NULL AND channel = $2 AND external_ref = $1)
   OR ($3::text IS NOT NULL AND created_by = $4 AND idempotency_key = $3)
LIMIT 1
"""


def _normalise_phone(phone: str | None) -> str | None:
    if phone is None:
        return None
    return re.sub(r"[\s-]", "", phone) or None


def validate(rt: Runtime, principal: Principal, data: TicketIn, now: datetime) -> None:
    principal.require("agent", "integration", "admin")
    names = rt.names
    fields: dict[str, str] = {}
    if data.channel not in names.channels:
        fields["channel"] = f"unknown channel {data.channel!r}; known: {', '.join(sorted(names.channels))}"
    elif principal.role == "integration" and data.channel != principal.channel:
        raise Forbidden(f"this integration account may only submit on channel {principal.channel}",
                        fields={"channel": f"must be {principal.channel}"})
    elif principal.role == "agent" and names.channel_kinds.get(data.channel) != "phone":
        raise Forbidden("agents log phone calls; transfers arrive through their platform's integration account",
                        fields={"channel": "must be a phone channel such as 96196"})
    if data.kind not in names.kinds:
        fields["kind"] = f"unknown kind {data.kind!r}; known: {', '.join(sorted(names.kinds))}"
    if data.category is not None and data.category not in names.categories:
        fields["category"] = f"unknown category {data.category!r}"
    if not data.title.strip():
        fields["title"] = "must not be blank"
    if not data.content.strip():
        fields["content"] = "must not be blank"
    if data.external_due_at is not None and data.external_due_at.tzinfo is None:
        fields["external_due_at"] = "must carry a UTC offset, e.g. 2026-11-30T17:30:00+08:00"
    if data.external_ref is not None and names.channel_kinds.get(data.channel) != "transfer":
        fields["external_ref"] = "only transfers from another platform carry an external reference"
    if data.external_due_at is not None and data.external_ref is None:
        fields["external_due_at"] = "an upstream deadline comes with the transfer's external_ref"
    if fields:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in fields.items()), fields=fields)


async def create_ticket(rt: Runtime, principal: Principal, data: TicketIn, *, idempotency_key: str | None,
                        now: datetime | None = None) -> IntakeResult:
    now = now or datetime.now(timezone.utc)
    validate(rt, principal, data, now)
    if idempotency_key is not None and not (1 <= len(idempotency_key) <= 200):
        raise InvalidInput("Idempotency-Key must be 1 to 200 characters", fields={"Idempotency-Key": "1 to 200 characters"})
    async with rt.pool.acquire() as conn:
        if data.external_ref is not None or idempotency_key is not None:
            existing = await conn.fetchval(FIND_EXISTING_SQL, data.external_ref, data.channel, idempotency_key,
                                           principal.user_id)
            if existing is not None:
                return IntakeResult(existing, False, [], None)
        decision = rt.router.resolve(data.category, data.territory)
        policies = await rt.current_policies()
        caller = data.caller or Caller()
        phone = _normalise_phone(caller.phone)
        rows: list[clock_rows.ClockRow] = []
        if decision.unit is not None:
            for clock in ("sign", "reply"):
                rows.append(clock_rows.compute(policies, rt.calendar, clock=clock, start=now, channel=data.channel,
                                               kind=data.kind, urgent=data.urgent, cap=data.external_due_at))
        local_day = now.astimezone(ZoneInfo(rt.settings.timezone)).date()
        status = "dispatched" if decision.unit else "pending_dispatch"
        events: list[tuple[str, str | None, str, dict[str, Any]]] = [
            ("create", None, "pending_dispatch",
             {"channel": data.channel, "external_ref": data.external_ref, "urgent": data.urgent})]
        if decision.unit:
            events.append(("route", "pending_dispatch", "dispatched", {"routing": decision.to_dict()}))
        for _attempt in range(3):
            seq, assignment_id = await conn.fetchrow(NEXT_NUMBER_SQL, data.channel, local_day)
            number = f"{data.channel}-{local_day:%Y%m%d}-{seq:06d}"
            unit = decision.unit
            row = await conn.fetchrow(
                INSERT_SQL, number, data.channel, data.kind, data.category, data.territory, data.title.strip(),
                data.content.strip(), caller.name, phone, data.urgent, data.address,
                data.location.lat if data.location else None, data.location.lng if data.location else None,
                data.external_ref, data.external_due_at, idempotency_key, status, unit,
                assignment_id if unit else None, decision.to_dict(), principal.user_id, now,
                rows[0].deadline.due_at if rows else None, rows[1].deadline.due_at if rows else None,
                [r.clock for r in rows], [r.deadline.due_at for r in rows], [r.deadline.warning_at for r in rows],
                [r.deadline.supervision_at for r in rows], [r.deadline.to_dict() for r in rows],
                [r.deadline.provisional for r in rows], policies.version, rt.calendar.version,
                principal.display_name, principal.role, principal.unit,
                [e[0] for e in events], [e[1] for e in events], [e[2] for e in events], [e[3] for e in events])
            if row is not None:
                armed = []
                by_clock = {r.clock: r.deadline for r in rows}
                for item in row["clocks"]:
                    cid, version, clock = item.split(":")
                    armed.append(ArmedStep(int(cid), int(version), "warning", by_clock[clock].warning_at))
                return IntakeResult(row["id"], True, armed, unit)
            # ON CONFLICT DO NOTHING: a concurrent twin won (same external_ref or key), or, after a crash lost a
            # counter increment, the number was taken; find the twin or retry with a fresh number.
            existing = await conn.fetchval(FIND_EXISTING_SQL, data.external_ref, data.channel, idempotency_key,
                                           principal.user_id)
            if existing is not None:
                return IntakeResult(existing, False, [], None)
    raise RuntimeError("could not allocate a ticket number after 3 attempts")

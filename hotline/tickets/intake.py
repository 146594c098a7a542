"""Unified intake (统一受理): one ticket store, one numbering, one set of rules for every channel.

A transfer may carry its upstream deadline (`external_due_at`) and its upstream receipt (`received_at`: when the
citizen called 12345). The unit's sign and reply clocks start at local receipt (now) and are capped by the
upstream deadline, which the upstream counted from its own receipt. An upstream deadline already past on arrival
is accepted (统一受理: a late transfer is still the citizen's case), as breached upstream: the clocks get their
minimum (sla.UPSTREAM_BREACH_MINIMUM_WORKING_DAYS) and each escalation step fires once, in turn; one before the
upstream receipt, or outside sla.SUPPORTED_YEARS, is refused (422 naming the field).

A transfer is idempotent on (channel, external_ref), any submission on its Idempotency-Key: a replay returns the
ticket already made. The ticket, its routing decision, the first assignment, its clocks and the events are written
by one SQL statement (hotline.tickets.writer, which groups concurrent intakes), so a failure leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, TypeAlias
from zoneinfo import ZoneInfo

import msgspec
import structlog

import sla
from hotline.auth.tokens import Principal
from hotline.errors import Forbidden, InvalidInput, nul_fields
from hotline.escalation import clocks as clock_rows
from hotline.escalation import ladder
from hotline.infra.queue import ArmedStep
from hotline.infra.runtime import Runtime
from hotline.tickets import citizen, routing
from hotline.tickets import writer as intake_writer
from hotline.tickets.routing import Decision
from hotline.vocab import ADMIN, AGENT, INTEGRATION

log = structlog.get_logger(__name__)
# Only the characters a number is written with; whether it is one we can call back is checked against the numbering
# plan (citizen.staff_phone_problem), so that the reason given is the real one (too short, too long, not a number).
PHONE_RE = r"^\+?[0-9][0-9\- ]*$"


class Caller(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(max_length=50)] | None = None
    phone: Annotated[str, msgspec.Meta(pattern=PHONE_RE, max_length=30)] | None = None


def _number_within(limit: int) -> dict[str, Any]:
    # Litestar reads `extra` as its schema's own attributes: one number in range, no `oneOf` with text.
    return {"extra": {"one_of": None, "type": "number", "minimum": -limit, "maximum": limit}}


# A coordinate in degrees, a JSON number in range. `| str` only so that text is caught here: Litestar converts
# bodies leniently, which would read "32.0" as a number. The document shows what clients must send (one number in
# range), not that workaround.
Latitude: TypeAlias = Annotated[
    Annotated[float, msgspec.Meta(ge=-90, le=90)] | str, msgspec.Meta(extra_json_schema=_number_within(90))
]
Longitude: TypeAlias = Annotated[
    Annotated[float, msgspec.Meta(ge=-180, le=180)] | str, msgspec.Meta(extra_json_schema=_number_within(180))
]


class Location(msgspec.Struct):
    lat: Latitude
    lng: Longitude

    def __post_init__(self) -> None:
        for name in ("lat", "lng"):
            if isinstance(getattr(self, name), str):
                raise ValueError(f"location.{name} must be a JSON number, not text")


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
    external_due_at: (
        Annotated[
            datetime,
            msgspec.Meta(
                description=(
                    "Transfers only: the upstream platform's deadline, with a UTC offset, between 2000 and 2100. "
                    "It caps the unit's sign and reply deadlines and no extension may pass it. One already past on "
                    "arrival is accepted as breached upstream: the clocks get one working day (or their policy's "
                    "limit if shorter)."
                )
            ),
        ]
        | None
    ) = None
    received_at: (
        Annotated[
            datetime,
            msgspec.Meta(
                description=(
                    "Transfers only: when the upstream platform (12345, 12328, 12319) received the case, with a UTC "
                    "offset. Stored and shown as the ticket's upstream_received_at; the upstream deadline "
                    "external_due_at runs from it, while the unit's sign and reply clocks start at local receipt "
                    "(the ticket's received_at)."
                )
            ),
        ]
        | None
    ) = None


@dataclass(frozen=True, slots=True)
class IntakeResult:
    ticket_id: int
    created: bool
    armed: list[ArmedStep]
    unit: str | None
    ticket: dict[str, Any] | None = None  # the new ticket's row (the columns of tickets.TICKET_COLUMNS), when created


# What a replay is compared on: the fields of the request as intake writes them.
REPLAYED_FIELDS = (
    "channel",
    "kind",
    "category",
    "territory",
    "title",
    "content",
    "caller_name",
    "caller_phone",
    "urgent",
    "address",
    "lat",
    "lng",
    "external_ref",
    "external_due_at",
)
FIND_EXISTING_SQL = f"""
SELECT id, number, ($3::text IS NOT NULL AND created_by = $4 AND idempotency_key = $3) AS by_key,
       {", ".join(REPLAYED_FIELDS)}
FROM tickets
WHERE ($1::text IS NOT NULL AND channel = $2 AND external_ref = $1)
   OR ($3::text IS NOT NULL AND created_by = $4 AND idempotency_key = $3)
LIMIT 1
"""


def validate(rt: Runtime, principal: Principal, data: TicketIn, now: datetime) -> None:
    """Every problem of a new ticket named in one 422; a channel the principal may not use is a 403."""
    principal.require(AGENT, INTEGRATION, ADMIN)
    fields = _channel_fields(rt, principal, data)
    fields.update(_content_fields(rt, data))
    fields.update(_upstream_fields(rt, data, now))
    if fields:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in fields.items()), fields=fields)


def _channel_fields(rt: Runtime, principal: Principal, data: TicketIn) -> dict[str, str]:
    names = rt.names
    if data.channel not in names.channels:
        return {"channel": f"unknown channel {data.channel!r}; known: {', '.join(sorted(names.channels))}"}
    if principal.role == INTEGRATION and data.channel != principal.channel:
        raise Forbidden(
            f"this integration account may only submit on channel {principal.channel}",
            fields={"channel": f"must be {principal.channel}"},
        )
    if principal.role == AGENT and names.channel_kinds.get(data.channel) != "phone":
        raise Forbidden(
            "agents log phone calls; transfers arrive through their platform's integration account",
            fields={"channel": "must be a phone channel such as 96196"},
        )
    return {}


def _content_fields(rt: Runtime, data: TicketIn) -> dict[str, str]:
    names = rt.names
    fields: dict[str, str] = {}
    if data.kind not in names.kinds:
        fields["kind"] = f"unknown kind {data.kind!r}; known: {', '.join(sorted(names.kinds))}"
    if data.category is not None and data.category not in names.categories:
        fields["category"] = f"unknown category {data.category!r}"
    if not data.title.strip():
        fields["title"] = "must not be blank"
    if not data.content.strip():
        fields["content"] = "must not be blank"
    phone = data.caller.phone if data.caller else None
    problem = citizen.staff_phone_problem(citizen.normalise_phone(phone) or "") if phone else None
    if problem:
        fields["caller.phone"] = problem
    fields.update(
        nul_fields(
            {
                "title": data.title,
                "content": data.content,
                "address": data.address,
                "caller.name": data.caller.name if data.caller else None,
                "external_ref": data.external_ref,
            }
        )
    )
    return fields


def _instant_problem(value: datetime, example: str) -> str | None:
    if value.tzinfo is None:
        return f"must carry a UTC offset, e.g. {example}"
    return sla.out_of_range(value)


def _upstream_fields(rt: Runtime, data: TicketIn, now: datetime) -> dict[str, str]:
    """A transfer's upstream instants: aware, in range, in order, and only on a transfer with its external_ref."""
    fields: dict[str, str] = {}
    due, upstream = data.external_due_at, data.received_at
    problem = _instant_problem(due, "2026-11-30T17:30:00+08:00") if due is not None else None
    if problem:
        fields["external_due_at"] = problem
    if upstream is not None:
        problem = _instant_problem(upstream, "2026-11-30T09:15:00+08:00")
        if problem:
            fields["received_at"] = problem
        elif data.external_ref is None:
            fields["received_at"] = "the upstream receipt time comes with a transfer's external_ref"
        elif upstream > now:
            fields["received_at"] = f"the upstream receipt cannot be after the local receipt {now.isoformat()}"
        elif "external_due_at" not in fields and due is not None and due < upstream:
            fields["external_due_at"] = "the upstream deadline cannot be before the upstream receipt (received_at)"
    if data.external_ref is not None and rt.names.channel_kinds.get(data.channel) != "transfer":
        fields["external_ref"] = "only transfers from another platform carry an external reference"
    if due is not None and data.external_ref is None:
        fields["external_due_at"] = "an upstream deadline comes with the transfer's external_ref"
    return fields


async def create_ticket(
    rt: Runtime, principal: Principal, data: TicketIn, *, idempotency_key: str | None, now: datetime | None = None
) -> IntakeResult:
    now = now or datetime.now(UTC)
    validate(rt, principal, data, now)
    if idempotency_key is not None and not (1 <= len(idempotency_key) <= 200):
        raise InvalidInput(
            "Idempotency-Key must be 1 to 200 characters", fields={"Idempotency-Key": "1 to 200 characters"}
        )
    # Prepared before any connection is taken: current_policies() may itself need one, and holding a connection
    # while waiting for another can starve the pool under load.
    decision = routing.router(rt).resolve(data.category, data.territory)
    policies = await rt.current_policies()
    caller = data.caller or Caller()
    phone = citizen.normalise_phone(caller.phone)
    rows = [
        clock_rows.compute(
            policies,
            rt.calendar_for(data.territory),
            clock=clock,
            start=now,
            channel=data.channel,
            kind=data.kind,
            urgent=data.urgent,
            cap=data.external_due_at,
        )
        for clock in _clocks_at_intake(decision, policies)
    ]
    due = {r.clock: r.deadline.due_at for r in rows}
    local_day = now.astimezone(ZoneInfo(rt.settings.timezone)).date()
    status = "dispatched" if decision.unit else "pending_dispatch"
    events = _intake_events(data, decision, now)
    actor = {
        "actor_id": principal.user_id,
        "actor": principal.display_name,
        "role": principal.role,
        "unit": principal.unit,
    }
    new = intake_writer.NewTicket(
        data.channel,
        local_day,
        {
            "channel": data.channel,
            "kind": data.kind,
            "category": data.category,
            "territory": data.territory,
            "title": data.title.strip(),
            "content": data.content.strip(),
            "caller_name": caller.name,
            "caller_phone": phone,
            "urgent": data.urgent,
            "address": data.address,
            "lat": data.location.lat if data.location else None,
            "lng": data.location.lng if data.location else None,
            "external_ref": data.external_ref,
            "external_due_at": data.external_due_at,
            "upstream_received_at": data.received_at,
            "idempotency_key": idempotency_key,
            "status": status,
            "unit": decision.unit,
            "routing": decision.to_dict(),
            "created_by": principal.user_id,
            "received_at": now,
            "sign_due_at": due.get("sign"),
            "reply_due_at": due.get("reply"),
        },
        [r.params() for r in rows],
        [{**e, **actor} for e in events],
    )
    if data.external_ref is not None or idempotency_key is not None:
        existing = await _find_existing(rt, principal, data, idempotency_key, new.ticket)
        if existing is not None:
            return IntakeResult(existing, False, [], None)
    writer = intake_writer.writer_for(rt)
    for _attempt in range(3):
        row = await writer.write(new)
        if row is not None:
            return IntakeResult(row["id"], True, _first_steps(row, rows), decision.unit, row)
        # Skipped on conflict: a concurrent twin won (same external_ref or key), or, after a crash lost a counter
        # increment, the number was taken; find the twin or retry with a fresh number.
        existing = await _find_existing(rt, principal, data, idempotency_key, new.ticket)
        if existing is not None:
            return IntakeResult(existing, False, [], None)
    raise RuntimeError("could not allocate a ticket number after 3 attempts")


def _clocks_at_intake(decision: Decision, policies: sla.PolicySet) -> tuple[str, ...]:
    """A routed ticket's unit signs and replies; one no rule routed waits for a dispatcher, on the dispatch clock
    (派单时限, from receipt) when the policy set times dispatching."""
    if decision.unit is not None:
        return ("sign", "reply")
    return ("dispatch",) if policies.times("dispatch") else ()


def _intake_events(data: TicketIn, decision: Decision, now: datetime) -> list[dict[str, Any]]:
    """The create event, and the route event when a unit was found."""
    created: dict[str, Any] = {"channel": data.channel, "external_ref": data.external_ref, "urgent": data.urgent}
    if data.received_at is not None:
        created["upstream_received_at"] = data.received_at.isoformat()
    if data.external_due_at is not None and data.external_due_at <= now:
        created["upstream_breached"] = True  # breached before it got here: upstream's, not any unit's
    events = [{"action": "create", "status_before": None, "status_after": "pending_dispatch", "payload": created}]
    if decision.unit:
        events.append(
            {
                "action": "route",
                "status_before": "pending_dispatch",
                "status_after": "dispatched",
                "payload": {"routing": decision.to_dict()},
            }
        )
    return events


def _first_steps(row: dict[str, Any], rows: list[clock_rows.ClockRow]) -> list[ArmedStep]:
    """Each new clock's first escalation step, from the "id:version:clock" strings the writer returns."""
    by_clock = {r.clock: r.deadline for r in rows}
    armed = []
    for item in row["clocks"]:
        cid, version, clock = item.split(":")
        armed.append(ArmedStep(int(cid), int(version), ladder.FIRST_STEP, by_clock[clock].warning_at))
    return armed


async def _find_existing(
    rt: Runtime, principal: Principal, data: TicketIn, idempotency_key: str | None, wanted: dict[str, Any]
) -> int | None:
    async with rt.pool.acquire() as conn:
        row = await conn.fetchrow(
            FIND_EXISTING_SQL, data.external_ref, data.channel, idempotency_key, principal.user_id
        )
    if row is None:
        return None
    # A key reused for another request is the client's mistake, as payment APIs treat it: replaying the first
    # ticket would silently lose the second.
    if row["by_key"] and any(row[f] != wanted[f] for f in REPLAYED_FIELDS):
        differ = [f for f in REPLAYED_FIELDS if row[f] != wanted[f]]
        raise InvalidInput(
            f"this Idempotency-Key was used for ticket {row['number']} with a different request "
            f"({', '.join(differ)} differ); use a new key for a new ticket",
            fields={"Idempotency-Key": "already used with a different request body"},
        )
    return row["id"]

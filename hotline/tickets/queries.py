"""Reading tickets: one ticket with its timeline, lists with filters and keyset pagination, and their JSON shape.

Scope is enforced here, in SQL: a handler's queries carry its unit, so another unit's ticket is simply not found.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec

from config.logging import mask_phone
from hotline import inputs
from hotline.auth.tokens import Principal
from hotline.errors import Forbidden, InvalidInput, TicketNotFound, nul_fields
from hotline.escalation import clocks as clock_view
from hotline.escalation import overdue
from hotline.infra.db import Conn
from hotline.infra.runtime import Runtime
from hotline.infra.sql import load
from hotline.tickets import deadline_explanation, shapes
from hotline.vocab import OPEN_STATUSES, STATUSES

TICKET_COLUMNS = """t.id, t.number, t.status, t.closure, t.channel, t.kind, t.category, t.territory, t.title,
    t.content, t.caller_name, t.caller_phone, t.urgent, t.address, t.lat, t.lng, t.external_ref, t.external_due_at,
    t.unit, t.current_assignment_id, t.routing, t.merged_into, t.reply_content, t.reply_outcome, t.answer,
    t.reopen_count, t.version, t.received_at, t.created_at, t.updated_at, t.replied_at, t.closed_at,
    t.sign_due_at, t.reply_due_at, t.callback_due_at, t.suspended_at, t.upstream_received_at,
    (SELECT m.number FROM tickets m WHERE m.id = t.merged_into) AS merged_into_number"""

EVENTS_SQL = load(__file__, "timeline_events")
ASSIGNMENTS_SQL = load(__file__, "timeline_assignments")
CLOCKS_SQL = load(__file__, "timeline_clocks")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def scope_clause(principal: Principal, param_index: int) -> tuple[str, list[Any]]:
    """SQL restricting tickets to what the principal may see: a handler only the tickets its unit holds now. A unit
    that returned a ticket or had it re-dispatched away no longer sees it (nor the next unit's work on it)."""
    if principal.role == "handler":
        return f"t.unit = ${param_index}", [principal.unit]
    if principal.role == "integration":
        return f"t.channel = ${param_index}", [principal.channel]
    return "TRUE", []


def serialize(row: asyncpg.Record | dict[str, Any], principal: Principal, rt: Runtime, **extra: Any) -> shapes.Ticket:
    """A ticket row as the API sends it. `extra` fields make the subclass that carries them (a duplicate's
    similarity and reasons); built directly, with no second conversion pass (POST /api/tickets is the hot path)."""
    phone = row["caller_phone"]
    routing = row["routing"]
    unit = row["unit"]
    reply_content = row["reply_content"]
    cls = shapes.DuplicateTicket if extra else shapes.Ticket
    return cls(
        number=row["number"],
        status=row["status"],
        closure=row["closure"],
        channel=row["channel"],
        kind=row["kind"],
        category=row["category"],
        territory=row["territory"],
        title=row["title"],
        content=row["content"],
        caller=shapes.CallerView(row["caller_name"], phone if principal.sees_phone else mask_phone(phone)),
        urgent=row["urgent"],
        address=row["address"],
        location=shapes.LocationView(row["lat"], row["lng"]) if row["lat"] is not None else None,
        external_ref=row["external_ref"],
        external_due_at=_iso(row["external_due_at"]),
        # A transfer's receipt upstream (the citizen's call to 12345), from which its upstream deadline runs.
        upstream_received_at=_iso(row["upstream_received_at"]),
        unit=unit,
        unit_name=rt.names.units.get(unit) if unit else None,
        routing=(
            shapes.RoutingDecision(routing.get("unit"), routing.get("rule_id"), routing.get("reason"))
            if routing is not None
            else None
        ),
        merged_into=row["merged_into_number"],
        reply=(
            shapes.ReplyView(reply_content, row["reply_outcome"], _iso(row["replied_at"]))
            if reply_content is not None
            else None
        ),
        answer=row["answer"],
        reopen_count=row["reopen_count"],
        suspended=row["suspended_at"] is not None,
        version=row["version"],
        received_at=_iso(row["received_at"]),
        created_at=_iso(row["created_at"]),
        updated_at=_iso(row["updated_at"]),
        closed_at=_iso(row["closed_at"]),
        deadlines=shapes.Deadlines(_iso(row["sign_due_at"]), _iso(row["reply_due_at"]), _iso(row["callback_due_at"])),
        **extra,
    )


async def fetch_row(conn: Conn, principal: Principal, number: str) -> asyncpg.Record:
    clause, params = scope_clause(principal, 2)
    row = await conn.fetchrow(
        f"SELECT {TICKET_COLUMNS} FROM tickets t WHERE t.number = $1 AND {clause}", number, *params
    )
    if row is None:
        raise TicketNotFound(f"no ticket {number}")
    return row


async def fetch_by_id(conn: Conn, ticket_id: int) -> asyncpg.Record:
    row = await conn.fetchrow(f"SELECT {TICKET_COLUMNS} FROM tickets t WHERE t.id = $1", ticket_id)
    if row is None:
        raise TicketNotFound(f"no ticket with id {ticket_id}")
    return row


EVENT_FIELDS = frozenset({"action", "at", "actor", "role", "status_before", "status_after", "version"})

# The history an integration account (the 12345/12328/12319 platform that transferred the ticket) reads: what its
# own citizens may be told (外网反馈) - status changes, dates, the reply and the answers given - never the internal
# side (内网办理): handlers' notes, urges, return and extension reasons, who on the staff did what.
INTERNAL_ACTIONS = frozenset({"note", "urge"})
PUBLIC_PAYLOAD = {
    "dispatch": ("unit",),
    "reply": ("content", "outcome"),
    "close": ("answer",),
    "reject": ("reason",),
    "merge": ("into",),
    "decide-extension": ("approve", "new_due_at"),
}


def public_event(e: asyncpg.Record) -> shapes.Event:
    payload = e["payload"]
    return shapes.event(
        {
            "action": e["action"],
            "at": e["at"].isoformat(),
            "status_before": e["status_before"],
            "status_after": e["status_after"],
            "version": e["version"],
        },
        {("to_unit" if k == "unit" else k): payload[k] for k in PUBLIC_PAYLOAD.get(e["action"], ()) if k in payload},
    )


def staff_event(e: asyncpg.Record) -> shapes.Event:
    return shapes.event(
        {
            "action": e["action"],
            "at": e["at"].isoformat(),
            "actor": e["actor"],
            "role": e["role"],
            "unit": e["unit"],
            "status_before": e["status_before"],
            "status_after": e["status_after"],
            "version": e["version"],
        },
        # The payload's own fields follow, but never over the event's: a dispatch's target unit is `to_unit`.
        {("to_unit" if k == "unit" else k): v for k, v in e["payload"].items() if k not in EVENT_FIELDS},
    )


async def detail_view(
    rt: Runtime, principal: Principal, number: str, now: datetime | None = None
) -> shapes.TicketDetail:
    """A ticket with its timeline, assignments and current clocks (GET /api/tickets/{number})."""
    now = now or datetime.now(UTC)
    async with rt.pool.acquire() as conn:
        row = await fetch_row(conn, principal, number)
        events = await conn.fetch(EVENTS_SQL, row["id"])
        assignments = await conn.fetch(ASSIGNMENTS_SQL, row["id"])
        clocks = await conn.fetch(CLOCKS_SQL, row["id"])
    if principal.role == "integration":
        timeline = [public_event(e) for e in events if e["action"] not in INTERNAL_ACTIONS]
    else:
        timeline = [staff_event(e) for e in events]
    by_assignment: dict[int | None, list[shapes.ClockView]] = {}
    for c in clocks:
        fields = clock_view.view(dict(c), rt.calendar_for(row["territory"]), now, list(c["steps"]))
        fields["explanation"] = deadline_explanation.typed(fields["explanation"])
        by_assignment.setdefault(c["assignment_id"], []).append(shapes.ClockView(**fields))
    views = [
        shapes.AssignmentView(
            seq=a["seq"],
            unit=a["unit"],
            unit_name=rt.names.units.get(a["unit"]),
            origin=a["origin"],
            started_at=_iso(a["started_at"]),
            signed_at=_iso(a["signed_at"]),
            replied_at=_iso(a["replied_at"]),
            returned_at=_iso(a["returned_at"]),
            return_reason=None if principal.role == "integration" else a["return_reason"],
            return_proper=a["return_proper"],
            ended_at=_iso(a["ended_at"]),
            end_reason=a["end_reason"],
            charged=a["charged"],
            current=a["id"] == row["current_assignment_id"],
            clocks=by_assignment.get(a["id"], []),
        )
        for a in assignments
    ]
    # The ticket's own dispatch clocks (派单时限: waiting for a dispatcher, no assignment); the running one is current.
    dispatch_clocks = by_assignment.get(None, [])
    current = [c for a in views if a.current for c in a.clocks] + [c for c in dispatch_clocks if c.running]
    return shapes.TicketDetail(
        **msgspec.structs.asdict(serialize(row, principal, rt)),
        events=timeline,
        assignments=views,
        clocks={c.clock: c for c in current},
        dispatch_clocks=dispatch_clocks,
    )


async def detail(rt: Runtime, principal: Principal, number: str, now: datetime | None = None) -> dict[str, Any]:
    """The same as plain JSON values, for the console's pages."""
    result: dict[str, Any] = msgspec.to_builtins(await detail_view(rt, principal, number, now))
    return result


class ListQuery(msgspec.Struct):
    status: str | None = None
    unit: str | None = None
    territory: str | None = None
    category: str | None = None
    kind: str | None = None
    channel: str | None = None
    phone: str | None = None
    q: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    limit: int = 50
    cursor: str | None = None
    sort: str = "created"  # "created" (newest first) or "due" (least time left first)
    # The figures' drill-down (hotline/escalation/overdue.py): late under a label at as_of (default now), closed in a
    # range, reopened (重办).
    overdue: bool | None = None
    sign_overdue: bool | None = None
    supervised: bool | None = None
    as_of: datetime | None = None
    closed_from: datetime | None = None
    closed_to: datetime | None = None
    reopened: bool | None = None


TEXT_FILTERS = ("unit", "territory", "category", "kind", "channel")  # columns matched as given


class _Where:
    """The conditions of a list query and their parameters, numbered $1, $2, ... in the order they are added."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.params: list[Any] = []

    def add(self, sql: str, *values: Any) -> None:
        """A condition naming its own values as {0}, {1}, ... (each may appear more than once)."""
        first = len(self.params) + 1
        self.params.extend(values)
        self.conditions.append(sql.format(*(f"${first + i}" for i in range(len(values)))))

    def param(self, value: Any) -> str:
        """A parameter outside the conditions (the limit): its placeholder."""
        self.params.append(value)
        return f"${len(self.params)}"


def _check(query: ListQuery) -> None:
    """Refuse a list query whose values could match nothing meaningful (an unknown status, NUL, naive instants)."""
    inputs.require_limit(query.limit)
    if query.status is not None and query.status not in (*STATUSES, "open"):
        raise InvalidInput(f"unknown status {query.status!r}", fields={"status": f"one of {', '.join(STATUSES)}, open"})
    if query.sort not in ("created", "due"):
        raise InvalidInput("sort must be 'created' or 'due'", fields={"sort": "created or due"})
    nul = nul_fields({name: getattr(query, name) for name in ("status", *TEXT_FILTERS, "phone", "q", "cursor")})
    if nul:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in nul.items()), fields=nul)
    instants = {
        name: getattr(query, name) for name in ("created_from", "created_to", "closed_from", "closed_to", "as_of")
    }
    for name, value in instants.items():
        if value is not None and value.tzinfo is None:
            raise InvalidInput(f"{name} must carry a UTC offset", fields={name: "ISO 8601 with offset"})
    inputs.require_instants(instants)


def _filters(principal: Principal, query: ListQuery) -> _Where:
    where = _Where()
    clause, scope_params = scope_clause(principal, 1)
    where.params.extend(scope_params)
    where.conditions.append(clause)
    if query.status == "open":
        where.add("t.status = any({0}::text[])", list(OPEN_STATUSES))
    elif query.status:
        where.add("t.status = {0}", query.status)
    for name in TEXT_FILTERS:
        value = getattr(query, name)
        if value == NONE and name in ("unit", "territory", "category"):  # a figure's "未派单" / "未填写属地" row
            where.conditions.append(f"t.{name} IS NULL")
        elif value:
            where.add(f"t.{name} = {{0}}", value)
    if query.phone:
        if not principal.sees_phone:  # matching is seeing: 10,000 filtered lists would unmask a masked number
            raise Forbidden(
                f"role {principal.role} may not search by phone number", fields={"phone": "not allowed for this role"}
            )
        where.add("t.caller_phone = {0}", query.phone.replace(" ", "").replace("-", ""))
    if query.q:
        escaped = query.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.add("(t.title || ' ' || t.content) ILIKE {0}", f"%{escaped}%")
    if query.created_from:
        where.add("t.created_at >= {0}", query.created_from)
    if query.created_to:
        where.add("t.created_at < {0}", query.created_to)
    _late_filters(query, where)
    return where


NONE = "none"  # unit=, territory=, category=none: tickets without one (no code is spelled so)


def _late_filters(query: ListQuery, where: _Where) -> None:
    """The drill-down filters: the same conditions, at the same instant, as the figures they open."""
    as_of = query.as_of or datetime.now(UTC)
    for label in overdue.LATE:
        wanted = getattr(query, label)
        if wanted is not None:
            where.add(overdue.list_condition(label, "{0}", negate=not wanted), as_of)
    if query.closed_from:
        where.add("t.closed_at >= {0}", query.closed_from)
    if query.closed_to:
        where.add("t.closed_at < {0}", query.closed_to)
    if query.reopened is not None:
        where.conditions.append("t.reopen_count > 0" if query.reopened else "t.reopen_count = 0")


def _order_after_cursor(query: ListQuery, where: _Where) -> str:
    """The list's order, with the condition that starts the page after the cursor's row."""
    if query.sort == "due":
        after = inputs.read_cursor(query.cursor, "instant?", "id")
        if after and after[0] is None:
            where.add("(t.reply_due_at IS NULL AND t.id > {0})", after[1])
        elif after:
            later = "t.reply_due_at > {0} OR t.reply_due_at IS NULL OR (t.reply_due_at = {0} AND t.id > {1})"
            where.add(f"({later})", *after)
        return "t.reply_due_at ASC NULLS LAST, t.id ASC"
    after = inputs.read_cursor(query.cursor, "instant", "id")
    if after:
        where.add("(t.created_at, t.id) < ({0}, {1})", *after)
    return "t.created_at DESC, t.id DESC"


async def list_tickets(rt: Runtime, principal: Principal, query: ListQuery) -> shapes.TicketPage:
    _check(query)
    where = _filters(principal, query)
    order = _order_after_cursor(query, where)
    limit = where.param(query.limit + 1)
    conditions = " AND ".join(where.conditions)
    sql = f"SELECT {TICKET_COLUMNS} FROM tickets t WHERE {conditions} ORDER BY {order} LIMIT {limit}"
    async with rt.pool.acquire() as conn:
        rows = await conn.fetch(sql, *where.params)
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        key = last["reply_due_at"] if query.sort == "due" else last["created_at"]
        next_cursor = inputs.encode_cursor(key, last["id"])
    return shapes.TicketPage([serialize(r, principal, rt) for r in rows], next_cursor)

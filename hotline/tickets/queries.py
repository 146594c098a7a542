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
from hotline.infra.db import Conn
from hotline.infra.runtime import Runtime
from hotline.vocab import OPEN_STATUSES, STATUSES

TICKET_COLUMNS = """t.id, t.number, t.status, t.closure, t.channel, t.kind, t.category, t.territory, t.title,
    t.content, t.caller_name, t.caller_phone, t.urgent, t.address, t.lat, t.lng, t.external_ref, t.external_due_at,
    t.unit, t.current_assignment_id, t.routing, t.merged_into, t.reply_content, t.reply_outcome, t.answer,
    t.reopen_count, t.version, t.received_at, t.created_at, t.updated_at, t.replied_at, t.closed_at,
    t.sign_due_at, t.reply_due_at, t.callback_due_at, t.suspended_at, t.upstream_received_at,
    (SELECT m.number FROM tickets m WHERE m.id = t.merged_into) AS merged_into_number"""


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


def serialize(row: asyncpg.Record | dict[str, Any], principal: Principal, rt: Runtime) -> dict[str, Any]:
    phone = row["caller_phone"]
    loc = {"lat": row["lat"], "lng": row["lng"]} if row["lat"] is not None else None
    return {
        "number": row["number"],
        "status": row["status"],
        "closure": row["closure"],
        "channel": row["channel"],
        "kind": row["kind"],
        "category": row["category"],
        "territory": row["territory"],
        "title": row["title"],
        "content": row["content"],
        "caller": {"name": row["caller_name"], "phone": phone if principal.sees_phone else mask_phone(phone)},
        "urgent": row["urgent"],
        "address": row["address"],
        "location": loc,
        "external_ref": row["external_ref"],
        "external_due_at": _iso(row["external_due_at"]),
        # A transfer's receipt upstream (the citizen's call to 12345), from which its upstream deadline runs.
        "upstream_received_at": _iso(row["upstream_received_at"]),
        "unit": row["unit"],
        "unit_name": rt.names.units.get(row["unit"]) if row["unit"] else None,
        "routing": row["routing"],
        "merged_into": row["merged_into_number"],
        "reply": (
            {"content": row["reply_content"], "outcome": row["reply_outcome"], "at": _iso(row["replied_at"])}
            if row["reply_content"] is not None
            else None
        ),
        "answer": row["answer"],
        "reopen_count": row["reopen_count"],
        "suspended": row["suspended_at"] is not None,
        "version": row["version"],
        "received_at": _iso(row["received_at"]),
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
        "closed_at": _iso(row["closed_at"]),
        "deadlines": {
            "sign": _iso(row["sign_due_at"]),
            "reply": _iso(row["reply_due_at"]),
            "callback": _iso(row["callback_due_at"]),
        },
    }


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


def public_event(e: asyncpg.Record) -> dict[str, Any]:
    payload = e["payload"]
    return {
        "action": e["action"],
        "at": e["at"].isoformat(),
        "status_before": e["status_before"],
        "status_after": e["status_after"],
        "version": e["version"],
        **{("to_unit" if k == "unit" else k): payload[k] for k in PUBLIC_PAYLOAD.get(e["action"], ()) if k in payload},
    }


async def detail(rt: Runtime, principal: Principal, number: str, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    async with rt.pool.acquire() as conn:
        row = await fetch_row(conn, principal, number)
        events = await conn.fetch(
            """SELECT e.id, e.action, e.at, e.actor, e.role, e.unit, e.status_before, e.status_after, e.version,
                      e.payload, a.unit AS assignment_unit
               FROM events e LEFT JOIN assignments a ON a.id = e.assignment_id
               WHERE e.ticket_id = $1 ORDER BY e.id""",
            row["id"],
        )
        assignments = await conn.fetch(
            """SELECT id, seq, unit, origin, started_at, signed_at, replied_at, returned_at, return_reason,
                      return_proper, ended_at, end_reason, charged
               FROM assignments WHERE ticket_id = $1 ORDER BY seq""",
            row["id"],
        )
        clocks = await conn.fetch(
            """SELECT c.id, c.assignment_id, c.clock, c.started_at, c.due_at, c.warning_at, c.supervision_at,
                      c.deadline, c.provisional, c.version, c.stopped_at,
                      coalesce((SELECT array_agg(s.step ORDER BY s.id) FROM escalation_steps s WHERE s.clock_id = c.id),
                               '{}') AS steps
               FROM clocks c WHERE c.ticket_id = $1 ORDER BY c.id""",
            row["id"],
        )
    body = serialize(row, principal, rt)
    if principal.role == "integration":
        body["events"] = [public_event(e) for e in events if e["action"] not in INTERNAL_ACTIONS]
    else:
        body["events"] = [
            {
                "action": e["action"],
                "at": e["at"].isoformat(),
                "actor": e["actor"],
                "role": e["role"],
                "unit": e["unit"],
                "status_before": e["status_before"],
                "status_after": e["status_after"],
                "version": e["version"],
                # The payload's own fields follow, but never over the event's: a dispatch's target unit is `to_unit`.
                **{("to_unit" if k == "unit" else k): v for k, v in e["payload"].items() if k not in EVENT_FIELDS},
            }
            for e in events
        ]
    by_assignment: dict[int, list[dict[str, Any]]] = {}
    for c in clocks:
        by_assignment.setdefault(c["assignment_id"], []).append(
            clock_view.view(dict(c), rt.calendar, now, list(c["steps"]))
        )
    body["assignments"] = [
        {
            "seq": a["seq"],
            "unit": a["unit"],
            "unit_name": rt.names.units.get(a["unit"]),
            "origin": a["origin"],
            "started_at": _iso(a["started_at"]),
            "signed_at": _iso(a["signed_at"]),
            "replied_at": _iso(a["replied_at"]),
            "returned_at": _iso(a["returned_at"]),
            "return_reason": None if principal.role == "integration" else a["return_reason"],
            "return_proper": a["return_proper"],
            "ended_at": _iso(a["ended_at"]),
            "end_reason": a["end_reason"],
            "charged": a["charged"],
            "current": a["id"] == row["current_assignment_id"],
            "clocks": by_assignment.get(a["id"], []),
        }
        for a in assignments
    ]
    current = [c for a in body["assignments"] if a["current"] for c in a["clocks"]]
    body["clocks"] = {c["clock"]: c for c in current}
    return body


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


async def list_tickets(rt: Runtime, principal: Principal, query: ListQuery) -> dict[str, Any]:
    inputs.require_limit(query.limit)
    if query.status is not None and query.status not in (*STATUSES, "open"):
        raise InvalidInput(f"unknown status {query.status!r}", fields={"status": f"one of {', '.join(STATUSES)}, open"})
    if query.sort not in ("created", "due"):
        raise InvalidInput("sort must be 'created' or 'due'", fields={"sort": "created or due"})
    nul = nul_fields(
        {
            name: getattr(query, name)
            for name in ("status", "unit", "territory", "category", "kind", "channel", "phone", "q", "cursor")
        }
    )
    if nul:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in nul.items()), fields=nul)
    for name in ("created_from", "created_to"):
        value = getattr(query, name)
        if value is not None and value.tzinfo is None:
            raise InvalidInput(f"{name} must carry a UTC offset", fields={name: "ISO 8601 with offset"})
    inputs.require_instants({"created_from": query.created_from, "created_to": query.created_to})
    where: list[str] = []
    params: list[Any] = []

    def add(sql: str, value: Any) -> None:
        params.append(value)
        where.append(sql.replace("?", f"${len(params)}"))

    clause, scope_params = scope_clause(principal, 1)
    params.extend(scope_params)
    where.append(clause)
    if query.status == "open":
        add("t.status = any(?::text[])", list(OPEN_STATUSES))
    elif query.status:
        add("t.status = ?", query.status)
    for name in ("unit", "territory", "category", "kind", "channel"):
        value = getattr(query, name)
        if value:
            add(f"t.{name} = ?", value)
    if query.phone:
        if not principal.sees_phone:  # matching is seeing: 10,000 filtered lists would unmask a masked number
            raise Forbidden(
                f"role {principal.role} may not search by phone number", fields={"phone": "not allowed for this role"}
            )
        add("t.caller_phone = ?", query.phone.replace(" ", "").replace("-", ""))
    if query.q:
        add(
            "(t.title || ' ' || t.content) ILIKE ?",
            "%" + query.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",
        )
    if query.created_from:
        add("t.created_at >= ?", query.created_from)
    if query.created_to:
        add("t.created_at < ?", query.created_to)
    if query.sort == "due":
        order = "t.reply_due_at ASC NULLS LAST, t.id ASC"
        after = inputs.read_cursor(query.cursor, "instant?", "id")
        if after:
            due, last_id = after
            if due is None:
                add("(t.reply_due_at IS NULL AND t.id > ?)", last_id)
            else:
                params.append(due)
                params.append(last_id)
                where.append(
                    f"(t.reply_due_at > ${len(params) - 1} OR t.reply_due_at IS NULL "
                    f"OR (t.reply_due_at = ${len(params) - 1} AND t.id > ${len(params)}))"
                )
    else:
        order = "t.created_at DESC, t.id DESC"
        after = inputs.read_cursor(query.cursor, "instant", "id")
        if after:
            created, last_id = after
            params.append(created)
            params.append(last_id)
            where.append(f"(t.created_at, t.id) < (${len(params) - 1}, ${len(params)})")
    params.append(query.limit + 1)
    sql = f"SELECT {TICKET_COLUMNS} FROM tickets t WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ${len(params)}"
    async with rt.pool.acquire() as conn:
        rows = await conn.fetch(sql, *params)
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        key = last["reply_due_at"] if query.sort == "due" else last["created_at"]
        next_cursor = inputs.encode_cursor(key, last["id"])
    return {"items": [serialize(r, principal, rt) for r in rows], "next_cursor": next_cursor}

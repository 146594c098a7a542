"""Ticket intake, reading and routing explanation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import asyncpg
from litestar import Request, Response, get, post
from litestar.params import Body, Parameter

from hotline.auth.tokens import Principal
from hotline.infra.runtime import Runtime
from hotline.tickets import announcer, hints, intake
from hotline.tickets import queries as ticket_service
from hotline.tickets.routing import rule_view
from hotline.web.api.deps import signed_in


@post("/api/tickets", status_code=201, guards=[signed_in])
async def create_ticket(
    data: Annotated[intake.TicketIn, Body()],
    request: Request[Any, Any, Any],
    idempotency_key: Annotated[str | None, Parameter(header="Idempotency-Key", required=False)] = None,
) -> Response[dict[str, Any]]:
    rt: Runtime = request.app.state.runtime
    principal: Principal = request.state.principal
    announcer.ensure_room(rt)
    result = await intake.create_ticket(rt, principal, data, idempotency_key=idempotency_key)
    row: asyncpg.Record | dict[str, Any] | None = result.ticket
    if row is None:  # a replay: the ticket made earlier
        async with rt.pool.acquire() as conn:
            row = await ticket_service.fetch_by_id(conn, result.ticket_id)
    body = ticket_service.serialize(row, principal, rt)
    if not result.created:
        return Response(body, status_code=200, headers={"Idempotent-Replay": "true"})
    announcer.announce(rt, result, body["number"])  # queued: sent with the other tickets of the moment
    return Response(body, status_code=201, headers={"Location": f"/api/tickets/{body['number']}"})


@get("/api/tickets")
async def list_tickets(
    rt: Runtime,
    principal: Principal,
    status: str | None = None,
    unit: str | None = None,
    territory: str | None = None,
    category: str | None = None,
    kind: str | None = None,
    channel: str | None = None,
    phone: str | None = None,
    q: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
    sort: str = "created",
) -> dict[str, Any]:
    query = ticket_service.ListQuery(
        status, unit, territory, category, kind, channel, phone, q, created_from, created_to, limit, cursor, sort
    )
    return await ticket_service.list_tickets(rt, principal, query)


@get("/api/tickets/hints")
async def ticket_hints(
    rt: Runtime,
    principal: Principal,
    phone: str | None = None,
    category: str | None = None,
    territory: str | None = None,
    text: str | None = None,
) -> dict[str, Any]:
    """While logging a call: the caller's earlier tickets and likely duplicates (merge instead of duplicating)."""
    return await hints.hints(rt, principal, phone=phone, category=category, territory=territory, text=text)


@get("/api/tickets/{number:str}")
async def get_ticket(number: str, rt: Runtime, principal: Principal) -> dict[str, Any]:
    return await ticket_service.detail(rt, principal, number)


@get("/api/tickets/{number:str}/routing")
async def get_routing(number: str, rt: Runtime, principal: Principal) -> dict[str, Any]:
    async with rt.pool.acquire() as conn:
        row = await ticket_service.fetch_row(conn, principal, number)
    decision = row["routing"] or {}
    rule = rt.router.rule(decision.get("rule_id"))
    return {
        "number": number,
        "category": row["category"],
        "territory": row["territory"],
        "unit": decision.get("unit"),
        "unit_name": rt.names.units.get(decision.get("unit") or ""),
        "reason": decision.get("reason"),
        "rule": rule_view(rule) if rule else None,
        "current_unit": row["unit"],
    }


ROUTES = [create_ticket, list_tickets, ticket_hints, get_ticket, get_routing]

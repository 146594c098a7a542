"""Ticket intake, reading and routing explanation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import asyncpg
from litestar import Request, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import Body, FromPath, FromQuery, HeaderParameter

from hotline.auth.tokens import Principal
from hotline.infra.runtime import Runtime
from hotline.tickets import announcer, hints, intake, routing, shapes
from hotline.tickets import queries as ticket_service
from hotline.tickets.routing import rule_shape
from hotline.vocab import ADMIN, AGENT, CALLBACK_ROLES, INTEGRATION
from hotline.web.contract import IDEMPOTENT_REPLAY, documented, operation
from hotline.web.examples import CREATED_EXAMPLES, INTAKE_EXAMPLES, REPLAYED_EXAMPLES

CREATE_TICKET = operation(
    "createTicket",
    "tickets",
    roles=(AGENT, INTEGRATION, ADMIN),
    summary="Take in a ticket (统一受理): a phone call or a transfer from 12345 / 12328 / 12319",
    description=(
        "Agents log phone calls (channel 96196); each platform's integration account transfers its cases on its "
        "own channel, with `external_ref` (and optionally `received_at`, `external_due_at`). A transfer is "
        "idempotent on (channel, external_ref), any submission on its `Idempotency-Key` header: a replay answers "
        "200 with the ticket made earlier and `Idempotent-Replay: true`; a new ticket is 201 with `Location`."
    ),
)
CREATE_TICKET["responses"] = {
    **CREATE_TICKET["responses"],
    200: ResponseSpec(
        data_container=shapes.Ticket,
        description=(
            "A replay: this Idempotency-Key (or this transfer's channel and external_ref) made the ticket before; "
            "the ticket made then, with the header `Idempotent-Replay: true`"
        ),
        generate_examples=False,
    ),
}


@post(
    "/api/tickets",
    status_code=201,
    response_headers=[
        ResponseHeader(
            name="Location",
            value="/api/tickets/{number}",  # documents the header as a string; not sent by Litestar itself
            description="The new ticket: /api/tickets/{number} (on 201)",
            documentation_only=True,
        ),
    ],
    response_description="The ticket made (201), routed to its unit when a rule matched",
    operation_class=documented(
        headers={200: IDEMPOTENT_REPLAY}, examples={201: CREATED_EXAMPLES, 200: REPLAYED_EXAMPLES}
    ),
    **CREATE_TICKET,
)
async def create_ticket(
    data: Annotated[intake.TicketIn, Body(examples=INTAKE_EXAMPLES)],
    request: Request[Any, Any, Any],
    idempotency_key: Annotated[
        str | None,
        HeaderParameter(
            name="Idempotency-Key",
            required=False,
            description="1 to 200 characters; the same key with the same body replays the first answer",
        ),
    ] = None,
) -> Response[shapes.Ticket]:
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
    announcer.announce(rt, result, body.number)  # queued: sent with the other tickets of the moment
    return Response(body, status_code=201, headers={"Location": f"/api/tickets/{body.number}"})


@get(
    "/api/tickets",
    **operation(
        "listTickets",
        "tickets",
        summary="List tickets with filters, newest first (or by reply deadline), a page at a time",
        description=(
            "A handler sees its unit's tickets, an integration account its channel's. `status=open` is every open "
            "status; `phone` needs a role that sees numbers; `next_cursor` fetches the next page. The figures' "
            "drill-down: `overdue=true` (超期未办结: the open, charged assignment past its reply deadline, the "
            "closure report's overdue_open), `sign_overdue=true` (超期未签收), `supervised=true` (督办), each judged "
            "at `as_of` (default now; false: not late so); `closed_from`/`closed_to` (closing time), "
            "`reopened=true` (重办); `unit=none` / `territory=none` for tickets without one."
        ),
    ),
)
async def list_tickets(
    rt: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    status: FromQuery[str | None] = None,
    unit: FromQuery[str | None] = None,
    territory: FromQuery[str | None] = None,
    category: FromQuery[str | None] = None,
    kind: FromQuery[str | None] = None,
    channel: FromQuery[str | None] = None,
    phone: FromQuery[str | None] = None,
    q: FromQuery[str | None] = None,
    created_from: FromQuery[datetime | None] = None,
    created_to: FromQuery[datetime | None] = None,
    limit: FromQuery[int] = 50,
    cursor: FromQuery[str | None] = None,
    sort: FromQuery[str] = "created",
    overdue: FromQuery[bool | None] = None,
    sign_overdue: FromQuery[bool | None] = None,
    supervised: FromQuery[bool | None] = None,
    as_of: FromQuery[datetime | None] = None,
    closed_from: FromQuery[datetime | None] = None,
    closed_to: FromQuery[datetime | None] = None,
    reopened: FromQuery[bool | None] = None,
) -> shapes.TicketPage:
    query = ticket_service.ListQuery(
        status,
        unit,
        territory,
        category,
        kind,
        channel,
        phone,
        q,
        created_from,
        created_to,
        limit,
        cursor,
        sort,
        overdue=overdue,
        sign_overdue=sign_overdue,
        supervised=supervised,
        as_of=as_of,
        closed_from=closed_from,
        closed_to=closed_to,
        reopened=reopened,
    )
    return await ticket_service.list_tickets(rt, principal, query)


@get(
    "/api/tickets/hints",
    **operation(
        "getTicketHints",
        "tickets",
        roles=CALLBACK_ROLES,
        summary="While logging a call: the caller's earlier tickets and likely duplicates",
        description="Merge instead of duplicating: same phone, a shared vehicle plate, or similar text.",
    ),
)
async def ticket_hints(
    rt: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    phone: FromQuery[str | None] = None,
    category: FromQuery[str | None] = None,
    territory: FromQuery[str | None] = None,
    text: FromQuery[str | None] = None,
) -> shapes.Hints:
    """While logging a call: the caller's earlier tickets and likely duplicates (merge instead of duplicating)."""
    return await hints.hints(rt, principal, phone=phone, category=category, territory=territory, text=text)


@get(
    "/api/tickets/{number:str}",
    **operation(
        "getTicket",
        "tickets",
        summary="A ticket with its timeline: events, assignments and clocks",
        description=(
            "An integration account reads the history its citizens may be told (status changes, dates, the reply), "
            "never handlers' notes, urges or who on the staff did what."
        ),
    ),
)
async def get_ticket(
    number: FromPath[str], rt: NamedDependency[Runtime], principal: NamedDependency[Principal]
) -> shapes.TicketDetail:
    return await ticket_service.detail_view(rt, principal, number)


@get(
    "/api/tickets/{number:str}/routing",
    **operation(
        "getTicketRouting",
        "tickets",
        summary="Why the ticket went to its unit (属地管理、归口办理): the rule and where it is now",
    ),
)
async def get_routing(
    number: FromPath[str], rt: NamedDependency[Runtime], principal: NamedDependency[Principal]
) -> shapes.RoutingExplanation:
    async with rt.pool.acquire() as conn:
        row = await ticket_service.fetch_row(conn, principal, number)
    decision = row["routing"] or {}
    rule = routing.router(rt).rule(decision.get("rule_id"))
    return shapes.RoutingExplanation(
        number=number,
        category=row["category"],
        territory=row["territory"],
        unit=decision.get("unit"),
        unit_name=rt.names.units.get(decision.get("unit") or ""),
        reason=decision.get("reason"),
        rule=rule_shape(rule) if rule else None,
        current_unit=row["unit"],
    )


ROUTES = [create_ticket, list_tickets, ticket_hints, get_ticket, get_routing]

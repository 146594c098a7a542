"""The handling lifecycle: one state machine for every action on a ticket (归口办理、限时办结).

Each action is declared once (who may do it, from which statuses, its body) and executed in one transaction that
locks the ticket row, checks `expected_version`, changes assignments and clocks, appends the event and updates the
ticket projection. A failure leaves neither the event nor the change. Escalation jobs are armed and the live feed
is told only after the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec

from hotline.auth.tokens import Principal
from hotline.errors import Conflict, Forbidden, NotFound, StaleVersion, TicketNotFound, TransitionNotAllowed
from hotline.infra import live
from hotline.infra import queue as jobs
from hotline.infra.runtime import Runtime
from hotline.infra.sql import load
from hotline.tickets import bodies, event_notices, shapes
from hotline.tickets import queries as ticket_service
from hotline.tickets.actions import ACTIONS, Action, Ctx, allowed_actions
from hotline.tickets.bodies import Body, refuse_nul
from hotline.upstream import delivery, outbox

_INSERT_EVENT = load(__file__, "insert_event")

__all__ = ["ACTIONS", "act", "act_from", "allowed_actions", "perform"]

# --- execution -----------------------------------------------------------------------------------------------------

UPDATABLE = {
    "suspended_at",
    "unit",
    "current_assignment_id",
    "sign_due_at",
    "reply_due_at",
    "callback_due_at",
    "closure",
    "closed_at",
    "answer",
    "merged_into",
    "reply_content",
    "reply_outcome",
    "replied_at",
    "reopen_count",
    "territory",  # reclassify (更正属地与类别), before dispatch
    "category",
    "routing",
}


def projection_updates(updates: dict[str, Any]) -> dict[str, Any]:
    """The columns an action changes on the ticket row. A column outside UPDATABLE is a programming error in the
    action, never silently dropped: the whole action fails and its transaction rolls back."""
    unknown = sorted(set(updates) - UPDATABLE)
    if unknown:
        raise ValueError(f"an action may not set {', '.join(unknown)} on a ticket (not in UPDATABLE)")
    return dict(updates)


async def act(
    rt: Runtime, principal: Principal, number: str, name: str, body: Body, now: datetime | None = None
) -> shapes.Ticket:
    """Perform action `name` with its decoded body (the API's routes: Litestar decoded and validated it, and the
    route's guard admitted the role; both are checked again here, as every caller of the service gets them)."""
    action = ACTIONS.get(name)
    if action is None:
        raise NotFound(f"no action {name!r}; actions: {', '.join(ACTIONS)}")
    if not isinstance(body, action.body):
        raise TypeError(f"{name} takes a {action.body.__name__}, not a {type(body).__name__}")
    refuse_nul(body)
    if principal.role not in action.roles:
        raise Forbidden(f"role {principal.role} may not {name} (allowed: {', '.join(sorted(action.roles))})")
    now = now or datetime.now(UTC)
    try:
        return await _perform(rt, principal, number, name, action, body, now)
    except asyncpg.DeadlockDetectedError as exc:
        raise Conflict("another action changed these tickets at the same moment; reload and try again") from exc


async def act_from(
    rt: Runtime,
    principal: Principal,
    number: str,
    action: Action,
    body: Body,
    *,
    allowed_for: Callable[[str, str], list[str]],
    now: datetime | None = None,
) -> shapes.Ticket:
    """An action of another table through the same engine (the upstream platforms' recall, urge and supplement,
    hotline/tickets/upstream_actions.py): the caller has checked the role; `allowed_for` names its table's actions
    in a 409."""
    refuse_nul(body)
    now = now or datetime.now(UTC)
    try:
        return await _perform(rt, principal, number, action.name, action, body, now, allowed_for)
    except asyncpg.DeadlockDetectedError as exc:
        raise Conflict("another action changed these tickets at the same moment; reload and try again") from exc


async def perform(
    rt: Runtime, principal: Principal, number: str, name: str, body: Body | bytes, now: datetime | None = None
) -> dict[str, Any]:
    """The same for callers outside HTTP (scripts, the demo data, tests): the body may be JSON bytes, decoded by
    the action's Struct; the ticket comes back as plain JSON values."""
    action = ACTIONS.get(name)
    if action is None:
        raise NotFound(f"no action {name!r}; actions: {', '.join(ACTIONS)}")
    decoded = bodies.decode(action.body, body) if isinstance(body, bytes) else body
    result: dict[str, Any] = msgspec.to_builtins(await act(rt, principal, number, name, decoded, now))
    return result


async def _perform(
    rt: Runtime,
    principal: Principal,
    number: str,
    name: str,
    action: Action,
    body: Body,
    now: datetime,
    allowed_for: Callable[[str, str], list[str]] = allowed_actions,
) -> shapes.Ticket:
    # The calendar an extension, a suspension or a resumption counts with: another process's saved calendar exception
    # is in force here within a second (a version check at most once a second, before a connection is taken).
    await rt.current_policies()
    async with rt.pool.acquire() as conn:
        async with conn.transaction():
            clause, params = ticket_service.scope_clause(principal, 2)
            ticket = await conn.fetchrow(
                f"SELECT t.* FROM tickets t WHERE t.number = $1 AND {clause} FOR UPDATE", number, *params
            )
            if ticket is None:
                raise TicketNotFound(f"no ticket {number}")
            allowed = allowed_for(principal.role, ticket["status"])
            if body.expected_version is not None and body.expected_version != ticket["version"]:
                raise StaleVersion(
                    f"the ticket changed (version {ticket['version']}, you sent {body.expected_version}); "
                    "reload it and try again",
                    version=ticket["version"],
                    ticket_status=ticket["status"],
                    allowed_actions=allowed,
                )
            if ticket["status"] not in action.statuses:
                raise TransitionNotAllowed(
                    f"cannot {name} a ticket that is {ticket['status']}",
                    ticket_status=ticket["status"],
                    allowed_actions=allowed,
                    version=ticket["version"],
                )
            assignment = None
            if ticket["current_assignment_id"] is not None:
                assignment = await conn.fetchrow(
                    "SELECT * FROM assignments WHERE id = $1 FOR UPDATE", ticket["current_assignment_id"]
                )
            c = Ctx(rt, conn, principal, now, ticket, assignment, body)
            c.event_assignment_id = ticket["current_assignment_id"]
            try:
                await action.run(c)
            except Conflict as exc:
                exc.extra.setdefault("allowed_actions", allowed)
                exc.extra.setdefault("ticket_status", ticket["status"])
                raise
            updates = projection_updates(c.updates)
            sets = ", ".join(f"{k} = ${i + 4}" for i, k in enumerate(updates))
            new_version = ticket["version"] + 1
            await conn.execute(
                f"UPDATE tickets SET status = $2, version = $3, updated_at = now(){', ' + sets if sets else ''} "
                "WHERE id = $1",
                ticket["id"],
                c.status_after,
                new_version,
                *updates.values(),
            )
            await conn.execute(
                _INSERT_EVENT,
                ticket["id"],
                c.event_assignment_id,
                now,
                principal.user_id,
                principal.display_name,
                principal.role,
                principal.unit,
                name,
                ticket["status"],
                c.status_after,
                new_version,
                {k: v for k, v in c.payload.items() if v is not None},
            )
            # 外网反馈: what this action tells the upstream platform, in this transaction (rolled back with it).
            told = await outbox.stage(
                rt,
                conn,
                name=name,
                ticket=ticket,
                status_after=c.status_after,
                updates=updates,
                payload=c.payload,
                now=now,
            )
            row = await ticket_service.fetch_by_id(conn, ticket["id"])
            await event_notices.tell(conn, name, c.payload, row["unit"], number, now)
    await delivery.enqueue(rt, told)
    await jobs.arm(rt.redis, c.armed)
    units = sorted(u for u in (c.units | {row["unit"]}) if u)
    await live.publish_many(
        rt.redis,
        "ticket",
        [
            {
                "number": number,
                "action": name,
                "status": c.status_after,
                "unit": row["unit"],
                "units": units,
                "version": new_version,
                # A decision's outcome, for the consoles' notices (批准/同意, and which unit had returned it).
                **{k: c.payload[k] for k in ("approve", "accept", "returned_by") if k in c.payload},
            },
            *c.also_changed,
        ],
    )
    return ticket_service.serialize(row, principal, rt)

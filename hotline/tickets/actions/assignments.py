"""What several actions do to a ticket's assignments and clocks: start one, end one, find the running reply clock,
record an upstream breach, check a unit."""

from __future__ import annotations

from typing import Any

import asyncpg

from hotline.errors import Conflict, InvalidInput
from hotline.escalation import clock_store, clocks
from hotline.infra.sql import load
from hotline.tickets.actions.table import Ctx

_UPSTREAM_HOLDER = load(__file__, "upstream_holder")
_NEW_ASSIGNMENT = load(__file__, "new_assignment")


async def new_assignment(c: Ctx, unit: str, origin: str, *, signed: bool = False) -> int:
    t = c.ticket
    seq = await c.conn.fetchval("SELECT coalesce(max(seq), 0) + 1 FROM assignments WHERE ticket_id = $1", t["id"])
    assignment_id = await c.conn.fetchval(
        _NEW_ASSIGNMENT,
        t["id"],
        seq,
        unit,
        origin,
        c.principal.user_id,
        c.now,
        c.now if signed else None,
        c.principal.user_id if signed else None,
    )
    policies = await c.rt.current_policies()
    kinds = ("reply",) if signed else ("sign", "reply")
    cap = t["external_due_at"] if origin != "reopen" else None
    rows = [
        clocks.compute(
            policies,
            c.rt.calendar_for(t["territory"]),
            clock=k,
            start=c.now,
            channel=t["channel"],
            kind=t["kind"],
            urgent=t["urgent"],
            cap=cap,
        )
        for k in kinds
    ]
    c.armed += await clock_store.start(c.conn, ticket_id=t["id"], assignment_id=assignment_id, unit=unit, rows=rows)
    by_clock = {r.clock: r.deadline.due_at for r in rows}
    c.updates.update(
        unit=unit,
        current_assignment_id=assignment_id,
        sign_due_at=by_clock.get("sign"),
        reply_due_at=by_clock["reply"],
        callback_due_at=None,
    )
    c.units.add(unit)
    c.event_assignment_id = assignment_id
    return assignment_id


async def end_assignment(c: Ctx, reason: str, *, charged: bool | None = None, clock_reason: str | None = None) -> None:
    a = c.assignment
    if a is None or a["ended_at"] is not None:
        return
    await c.conn.execute(
        "UPDATE assignments SET ended_at = $2, end_reason = $3, charged = coalesce($4, charged) WHERE id = $1",
        a["id"],
        c.now,
        reason,
        charged,
    )
    await clock_store.stop(c.conn, assignment_id=a["id"], at=c.now, reason=clock_reason or reason)
    # What belonged to this assignment ends with it: a suspension (挂起) and an undecided extension request.
    await c.conn.execute(
        "UPDATE extension_requests SET status = 'void' WHERE assignment_id = $1 AND status = 'pending'", a["id"]
    )
    if c.ticket["suspended_at"] is not None:
        c.updates["suspended_at"] = None
    c.units.add(a["unit"])


async def end_dispatch_wait(c: Ctx, reason: str) -> None:
    """The dispatcher's wait is over (dispatched, ruled on, or the ticket closed): its dispatch clock stops."""
    await clock_store.stop_dispatch(c.conn, ticket_id=c.ticket["id"], at=c.now, reason=reason)


async def running_reply_clock(c: Ctx) -> asyncpg.Record:
    assert c.assignment is not None
    clock = await clock_store.running(c.conn, c.assignment["id"], "reply")
    if clock is None:
        raise Conflict("the reply clock is not running")
    return clock


async def upstream_breach(c: Ctx) -> dict[str, Any]:
    """For the event of a (re-)dispatch after the transfer's upstream deadline: the breach is recorded and charged
    to the unit that held the ticket when that deadline passed; the new assignment's
    clocks get their minimum instead of starting overdue (sla.UPSTREAM_BREACH_MINIMUM_WORKING_DAYS)."""
    due = c.ticket["external_due_at"]
    if due is None or due > c.now:
        return {}
    holder = await c.conn.fetchval(
        _UPSTREAM_HOLDER,
        c.ticket["id"],
        due,
    )
    # No unit held it then: it arrived late (upstream's breach) or waited for a dispatcher (pending_dispatch).
    charged = holder or ("upstream" if c.ticket["received_at"] >= due else "pending_dispatch")
    return {"upstream_breach": {"upstream_due_at": due.isoformat(), "charged_to": charged}}


def unit_known(c: Ctx, unit: str) -> None:
    if unit not in c.rt.names.active_units:
        raise InvalidInput(f"unknown unit {unit!r}", fields={"unit": "not a known, active unit"})

"""Extension requests and their decision, suspension and resumption: what moves the reply deadline."""

from __future__ import annotations

import asyncpg

import sla
from hotline.errors import Conflict, InvalidInput
from hotline.escalation import clock_store
from hotline.infra.sql import load
from hotline.tickets.actions.assignments import (
    running_reply_clock,
)
from hotline.tickets.actions.table import Ctx, action
from hotline.tickets.bodies import DecideExtensionBody, ExtensionBody, ResumeBody, SuspendBody
from hotline.vocab import DISPATCHING_ROLES, HANDLER

_DECIDE_EXTENSION_REQUEST = load(__file__, "decide_extension_request")
_NEW_EXTENSION_REQUEST = load(__file__, "new_extension_request")


@action("request-extension", {HANDLER}, {"in_progress"}, ExtensionBody)
async def request_extension(c: Ctx) -> None:
    """申请延期: one pending request at a time; the dispatcher or a manager decides."""
    b: ExtensionBody = c.body
    if (b.working_days is None) == (b.until is None):
        raise InvalidInput(
            "give either working_days or until", fields={"working_days": "exactly one of working_days, until"}
        )
    a = c.assignment
    assert a is not None
    outside = sla.out_of_range(b.until) if b.until is not None else None
    if outside:
        raise InvalidInput(f"until {b.until} {outside}", fields={"until": outside})
    current = c.ticket["reply_due_at"]
    if b.until is not None and current is not None:
        local_due = current.astimezone(c.rt.calendar.tz).date()
        if b.until <= local_due:
            raise InvalidInput(
                f"until must be after the current reply deadline {local_due}",
                fields={"until": "after the current deadline"},
            )
    clock = await clock_store.running(c.conn, a["id"], "reply")
    if clock is not None:
        # Checked now, not at the decision: a date that can never be approved (a holiday, say) is the handler's to fix.
        try:
            sla.extend_deadline(
                clock_store.deadline_of(clock),
                c.rt.calendar_for(c.ticket["territory"]),
                working_days=b.working_days,
                until=b.until,
            )
        except (sla.InvalidExtension, sla.ClockStateError, sla.OutOfRange) as exc:
            field_name = "until" if b.until is not None else "working_days"
            raise InvalidInput(str(exc), fields={field_name: str(exc)}) from exc
    try:
        await c.conn.execute(
            _NEW_EXTENSION_REQUEST,
            c.ticket["id"],
            a["id"],
            c.principal.user_id,
            c.now,
            b.working_days,
            b.until,
            b.reason,
            current,
        )
    except asyncpg.UniqueViolationError as exc:
        raise Conflict("an extension request is already waiting for a decision") from exc
    c.status_after = c.ticket["status"]
    c.payload = {"working_days": b.working_days, "until": b.until.isoformat() if b.until else None, "reason": b.reason}


@action("decide-extension", DISPATCHING_ROLES, {"in_progress", "return_requested"}, DecideExtensionBody)
async def decide_extension(c: Ctx) -> None:
    b: DecideExtensionBody = c.body
    a = c.assignment
    assert a is not None
    req = await c.conn.fetchrow(
        "SELECT id, working_days, until_date FROM extension_requests WHERE assignment_id = $1 "
        "AND status = 'pending' FOR UPDATE",
        a["id"],
    )
    if req is None:
        raise Conflict("there is no pending extension request on this ticket")
    new_due = None
    if b.approve and c.ticket["status"] == "return_requested":
        # The unit's clocks are paused while its return is reviewed (hotline.tickets.actions.review).
        raise Conflict(
            "rule on the return first: the unit's clocks are paused while its return is reviewed",
            fields={"approve": "decide the return before approving an extension"},
        )
    if b.approve:
        clock = await running_reply_clock(c)
        old = clock_store.deadline_of(clock)
        try:
            new = sla.extend_deadline(
                old, c.rt.calendar_for(c.ticket["territory"]), working_days=req["working_days"], until=req["until_date"]
            )
        except (sla.InvalidExtension, sla.ClockStateError, sla.OutOfRange) as exc:
            field_name = "until" if req["until_date"] is not None else "working_days"
            raise InvalidInput(str(exc), fields={field_name: str(exc)}) from exc
        step = await clock_store.move(c.conn, clock["id"], new)
        if step:
            c.armed.append(step)
        new_due = new.due_at
        c.updates["reply_due_at"] = new_due
    await c.conn.execute(
        _DECIDE_EXTENSION_REQUEST,
        req["id"],
        "approved" if b.approve else "denied",
        c.principal.user_id,
        c.now,
        b.note,
        new_due,
    )
    c.status_after = c.ticket["status"]
    c.units.add(a["unit"])
    c.payload = {
        "approve": b.approve,
        "note": b.note,
        "new_due_at": new_due.isoformat() if new_due else None,
        "working_days": req["working_days"],
        "until": req["until_date"].isoformat() if req["until_date"] else None,
    }


@action("suspend", DISPATCHING_ROLES, {"in_progress"}, SuspendBody)
async def suspend(c: Ctx) -> None:
    """挂起: pause the reply clock (e.g. waiting on a court or another authority); no escalation while paused."""
    a = c.assignment
    assert a is not None
    if c.ticket["suspended_at"] is not None:
        raise Conflict("the ticket is already suspended")
    clock = await running_reply_clock(c)
    paused = sla.suspend_deadline(
        clock_store.deadline_of(clock), c.rt.calendar_for(c.ticket["territory"]), suspended_at=c.now
    )
    await clock_store.pause(c.conn, clock["id"], paused, c.now)
    c.updates["suspended_at"] = c.now
    c.status_after = c.ticket["status"]
    c.units.add(a["unit"])
    c.payload = {"reason": c.body.reason, "remaining_seconds": paused.suspended_remaining_seconds}


@action("resume", DISPATCHING_ROLES, {"in_progress"}, ResumeBody)
async def resume(c: Ctx) -> None:
    """Resume a suspended ticket: the reply deadline is now plus the working time that was left."""
    a = c.assignment
    assert a is not None
    if c.ticket["suspended_at"] is None:
        raise Conflict("the ticket is not suspended")
    clock = await running_reply_clock(c)
    try:
        resumed = sla.resume_deadline(
            clock_store.deadline_of(clock), c.rt.calendar_for(c.ticket["territory"]), resumed_at=c.now
        )
    except (sla.ClockStateError, sla.OutOfRange) as exc:
        raise Conflict(f"the reply clock cannot be resumed: {exc}") from exc
    step = await clock_store.move(c.conn, clock["id"], resumed)
    if step:
        c.armed.append(step)
    c.updates.update(suspended_at=None, reply_due_at=resumed.due_at)
    c.status_after = c.ticket["status"]
    c.units.add(a["unit"])
    c.payload = {"note": c.body.text, "new_due_at": resumed.due_at.isoformat()}

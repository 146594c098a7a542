"""Dispatch, sign, return and its ruling, note: who holds the ticket."""

from __future__ import annotations

from hotline.errors import Conflict, InvalidInput
from hotline.escalation import clock_store
from hotline.tickets.actions.assignments import (
    end_assignment,
    end_dispatch_wait,
    new_assignment,
    unit_known,
    upstream_breach,
)
from hotline.tickets.actions.review import resume_after_refusal, start_review, undo_pause_on_accept
from hotline.tickets.actions.table import Ctx, action
from hotline.tickets.bodies import DecideReturnBody, DispatchBody, EmptyBody, NoteBody, ReturnBody
from hotline.vocab import DISPATCHING_ROLES, HANDLER, OPEN_STATUSES, STAFF_ROLES


@action("dispatch", DISPATCHING_ROLES, {"pending_dispatch", "dispatched", "in_progress"}, DispatchBody)
async def dispatch(c: Ctx) -> None:
    """Manual dispatch of a waiting ticket, or re-dispatch (改派) of one a unit holds."""
    b: DispatchBody = c.body
    unit_known(c, b.unit)
    if c.assignment is not None and c.assignment["ended_at"] is None:
        if c.assignment["unit"] == b.unit:
            raise Conflict(f"the ticket is already with {b.unit}", fields={"unit": "already holds the ticket"})
        await end_assignment(c, "withdrawn", clock_reason="redispatched")
    await end_dispatch_wait(c, "dispatched")
    breach = await upstream_breach(c)
    origin = "dispatch" if c.ticket["status"] == "pending_dispatch" else "redispatch"
    await new_assignment(c, b.unit, origin)
    c.status_after = "dispatched"
    c.payload = {"unit": b.unit, "note": b.note, "from_unit": c.ticket["unit"], **breach}


@action("sign", {HANDLER}, {"dispatched"}, EmptyBody)
async def sign(c: Ctx) -> None:
    """签收: the unit takes the ticket; its sign clock stops."""
    a = c.assignment
    assert a is not None
    await c.conn.execute(
        "UPDATE assignments SET signed_at = $2, signed_by = $3 WHERE id = $1", a["id"], c.now, c.principal.user_id
    )
    await clock_store.stop(c.conn, assignment_id=a["id"], at=c.now, reason="signed", clocks=("sign",))
    c.status_after = "in_progress"
    c.payload = {"on_time": c.now <= c.ticket["sign_due_at"] if c.ticket["sign_due_at"] else None}


@action("return", {HANDLER}, {"dispatched", "in_progress"}, ReturnBody)
async def return_ticket(c: Ctx) -> None:
    """退单: the unit says the ticket is not theirs. Its clocks are paused while the dispatcher reviews the return
    (on the dispatch clock); a proper return stops them at the moment of this (the latest) return."""
    a = c.assignment
    assert a is not None
    await c.conn.execute(
        "UPDATE assignments SET returned_at = $2, return_reason = $3 WHERE id = $1", a["id"], c.now, c.body.reason
    )
    await start_review(c)
    c.status_after = "return_requested"
    c.payload = {"reason": c.body.reason, "signed": a["signed_at"] is not None}


@action("decide-return", DISPATCHING_ROLES, {"return_requested"}, DecideReturnBody)
async def decide_return(c: Ctx) -> None:
    b: DecideReturnBody = c.body
    a = c.assignment
    assert a is not None
    await end_dispatch_wait(c, "return_decided")
    if b.accept:
        if not b.unit:
            raise InvalidInput(
                "accepting a return needs the unit to re-dispatch to", fields={"unit": "required when accept is true"}
            )
        unit_known(c, b.unit)
        if b.unit == a["unit"]:
            raise InvalidInput(
                "re-dispatch to another unit than the one that returned it",
                fields={"unit": "must differ from the returning unit"},
            )
        await undo_pause_on_accept(c)
        # A proper return is not charged to the unit: its clocks are ruled stopped at the moment it returned.
        await c.conn.execute("UPDATE assignments SET return_proper = $2 WHERE id = $1", a["id"], b.proper)
        await end_assignment(c, "returned", charged=not b.proper)
        if b.proper:
            await c.conn.execute(
                "UPDATE clocks SET stopped_at = $2 WHERE assignment_id = $1 AND stopped_at > $2",
                a["id"],
                a["returned_at"],
            )
        breach = await upstream_breach(c)
        await new_assignment(c, b.unit, "redispatch")
        c.status_after = "dispatched"
    else:
        breach = {}
        await c.conn.execute("UPDATE assignments SET return_proper = false WHERE id = $1", a["id"])
        await resume_after_refusal(c)
        c.status_after = "in_progress" if a["signed_at"] is not None else "dispatched"
        c.units.add(a["unit"])
    c.payload = {
        "accept": b.accept,
        "proper": b.proper if b.accept else False,
        "unit": b.unit,
        "note": b.note,
        "returned_by": a["unit"],
        **breach,
    }


@action("note", STAFF_ROLES, OPEN_STATUSES, NoteBody)
async def note(c: Ctx) -> None:
    c.status_after = c.ticket["status"]
    c.payload = {"text": c.body.text}

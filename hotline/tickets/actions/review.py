"""Return review (退单待审): while a dispatcher rules on a unit's return, the unit cannot sign or reply, so its running
clocks are paused (as 挂起 pauses them: the time left is kept, nothing escalates) and the dispatcher's ruling is
timed instead, on the ticket's dispatch clock (the same limits as dispatching a waiting ticket, on the same ladder).

A refused return resumes the unit's paused clocks with the time they had left. An accepted one is judged on the
clocks as they were before the pause, as DESIGN has it: the pause is undone and the assignment ends
(hotline.tickets.actions.assignments.end_assignment stops its clocks); a proper return is ruled stopped at the
moment of the return, an improper one stays charged as if its clocks had run on. A clock the dispatcher had
suspended (挂起) before the return stays suspended: only the clocks paused at the return's instant are resumed.
"""

from __future__ import annotations

from dataclasses import replace

import sla
from hotline.escalation import clock_store, clocks
from hotline.tickets.actions.table import Ctx


async def start_review(c: Ctx) -> None:
    """On a return: pause the unit's running clocks and start the dispatcher's clock for the ruling."""
    a = c.assignment
    assert a is not None
    calendar = c.rt.calendar_for(c.ticket["territory"])
    running = await c.conn.fetch(
        "SELECT id, deadline FROM clocks WHERE assignment_id = $1 AND stopped_at IS NULL AND suspended_at IS NULL "
        "FOR UPDATE",
        a["id"],
    )
    for clock in running:
        paused = sla.suspend_deadline(clock_store.deadline_of(clock), calendar, suspended_at=c.now)
        await clock_store.pause(c.conn, clock["id"], paused, c.now)
    policies = await c.rt.current_policies()
    if not policies.times("dispatch"):
        return
    t = c.ticket
    row = clocks.compute(
        policies, calendar, clock="dispatch", start=c.now, channel=t["channel"], kind=t["kind"], urgent=t["urgent"]
    )
    c.armed += await clock_store.start(c.conn, ticket_id=t["id"], assignment_id=None, unit=None, rows=[row])


async def resume_after_refusal(c: Ctx) -> None:
    """A refused return: the unit's clocks paused at the return run again with the time they had left."""
    a = c.assignment
    assert a is not None
    calendar = c.rt.calendar_for(c.ticket["territory"])
    paused = await c.conn.fetch(
        "SELECT id, clock, deadline FROM clocks WHERE assignment_id = $1 AND stopped_at IS NULL AND suspended_at = $2 "
        "FOR UPDATE",
        a["id"],
        a["returned_at"],
    )
    for clock in paused:
        resumed = sla.resume_deadline(clock_store.deadline_of(clock), calendar, resumed_at=c.now)
        step = await clock_store.move(c.conn, clock["id"], resumed)
        if step:
            c.armed.append(step)
        c.updates[f"{clock['clock']}_due_at"] = resumed.due_at


async def undo_pause_on_accept(c: Ctx) -> None:
    """An accepted return: the unit's clocks go back to the deadlines they had before the pause (the pause was the
    last change to them: nothing else moves a clock while its return is reviewed), to be stopped with the
    assignment."""
    a = c.assignment
    assert a is not None
    paused = await c.conn.fetch(
        "SELECT id, deadline FROM clocks WHERE assignment_id = $1 AND stopped_at IS NULL AND suspended_at = $2 "
        "FOR UPDATE",
        a["id"],
        a["returned_at"],
    )
    for clock in paused:
        d = clock_store.deadline_of(clock)
        kept = [x for x in d.adjustments if not (x.kind == "suspension" and x.at == d.suspended_at)]
        before = replace(d, suspended_at=None, suspended_remaining_seconds=None, adjustments=tuple(kept))
        await c.conn.execute(
            "UPDATE clocks SET deadline = $2, suspended_at = NULL, version = version + 1 WHERE id = $1",
            clock["id"],
            before.to_dict(datetimes=True),
        )

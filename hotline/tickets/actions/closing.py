"""Reply, callback, urge, close, reject, merge: how a ticket is answered and ends."""

from __future__ import annotations

import sla
from hotline.errors import Conflict, InvalidInput
from hotline.escalation import clock_store, clocks
from hotline.infra.sql import load
from hotline.tickets.actions.assignments import (
    end_assignment,
    end_dispatch_wait,
    new_assignment,
)
from hotline.tickets.actions.table import MAX_UNANSWERED_CALLBACKS, Ctx, action
from hotline.tickets.bodies import CallbackBody, CloseBody, MergeBody, RejectBody, ReplyBody, UrgeBody
from hotline.vocab import CALLBACK_ROLES, DISPATCHING_ROLES, HANDLER, OPEN_STATUSES

_MERGED_FROM_EVENT = load(__file__, "merged_from_event")
_RECORD_CALLBACK = load(__file__, "record_callback")


@action("reply", {HANDLER}, {"in_progress"}, ReplyBody)
async def reply(c: Ctx) -> None:
    """办结答复: the unit's answer; its clocks stop and the call center's callback clock starts."""
    b: ReplyBody = c.body
    a = c.assignment
    assert a is not None
    await c.conn.execute(
        "UPDATE assignments SET replied_at = $2, reply_working_seconds = $3 WHERE id = $1",
        a["id"],
        c.now,
        sla.working_seconds_between(c.rt.calendar_for(c.ticket["territory"]), a["started_at"], c.now),
    )  # for report p50/p90
    await end_assignment(c, "replied")
    policies = await c.rt.current_policies()
    t = c.ticket
    row = clocks.compute(
        policies,
        c.rt.calendar_for(t["territory"]),
        clock="callback",
        start=c.now,
        channel=t["channel"],
        kind=t["kind"],
        urgent=t["urgent"],
    )
    c.armed += await clock_store.start(c.conn, ticket_id=t["id"], assignment_id=a["id"], unit=None, rows=[row])
    c.updates.update(
        reply_content=b.content, reply_outcome=b.outcome, replied_at=c.now, callback_due_at=row.deadline.due_at
    )
    c.status_after = "replied"
    c.payload = {
        "content": b.content,
        "outcome": b.outcome,
        "on_time": c.now <= t["reply_due_at"] if t["reply_due_at"] else None,
    }


@action("callback", CALLBACK_ROLES, {"replied"}, CallbackBody)
async def callback(c: Ctx) -> None:
    """回访: the citizen's verdict. Dissatisfied reopens the ticket at the same unit (重办) with a fresh deadline."""
    b: CallbackBody = c.body
    if b.contacted and b.satisfaction == "no_answer":
        raise InvalidInput(
            "a contacted caller gives a satisfaction other than no_answer",
            fields={"satisfaction": "not no_answer when contacted"},
        )
    if b.contacted and b.resolved is None:
        raise InvalidInput("say whether the problem was resolved", fields={"resolved": "required when contacted"})
    if not b.contacted and b.satisfaction != "no_answer":
        raise InvalidInput(
            "an uncontacted caller's satisfaction is no_answer", fields={"satisfaction": "no_answer when not contacted"}
        )
    a = c.assignment
    assert a is not None
    t = c.ticket
    await c.conn.execute(
        _RECORD_CALLBACK,
        t["id"],
        a["id"],
        c.now,
        c.principal.user_id,
        b.contacted,
        b.resolved,
        b.satisfaction,
        b.note,
    )
    c.payload = {"contacted": b.contacted, "resolved": b.resolved, "satisfaction": b.satisfaction, "note": b.note}
    if not b.contacted:
        attempts = await c.conn.fetchval(
            "SELECT count(*) FROM callbacks WHERE assignment_id = $1 AND NOT contacted", a["id"]
        )
        c.payload["attempt"] = attempts
        if attempts < MAX_UNANSWERED_CALLBACKS:
            c.status_after = "replied"
            return
    await clock_store.stop(c.conn, assignment_id=a["id"], at=c.now, reason="callback", clocks=("callback",))
    if b.satisfaction == "dissatisfied":
        c.assignment = None
        await new_assignment(c, a["unit"], "reopen", signed=True)
        c.updates.update(reopen_count=t["reopen_count"] + 1, reply_content=None, reply_outcome=None, replied_at=None)
        c.status_after = "in_progress"
        c.payload["reopened"] = True
    else:
        c.updates.update(closure="callback_done", closed_at=c.now, callback_due_at=None)
        c.status_after = "closed"


@action("urge", DISPATCHING_ROLES, OPEN_STATUSES, UrgeBody)
async def urge(c: Ctx) -> None:
    """催办: recorded, counted and pushed to the unit."""
    c.status_after = c.ticket["status"]
    c.payload = {"note": c.body.note}
    if c.ticket["unit"]:
        c.units.add(c.ticket["unit"])


@action("close", CALLBACK_ROLES, {"pending_dispatch", "dispatched"}, CloseBody)
async def close(c: Ctx) -> None:
    """直接答复: answered on the phone. An unsigned assignment is withdrawn and not charged to its unit."""
    await end_assignment(c, "withdrawn", charged=False, clock_reason="answered")
    await end_dispatch_wait(c, "answered")
    c.updates.update(closure="answered", answer=c.body.answer, closed_at=c.now, sign_due_at=None, reply_due_at=None)
    c.status_after = "closed"
    c.payload = {"answer": c.body.answer}


@action(
    "reject",
    CALLBACK_ROLES,
    {"pending_dispatch", "dispatched", "return_requested"},
    RejectBody,
)
async def reject(c: Ctx) -> None:
    """不予受理."""
    await end_assignment(c, "rejected", charged=False)
    await end_dispatch_wait(c, "rejected")
    c.updates.update(closure="rejected", closed_at=c.now, sign_due_at=None, reply_due_at=None)
    c.status_after = "closed"
    c.payload = {"reason": c.body.reason}


@action(
    "merge",
    CALLBACK_ROLES,
    {"pending_dispatch", "dispatched", "in_progress", "return_requested"},
    MergeBody,
)
async def merge(c: Ctx) -> None:
    """重复件: closed into another open ticket, which carries on."""
    b: MergeBody = c.body
    if b.into == c.ticket["number"]:
        raise InvalidInput("a ticket cannot be merged into itself", fields={"into": "another ticket's number"})
    # Locked like the source: two crossed merges (A into B, B into A) then wait on each other, and the loser of
    # PostgreSQL's deadlock check gets a 409 from perform() instead of a half-merged pair.
    target = await c.conn.fetchrow("SELECT id, status, version, unit FROM tickets WHERE number = $1 FOR UPDATE", b.into)
    if target is None:
        raise InvalidInput(f"no ticket {b.into}", fields={"into": "unknown ticket number"})
    if target["status"] == "closed":
        raise Conflict(f"{b.into} is closed; merge into an open ticket", fields={"into": "must be open"})
    await end_assignment(c, "merged", charged=False)
    await end_dispatch_wait(c, "merged")
    c.updates.update(closure="merged", merged_into=target["id"], closed_at=c.now, sign_due_at=None, reply_due_at=None)
    c.status_after = "closed"
    c.payload = {"into": b.into}
    await c.conn.execute("UPDATE tickets SET version = version + 1, updated_at = now() WHERE id = $1", target["id"])
    await c.conn.execute(
        _MERGED_FROM_EVENT,
        target["id"],
        c.now,
        c.principal.user_id,
        c.principal.display_name,
        c.principal.role,
        c.principal.unit,
        {"from": c.ticket["number"]},
    )
    c.also_changed.append(
        {
            "number": b.into,
            "action": "merged_from",
            "status": target["status"],
            "unit": target["unit"],
            "units": [target["unit"]] if target["unit"] else [],
            "version": target["version"] + 1,
        }
    )

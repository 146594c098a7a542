"""The handling lifecycle: one state machine for every action on a ticket (归口办理、限时办结).

Each action is declared once (who may do it, from which statuses, its body) and executed in one transaction that
locks the ticket row, checks `expected_version`, changes assignments and clocks, appends the event and updates the
ticket projection. A failure leaves neither the event nor the change. Escalation jobs are armed and the live feed
is told only after the commit.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import asyncpg
import msgspec

import sla
from hotline.auth.tokens import Principal
from hotline.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    StaleVersion,
    TicketNotFound,
    TransitionNotAllowed,
    nul_fields,
)
from hotline.escalation import clock_store, clocks
from hotline.infra import live
from hotline.infra import queue as jobs
from hotline.infra.runtime import Runtime
from hotline.tickets import queries as ticket_service

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
OPEN = ("pending_dispatch", "dispatched", "in_progress", "return_requested", "replied")
MAX_UNANSWERED_CALLBACKS = 3


class Body(msgspec.Struct, kw_only=True):
    expected_version: int | None = None


class DispatchBody(Body, kw_only=True):
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    note: Text | None = None


class EmptyBody(Body, kw_only=True):
    pass


class ReasonBody(Body, kw_only=True):
    reason: Text


class DecideReturnBody(Body, kw_only=True):
    accept: bool
    proper: bool = False
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] | None = None
    note: Text | None = None


class NoteBody(Body, kw_only=True):
    text: Text


class ExtensionBody(Body, kw_only=True):
    reason: Text
    working_days: Annotated[int, msgspec.Meta(ge=1, le=sla.MAX_EXTENSION_WORKING_DAYS)] | None = None
    until: date | None = None


class DecideExtensionBody(Body, kw_only=True):
    approve: bool
    note: Text | None = None


class ReplyBody(Body, kw_only=True):
    content: Text
    outcome: Literal["resolved", "partly_resolved", "unresolved", "explained"]


class CallbackBody(Body, kw_only=True):
    contacted: bool
    satisfaction: Literal["satisfied", "basically_satisfied", "dissatisfied", "no_answer"]
    resolved: Literal["resolved", "partly", "unresolved"] | None = None
    note: Text | None = None


class UrgeBody(Body, kw_only=True):
    note: Text


class CloseBody(Body, kw_only=True):
    answer: Text


class MergeBody(Body, kw_only=True):
    into: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


@dataclass
class Ctx:
    rt: Runtime
    conn: asyncpg.Connection
    principal: Principal
    now: datetime
    ticket: asyncpg.Record
    assignment: asyncpg.Record | None
    body: Any
    # filled by the action
    status_after: str = ""
    updates: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)
    armed: list[jobs.ArmedStep] = field(default_factory=list)
    units: set[str] = field(default_factory=set)
    event_assignment_id: int | None = None
    also_changed: list[dict[str, Any]] = field(default_factory=list)  # other tickets' live-feed messages


Handler = Callable[[Ctx], Awaitable[None]]


@dataclass(frozen=True)
class Action:
    name: str
    roles: frozenset[str]
    statuses: frozenset[str]
    body: type[Body]
    run: Handler


ACTIONS: dict[str, Action] = {}


def action(
    name: str, roles: set[str], statuses: set[str] | tuple[str, ...], body: type[Body]
) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        ACTIONS[name] = Action(name, frozenset(roles), frozenset(statuses), body, fn)
        return fn

    return register


def allowed_actions(role: str, status: str) -> list[str]:
    return [a.name for a in ACTIONS.values() if role in a.roles and status in a.statuses]


# --- helpers -------------------------------------------------------------------------------------------------------


async def _new_assignment(c: Ctx, unit: str, origin: str, *, signed: bool = False) -> int:
    t = c.ticket
    seq = await c.conn.fetchval("SELECT coalesce(max(seq), 0) + 1 FROM assignments WHERE ticket_id = $1", t["id"])
    assignment_id = await c.conn.fetchval(
        """INSERT INTO assignments (ticket_id, seq, unit, origin, dispatched_by, started_at, signed_at, signed_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id""",
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
            c.rt.calendar,
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


async def _end_assignment(c: Ctx, reason: str, *, charged: bool | None = None, clock_reason: str | None = None) -> None:
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


async def _running_reply_clock(c: Ctx) -> asyncpg.Record:
    assert c.assignment is not None
    clock = await clock_store.running(c.conn, c.assignment["id"], "reply")
    if clock is None:
        raise Conflict("the reply clock is not running")
    return clock


async def _upstream_breach(c: Ctx) -> dict[str, Any]:
    """For the event of a (re-)dispatch after the transfer's upstream deadline: the breach is recorded and charged
    to the unit that held the ticket when that deadline passed; the new assignment's
    clocks get their minimum instead of starting overdue (sla.UPSTREAM_BREACH_MINIMUM_WORKING_DAYS)."""
    due = c.ticket["external_due_at"]
    if due is None or due > c.now:
        return {}
    holder = await c.conn.fetchval(
        """SELECT unit FROM assignments WHERE ticket_id = $1 AND started_at < $2 AND (ended_at IS NULL OR ended_at >= $2)
           ORDER BY seq DESC LIMIT 1""",
        c.ticket["id"],
        due,
    )
    # No unit held it then: it arrived late (upstream's breach) or waited for a dispatcher (pending_dispatch).
    charged = holder or ("upstream" if c.ticket["received_at"] >= due else "pending_dispatch")
    return {"upstream_breach": {"upstream_due_at": due.isoformat(), "charged_to": charged}}


def _unit_known(c: Ctx, unit: str) -> None:
    if unit not in c.rt.names.units:
        raise InvalidInput(f"unknown unit {unit!r}", fields={"unit": "not a known, active unit"})


# --- actions -------------------------------------------------------------------------------------------------------


@action("dispatch", {"dispatcher", "manager", "admin"}, {"pending_dispatch", "dispatched", "in_progress"}, DispatchBody)
async def dispatch(c: Ctx) -> None:
    """Manual dispatch of a waiting ticket, or re-dispatch (改派) of one a unit holds."""
    b: DispatchBody = c.body
    _unit_known(c, b.unit)
    if c.assignment is not None and c.assignment["ended_at"] is None:
        if c.assignment["unit"] == b.unit:
            raise Conflict(f"the ticket is already with {b.unit}", fields={"unit": "already holds the ticket"})
        await _end_assignment(c, "withdrawn", clock_reason="redispatched")
    breach = await _upstream_breach(c)
    origin = "dispatch" if c.ticket["status"] == "pending_dispatch" else "redispatch"
    await _new_assignment(c, b.unit, origin)
    c.status_after = "dispatched"
    c.payload = {"unit": b.unit, "note": b.note, "from_unit": c.ticket["unit"], **breach}


@action("sign", {"handler"}, {"dispatched"}, EmptyBody)
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


@action("return", {"handler"}, {"dispatched", "in_progress"}, ReasonBody)
async def return_ticket(c: Ctx) -> None:
    """退单: the unit says the ticket is not theirs. Its clocks keep running until the dispatcher rules; a proper
    return stops them at the moment of this (the latest) return."""
    a = c.assignment
    assert a is not None
    await c.conn.execute(
        "UPDATE assignments SET returned_at = $2, return_reason = $3 WHERE id = $1", a["id"], c.now, c.body.reason
    )
    c.status_after = "return_requested"
    c.payload = {"reason": c.body.reason, "signed": a["signed_at"] is not None}


@action("decide-return", {"dispatcher", "manager", "admin"}, {"return_requested"}, DecideReturnBody)
async def decide_return(c: Ctx) -> None:
    b: DecideReturnBody = c.body
    a = c.assignment
    assert a is not None
    if b.accept:
        if not b.unit:
            raise InvalidInput(
                "accepting a return needs the unit to re-dispatch to", fields={"unit": "required when accept is true"}
            )
        _unit_known(c, b.unit)
        if b.unit == a["unit"]:
            raise InvalidInput(
                "re-dispatch to another unit than the one that returned it",
                fields={"unit": "must differ from the returning unit"},
            )
        # A proper return is not charged to the unit: its clocks are ruled stopped at the moment it returned.
        await c.conn.execute("UPDATE assignments SET return_proper = $2 WHERE id = $1", a["id"], b.proper)
        await _end_assignment(c, "returned", charged=not b.proper)
        if b.proper:
            await c.conn.execute(
                "UPDATE clocks SET stopped_at = $2 WHERE assignment_id = $1 AND stopped_at > $2",
                a["id"],
                a["returned_at"],
            )
        breach = await _upstream_breach(c)
        await _new_assignment(c, b.unit, "redispatch")
        c.status_after = "dispatched"
    else:
        breach = {}
        await c.conn.execute("UPDATE assignments SET return_proper = false WHERE id = $1", a["id"])
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


@action("note", {"handler", "agent", "dispatcher", "manager", "admin"}, set(OPEN), NoteBody)
async def note(c: Ctx) -> None:
    c.status_after = c.ticket["status"]
    c.payload = {"text": c.body.text}


@action("request-extension", {"handler"}, {"in_progress"}, ExtensionBody)
async def request_extension(c: Ctx) -> None:
    """申请延期: one pending request at a time; the dispatcher or a manager decides."""
    b: ExtensionBody = c.body
    if (b.working_days is None) == (b.until is None):
        raise InvalidInput(
            "give either working_days or until", fields={"working_days": "exactly one of working_days, until"}
        )
    a = c.assignment
    assert a is not None
    if b.until is not None and sla.out_of_range(b.until):
        raise InvalidInput(f"until {b.until} {sla.out_of_range(b.until)}", fields={"until": sla.out_of_range(b.until)})
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
                clock_store.deadline_of(clock), c.rt.calendar, working_days=b.working_days, until=b.until
            )
        except ValueError as exc:
            field_name = "until" if b.until is not None else "working_days"
            raise InvalidInput(str(exc), fields={field_name: str(exc)}) from exc
    try:
        await c.conn.execute(
            """INSERT INTO extension_requests (ticket_id, assignment_id, requested_by, requested_at, working_days,
                                               until_date, reason, old_due_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
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


@action(
    "decide-extension", {"dispatcher", "manager", "admin"}, {"in_progress", "return_requested"}, DecideExtensionBody
)
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
    if b.approve:
        clock = await _running_reply_clock(c)
        old = clock_store.deadline_of(clock)
        try:
            new = sla.extend_deadline(old, c.rt.calendar, working_days=req["working_days"], until=req["until_date"])
        except ValueError as exc:
            field_name = "until" if req["until_date"] is not None else "working_days"
            raise InvalidInput(str(exc), fields={field_name: str(exc)}) from exc
        step = await clock_store.move(c.conn, clock["id"], new)
        if step:
            c.armed.append(step)
        new_due = new.due_at
        c.updates["reply_due_at"] = new_due
    await c.conn.execute(
        """UPDATE extension_requests SET status = $2, decided_by = $3, decided_at = $4, note = $5, new_due_at = $6
           WHERE id = $1""",
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


@action("suspend", {"dispatcher", "manager", "admin"}, {"in_progress"}, ReasonBody)
async def suspend(c: Ctx) -> None:
    """挂起: pause the reply clock (e.g. waiting on a court or another authority); no escalation while paused."""
    a = c.assignment
    assert a is not None
    if c.ticket["suspended_at"] is not None:
        raise Conflict("the ticket is already suspended")
    clock = await _running_reply_clock(c)
    paused = sla.suspend_deadline(clock_store.deadline_of(clock), c.rt.calendar, suspended_at=c.now)
    await clock_store.pause(c.conn, clock["id"], paused, c.now)
    c.updates["suspended_at"] = c.now
    c.status_after = c.ticket["status"]
    c.units.add(a["unit"])
    c.payload = {"reason": c.body.reason, "remaining_seconds": paused.suspended_remaining_seconds}


@action("resume", {"dispatcher", "manager", "admin"}, {"in_progress"}, NoteBody)
async def resume(c: Ctx) -> None:
    """Resume a suspended ticket: the reply deadline is now plus the working time that was left."""
    a = c.assignment
    assert a is not None
    if c.ticket["suspended_at"] is None:
        raise Conflict("the ticket is not suspended")
    clock = await _running_reply_clock(c)
    try:
        resumed = sla.resume_deadline(clock_store.deadline_of(clock), c.rt.calendar, resumed_at=c.now)
    except ValueError as exc:
        raise Conflict(f"the reply clock cannot be resumed: {exc}") from exc
    step = await clock_store.move(c.conn, clock["id"], resumed)
    if step:
        c.armed.append(step)
    c.updates.update(suspended_at=None, reply_due_at=resumed.due_at)
    c.status_after = c.ticket["status"]
    c.units.add(a["unit"])
    c.payload = {"note": c.body.text, "new_due_at": resumed.due_at.isoformat()}


@action("reply", {"handler"}, {"in_progress"}, ReplyBody)
async def reply(c: Ctx) -> None:
    """办结答复: the unit's answer; its clocks stop and the call center's callback clock starts."""
    b: ReplyBody = c.body
    a = c.assignment
    assert a is not None
    await c.conn.execute(
        "UPDATE assignments SET replied_at = $2, reply_working_seconds = $3 WHERE id = $1",
        a["id"],
        c.now,
        sla.working_seconds_between(c.rt.calendar, a["started_at"], c.now),
    )  # for report p50/p90
    await _end_assignment(c, "replied")
    policies = await c.rt.current_policies()
    t = c.ticket
    row = clocks.compute(
        policies, c.rt.calendar, clock="callback", start=c.now, channel=t["channel"], kind=t["kind"], urgent=t["urgent"]
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


@action("callback", {"agent", "dispatcher", "manager", "admin"}, {"replied"}, CallbackBody)
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
        """INSERT INTO callbacks (ticket_id, assignment_id, at, by_user, contacted, resolved, satisfaction, note)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
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
        await _new_assignment(c, a["unit"], "reopen", signed=True)
        c.updates.update(reopen_count=t["reopen_count"] + 1, reply_content=None, reply_outcome=None, replied_at=None)
        c.status_after = "in_progress"
        c.payload["reopened"] = True
    else:
        c.updates.update(closure="callback_done", closed_at=c.now, callback_due_at=None)
        c.status_after = "closed"


@action("urge", {"dispatcher", "manager", "admin"}, set(OPEN), UrgeBody)
async def urge(c: Ctx) -> None:
    """催办: recorded, counted and pushed to the unit."""
    c.status_after = c.ticket["status"]
    c.payload = {"note": c.body.note}
    if c.ticket["unit"]:
        c.units.add(c.ticket["unit"])


@action("close", {"agent", "dispatcher", "manager", "admin"}, {"pending_dispatch", "dispatched"}, CloseBody)
async def close(c: Ctx) -> None:
    """直接答复: answered on the phone. An unsigned assignment is withdrawn and not charged to its unit."""
    await _end_assignment(c, "withdrawn", charged=False, clock_reason="answered")
    c.updates.update(closure="answered", answer=c.body.answer, closed_at=c.now, sign_due_at=None, reply_due_at=None)
    c.status_after = "closed"
    c.payload = {"answer": c.body.answer}


@action(
    "reject",
    {"agent", "dispatcher", "manager", "admin"},
    {"pending_dispatch", "dispatched", "return_requested"},
    ReasonBody,
)
async def reject(c: Ctx) -> None:
    """不予受理."""
    await _end_assignment(c, "rejected", charged=False)
    c.updates.update(closure="rejected", closed_at=c.now, sign_due_at=None, reply_due_at=None)
    c.status_after = "closed"
    c.payload = {"reason": c.body.reason}


@action(
    "merge",
    {"agent", "dispatcher", "manager", "admin"},
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
    await _end_assignment(c, "merged", charged=False)
    c.updates.update(closure="merged", merged_into=target["id"], closed_at=c.now, sign_due_at=None, reply_due_at=None)
    c.status_after = "closed"
    c.payload = {"into": b.into}
    await c.conn.execute("UPDATE tickets SET version = version + 1, updated_at = now() WHERE id = $1", target["id"])
    await c.conn.execute(
        """INSERT INTO events (ticket_id, at, actor_id, actor, role, unit, action, status_before, status_after, version, payload)
           SELECT id, $2, $3, $4, $5, $6, 'merged_from', status, status, version, $7 FROM tickets WHERE id = $1""",
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
}


def decode_body(act: Action, raw: bytes) -> Any:
    try:
        body = msgspec.json.decode(raw or b"{}", type=act.body)
    except msgspec.ValidationError as exc:
        message = str(exc)
        field_name = message.rsplit("`$.", 1)[-1].rstrip("`") if "`$." in message else "body"
        missing = re.search(r"missing required field `([^`]+)`", message)
        if missing:
            field_name = missing.group(1)
        raise InvalidInput(message, fields={field_name: message}) from exc
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"the body is not valid JSON: {exc}", fields={"body": "invalid JSON"}) from exc
    nul = nul_fields({f: getattr(body, f) for f in act.body.__struct_fields__})
    if nul:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in nul.items()), fields=nul)
    return body


async def perform(
    rt: Runtime, principal: Principal, number: str, name: str, raw_body: bytes, now: datetime | None = None
) -> dict[str, Any]:
    act = ACTIONS.get(name)
    if act is None:
        raise NotFound(f"no action {name!r}; actions: {', '.join(ACTIONS)}")
    body = decode_body(act, raw_body)
    if principal.role not in act.roles:
        raise Forbidden(f"role {principal.role} may not {name} (allowed: {', '.join(sorted(act.roles))})")
    now = now or datetime.now(UTC)
    try:
        return await _perform(rt, principal, number, name, act, body, now)
    except asyncpg.DeadlockDetectedError as exc:
        raise Conflict("another action changed these tickets at the same moment; reload and try again") from exc


async def _perform(
    rt: Runtime, principal: Principal, number: str, name: str, act: Action, body: Body, now: datetime
) -> dict[str, Any]:
    async with rt.pool.acquire() as conn:
        async with conn.transaction():
            clause, params = ticket_service.scope_clause(principal, 2)
            ticket = await conn.fetchrow(
                f"SELECT t.* FROM tickets t WHERE t.number = $1 AND {clause} FOR UPDATE", number, *params
            )
            if ticket is None:
                raise TicketNotFound(f"no ticket {number}")
            allowed = allowed_actions(principal.role, ticket["status"])
            if body.expected_version is not None and body.expected_version != ticket["version"]:
                raise StaleVersion(
                    f"the ticket changed (version {ticket['version']}, you sent {body.expected_version}); "
                    "reload it and try again",
                    version=ticket["version"],
                    ticket_status=ticket["status"],
                    allowed_actions=allowed,
                )
            if ticket["status"] not in act.statuses:
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
                await act.run(c)
            except Conflict as exc:
                exc.extra.setdefault("allowed_actions", allowed)
                exc.extra.setdefault("ticket_status", ticket["status"])
                raise
            updates = {k: v for k, v in c.updates.items() if k in UPDATABLE}
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
                """INSERT INTO events (ticket_id, assignment_id, at, actor_id, actor, role, unit, action, status_before,
                                       status_after, version, payload)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)""",
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
            row = await ticket_service.fetch_by_id(conn, ticket["id"])
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
            },
            *c.also_changed,
        ],
    )
    return ticket_service.serialize(row, principal, rt)

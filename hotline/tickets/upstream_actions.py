"""What an upstream platform (12345 / 12328 / 12319) may do to a case it transferred, found by its `external_ref`:
撤回 recall (the case is closed as `withdrawn`, the unit's assignment not charged), 催办 urge (recorded and counted as
an urge, pushed to the unit like a local one) and 补充材料 supplement (text appended to the history, pushed to the
unit). Each runs through the lifecycle engine (one transaction, an event with the integration account as actor)
and is idempotent on its request id (the `Idempotency-Key` header): a repeat answers the ticket again and changes
nothing; the same key with another request is refused (422).
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated

import asyncpg
import msgspec

from hotline.auth.tokens import Principal
from hotline.errors import Forbidden, InvalidInput, NotFound, TicketNotFound
from hotline.escalation import clock_store
from hotline.infra.runtime import Runtime
from hotline.infra.sql import load
from hotline.tickets import lifecycle, shapes
from hotline.tickets import queries as ticket_service
from hotline.tickets.actions import Action, Ctx
from hotline.tickets.actions.assignments import end_assignment
from hotline.tickets.bodies import Body, Text
from hotline.vocab import INTEGRATION, OPEN_STATUSES

_INSERT_REQUEST = load(__file__, "upstream_request")
RequestId = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class RecallBody(Body, kw_only=True):
    """撤回: the upstream platform withdrew the case (the citizen withdrew it, or it was settled upstream)."""

    reason: Text


class UpstreamUrgeBody(Body, kw_only=True):
    """催办 from the upstream platform: press the unit holding the case."""

    note: Text


class SupplementBody(Body, kw_only=True):
    """补充材料: more from the citizen, appended to the case's history for the unit."""

    text: Text


async def _recall(c: Ctx) -> None:
    a = c.assignment
    await end_assignment(c, "withdrawn", charged=False, clock_reason="recalled")
    if a is not None:  # a replied ticket's assignment has ended: its callback clock still runs
        await clock_store.stop(c.conn, assignment_id=a["id"], at=c.now, reason="recalled")
    c.updates.update(closure="withdrawn", closed_at=c.now, sign_due_at=None, reply_due_at=None, callback_due_at=None)
    c.status_after = "closed"
    c.payload = {"reason": c.body.reason, "channel": c.principal.channel}
    if c.ticket["unit"]:
        c.units.add(c.ticket["unit"])


async def _urge(c: Ctx) -> None:
    c.status_after = c.ticket["status"]
    c.payload = {"note": c.body.note, "channel": c.principal.channel}
    if c.ticket["unit"]:
        c.units.add(c.ticket["unit"])


async def _supplement(c: Ctx) -> None:
    c.status_after = c.ticket["status"]
    c.payload = {"text": c.body.text, "channel": c.principal.channel}
    if c.ticket["unit"]:
        c.units.add(c.ticket["unit"])


# The event each records is its own name; an upstream urge is an `urge` event, counted as every urge is.
UPSTREAM_ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("recall", frozenset({INTEGRATION}), frozenset(OPEN_STATUSES), RecallBody, _recall),
        Action("urge", frozenset({INTEGRATION}), frozenset(OPEN_STATUSES), UpstreamUrgeBody, _urge),
        Action("supplement", frozenset({INTEGRATION}), frozenset(OPEN_STATUSES), SupplementBody, _supplement),
    )
}


def allowed_upstream(role: str, status: str) -> list[str]:
    return [name for name, a in UPSTREAM_ACTIONS.items() if role in a.roles and status in a.statuses]


def fingerprint(name: str, external_ref: str, body: Body) -> str:
    plain = {k: v for k, v in msgspec.to_builtins(body).items() if k != "expected_version"}
    text = json.dumps([name, external_ref, plain], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


async def act_upstream(
    rt: Runtime, principal: Principal, channel: str, external_ref: str, name: str, body: Body, request_id: str | None
) -> tuple[shapes.Ticket, bool]:
    """Perform an upstream action on the caller's own transfer: the ticket, and whether this was a replay of a
    request done before. 404 for a reference of another channel (or none), 409 naming the allowed actions when the
    ticket's status forbids it."""
    action = UPSTREAM_ACTIONS.get(name)
    if action is None:
        raise NotFound(f"no upstream action {name!r}; actions: {', '.join(UPSTREAM_ACTIONS)}")
    if principal.role != INTEGRATION:
        raise Forbidden("only the upstream platform's integration account may do this")
    if not request_id or len(request_id) > 200:
        raise InvalidInput(
            "send the request's id in the Idempotency-Key header (1 to 200 characters)",
            fields={"Idempotency-Key": "required, 1 to 200 characters"},
        )
    if principal.channel != channel:
        raise TicketNotFound(f"no transfer {external_ref} from channel {channel}")
    number = await rt.pool.fetchval(
        "SELECT number FROM tickets WHERE channel = $1 AND external_ref = $2", channel, external_ref
    )
    if number is None:
        raise TicketNotFound(f"no transfer {external_ref} from channel {channel}")
    print_ = fingerprint(name, external_ref, body)
    replay = await _replay(rt, principal, channel, request_id, print_)
    if replay is not None:
        return replay, True
    recorded = _with_request(action, channel, request_id, print_)
    try:
        return await lifecycle.act_from(rt, principal, number, recorded, body, allowed_for=allowed_upstream), False
    except asyncpg.UniqueViolationError:  # the same request, concurrently: it won, answer as a replay
        replay = await _replay(rt, principal, channel, request_id, print_)
        if replay is None:
            raise
        return replay, True


def _with_request(action: Action, channel: str, request_id: str, print_: str) -> Action:
    async def run(c: Ctx) -> None:
        await action.run(c)
        await c.conn.execute(_INSERT_REQUEST, channel, request_id, action.name, c.ticket["id"], print_, c.now)

    return Action(action.name, action.roles, action.statuses, action.body, run)


async def _replay(
    rt: Runtime, principal: Principal, channel: str, request_id: str, print_: str
) -> shapes.Ticket | None:
    done = await rt.pool.fetchrow(
        "SELECT ticket_id, fingerprint FROM upstream_requests WHERE channel = $1 AND request_id = $2",
        channel,
        request_id,
    )
    if done is None:
        return None
    if done["fingerprint"] != print_:
        raise InvalidInput(
            f"Idempotency-Key {request_id} was used for another request",
            fields={"Idempotency-Key": "already used for another request"},
        )
    async with rt.pool.acquire() as conn:
        row = await ticket_service.fetch_by_id(conn, done["ticket_id"])
    return ticket_service.serialize(row, principal, rt)

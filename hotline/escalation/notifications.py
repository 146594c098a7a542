"""Notifications (站内通知): telling people of an escalation step, and each person's list with its read marks.

TELL_SQL tells a recorded step exactly once: in one transaction it takes the step out of escalation_outbox and
writes its notifications (to AUDIENCE_SQL's people) and webhook deliveries; a step already taken, or held by
another teller, is left alone, and UNIQUE (user_id, step_id) would refuse a second notification anyway.
Who is told: warning (预警) the handling unit; overdue (超期) the unit and the dispatchers; supervision (督办) the
managers. For the callback clock, which the call center runs and no unit holds, the agents stand in for the unit;
for the dispatch clock (派单), the dispatchers do, and its overdue goes to the duty managers as well.
Lifecycle events are told too (tell_event, from hotline/tickets/event_notices.py, in the event's transaction): a
unit's handlers hear of a dispatch to it, an urge, and the decisions on its extension request and its return.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import asyncpg
import msgspec

from hotline import inputs
from hotline.auth.tokens import Principal
from hotline.errors import InvalidInput, NotFound
from hotline.infra.db import Conn
from hotline.infra.runtime import Runtime
from hotline.infra.sql import load

# Joined against the recorded steps `s` (columns step, unit): the active users `u` who must hear of each one.
# The dispatch clock (派单) is the dispatchers' own: they hear of its warning and overdue, and the duty manager of
# its overdue too (a ticket no unit holds has nobody else to chase it).
AUDIENCE_SQL = """
    u.active AND (
        (s.step IN ('warning', 'overdue') AND s.unit IS NOT NULL AND u.role = 'handler' AND u.unit = s.unit)
     OR (s.step IN ('warning', 'overdue') AND s.unit IS NULL AND s.clock <> 'dispatch' AND u.role = 'agent')
     OR (s.step IN ('warning', 'overdue') AND s.clock = 'dispatch' AND u.role = 'dispatcher')
     OR (s.step = 'overdue' AND s.clock <> 'dispatch' AND u.role = 'dispatcher')
     OR (s.step = 'overdue' AND s.clock = 'dispatch' AND u.role = 'manager')
     OR (s.step = 'supervision' AND u.role = 'manager'))
"""


def audience(step: str, unit: str | None, clock: str | None = None) -> list[str]:
    """The roles AUDIENCE_SQL tells of a step, for the live feed's announcement."""
    if clock == "dispatch":
        return {"warning": ["dispatcher"], "overdue": ["dispatcher", "manager"], "supervision": ["manager"]}.get(
            step, []
        )
    holder = "handler" if unit is not None else "agent"
    return {"warning": [holder], "overdue": [holder, "dispatcher"], "supervision": ["manager"]}.get(step, [])


# {taken} picks and locks outbox rows (steps recorded, not yet told); {tickets} joins what gives each step its
# ticket's number and territory. $1 now, $2 webhook URLs.
TELL_SQL = (
    """
WITH taken AS (
    DELETE FROM escalation_outbox o
    WHERE o.step_id IN ({taken})
    RETURNING o.step_id
), pending AS (
    SELECT s.id, s.clock_id, s.clock, s.step, s.unit, s.due_at, s.recorded_at, s.source, k.number, k.territory
    FROM taken x
    JOIN escalation_steps s ON s.id = x.step_id
    {tickets}
), told AS (
    INSERT INTO notifications (user_id, kind, step_id, payload, created_at)
    SELECT u.id, 'escalation', s.id,
           jsonb_build_object('number', s.number, 'clock', s.clock, 'step', s.step, 'unit', s.unit,
                              'due_at', s.due_at), $1
    FROM pending s
    JOIN users u ON """
    + AUDIENCE_SQL
    + """
    ON CONFLICT (user_id, step_id) DO NOTHING
    RETURNING step_id
), hooks AS (
    INSERT INTO webhook_deliveries (step_id, url, next_attempt_at)
    SELECT s.id, w.url, $1 FROM pending s CROSS JOIN unnest($2::text[]) AS w (url)
    ON CONFLICT (step_id, url) DO NOTHING
    RETURNING step_id
), told_per_step AS (
    SELECT step_id, count(*) AS n FROM told GROUP BY step_id
), hooks_per_step AS (
    SELECT step_id, count(*) AS n FROM hooks GROUP BY step_id
)
SELECT p.id, p.clock_id, p.clock, p.step, p.unit, p.due_at, p.recorded_at, p.source, p.number, p.territory,
       coalesce(tn.n, 0) AS notified, coalesce(hn.n, 0) AS hooks
FROM pending p
LEFT JOIN told_per_step tn ON tn.step_id = p.id
LEFT JOIN hooks_per_step hn ON hn.step_id = p.id
"""
)
# Steps just recorded, whose recorder knows the tickets: $3 step ids, $4 numbers, $5 territories.
TELL_STEPS_SQL = TELL_SQL.format(
    taken="SELECT step_id FROM escalation_outbox WHERE step_id = any($3::bigint[]) FOR UPDATE SKIP LOCKED",
    tickets="JOIN unnest($3::bigint[], $4::text[], $5::text[]) AS k (id, number, territory) ON k.id = x.step_id",
)
# Steps recorded before $3 and never told (their recorder died in between), at most $4.
TELL_UNTOLD_SQL = TELL_SQL.format(
    taken="""SELECT step_id FROM escalation_outbox WHERE recorded_at < $3 ORDER BY step_id LIMIT $4
                         FOR UPDATE SKIP LOCKED""",
    tickets="JOIN tickets k ON k.id = s.ticket_id",
)

CLOCK_NAMES = {"sign": "签收", "reply": "办结", "callback": "回访", "dispatch": "派单"}
STEP_TITLES = {
    "warning": "预警：工单 {number} {clock}时限即将届满",
    "overdue": "超期：工单 {number} 已超过{clock}时限",
    "supervision": "督办：工单 {number} {clock}超期未办，已转入督办",
}

EVENT_TITLES = {
    "dispatch": "新派单：工单 {number} 已派至本单位",
    "urge": "催办：工单 {number} 被催办，请加快办理",
    ("extension_decision", True): "延期申请已批准：工单 {number}",
    ("extension_decision", False): "延期申请未批准：工单 {number}",
    ("return_decision", True): "退单已同意：工单 {number} 已改派",
    ("return_decision", False): "退单未同意：工单 {number} 退回本单位继续办理",
}
EventKind = Literal["dispatch", "urge", "extension_decision", "return_decision"]

LIST_SQL = load(__file__, "notifications")
TELL_EVENT_SQL = load(__file__, "tell_event")
MARK_READ_SQL = load(__file__, "mark_read")


BIGINT_MAX = 2**63 - 1
NotificationId = Annotated[int, msgspec.Meta(ge=1, le=BIGINT_MAX)]


class MarkRead(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Mark these of the signed-in user's notifications read (others' ids are ignored), or all of them."""

    ids: Annotated[list[NotificationId], msgspec.Meta(max_length=1000)] | None = None
    all: bool = False


class Notification(msgspec.Struct, kw_only=True):
    """站内通知: a person told of an escalation step of a ticket (its number, clock, step, unit and deadline), or of a
    lifecycle event on it (a dispatch to the unit, an urge, a decision on its extension request or return)."""

    id: int
    kind: Literal["escalation", "dispatch", "urge", "extension_decision", "return_decision"]
    title: str
    ticket: str | None
    step: str | None
    clock: str | None
    unit: str | None
    due_at: str | None
    step_id: int | None  # an escalation's step; null for a lifecycle event
    approved: bool | None = None  # a decision's outcome (extension approved, return accepted)
    created_at: str
    read: bool
    read_at: str | None


class NotificationPage(msgspec.Struct, kw_only=True):
    items: list[Notification]
    next_cursor: str | None
    unread: int  # how many of the user's notifications are unread, on every page


class MarkedRead(msgspec.Struct, kw_only=True):
    marked: int  # marked read by this request
    unread: int  # still unread


async def tell(
    conn: Conn, steps: list[tuple[int, str, str | None]], *, now: datetime, webhook_urls: tuple[str, ...]
) -> dict[int, tuple[int, int]]:
    """Tell these recorded steps, given as (step id, ticket number, territory); {step id: (people notified,
    webhook deliveries)} for those told here."""
    rows = await conn.fetch(
        TELL_STEPS_SQL, now, list(webhook_urls), [s[0] for s in steps], [s[1] for s in steps], [s[2] for s in steps]
    )
    return {r["id"]: (r["notified"], r["hooks"]) for r in rows}


async def tell_untold(
    conn: Conn, *, now: datetime, before: datetime, limit: int, webhook_urls: tuple[str, ...]
) -> list[asyncpg.Record]:
    """Tell steps recorded before `before` and never told (their recorder died in between)."""
    return await conn.fetch(TELL_UNTOLD_SQL, now, list(webhook_urls), before, limit)


async def tell_event(
    conn: Conn, kind: EventKind, unit: str, number: str, now: datetime, approved: bool | None = None
) -> None:
    """In the event's transaction: tell the unit's handlers (a dispatch, an urge, a decision on their request)."""
    payload: dict[str, Any] = {"number": number, "unit": unit}
    if approved is not None:
        payload["approved"] = approved
    await conn.execute(TELL_EVENT_SQL, kind, unit, payload, now)


def title(payload: dict[str, Any], kind: str = "escalation") -> str:
    if kind != "escalation":
        key: Any = (kind, bool(payload.get("approved"))) if kind.endswith("_decision") else kind
        return EVENT_TITLES.get(key, "工单 {number} 有新的提醒").format(number=payload.get("number", ""))
    template = STEP_TITLES.get(payload.get("step", ""), "工单 {number} 有新的提醒")
    return template.format(number=payload.get("number", ""), clock=CLOCK_NAMES.get(payload.get("clock", ""), ""))


def serialize(row: Any) -> Notification:
    payload = dict(row["payload"])
    return Notification(
        id=row["id"],
        kind=row["kind"],
        title=title(payload, row["kind"]),
        ticket=payload.get("number"),
        step=payload.get("step"),
        clock=payload.get("clock"),
        unit=payload.get("unit"),
        due_at=payload.get("due_at"),
        step_id=row["step_id"],
        approved=payload.get("approved"),
        created_at=row["created_at"].isoformat(),
        read=row["read_at"] is not None,
        read_at=row["read_at"].isoformat() if row["read_at"] else None,
    )


async def unread_count(rt: Runtime, principal: Principal) -> int:
    return await rt.pool.fetchval(
        "SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL", principal.user_id
    )


async def list_for(
    rt: Runtime, principal: Principal, *, unread: bool = False, limit: int = 50, cursor: str | None = None
) -> NotificationPage:
    fields = inputs.limit_fields(limit)
    after = inputs.read_cursor(cursor, "id", fields=fields)
    inputs.raise_fields(fields)
    before = after[0] if after else None
    rows = await rt.pool.fetch(LIST_SQL, principal.user_id, unread, before, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return NotificationPage(
        items=[serialize(r) for r in rows],
        next_cursor=inputs.encode_cursor(rows[-1]["id"]) if more else None,
        unread=await unread_count(rt, principal),
    )


async def mark_read(rt: Runtime, principal: Principal, body: MarkRead, now: datetime | None = None) -> MarkedRead:
    """Mark the given notifications (or all) of the signed-in user as read; others' ids are ignored."""
    if not body.all and not body.ids:
        raise InvalidInput("give ids or all=true", fields={"ids": "a list of notification ids, or all=true"})
    now = now or datetime.now(UTC)
    marked = await rt.pool.fetchval(MARK_READ_SQL, principal.user_id, now, body.all, body.ids or [])
    return MarkedRead(marked=marked, unread=await unread_count(rt, principal))


async def mark_one(
    rt: Runtime, principal: Principal, notification_id: int, now: datetime | None = None
) -> Notification:
    if not 1 <= notification_id <= BIGINT_MAX:  # no such id can exist (and PostgreSQL could not even compare it)
        raise NotFound(f"no notification {notification_id}")
    now = now or datetime.now(UTC)
    await rt.pool.execute(
        "UPDATE notifications SET read_at = $3 WHERE id = $1 AND user_id = $2 AND read_at IS NULL",
        notification_id,
        principal.user_id,
        now,
    )
    row = await rt.pool.fetchrow(
        "SELECT id, kind, step_id, payload, created_at, read_at FROM notifications WHERE id = $1 AND user_id = $2",
        notification_id,
        principal.user_id,
    )
    if row is None:
        raise NotFound(f"no notification {notification_id}")
    return serialize(row)

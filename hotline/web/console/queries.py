"""The console's read queries: work queues, the manager's dashboard, the weekly trend and the overdue heat map.

Every query is scoped by the caller: a handler's queue is filtered by its unit in SQL, never after the fact.
Time left is measured in working time on the service's calendar, the same way the SLA engine counts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

import asyncpg

import sla
from hotline.escalation import overdue
from hotline.infra.db import Conn
from hotline.infra.runtime import Runtime
from hotline.tickets import routing
from hotline.tickets.routing import rule_view
from hotline.vocab import OPEN_STATUSES
from hotline.web.console import labels

QUEUE_LIMIT = 200


def day_seconds(rt: Runtime) -> int:
    """Length of one working day's office hours, for turning working seconds into '2个工作日3小时'."""
    return rt.calendar.day_seconds


def in_office(rt: Runtime, now: datetime) -> bool:
    """True while working time passes, so a working-time countdown should tick on screen."""
    return sla.next_working_moment(rt.calendar, now) == now.astimezone(UTC)


@dataclass(frozen=True)
class Clock:
    clock: str
    due_at: datetime
    remaining: float
    working: bool
    step: str | None
    ticking: bool
    past_due: bool
    suspended: bool = False


# What the queues select of a clock, besides its instants: its basis and, while suspended (挂起), when it paused and
# the time it had left then.
CLOCK_EXTRA = """c.deadline->>'basis' AS basis, c.suspended_at,
       (c.deadline->>'suspended_remaining_seconds')::float8 AS suspended_remaining"""


def clock_of(rt: Runtime, now: datetime, office: bool, row: Any, clock: str | None = None) -> Clock | None:
    """A queue row's clock as the console shows it. A suspended clock stands still: the step it had reached and the
    time it had left when it paused, not ticking (as sla.step_due and sla.remaining_seconds count it)."""
    clock = clock or row["clock"]
    due_at = row["due_at"]
    if clock is None or due_at is None:
        return None
    working = row["basis"] == "working"
    paused = row["suspended_at"]
    at = min(now, paused) if paused is not None else now
    remaining = row["suspended_remaining"] if paused is not None else None
    if remaining is None:
        calendar = rt.calendar_for(row.get("territory"))  # the ticket's territory's, when the row has it
        remaining = sla.working_seconds_between(calendar, at, due_at) if working else (due_at - at).total_seconds()
    return Clock(
        clock,
        due_at,
        remaining,
        working,
        sla.step_at(at, {name: row[name] for _, name in sla.STEP_INSTANTS}),
        paused is None and (office or not working),
        at >= due_at,
        paused is not None,
    )


# --- handler: the unit's queue ------------------------------------------------------------------------------------

HANDLER_QUEUE_SQL = f"""
SELECT t.id, t.number, t.title, t.status, t.urgent, t.kind, t.category, t.territory, t.received_at, t.reopen_count,
       t.version, c.clock, c.due_at, c.warning_at, c.supervision_at, {CLOCK_EXTRA},
       (SELECT count(*) FROM events e WHERE e.ticket_id = t.id AND e.action = 'urge'
          AND e.at >= a.started_at) AS urges,
       EXISTS (SELECT 1 FROM extension_requests x WHERE x.assignment_id = t.current_assignment_id
                 AND x.status = 'pending') AS extension_pending,
       EXISTS (SELECT 1 FROM escalation_steps s WHERE s.assignment_id = t.current_assignment_id
                 AND s.step = 'supervision') AS supervised
FROM tickets t
JOIN assignments a ON a.id = t.current_assignment_id
LEFT JOIN LATERAL (
    SELECT k.clock, k.due_at, k.warning_at, k.supervision_at, k.deadline, k.suspended_at FROM clocks k
    WHERE k.assignment_id = t.current_assignment_id AND k.stopped_at IS NULL AND k.clock IN ('sign', 'reply')
    ORDER BY k.due_at LIMIT 1) c ON true
WHERE t.unit = $1 AND t.status = any($2::text[])
ORDER BY c.suspended_at IS NOT NULL, c.due_at ASC NULLS LAST, t.id  -- a paused clock (挂起, 退单待审) waits last
LIMIT {QUEUE_LIMIT}
"""


async def handler_queue(rt: Runtime, unit: str, now: datetime) -> list[dict[str, Any]]:
    rows = await rt.pool.fetch(HANDLER_QUEUE_SQL, unit, ["dispatched", "in_progress", "return_requested"])
    office = in_office(rt, now)
    items = []
    for r in rows:
        item = dict(r)
        item["clock_view"] = clock_of(rt, now, office, r)
        step = item["clock_view"].step if item["clock_view"] else None
        if r["supervised"]:
            step = "supervision"
        item["step"] = step
        items.append(item)
    return items


# --- agent: the callback queue (回访) -------------------------------------------------------------------------------

CALLBACK_QUEUE_SQL = f"""
SELECT t.id, t.number, t.title, t.content, t.kind, t.category, t.territory, t.caller_name, t.caller_phone, t.unit,
       t.reply_content, t.reply_outcome, t.replied_at, t.callback_due_at, t.reopen_count, t.version, t.urgent,
       c.due_at, c.warning_at, c.supervision_at, {CLOCK_EXTRA},
       (SELECT count(*) FROM callbacks b WHERE b.assignment_id = t.current_assignment_id AND NOT b.contacted)
         AS unanswered
FROM tickets t
LEFT JOIN clocks c ON c.assignment_id = t.current_assignment_id AND c.clock = 'callback' AND c.stopped_at IS NULL
WHERE t.status = 'replied'
ORDER BY t.callback_due_at ASC NULLS LAST, t.id
LIMIT {QUEUE_LIMIT}
"""


async def callback_queue(rt: Runtime, now: datetime) -> list[dict[str, Any]]:
    rows = await rt.pool.fetch(CALLBACK_QUEUE_SQL)
    office = in_office(rt, now)
    out = []
    for r in rows:
        item = dict(r)
        item["clock_view"] = clock_of(rt, now, office, r, "callback")
        out.append(item)
    return out


# --- dispatcher ---------------------------------------------------------------------------------------------------


async def pending_dispatch(rt: Runtime, now: datetime) -> list[dict[str, Any]]:
    """Tickets waiting for a dispatcher, the least time left on their dispatch clock (派单时限) first, with how long
    each has waited (natural time since receipt)."""
    rows = await rt.pool.fetch(
        f"""SELECT t.number, t.title, t.kind, t.category, t.territory, t.channel, t.urgent, t.received_at, t.routing,
                   t.version, c.clock, c.due_at, c.warning_at, c.supervision_at, {CLOCK_EXTRA}
            FROM tickets t
            LEFT JOIN clocks c ON c.ticket_id = t.id AND c.clock = 'dispatch' AND c.stopped_at IS NULL
            WHERE t.status = 'pending_dispatch' ORDER BY c.due_at NULLS LAST, t.urgent DESC, t.received_at, t.id
            LIMIT {QUEUE_LIMIT}"""
    )
    office = in_office(rt, now)
    return [
        {**r, "clock_view": clock_of(rt, now, office, r), "age": (now - r["received_at"]).total_seconds()} for r in rows
    ]


async def return_requests(rt: Runtime) -> list[dict[str, Any]]:
    rows = await rt.pool.fetch(
        f"""SELECT t.number, t.title, t.kind, t.category, t.territory, t.urgent, t.unit, t.routing, t.version,
                   a.returned_at, a.return_reason, a.signed_at
            FROM tickets t JOIN assignments a ON a.id = t.current_assignment_id
            WHERE t.status = 'return_requested' ORDER BY a.returned_at, t.id LIMIT {QUEUE_LIMIT}"""
    )
    return [dict(r) for r in rows]


async def extension_requests(rt: Runtime) -> list[dict[str, Any]]:
    rows = await rt.pool.fetch(
        f"""SELECT t.number, t.title, t.unit, t.urgent, t.version, x.requested_at, x.working_days, x.until_date,
                   x.reason, x.old_due_at
            FROM extension_requests x JOIN tickets t ON t.id = x.ticket_id
            WHERE x.status = 'pending' ORDER BY x.requested_at, x.id LIMIT {QUEUE_LIMIT}"""
    )
    return [dict(r) for r in rows]


AT_RISK_SQL = f"""
SELECT t.number, t.title, t.unit, t.status, t.urgent, t.version, c.clock, c.due_at, c.warning_at, c.supervision_at,
       {CLOCK_EXTRA},
       (SELECT count(*) FROM events e WHERE e.ticket_id = t.id AND e.action = 'urge') AS urges,
       (SELECT max(e.at) FROM events e WHERE e.ticket_id = t.id AND e.action = 'urge') AS last_urge
FROM clocks c
JOIN tickets t ON t.id = c.ticket_id AND (t.current_assignment_id = c.assignment_id OR c.clock = 'dispatch')
WHERE c.stopped_at IS NULL AND c.clock IN ('sign', 'reply', 'dispatch') AND c.warning_at <= $1
  AND t.status = any($2::text[])
ORDER BY c.due_at, t.id
LIMIT {QUEUE_LIMIT // 2}
"""


async def at_risk(rt: Runtime, now: datetime) -> list[dict[str, Any]]:
    """Tickets whose running clock has reached its warning step: the ones worth an urge (催办)."""
    rows = await rt.pool.fetch(AT_RISK_SQL, now, ["pending_dispatch", "dispatched", "in_progress", "return_requested"])
    office = in_office(rt, now)
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["number"] in out:
            continue
        item = dict(r)
        item["clock_view"] = clock_of(rt, now, office, r)
        out[r["number"]] = item
    return list(out.values())


async def pending_extension(conn: Conn | asyncpg.Pool, number: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        """SELECT x.requested_at, x.working_days, x.until_date, x.reason, x.old_due_at
           FROM extension_requests x JOIN tickets t ON t.id = x.ticket_id AND x.assignment_id = t.current_assignment_id
           WHERE t.number = $1 AND x.status = 'pending'""",
        number,
    )
    return dict(row) if row else None


def routing_rule(rt: Runtime, rule_id: int | None) -> dict[str, Any] | None:
    """The rule a routing decision names, from the router's rules in memory (no query per row)."""
    rule = routing.router(rt).rule(rule_id)
    return rule_view(rule) if rule else None


async def units(rt: Runtime) -> list[dict[str, Any]]:
    rows = await rt.pool.fetch(
        "SELECT code, name, territory FROM units WHERE active ORDER BY territory NULLS FIRST, code"
    )
    return [dict(r) for r in rows]


# --- manager: dashboard -------------------------------------------------------------------------------------------


def local_midnight(rt: Runtime, now: datetime) -> datetime:
    tz = rt.calendar.tz
    return datetime.combine(now.astimezone(tz).date(), time(0), tz)


DASHBOARD_SQL = """
SELECT
    (SELECT coalesce(jsonb_object_agg(channel, n), '{}') FROM
        (SELECT channel, count(*) AS n FROM tickets WHERE received_at >= $1 AND received_at < $2 GROUP BY channel) x)
        AS today_by_channel,
    (SELECT coalesce(jsonb_object_agg(status, n), '{}') FROM
        (SELECT status, count(*) AS n FROM tickets WHERE status <> 'closed' GROUP BY status) x) AS open_by_status,
    (SELECT count(*) FROM tickets WHERE closed_at >= $1 AND closed_at < $2) AS closed_today,
    (SELECT count(*) FROM tickets WHERE status <> 'closed' AND reopen_count > 0) AS reopened_open,
    (SELECT count(*) FROM events WHERE action = 'urge' AND at >= $1) AS urges_today
"""


def drill_queries(midnight: datetime, now: datetime) -> dict[str, str]:
    """Each figure's GET /api/tickets query: the same filter at the same instant as the figure (the console's
    drill-down lists them). Rows add their unit, territory, channel or status to these."""
    today = {"created_from": midnight.isoformat(), "created_to": now.isoformat()}
    late = {"as_of": now.isoformat()}
    return {
        "today": urlencode(today),
        "open": "status=open",
        "closed_today": urlencode({"closed_from": midnight.isoformat(), "closed_to": now.isoformat()}),
        "overdue": urlencode({"overdue": "true", **late}),
        "sign_overdue": urlencode({"sign_overdue": "true", **late}),
        "supervised": urlencode({"supervised": "true", **late}),
        "reopened": "status=open&reopened=true",
    }


async def dashboard(rt: Runtime, now: datetime) -> dict[str, Any]:
    midnight = local_midnight(rt, now)
    async with rt.pool.acquire() as conn:
        counts = await conn.fetchrow(DASHBOARD_SQL, midnight, now)
        late = await overdue.board(conn, now)  # the late figures: one definition (hotline/escalation/overdue.py)
        supervision = await overdue.supervision_list(conn, now)
    assert counts is not None  # aggregates: always one row
    row = {**dict(counts), **late}
    names = rt.names
    by_unit = sorted(
        ((names.units.get(k, k), v, k) for k, v in row["overdue_by_unit"].items()),
        key=lambda kv: (-kv[1], kv[0]),
    )
    by_territory = sorted(
        (
            (names.territories.get(k, "未填写属地" if k == "" else k), v, k)
            for k, v in row["overdue_by_territory"].items()
        ),
        key=lambda kv: (-kv[1], kv[0]),
    )
    today = row["today_by_channel"]
    sup = []
    for r in supervision:
        working = r["basis"] == "working"
        over = (
            sla.working_seconds_between(rt.calendar_for(r.get("territory")), r["due_at"], now)
            if working
            else (now - r["due_at"]).total_seconds()
        )
        sup.append({**dict(r), "overdue_text": labels.duration(over, working=working, day_seconds=day_seconds(rt))})
    return {
        "today": [(code, names.channels.get(code, code), int(today.get(code, 0))) for code in names.channels],
        "today_total": sum(int(v) for v in today.values()),
        "open_by_status": [(s, labels.STATUS[s], int(row["open_by_status"].get(s, 0))) for s in OPEN_STATUSES],
        "open_total": sum(int(v) for v in row["open_by_status"].values()),
        "closed_today": row["closed_today"],
        "reopened_open": row["reopened_open"],
        "urges_today": row["urges_today"],
        "overdue_by_unit": by_unit,
        "overdue_by_territory": by_territory,
        "overdue_total": row["overdue_total"],
        "sign_overdue_total": row["sign_overdue_total"],
        "supervision_total": row["supervision_total"],
        "drill": drill_queries(midnight, now),
        "supervision": sup,
    }


# --- manager: trend and heat map ----------------------------------------------------------------------------------

TREND_SQL = """
WITH weeks AS (
    SELECT generate_series($1::date, $2::date, interval '7 days')::date AS week
), received AS (
    SELECT date_trunc('week', received_at AT TIME ZONE $3)::date AS week, count(*) AS n
    FROM tickets WHERE received_at >= $4 AND received_at < $5 GROUP BY 1
), closed AS (
    SELECT date_trunc('week', closed_at AT TIME ZONE $3)::date AS week, count(*) AS n
    FROM tickets WHERE closed_at >= $4 AND closed_at < $5 GROUP BY 1
), overdue AS (
    -- reply clocks falling due that week that were answered late or are still open past it
    SELECT date_trunc('week', due_at AT TIME ZONE $3)::date AS week, count(*) AS n
    FROM clocks
    WHERE clock = 'reply' AND due_at >= $4 AND due_at < least($5, $6)
      AND (stopped_at IS NULL OR stopped_at > due_at)
      AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.id = clocks.assignment_id AND NOT a.charged)
    GROUP BY 1
)
SELECT w.week, coalesce(r.n, 0) AS received, coalesce(c.n, 0) AS closed, coalesce(o.n, 0) AS overdue
FROM weeks w LEFT JOIN received r USING (week) LEFT JOIN closed c USING (week) LEFT JOIN overdue o USING (week)
ORDER BY w.week
"""


async def weekly_trend(rt: Runtime, now: datetime, weeks: int = 12) -> list[dict[str, Any]]:
    tz = rt.calendar.tz
    today = now.astimezone(tz).date()
    this_monday = today - timedelta(days=today.weekday())
    first = this_monday - timedelta(weeks=weeks - 1)
    start = datetime.combine(first, time(0), tz)
    end = datetime.combine(this_monday + timedelta(days=7), time(0), tz)
    rows = await rt.pool.fetch(TREND_SQL, first, this_monday, tz.key, start, end, now)
    return [
        {"week": r["week"], "received": r["received"], "closed": r["closed"], "overdue": r["overdue"]} for r in rows
    ]


async def overdue_heatmap(rt: Runtime, now: datetime) -> dict[str, Any]:
    """超期未办结 tickets (hotline/escalation/overdue.py) by the unit holding them and the ticket's territory."""
    async with rt.pool.acquire() as conn:
        cells = await overdue.heatmap(conn, now)
    unit_rows = await units(rt)
    listed = {u["code"] for u in unit_rows}
    # A unit made inactive still holds its late tickets: it keeps its row while it does.
    unit_rows += [{"code": c, "name": rt.names.units.get(c, c)} for c in sorted({u for u, _ in cells} - listed)]
    territories = sorted(rt.names.territories)
    if any(t == "" for _, t in cells):
        territories.append("")
    return {
        "units": [(u["code"], u["name"]) for u in unit_rows],
        "territories": [(t, rt.names.territories.get(t, "未填写")) for t in territories],
        "cells": cells,
        "drill": drill_queries(local_midnight(rt, now), now)["overdue"],
    }

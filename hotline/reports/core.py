"""Closure-rate reports (办结率统计): the figures of DESIGN.md "Reports", their rollups, exports and daily digests.

What a figure means (the decisions behind the contract)
- Period: tickets *received* in [from, to). A bare date is the local midnight (settings.timezone) that starts it
  (so to=2031-04-01 ends with March 31); a datetime must carry its offset. as_of as a bare date is the end of that
  local day. Figures about assignments, callbacks, extensions and urges belong to the period of their ticket's receipt.
- Groups: by unit, an assignment figure goes to the assignment's unit (dispatched, signed_on_time, due,
  replied_on_time, returned, overdue_open, working hours; extensions to the unit that asked; an urge to the unit
  holding the ticket when it was urged; a callback to the unit whose reply it judged); a ticket figure
  (received, closed) goes to the ticket's current unit (null: never dispatched). Territory, channel, category and
  kind are the ticket's. Totals are the same whatever the grouping.
- Charged: assignments with charged = false (withdrawn on a direct answer, merged, rejected, or a return ruled
  proper) are left out of dispatched, signed_on_time, due, replied_on_time, returned, overdue_open and the working
  hours: the unit is not held to a clock it was relieved of. `returned` therefore counts charged assignments that
  returned the ticket (a return pending, refused, or accepted as improper), so return_rate stays within [0, 1].
- signed_on_time: signed by the sign clock's due_at; a reopened assignment (重办) is signed when it starts and has
  no sign clock, so it counts as on time.
- due: charged assignments replied, or whose reply deadline (the reply clock's due_at, i.e. after approved
  extensions) is <= as_of. replied_on_time: replied at or before that deadline. overdue_open: charged assignments
  still open (not ended) whose reply deadline is <= as_of.
- A reply clock suspended (挂起) before its deadline does not fall due while paused (as escalation sees it); on
  resume its deadline moves and it counts from the new one.
- as_of (default now) is the instant deadlines are judged against; it moves due and overdue_open only. Every other
  figure, and whether an assignment is replied or open, is the state recorded now: a past as_of is not a snapshot.
- closed: tickets of the period whose status is closed (any closure). callbacks: answered callbacks
  (contacted = true); satisfaction_rate = (satisfied + basically_satisfied) / callbacks; resolution_rate =
  resolved ('resolved' only, not 'partly') / callbacks. extensions: approved extension requests. urges: 'urge'
  events.
- p50/p90_working_hours: working hours (sla.working_seconds_between on the runtime calendar / 3600) from the start
  of each replied charged assignment to its reply, interpolated like PostgreSQL percentile_cont (numpy's default).
  Measured once at reply time into assignments.reply_working_seconds.
- Rates are null when their denominator is 0.
- Who: managers, dispatchers and admins see every unit; a handler gets the same report restricted to its unit's
  figures (every figure charged to another unit is left out, whatever the grouping); agents and integrations 403.

How a report stays fast and exact
report_daily holds the additive figures per local day of receipt x (unit, territory, channel, category, kind), with
the working hours as sorted arrays; report_pending holds charged unreplied assignments by the local day their reply
falls due; report_monthly and report_pending_monthly are the same summed per calendar month. `refresh_rollups` (a
worker job, every 15 s) rewrites whole days and then their months, set-based, in one transaction with the
consumption of report_changes, a queue that triggers on tickets and clocks fill with the receipt instant of every
changed ticket. A report reads, from one REPEATABLE READ snapshot:
  - the monthly rollups for whole months of the period with nothing queued, the daily rollups for the other whole
    days with nothing queued,
  - a live computation (the same SQL that builds the rollups) for queued days and for partial edge days,
  - for due/overdue_open on rollup days: the pending rows due before the local day of as_of, plus a live look-up,
    through an index on reply clocks' due_at, of those falling due on that day up to as_of.
Every part is exact at the snapshot, so the result equals the from-scratch computation (`use_rollups=False`), which
tests/integration/reports checks for many periods, groupings and as_of values, before and after changes. If the
worker stops, more days are live: reports get slower, never wrong. p50/p90 are exact too: they are computed (in
Python, merging the sorted arrays) over the stored values, not from a histogram.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import math
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import structlog

import sla
from hotline import inputs
from hotline.auth.tokens import Principal
from hotline.errors import Forbidden, InvalidInput
from hotline.infra import webhooks
from hotline.infra.runtime import Runtime
from hotline.vocab import DISPATCHING_ROLES, HANDLER

log = structlog.get_logger(__name__)

GROUPS = ("unit", "territory", "channel", "category", "kind")
FORMATS = ("json", "csv", "xlsx")
METRICS = (
    "received",
    "dispatched",
    "signed_on_time",
    "on_time_sign_rate",
    "due",
    "replied_on_time",
    "on_time_reply_rate",
    "closed",
    "closure_rate",
    "callbacks",
    "satisfaction_rate",
    "resolution_rate",
    "returned",
    "return_rate",
    "extensions",
    "urges",
    "overdue_open",
    "p50_working_hours",
    "p90_working_hours",
)
RATES = {
    "on_time_sign_rate",
    "on_time_reply_rate",
    "closure_rate",
    "satisfaction_rate",
    "resolution_rate",
    "return_rate",
}
HOURS = {"p50_working_hours", "p90_working_hours"}
# Counters summed from facts; due and overdue_open are added from the as_of-dependent parts.
COUNTERS = (
    "received",
    "closed",
    "dispatched",
    "signed_on_time",
    "replied",
    "replied_on_time",
    "returned",
    "callbacks",
    "satisfied",
    "resolved",
    "extensions",
    "urges",
)
NO_GROUP_NAMES = {"unit": "未派单", "territory": "未知属地", "category": "未分类", "channel": "-", "kind": "-"}
ROLLUP_LOCK = 0x686F746C_7270  # serialises rollup refreshes across workers
DIGEST_LOCAL_TIME = dtime(7, 30)  # a day's digest goes out the next morning

# --- the facts: one SQL for rollups, live days and the from-scratch report --------------------------------------
# $1: time zone; receipt ranges [lo, hi) as parameter pairs from $first. One row per fact, keyed by local day of
# receipt and the unit it is charged to; `unreplied`/`open`/`reply_due` let the caller judge deadlines against as_of.
# The ranges are spelled out (not unnested from arrays) so the planner sees how few tickets they hold and walks
# the indexes from them instead of hashing whole tables; compute() and rebuild_days() ask for custom plans.


def _facts_sql(ranges: int, first: int) -> str:
    where = (
        " OR ".join(
            f"(t.received_at >= ${first + 2 * i} AND t.received_at < ${first + 2 * i + 1})" for i in range(ranges)
        )
        or "false"
    )
    return f"""
t AS (
    SELECT t.id, (t.received_at AT TIME ZONE $1)::date AS day, t.unit, t.territory, t.channel, t.category, t.kind,
           t.status
    FROM tickets t WHERE {where}
), a AS (
    SELECT t.day, a.unit, t.territory, t.channel, t.category, t.kind, a.id, a.charged, a.signed_at, a.replied_at,
           a.returned_at, a.ended_at, a.reply_working_seconds, sc.due_at AS sign_due,
           CASE WHEN rc.suspended_at < rc.due_at THEN 'infinity' ELSE rc.due_at END AS reply_due
    FROM t
    JOIN assignments a ON a.ticket_id = t.id
    LEFT JOIN clocks sc ON sc.assignment_id = a.id AND sc.clock = 'sign'
    LEFT JOIN clocks rc ON rc.assignment_id = a.id AND rc.clock = 'reply'
), facts AS (
    SELECT day, unit, territory, channel, category, kind,
           1 AS received, (status = 'closed')::int AS closed, 0 AS dispatched, 0 AS signed_on_time, 0 AS replied,
           0 AS replied_on_time, 0 AS returned, 0 AS callbacks, 0 AS satisfied, 0 AS resolved, 0 AS extensions,
           0 AS urges, 0 AS unreplied, 0 AS open, NULL::timestamptz AS reply_due, NULL::float8 AS hours
    FROM t
    UNION ALL
    SELECT day, unit, territory, channel, category, kind, 0, 0, 1,
           (signed_at IS NOT NULL AND (sign_due IS NULL OR signed_at <= sign_due))::int,
           (replied_at IS NOT NULL)::int,
           (replied_at IS NOT NULL AND (reply_due IS NULL OR replied_at <= reply_due))::int,
           (returned_at IS NOT NULL)::int, 0, 0, 0, 0, 0,
           (replied_at IS NULL)::int, (ended_at IS NULL)::int, reply_due, reply_working_seconds / 3600.0
    FROM a WHERE charged
    UNION ALL
    SELECT t.day, ca.unit, t.territory, t.channel, t.category, t.kind, 0, 0, 0, 0, 0, 0, 0, 1,
           (cb.satisfaction IN ('satisfied', 'basically_satisfied'))::int, (cb.resolved = 'resolved')::int,
           0, 0, 0, 0, NULL, NULL
    FROM t JOIN callbacks cb ON cb.ticket_id = t.id JOIN assignments ca ON ca.id = cb.assignment_id
    WHERE cb.contacted
    UNION ALL
    SELECT a.day, a.unit, a.territory, a.channel, a.category, a.kind, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
           NULL, NULL
    FROM a JOIN extension_requests x ON x.assignment_id = a.id
    WHERE x.status = 'approved'
    UNION ALL
    SELECT t.day, coalesce(ea.unit, t.unit), t.territory, t.channel, t.category, t.kind,
           0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, NULL, NULL
    FROM t JOIN events e ON e.ticket_id = t.id AND e.action = 'urge'
    LEFT JOIN assignments ea ON ea.id = e.assignment_id
)
"""


KEY = "day, unit, territory, channel, category, kind"
SUMS = ", ".join(f"coalesce(sum({c}), 0)::int AS {c}" for c in COUNTERS)


def _rebuild_sql(ranges: int) -> str:
    """Both rollups of the days in the ranges from one pass over their facts ($1 zone, ranges from $2)."""
    return f"""
WITH {_facts_sql(ranges, 2)}, daily AS (
    INSERT INTO report_daily ({KEY}, {", ".join(COUNTERS)}, reply_hours)
    SELECT {KEY}, {SUMS}, coalesce(array_agg(hours ORDER BY hours) FILTER (WHERE hours IS NOT NULL), '{{}}')
    FROM facts GROUP BY {KEY}
)
INSERT INTO report_pending ({KEY}, due_on, unreplied, open)
SELECT {KEY}, (reply_due AT TIME ZONE $1)::date, sum(unreplied)::int, sum(open)::int
FROM facts WHERE unreplied = 1 AND reply_due IS NOT NULL
GROUP BY {KEY}, (reply_due AT TIME ZONE $1)::date
"""


def _report_sql(group: str, ranges: int) -> str:
    """The whole report in one statement. `group` comes from GROUPS, never from the request as such.

    $1 zone, $2 as_of, $3 unit filter or null, $4 clean days read from the daily rollups, $5 months read from the
    monthly rollups, $6 queued (dirty) days, $7 local day of as_of, $8 its midnight, $9/$10 the instants bounding
    the rollup days; live receipt ranges from $11. Each part is aggregated by group before the union, so no wide
    rollup row is carried further than its own scan."""
    assert group in GROUPS
    zero = ", ".join(f"0 AS {c}" for c in COUNTERS)
    plain = ", ".join(COUNTERS)
    boundary_group = "a.unit" if group == "unit" else f"t.{group}"
    unit = "($3::text IS NULL OR unit = $3)"
    daily, monthly = f"day = any($4::date[]) AND {unit}", f"month = any($5::date[]) AND {unit}"
    return f"""
WITH {_facts_sql(ranges, 11)}, parts AS (
    SELECT {group} AS g, {SUMS}, 0 AS due_pending, 0 AS overdue_open
    FROM report_daily WHERE {daily} GROUP BY {group}
    UNION ALL
    SELECT {group}, {SUMS}, 0, 0 FROM report_monthly WHERE {monthly} GROUP BY {group}
    UNION ALL
    SELECT {group}, {zero}, sum(unreplied), sum(open)
    FROM report_pending WHERE {daily} AND due_on < $7 GROUP BY {group}
    UNION ALL
    SELECT {group}, {zero}, sum(unreplied), sum(open)
    FROM report_pending_monthly WHERE {monthly} AND due_on < $7 GROUP BY {group}
    UNION ALL
    SELECT {boundary_group}, {zero}, 1, (a.ended_at IS NULL)::int
    FROM clocks c
    JOIN assignments a ON a.id = c.assignment_id
    JOIN tickets t ON t.id = c.ticket_id
    WHERE c.clock = 'reply' AND c.due_at >= $8 AND c.due_at <= $2
      AND (c.suspended_at IS NULL OR c.suspended_at >= c.due_at)
      AND a.charged AND a.replied_at IS NULL
      AND t.received_at >= $9 AND t.received_at < $10
      AND (t.received_at AT TIME ZONE $1)::date <> ALL($6::date[]) AND ($3::text IS NULL OR a.unit = $3)
    UNION ALL
    SELECT {group}, {plain}, (unreplied = 1 AND reply_due <= $2)::int, (open = 1 AND reply_due <= $2)::int
    FROM facts WHERE {unit}
), live_hours AS (
    SELECT {group} AS g, array_agg(hours) AS hours FROM facts WHERE hours IS NOT NULL AND {unit} GROUP BY {group}
), sums AS (
    SELECT g, grouping(g) AS total, {SUMS}, coalesce(sum(due_pending), 0)::int AS due_pending,
           coalesce(sum(overdue_open), 0)::int AS overdue_open
    FROM parts GROUP BY GROUPING SETS ((g), ())
)
SELECT sums.*, live_hours.hours FROM sums
LEFT JOIN live_hours ON sums.total = 0 AND live_hours.g IS NOT DISTINCT FROM sums.g
ORDER BY sums.total, sums.g NULLS LAST
"""


def _rollup_hours_sql(group: str) -> str:
    """The stored working hours of the rollup days and months ($1 days, $2 months, $3 unit filter or null).
    Percentiles are taken in Python: PostgreSQL's ordered-set aggregate over a month's hundred thousand values
    costs several times more than reading the sorted arrays and merging them."""
    assert group in GROUPS
    unit = "($3::text IS NULL OR unit = $3)"
    return f"""
SELECT {group} AS g, reply_hours FROM report_daily WHERE day = any($1::date[]) AND {unit} AND reply_hours <> '{{}}'
UNION ALL
SELECT {group}, reply_hours FROM report_monthly WHERE month = any($2::date[]) AND {unit} AND reply_hours <> '{{}}'
"""


def percentiles(
    values: list[float], ps: tuple[float, ...] = (0.5, 0.9), *, presorted: bool = False
) -> list[float | None]:
    """Linear interpolation between closest ranks, as PostgreSQL's percentile_cont and numpy's default."""
    if not values:
        return [None for _ in ps]
    if not presorted:
        values = sorted(values)
    out: list[float | None] = []
    for p in ps:
        pos = p * (len(values) - 1)
        lo, hi = math.floor(pos), math.ceil(pos)
        out.append(values[lo] + (values[hi] - values[lo]) * (pos - lo))
    return out


MONTH_KEY = "month, unit, territory, channel, category, kind"

# Months from their days' rollups ($1: first days of the months). Counters and hours are aggregated apart so that
# unnesting the hours does not multiply the counters.
REBUILD_MONTHS_SQL = f"""
WITH d AS (
    SELECT date_trunc('month', day)::date AS month, * FROM report_daily
    WHERE date_trunc('month', day)::date = any($1::date[])
), c AS (
    SELECT {MONTH_KEY}, {SUMS} FROM d GROUP BY {MONTH_KEY}
), h AS (
    SELECT {MONTH_KEY}, array_agg(x ORDER BY x) AS reply_hours FROM d, unnest(d.reply_hours) AS x GROUP BY {MONTH_KEY}
), monthly AS (
    INSERT INTO report_monthly ({MONTH_KEY}, {", ".join(COUNTERS)}, reply_hours)
    SELECT c.*, coalesce(h.reply_hours, '{{}}')
    FROM c LEFT JOIN h USING (month, unit, territory, channel, category, kind)
)
INSERT INTO report_pending_monthly ({MONTH_KEY}, due_on, unreplied, open)
SELECT date_trunc('month', day)::date, unit, territory, channel, category, kind, due_on, sum(unreplied),
       sum(open)
FROM report_pending WHERE date_trunc('month', day)::date = any($1::date[])
GROUP BY 1, unit, territory, channel, category, kind, due_on
"""


def _flat(ranges: list[tuple[datetime, datetime]]) -> list[datetime]:
    return [x for pair in ranges for x in pair]


async def _planner_settings(conn: asyncpg.Connection) -> None:
    # Plans must see the actual ranges (a generic plan guesses a third of the table per range); index probes from
    # a few thousand tickets must beat hashing whole tables, which they do on cached data and SSDs (the default
    # random_page_cost of 4 assumes spinning disks); JIT compilation costs more than it saves here.
    await conn.execute(
        "SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL random_page_cost = 1.1; SET LOCAL jit = off"
    )


# --- query parsing ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportQuery:
    start: datetime
    end: datetime
    as_of: datetime
    group_by: str = "unit"
    format: str = "json"


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _midnight(d: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, dtime(0), tzinfo=tz)


def _instant(
    raw: str, name: str, tz: ZoneInfo, fields: dict[str, str], *, date_is_end: bool = False
) -> datetime | None:
    text = raw.strip()
    if _DATE_RE.match(text):
        try:
            d = date.fromisoformat(text)
        except ValueError:
            fields[name] = f"{text!r} is not a calendar date"
            return None
        if not inputs.instant_in_range(d):
            fields[name] = inputs.INSTANT_RANGE
            return None
        return _midnight(d + timedelta(days=1) if date_is_end else d, tz)
    # An unencoded '+' in a query string arrives as a space: "2031-03-01T00:00:00 08:00".
    text = re.sub(r"(T[\d:.]+) (\d{2}:?\d{2})$", r"\1+\2", text)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fields[name] = "an ISO 8601 date (YYYY-MM-DD) or datetime with offset, e.g. 2031-03-01T00:00:00+08:00"
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        fields[name] = "a datetime must carry a UTC offset, e.g. +08:00"
        return None
    if not inputs.instant_in_range(value):
        fields[name] = inputs.INSTANT_RANGE
        return None
    return value.astimezone(UTC)


def parse_query(
    tz_name: str,
    *,
    from_: str | None,
    to: str | None,
    as_of: str | None,
    group_by: str | None,
    format: str | None,
    now: datetime | None = None,
) -> ReportQuery:
    """Read the query string; every bad field is named in one 422."""
    tz = ZoneInfo(tz_name)
    fields: dict[str, str] = {}
    start = _instant(from_, "from", tz, fields) if from_ else None
    end = _instant(to, "to", tz, fields) if to else None
    if not from_:
        fields["from"] = "required: an ISO 8601 date or datetime with offset"
    if not to:
        fields["to"] = "required: an ISO 8601 date or datetime with offset (exclusive)"
    at = _instant(as_of, "as_of", tz, fields, date_is_end=True) if as_of else (now or datetime.now(UTC))
    group = (group_by or "unit").strip()
    fmt = (format or "json").strip().lower()
    if group not in GROUPS:
        fields["group_by"] = f"one of {', '.join(GROUPS)}"
    if fmt not in FORMATS:
        fields["format"] = f"one of {', '.join(FORMATS)}"
    if start is not None and end is not None and start >= end:
        fields["to"] = "must be after from"
    if fields:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in fields.items()), fields=fields)
    assert start is not None and end is not None and at is not None
    return ReportQuery(start, end, at, group, fmt)


def unit_scope(principal: Principal) -> str | None:
    """Managers, dispatchers and admins see every unit; a handler its own unit's figures only."""
    if principal.role in DISPATCHING_ROLES:
        return None
    if principal.role == HANDLER and principal.unit:
        return principal.unit
    raise Forbidden(f"role {principal.role} may not read reports (allowed: manager, dispatcher, admin, handler)")


# --- computing ---------------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """How a period splits into months and days read from rollups, and receipt ranges computed live."""

    live: list[tuple[datetime, datetime]] = field(default_factory=list)
    days: list[date] = field(default_factory=list)
    months: list[date] = field(default_factory=list)
    dirty: list[date] = field(default_factory=list)
    lo: date = date(1970, 1, 1)  # the whole days [lo, hi) the rollups and the boundary look-up cover
    hi: date = date(1970, 1, 1)

    @property
    def rollup_days(self) -> int:
        return len(self.days) + sum(_month_length(m) for m in self.months)


def _month_length(m: date) -> int:
    return ((m.replace(day=28) + timedelta(days=4)).replace(day=1) - m).days


def plan(start: datetime, end: datetime, tz: ZoneInfo, dirty_days: set[date], use_rollups: bool) -> Plan:
    """Whole clean months from the monthly rollups, other whole clean days from the daily ones, queued days and
    the partial days at the edges live."""
    if not use_rollups:
        return Plan(live=[(start, end)])
    first = start.astimezone(tz).date()
    d0 = first if _midnight(first, tz) == start else first + timedelta(days=1)
    d1 = end.astimezone(tz).date()
    if d0 >= d1:
        return Plan(live=[(start, end)])
    live: list[tuple[datetime, datetime]] = []
    if start < _midnight(d0, tz):
        live.append((start, _midnight(d0, tz)))
    dirty = sorted(d for d in dirty_days if d0 <= d < d1)
    live += [(_midnight(d, tz), _midnight(d + timedelta(days=1), tz)) for d in dirty]
    if _midnight(d1, tz) < end:
        live.append((_midnight(d1, tz), end))
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in sorted(live):
        if merged and merged[-1][1] >= lo:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    dirty_months = {d.replace(day=1) for d in dirty}
    days: list[date] = []
    months: list[date] = []
    d = d0
    while d < d1:
        month_end = d + timedelta(days=_month_length(d.replace(day=1)) - d.day + 1)
        if d.day == 1 and month_end <= d1 and d not in dirty_months:
            months.append(d)
            d = month_end
            continue
        if d not in dirty_days:
            days.append(d)
        d += timedelta(days=1)
    return Plan(merged, days, months, dirty, d0, d1)


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


def _metrics(r: asyncpg.Record | dict[str, Any], p: list[float | None]) -> dict[str, Any]:
    due = r["replied"] + r["due_pending"]
    return {
        "received": r["received"],
        "dispatched": r["dispatched"],
        "signed_on_time": r["signed_on_time"],
        "on_time_sign_rate": _rate(r["signed_on_time"], r["dispatched"]),
        "due": due,
        "replied_on_time": r["replied_on_time"],
        "on_time_reply_rate": _rate(r["replied_on_time"], due),
        "closed": r["closed"],
        "closure_rate": _rate(r["closed"], r["received"]),
        "callbacks": r["callbacks"],
        "satisfaction_rate": _rate(r["satisfied"], r["callbacks"]),
        "resolution_rate": _rate(r["resolved"], r["callbacks"]),
        "returned": r["returned"],
        "return_rate": _rate(r["returned"], r["dispatched"]),
        "extensions": r["extensions"],
        "urges": r["urges"],
        "overdue_open": r["overdue_open"],
        "p50_working_hours": p[0],
        "p90_working_hours": p[1],
    }


def empty_metrics() -> dict[str, Any]:
    return _metrics({**{c: 0 for c in COUNTERS}, "due_pending": 0, "overdue_open": 0}, [None, None])


async def compute(
    conn: asyncpg.Connection, tz_name: str, q: ReportQuery, *, unit: str | None = None, use_rollups: bool = True
) -> dict[str, Any]:
    """Rows and totals for one query, read from one snapshot. The caller opens no transaction."""
    tz = ZoneInfo(tz_name)
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        await _planner_settings(conn)
        # Starting parallel workers costs more than the few thousand rollup rows a report reads.
        await conn.execute("SET LOCAL work_mem = '64MB'; SET LOCAL max_parallel_workers_per_gather = 0")
        dirty: set[date] = set()
        if use_rollups:
            dirty = {
                r["day"]
                for r in await conn.fetch(
                    "SELECT DISTINCT (received_at AT TIME ZONE $1)::date AS day FROM report_changes "
                    "WHERE received_at >= $2 AND received_at < $3",
                    tz_name,
                    q.start,
                    q.end,
                )
            }
        p = plan(q.start, q.end, tz, dirty, use_rollups)
        as_of_day = q.as_of.astimezone(tz).date()
        rows = await conn.fetch(
            _report_sql(q.group_by, len(p.live)),
            tz_name,
            q.as_of,
            unit,
            p.days,
            p.months,
            p.dirty,
            as_of_day,
            _midnight(as_of_day, tz),
            _midnight(p.lo, tz),
            _midnight(p.hi, tz),
            *_flat(p.live),
        )
        hours: dict[str | None, list[float]] = {}
        if p.days or p.months:
            for r in await conn.fetch(_rollup_hours_sql(q.group_by), p.days, p.months, unit):
                hours.setdefault(r["g"], []).extend(r["reply_hours"])
    for r in rows:
        if r["hours"]:
            hours.setdefault(r["g"], []).extend(r["hours"])
    # Each list is a concatenation of sorted arrays and the whole a concatenation of sorted lists: Python's sort
    # merges such runs in near-linear time.
    for values in hours.values():
        values.sort()
    everything = list(itertools.chain.from_iterable(hours.values()))
    everything.sort()
    out_rows = [
        {"group": r["g"], **_metrics(r, percentiles(hours.get(r["g"], []), presorted=True))}
        for r in rows
        if r["total"] == 0
    ]
    totals = next(
        (_metrics(r, percentiles(everything, presorted=True)) for r in rows if r["total"] == 1), empty_metrics()
    )
    return {
        "rows": out_rows,
        "totals": totals,
        "source": {"rollup_days": p.rollup_days, "rollup_months": len(p.months), "live_ranges": len(p.live)},
    }


def group_name(rt: Runtime, group_by: str, code: str | None) -> str:
    if code is None:
        return NO_GROUP_NAMES[group_by]
    names = {
        "unit": rt.names.units,
        "territory": rt.names.territories,
        "channel": rt.names.channels,
        "category": rt.names.categories,
        "kind": rt.names.kinds,
    }[group_by]
    return names.get(code, code)


async def closure_report(
    rt: Runtime, principal: Principal, q: ReportQuery, *, use_rollups: bool = True
) -> dict[str, Any]:
    """GET /api/reports/closure as JSON: rows per group with display names, and totals."""
    unit = unit_scope(principal)
    started = time.perf_counter()
    async with rt.reports_pool.acquire() as conn:
        result = await compute(conn, rt.settings.timezone, q, unit=unit, use_rollups=use_rollups)
    rows = [
        {"group": r["group"], "group_name": group_name(rt, q.group_by, r["group"]), **{m: r[m] for m in METRICS}}
        for r in result["rows"]
    ]
    log.info(
        "closure_report",
        group_by=q.group_by,
        rows=len(rows),
        unit=unit,
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
        **result["source"],
    )
    return {
        "from": q.start.isoformat(),
        "to": q.end.isoformat(),
        "as_of": q.as_of.isoformat(),
        "group_by": q.group_by,
        "unit": unit,
        "metrics": list(METRICS),
        "rows": rows,
        "totals": result["totals"],
    }


# --- exports -------------------------------------------------------------------------------------------------------

TOTAL_LABEL = "合计"


def _table(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    header = ["group", "group_name", *METRICS]
    body = [[r["group"], r["group_name"], *(r[m] for m in METRICS)] for r in report["rows"]]
    body.append(["total", TOTAL_LABEL, *(report["totals"][m] for m in METRICS)])
    return header, body


def to_csv(report: dict[str, Any]) -> bytes:
    """UTF-8 with a BOM, so that Excel opens the Chinese names correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    header, body = _table(report)
    writer.writerow(header)
    for row in body:
        writer.writerow(["" if v is None else v for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(report: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "closure"
    header, body = _table(report)
    ws.append(header)
    for row in body:
        ws.append(row)
    bold = Font(bold=True)
    for cell in ws[1]:
        cell.font = bold
    for cell in ws[ws.max_row]:
        cell.font = bold
    for col, name in enumerate(header, start=1):
        fmt = "0.0%" if name in RATES else "0.00" if name in HOURS else None
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
                cell.number_format = fmt
    ws.freeze_panes = "C2"
    meta = wb.create_sheet("query")
    for key in ("from", "to", "as_of", "group_by", "unit"):
        meta.append([key, report.get(key)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- the rollup job ----------------------------------------------------------------------------------------------


async def backfill_reply_hours(rt: Runtime, limit: int = 5000) -> int:
    """Measure working hours of replies recorded without them (replied before migration 0003)."""
    async with rt.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT id, started_at, replied_at FROM assignments WHERE replied_at IS NOT NULL "
            "AND reply_working_seconds IS NULL ORDER BY id LIMIT $1",
            limit,
        )
        if not rows:
            return 0
        ids = [r["id"] for r in rows]
        seconds = [sla.working_seconds_between(rt.calendar, r["started_at"], r["replied_at"]) for r in rows]
        async with conn.transaction():
            await conn.execute(
                "UPDATE assignments a SET reply_working_seconds = v.s FROM unnest($1::bigint[], $2::float8[]) "
                "AS v (id, s) WHERE a.id = v.id",
                ids,
                seconds,
            )
            await conn.execute(
                "INSERT INTO report_changes (received_at) SELECT DISTINCT t.received_at FROM assignments a "
                "JOIN tickets t ON t.id = a.ticket_id WHERE a.id = any($1::bigint[])",
                ids,
            )
    return len(rows)


def _day_ranges(days: list[date], tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """Consecutive days as one range each run."""
    ranges: list[tuple[datetime, datetime]] = []
    for d in sorted(days):
        lo, hi = _midnight(d, tz), _midnight(d + timedelta(days=1), tz)
        if ranges and ranges[-1][1] == lo:
            ranges[-1] = (ranges[-1][0], hi)
        else:
            ranges.append((lo, hi))
    return ranges


async def rebuild_days(conn: asyncpg.Connection, tz_name: str, days: list[date]) -> None:
    """Rewrite the rollups of whole local days, then of their months (inside the caller's transaction)."""
    ranges = _day_ranges(days, ZoneInfo(tz_name))
    months = sorted({d.replace(day=1) for d in days})
    await _planner_settings(conn)
    await conn.execute("DELETE FROM report_daily WHERE day = any($1::date[])", days)
    await conn.execute("DELETE FROM report_pending WHERE day = any($1::date[])", days)
    await conn.execute(_rebuild_sql(len(ranges)), tz_name, *_flat(ranges))
    await conn.execute("DELETE FROM report_monthly WHERE month = any($1::date[])", months)
    await conn.execute("DELETE FROM report_pending_monthly WHERE month = any($1::date[])", months)
    await conn.execute(REBUILD_MONTHS_SQL, months)


async def refresh_rollups(
    rt: Runtime, now: datetime | None = None, *, batch_days: int = 31, budget_seconds: float = 12.0
) -> dict[str, int]:
    """Consume the change queue: rewrite every queued day, oldest first, a batch of days per transaction.

    Idempotent and safe to run concurrently (an advisory lock serialises runs); a change committed while a batch
    runs stays queued for the next run, so nothing is lost, at worst a day is recomputed twice."""
    started = time.monotonic()
    tz_name = rt.settings.timezone
    tz = ZoneInfo(tz_name)
    backfilled = await backfill_reply_hours(rt)
    days_done = 0
    batches = 0
    while time.monotonic() - started < budget_seconds:
        async with rt.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", ROLLUP_LOCK)
            first = await conn.fetchval("SELECT min(received_at) FROM report_changes")
            if first is None:
                break
            first_day = first.astimezone(tz).date()
            window_end = _midnight(first_day + timedelta(days=batch_days), tz)
            deleted = await conn.fetch(
                "DELETE FROM report_changes WHERE received_at < $1 RETURNING received_at", window_end
            )
            days = sorted({r["received_at"].astimezone(tz).date() for r in deleted})
            await rebuild_days(conn, tz_name, days)
        days_done += len(days)
        batches += 1
    result = {"days": days_done, "batches": batches, "reply_hours_backfilled": backfilled}
    if days_done or backfilled:
        log.info("rollups_refreshed", duration_ms=round((time.monotonic() - started) * 1000, 1), **result)
    return result


async def rebuild_all(rt: Runtime) -> int:
    """Rebuild every receipt day and month from scratch (after a bulk load, or to repair), a month per
    transaction."""
    tz_name = rt.settings.timezone
    async with rt.pool.acquire() as conn:
        days = [
            r["day"]
            for r in await conn.fetch(
                "SELECT DISTINCT (received_at AT TIME ZONE $1)::date AS day FROM tickets ORDER BY 1", tz_name
            )
        ]
        by_month: dict[date, list[date]] = {}
        for d in days:
            by_month.setdefault(d.replace(day=1), []).append(d)
        for month_days in by_month.values():
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", ROLLUP_LOCK)
                await conn.execute("SET LOCAL work_mem = '256MB'")
                await rebuild_days(conn, tz_name, month_days)
    return len(days)


# --- daily digest --------------------------------------------------------------------------------------------------


def digest_day(now: datetime, tz: ZoneInfo) -> date:
    """The day a digest run at `now` reports on: yesterday once the morning digest time has come."""
    local = now.astimezone(tz)
    return local.date() - timedelta(days=1 if local.time() >= DIGEST_LOCAL_TIME else 2)


async def daily_digest(
    rt: Runtime,
    now: datetime | None = None,
    *,
    urls: tuple[str, ...] | None = None,
    http: httpx.AsyncClient | None = None,
) -> dict[str, int]:
    """日报: one digest per unit and one for managers for the previous local day, stored once, then pushed.

    Each holds the day's figures (tickets received that day), month-to-date figures, and the unit's open
    assignments past their reply deadline now, whatever their receipt date. Safe to run hourly: a digest already
    stored is not made again, and only digests not yet pushed are pushed."""
    now = now or datetime.now(UTC)
    tz = ZoneInfo(rt.settings.timezone)
    day = digest_day(now, tz)
    day_q = ReportQuery(_midnight(day, tz), _midnight(day + timedelta(days=1), tz), now)
    month_q = ReportQuery(_midnight(day.replace(day=1), tz), day_q.end, now)
    async with rt.pool.acquire() as conn:
        exists = await conn.fetchval("SELECT count(*) FROM report_digests WHERE day = $1", day)
        made = 0
        if not exists:
            day_r = await compute(conn, rt.settings.timezone, day_q)
            month_r = await compute(conn, rt.settings.timezone, month_q)
            overdue = {
                r["unit"]: r["n"]
                for r in await conn.fetch(
                    """SELECT a.unit, count(*)::int AS n FROM assignments a
                   JOIN clocks c ON c.assignment_id = a.id AND c.clock = 'reply'
                   WHERE a.ended_at IS NULL AND a.charged AND c.due_at <= $1 GROUP BY a.unit""",
                    now,
                )
            }
            by_day = {r["group"]: r for r in day_r["rows"]}
            by_month = {r["group"]: r for r in month_r["rows"]}
            strip = lambda r: {m: r[m] for m in METRICS}  # noqa: E731
            common = {"day": day.isoformat(), "as_of": now.isoformat(), "month_from": month_q.start.isoformat()}
            records: list[tuple[str, str | None, dict[str, Any]]] = []
            for code, name in sorted(rt.names.units.items()):
                records.append(
                    (
                        "unit",
                        code,
                        {
                            **common,
                            "unit": code,
                            "unit_name": name,
                            "day_figures": strip(by_day[code]) if code in by_day else empty_metrics(),
                            "month_to_date": strip(by_month[code]) if code in by_month else empty_metrics(),
                            "overdue_open_now": overdue.get(code, 0),
                        },
                    )
                )
            records.append(
                (
                    "managers",
                    None,
                    {
                        **common,
                        "day_totals": day_r["totals"],
                        "month_totals": month_r["totals"],
                        "day_by_unit": [
                            {"unit": r["group"], "unit_name": group_name(rt, "unit", r["group"]), **strip(r)}
                            for r in day_r["rows"]
                        ],
                        "month_by_unit": [
                            {"unit": r["group"], "unit_name": group_name(rt, "unit", r["group"]), **strip(r)}
                            for r in month_r["rows"]
                        ],
                        "overdue_open_now": sum(overdue.values()),
                        "overdue_open_now_by_unit": overdue,
                    },
                )
            )
            made = len(
                await conn.fetch(
                    """INSERT INTO report_digests (day, audience, unit, body)
                   SELECT $1, x.audience, x.unit, x.body FROM unnest($2::text[], $3::text[], $4::jsonb[])
                       AS x (audience, unit, body)
                   ON CONFLICT DO NOTHING RETURNING id""",
                    day,
                    [r[0] for r in records],
                    [r[1] for r in records],
                    [r[2] for r in records],
                )
            )
    # After the connection went back: the push waits on receivers (up to their timeout each), and a pool
    # connection held meanwhile is one the API and the other jobs cannot have.
    pushed = await _push_digests(rt, day, rt.settings.webhook_urls if urls is None else urls, http)
    if made:
        log.info("daily_digest_stored", day=day.isoformat(), digests=made, pushed=pushed)
    return {"stored": made, "pushed": pushed}


DIGEST_RETRY_DAYS = 7


async def _push_digests(rt: Runtime, day: date, urls: tuple[str, ...], http: httpx.AsyncClient | None) -> int:
    """POST the day's digests to every webhook URL that has not accepted them yet, with hotline.infra.webhooks' headers
    (X-Hotline-Delivery "digest:<id>" lets a receiver drop a repeat). A URL that fails is tried again by every
    hourly run for a week (a receiver down over a weekend still gets Friday's digest); pushed_at is set once every
    URL has taken the digest."""
    if not urls:
        return 0
    rows = await rt.pool.fetch(
        "SELECT id, audience, unit, body, pushed_urls FROM report_digests "
        "WHERE day > $1::date - $2::int AND day <= $1 AND pushed_at IS NULL ORDER BY id",
        day,
        DIGEST_RETRY_DAYS,
    )
    todo = [(r, url) for r in rows for url in urls if url not in r["pushed_urls"]]
    if not todo:
        return 0
    client = http or httpx.AsyncClient(timeout=webhooks.TIMEOUT_SECONDS)
    try:
        errors = await asyncio.gather(
            *(
                webhooks._post(
                    client,
                    {"id": f"digest:{r['id']}", "url": url, "attempts": 1},
                    {
                        "event": "report.daily_digest",
                        "digest_id": r["id"],
                        "audience": r["audience"],
                        "unit": r["unit"],
                        **r["body"],
                    },
                )
                for r, url in todo
            )
        )
    finally:
        if http is None:
            await client.aclose()
    accepted = [(r["id"], url) for (r, url), error in zip(todo, errors) if error is None]
    for (r, url), error in zip(todo, errors):
        if error is not None:
            log.warning("digest_push_failed", digest_id=r["id"], error=error)
    await rt.pool.execute(
        """UPDATE report_digests d SET pushed_urls = d.pushed_urls || a.urls,
                  pushed_at = CASE WHEN $3::text[] <@ (d.pushed_urls || a.urls) THEN $4::timestamptz END
           FROM (SELECT id, array_agg(url) AS urls FROM unnest($1::bigint[], $2::text[]) AS x (id, url) GROUP BY id) a
           WHERE d.id = a.id""",
        [a[0] for a in accepted],
        [a[1] for a in accepted],
        list(urls),
        datetime.now(UTC),
    )
    return len({a[0] for a in accepted})


async def list_digests(rt: Runtime, principal: Principal, day: date | None, limit: int = 50) -> list[dict[str, Any]]:
    """Stored digests a principal may read: a handler its unit's, managers and the like every one."""
    unit = unit_scope(principal)
    rows = await rt.pool.fetch(
        """SELECT id, day, audience, unit, body, created_at, pushed_at FROM report_digests
           WHERE ($1::date IS NULL OR day = $1) AND ($2::text IS NULL OR (audience = 'unit' AND unit = $2))
           ORDER BY day DESC, audience, unit NULLS FIRST LIMIT $3""",
        day,
        unit,
        limit,
    )
    return [
        {
            "id": r["id"],
            "day": r["day"].isoformat(),
            "audience": r["audience"],
            "unit": r["unit"],
            "body": r["body"],
            "created_at": r["created_at"].isoformat(),
            "pushed_at": r["pushed_at"].isoformat() if r["pushed_at"] else None,
        }
        for r in rows
    ]

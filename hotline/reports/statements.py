"""The report's SQL, generated from one place: the facts (one statement shared by the rollups, the live days and
the from-scratch report), the rollup rebuilds and the report itself. Generated rather than kept in .sql files
because the receipt ranges are spelled out one parameter pair each and the counters come from metrics.COUNTERS."""

from __future__ import annotations

from hotline.infra.db import Conn
from hotline.reports.metrics import COUNTERS, GROUPS

# --- the facts: one SQL for rollups, live days and the from-scratch report --------------------------------------
# $1: time zone; receipt ranges [lo, hi) as parameter pairs from $first. One row per fact, keyed by local day of
# receipt and the unit it is charged to; `unreplied`/`open`/`reply_due` let the caller judge deadlines against as_of.
# The ranges are spelled out (not unnested from arrays) so the planner sees how few tickets they hold and walks
# the indexes from them instead of hashing whole tables; compute() and rebuild_days() ask for custom plans.


def facts_sql(ranges: int, first: int) -> str:
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


def rebuild_sql(ranges: int) -> str:
    """Both rollups of the days in the ranges from one pass over their facts ($1 zone, ranges from $2)."""
    return f"""
WITH {facts_sql(ranges, 2)}, daily AS (
    INSERT INTO report_daily ({KEY}, {", ".join(COUNTERS)}, reply_hours)
    SELECT {KEY}, {SUMS}, coalesce(array_agg(hours ORDER BY hours) FILTER (WHERE hours IS NOT NULL), '{{}}')
    FROM facts GROUP BY {KEY}
)
INSERT INTO report_pending ({KEY}, due_on, unreplied, open)
SELECT {KEY}, (reply_due AT TIME ZONE $1)::date, sum(unreplied)::int, sum(open)::int
FROM facts WHERE unreplied = 1 AND reply_due IS NOT NULL
GROUP BY {KEY}, (reply_due AT TIME ZONE $1)::date
"""


def report_sql(group: str, ranges: int) -> str:
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
WITH {facts_sql(ranges, 11)}, parts AS (
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


def rollup_hours_sql(group: str) -> str:
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


async def planner_settings(conn: Conn) -> None:
    # Plans must see the actual ranges (a generic plan guesses a third of the table per range); index probes from
    # a few thousand tickets must beat hashing whole tables, which they do on cached data and SSDs (the default
    # random_page_cost of 4 assumes spinning disks); JIT compilation costs more than it saves here.
    await conn.execute(
        "SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL random_page_cost = 1.1; SET LOCAL jit = off"
    )

"""Computing a report from one REPEATABLE READ snapshot: rollups where they are clean, live SQL elsewhere, exact
percentiles merged in Python; and the JSON of GET /api/reports/closure."""

from __future__ import annotations

import itertools
import time
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from hotline.auth.tokens import Principal
from hotline.infra.db import Conn
from hotline.infra.runtime import Runtime
from hotline.reports.metrics import METRICS, NO_GROUP_NAMES, empty_metrics, metrics_of, percentiles
from hotline.reports.planner import flat_ranges, plan
from hotline.reports.query import ReportQuery, midnight, unit_scope
from hotline.reports.shapes import ClosureFigures, ClosureReport, ClosureRow
from hotline.reports.statements import planner_settings, report_sql, rollup_hours_sql

log = structlog.get_logger(__name__)


async def compute(
    conn: Conn, tz_name: str, q: ReportQuery, *, unit: str | None = None, use_rollups: bool = True
) -> dict[str, Any]:
    """Rows and totals for one query, read from one snapshot. The caller opens no transaction."""
    tz = ZoneInfo(tz_name)
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        await planner_settings(conn)
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
            report_sql(q.group_by, len(p.live)),
            tz_name,
            q.as_of,
            unit,
            p.days,
            p.months,
            p.dirty,
            as_of_day,
            midnight(as_of_day, tz),
            midnight(p.lo, tz),
            midnight(p.hi, tz),
            *flat_ranges(p.live),
        )
        hours: dict[str | None, list[float]] = {}
        if p.days or p.months:
            for r in await conn.fetch(rollup_hours_sql(q.group_by), p.days, p.months, unit):
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
        {"group": r["g"], **metrics_of(r, percentiles(hours.get(r["g"], []), presorted=True))}
        for r in rows
        if r["total"] == 0
    ]
    totals = next(
        (metrics_of(r, percentiles(everything, presorted=True)) for r in rows if r["total"] == 1), empty_metrics()
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
) -> ClosureReport:
    """GET /api/reports/closure as JSON: rows per group with display names, and totals."""
    unit = unit_scope(principal)
    started = time.perf_counter()
    async with rt.reports_pool.acquire() as conn:
        result = await compute(conn, rt.settings.timezone, q, unit=unit, use_rollups=use_rollups)
    rows = [
        ClosureRow(group=r["group"], group_name=group_name(rt, q.group_by, r["group"]), **{m: r[m] for m in METRICS})
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
    return ClosureReport(
        from_=q.start.isoformat(),
        to=q.end.isoformat(),
        as_of=q.as_of.isoformat(),
        group_by=q.group_by,
        unit=unit,
        metrics=list(METRICS),
        rows=rows,
        totals=ClosureFigures(**result["totals"]),
    )

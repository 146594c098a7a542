"""The rollup job: consume the change queue and rewrite whole days and their months, set-based, under an advisory
lock; the reply-hours backfill; a rebuild of everything from scratch."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import structlog

import sla
from hotline.infra.db import Conn
from hotline.infra.runtime import Runtime
from hotline.reports.planner import day_ranges, flat_ranges
from hotline.reports.query import midnight
from hotline.reports.statements import REBUILD_MONTHS_SQL, planner_settings, rebuild_sql

log = structlog.get_logger(__name__)


ROLLUP_LOCK = 0x686F746C_7270  # serialises rollup refreshes across workers


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


async def rebuild_days(conn: Conn, tz_name: str, days: list[date]) -> None:
    """Rewrite the rollups of whole local days, then of their months (inside the caller's transaction)."""
    ranges = day_ranges(days, ZoneInfo(tz_name))
    months = sorted({d.replace(day=1) for d in days})
    await planner_settings(conn)
    await conn.execute("DELETE FROM report_daily WHERE day = any($1::date[])", days)
    await conn.execute("DELETE FROM report_pending WHERE day = any($1::date[])", days)
    await conn.execute(rebuild_sql(len(ranges)), tz_name, *flat_ranges(ranges))
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
            window_end = midnight(first_day + timedelta(days=batch_days), tz)
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

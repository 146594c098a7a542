"""日报: the daily digests, stored once per day and audience, pushed to the webhook receivers until each took them,
and read back by the people they are for."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import msgspec
import structlog

from hotline.auth.tokens import Principal
from hotline.escalation import overdue as late
from hotline.infra import webhooks
from hotline.infra.runtime import Runtime
from hotline.reports.compute import compute, group_name
from hotline.reports.metrics import METRICS, empty_metrics
from hotline.reports.query import ReportQuery, midnight, unit_scope
from hotline.reports.shapes import Digest, DigestBody, DigestPage

log = structlog.get_logger(__name__)


DIGEST_LOCAL_TIME = dtime(7, 30)  # a day's digest goes out the next morning


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
    day_q = ReportQuery(midnight(day, tz), midnight(day + timedelta(days=1), tz), now)
    month_q = ReportQuery(midnight(day.replace(day=1), tz), day_q.end, now)
    async with rt.pool.acquire() as conn:
        exists = await conn.fetchval("SELECT count(*) FROM report_digests WHERE day = $1", day)
        made = 0
        if not exists:
            day_r = await compute(conn, rt.settings.timezone, day_q)
            month_r = await compute(conn, rt.settings.timezone, month_q)
            # 超期未办结 now, as the board counts it (the report's overdue_open over every receipt day).
            overdue = {unit: int(n) for unit, n in (await late.board(conn, now))["overdue_by_unit"].items()}
            by_day = {r["group"]: r for r in day_r["rows"]}
            by_month = {r["group"]: r for r in month_r["rows"]}
            strip = lambda r: {m: r[m] for m in METRICS}  # noqa: E731
            common = {"day": day.isoformat(), "as_of": now.isoformat(), "month_from": month_q.start.isoformat()}
            records: list[tuple[str, str | None, dict[str, Any]]] = []
            # Active units, and a deactivated one while it still has figures (tickets it held, clocks still open).
            held = by_day.keys() | by_month.keys() | overdue.keys()
            for code, name in sorted(rt.names.units.items()):
                if code not in rt.names.active_units and code not in held:
                    continue
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
                webhooks.post(
                    client,
                    url,
                    {"event": "report.daily_digest", "digest_id": r["id"], "audience": r["audience"], "unit": r["unit"]}
                    | r["body"],
                    delivery=f"digest:{r['id']}",
                    attempt=1,
                )
                for r, url in todo
            )
        )
    finally:
        if http is None:
            await client.aclose()
    accepted = [(r["id"], url) for (r, url), error in zip(todo, errors, strict=True) if error is None]
    for (r, _), error in zip(todo, errors, strict=True):
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


async def list_digests(rt: Runtime, principal: Principal, day: date | None, limit: int = 50) -> DigestPage:
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
    return DigestPage(
        items=[
            Digest(
                id=r["id"],
                day=r["day"].isoformat(),
                audience=r["audience"],
                unit=r["unit"],
                body=msgspec.convert(r["body"], DigestBody),  # the JSON daily_digest stored
                created_at=r["created_at"].isoformat(),
                pushed_at=r["pushed_at"].isoformat() if r["pushed_at"] else None,
            )
            for r in rows
        ]
    )

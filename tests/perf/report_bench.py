"""Benchmark (c): a one-month closure report by unit over a history of 1,000,000 open and 5,000,000 closed tickets,
target <= 300 ms. A plain script, not collected by pytest:

    .venv/bin/python tests/perf/report_bench.py [--open 1000000] [--closed 5000000] [--months 36]
                                                [--load-budget 600] [--runs 30] [--keep]

It recreates its own database (HOTLINE_BENCH_DATABASE_URL, default .../hotline_report_bench), migrates it and seeds
the reference data, then loads the history in ten slices, each a tenth of the tickets spread over the whole
history, so that stopping early (when --load-budget seconds of loading have passed) still leaves a coherent,
thinner history; the size reached is printed.

The generator decides each ticket's story in Python and bulk-loads it with COPY into an unlogged staging table;
set-based SQL expands the stories into tickets, assignments, sign and reply clocks, callbacks, approved extensions and
urge events: every row the report reads. Not generated: the other events (create, sign, reply...), callback clocks,
escalation steps. Secondary indexes are dropped during the load and rebuilt after it (timed, as part of loading);
foreign-key checks and triggers are off for the loading session (session_replication_role = replica), so the
rollups are then built by reports.rebuild_all (timed separately: in service the worker keeps them current).

Deadlines: sign at 17:30 on the next Monday-Friday day, reply at 17:30 on the Nth (by kind), urgent 30 min and
24 h of natural time (no holidays: the benchmark measures reports, not the calendar).

History: closed tickets uniform over --months months ending 2026-11-20 10:00 +08:00 ("now"); open tickets half in
the last 60 days, half uniform over the history (an old backlog). Channels, kinds, categories and territories are
drawn with fixed weights and routed by the real routing rules; 8% of dispatched tickets were returned and
re-dispatched (half of those ruled proper), closures are 80% after callback, 10% answered at once, 5% rejected,
5% merged.

Measured: the report of October 2026 by unit (GET /api/reports/closure through the ASGI app, as a manager, and the
service call alone), cold and warm, as_of = now; the same with three of its days queued as changed (computed live),
every other grouping, and the from-scratch computation for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


from config.logging import configure_logging  # noqa: E402
from config.settings import Settings  # noqa: E402
from hotline import reports  # noqa: E402
from hotline.auth.tokens import Principal, issue_token  # noqa: E402
from hotline.infra import db
from hotline.infra.runtime import Runtime  # noqa: E402
from hotline.ops.seed import fresh_database  # noqa: E402
from hotline.tickets import routing
from tests.perf import common  # noqa: E402

TZ = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)
MONTH = ("2026-10-01", "2026-11-01")
SLICES = 10
TABLES = ("tickets", "assignments", "clocks", "callbacks", "extension_requests", "events")
DAY = 86400

CHANNELS = [("96196", 60), ("12345", 25), ("12328", 10), ("12319", 5)]
KINDS = [("complaint", 40), ("consultation", 20), ("help", 15), ("report", 10), ("suggestion", 10), ("praise", 5)]
REPLY_DAYS = {"consultation": 2, "help": 10, "suggestion": 10, "complaint": 15, "report": 15, "praise": 10}
CATEGORIES = [
    ("taxi", 25),
    ("ride_hailing", 15),
    ("bus", 20),
    ("road", 10),
    ("coach", 5),
    ("freight", 3),
    ("driving_school", 3),
    ("vehicle_repair", 3),
    ("road_admin", 3),
    ("highway", 4),
    ("toll", 3),
    ("waterway", 2),
    ("construction", 2),
    ("other", 2),
]
TERRITORIES = [
    ("320600", 10),
    ("320613", 25),
    ("320612", 15),
    ("320614", 12),
    ("320623", 10),
    ("320681", 10),
    ("320682", 10),
    ("320685", 8),
]
OPEN_STATUS = [
    ("in_progress", 55),
    ("replied", 22),
    ("dispatched", 15),
    ("pending_dispatch", 5),
    ("return_requested", 3),
]
CLOSURES = [("callback_done", 80), ("answered", 10), ("rejected", 5), ("merged", 5)]
SATISFACTION = [("satisfied", 70), ("basically_satisfied", 18), ("dissatisfied", 12)]
RESOLVED = [("resolved", 75), ("partly", 15), ("unresolved", 10)]

STORY_SQL = """
CREATE UNLOGGED TABLE bench_story (
    id bigint, received_at timestamptz, channel text, kind text, category text, territory text, urgent boolean,
    status text, closure text, unit text, first_unit text, proper boolean, signed_s integer, replied_s integer,
    closed_s integer, contacted boolean, satisfaction text, resolved text, extension boolean, urge boolean,
    hours double precision, reply_s integer, sign_s integer)
"""
STORY_COLUMNS = [
    "id",
    "received_at",
    "channel",
    "kind",
    "category",
    "territory",
    "urgent",
    "status",
    "closure",
    "unit",
    "first_unit",
    "proper",
    "signed_s",
    "replied_s",
    "closed_s",
    "contacted",
    "satisfaction",
    "resolved",
    "extension",
    "urge",
    "hours",
    "reply_s",
    "sign_s",
]

# The main assignment (id*2+1) is the ticket's current one; a returned first stop (id*2) precedes it by 2 hours.
EXPAND_SQL = [
    """INSERT INTO tickets (id, number, channel, kind, category, territory, title, content, urgent, status, closure,
                            unit, current_assignment_id, merged_into, routing, received_at, created_at, updated_at,
                            replied_at, closed_at)
       OVERRIDING SYSTEM VALUE
       SELECT id, 'B' || id, channel, kind, category, territory, '工单', '压测工单', urgent, status, closure, unit,
              CASE WHEN unit IS NOT NULL THEN id * 2 + 1 END, CASE WHEN closure = 'merged' THEN 1 END, '{}',
              received_at, received_at, received_at, m.start + replied_s * interval '1 second',
              received_at + closed_s * interval '1 second'
       FROM bench_story, LATERAL (SELECT received_at + CASE WHEN first_unit IS NULL THEN interval '0'
                                  ELSE interval '2 hours' END AS start) m""",
    """INSERT INTO assignments (id, ticket_id, seq, unit, origin, started_at, signed_at, returned_at, return_proper,
                                ended_at, end_reason, charged)
       OVERRIDING SYSTEM VALUE
       SELECT id * 2, id, 1, first_unit, 'route', received_at, received_at + interval '1 hour',
              received_at + interval '90 minutes', proper, received_at + interval '2 hours', 'returned', NOT proper
       FROM bench_story WHERE first_unit IS NOT NULL""",
    """INSERT INTO assignments (id, ticket_id, seq, unit, origin, started_at, signed_at, replied_at, returned_at,
                                ended_at, end_reason, charged, reply_working_seconds)
       OVERRIDING SYSTEM VALUE
       SELECT s.id * 2 + 1, s.id, CASE WHEN s.first_unit IS NULL THEN 1 ELSE 2 END, s.unit,
              CASE WHEN s.first_unit IS NULL THEN 'route' ELSE 'redispatch' END, m.start,
              m.start + s.signed_s * interval '1 second', m.start + s.replied_s * interval '1 second',
              CASE WHEN s.status = 'return_requested' THEN m.start + interval '3 hours' END,
              CASE WHEN s.replied_s IS NOT NULL THEN m.start + s.replied_s * interval '1 second'
                   WHEN s.closure IN ('answered', 'rejected', 'merged')
                   THEN s.received_at + s.closed_s * interval '1 second' END,
              CASE WHEN s.replied_s IS NOT NULL THEN 'replied' WHEN s.closure = 'answered' THEN 'withdrawn'
                   WHEN s.closure IN ('rejected', 'merged') THEN s.closure END,
              s.closure IS NULL OR s.closure = 'callback_done', s.hours * 3600
       FROM bench_story s, LATERAL (SELECT s.received_at + CASE WHEN s.first_unit IS NULL THEN interval '0'
                                    ELSE interval '2 hours' END AS start) m
       WHERE s.unit IS NOT NULL""",
    """INSERT INTO clocks (ticket_id, assignment_id, clock, unit, started_at, due_at, warning_at, supervision_at,
                           deadline, policy_version, calendar_version, stopped_at, stop_reason)
       SELECT a.ticket_id, a.id, k.clock, a.unit, a.started_at, a.started_at + k.limit_s * interval '1 second',
              a.started_at + k.limit_s * 0.75 * interval '1 second',
              a.started_at + (k.limit_s + 2 * 86400) * interval '1 second', '{}', 1, 'bench',
              CASE WHEN k.clock = 'sign' THEN coalesce(a.signed_at, a.ended_at) ELSE a.ended_at END,
              CASE WHEN a.ended_at IS NOT NULL OR (k.clock = 'sign' AND a.signed_at IS NOT NULL) THEN 'bench' END
       FROM assignments a JOIN bench_story s ON s.id = a.ticket_id,
            LATERAL (VALUES ('sign', s.sign_s), ('reply', s.reply_s)) AS k (clock, limit_s)""",
    """INSERT INTO callbacks (ticket_id, assignment_id, at, contacted, resolved, satisfaction)
       SELECT id, id * 2 + 1, received_at + (closed_s - 3600) * interval '1 second', contacted,
              CASE WHEN contacted THEN resolved END, CASE WHEN contacted THEN satisfaction ELSE 'no_answer' END
       FROM bench_story WHERE closure = 'callback_done'""",
    """INSERT INTO extension_requests (ticket_id, assignment_id, requested_at, working_days, reason, status,
                                       decided_at, old_due_at, new_due_at)
       SELECT id, id * 2 + 1, received_at + interval '1 day', 5, '压测', 'approved', received_at + interval '26 hours',
              received_at + reply_s * interval '1 second', received_at + reply_s * interval '1 second'
       FROM bench_story WHERE extension""",
    """INSERT INTO events (ticket_id, assignment_id, at, actor, role, action, status_before, status_after, version)
       SELECT id, id * 2 + 1, received_at + interval '2 days', 'bench', 'manager', 'urge', status, status, 2
       FROM bench_story WHERE urge""",
]


def weighted(pairs: list[tuple[str, int]]) -> tuple[list[str], list[int]]:
    values, weights = zip(*pairs, strict=True)
    cum, total = [], 0
    for w in weights:
        total += w
        cum.append(total)
    return list(values), cum


# Calendar days from a weekday to the Nth following Monday-Friday day (holidays ignored: a benchmark, not the SLA).
_WORKDAY_OFFSET = [[0] * 61 for _ in range(7)]
for _wd in range(7):
    _d, _n = 0, 0
    while _n < 60:
        _d += 1
        if (_wd + _d) % 7 < 5:
            _n += 1
            _WORKDAY_OFFSET[_wd][_n] = _d


def due_after(start: float, working_days: int) -> int:
    """Seconds from `start` to 17:30 local on the Nth working day after its local date."""
    local = datetime.fromtimestamp(start, TZ)
    midnight = local.timestamp() - (local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6)
    return int(midnight + _WORKDAY_OFFSET[local.weekday()][working_days] * DAY + 17.5 * 3600 - start)


def stories(rng: random.Random, first_id: int, count: int, n_open: int, routes: dict, months: int):
    """Yield `count` staging rows; the first `n_open` are open tickets."""
    pick = {
        name: weighted(pairs)
        for name, pairs in (
            ("ch", CHANNELS),
            ("kind", KINDS),
            ("cat", CATEGORIES),
            ("terr", TERRITORIES),
            ("open", OPEN_STATUS),
            ("closure", CLOSURES),
            ("sat", SATISFACTION),
            ("res", RESOLVED),
        )
    }

    def choose(name: str) -> str:
        values, cum = pick[name]
        return rng.choices(values, cum_weights=cum)[0]

    span = months * 30 * DAY
    end = NOW.timestamp()
    units = sorted({u for u in routes.values() if u})
    for i in range(count):
        is_open = i < n_open
        if is_open and rng.random() < 0.5:
            received = end - rng.random() * 60 * DAY
        else:
            received = end - rng.random() * span
        kind = choose("kind")
        urgent = rng.random() < 0.05
        category = choose("cat") if rng.random() > 0.03 else None
        territory = choose("terr")
        unit = routes.get((category, territory))
        status = choose("open") if is_open else "closed"
        closure = None if is_open else choose("closure")
        if unit is None:  # unroutable: waits for dispatch, or was answered/rejected at once
            status = "pending_dispatch" if is_open else status
            closure = None if is_open else rng.choice(["answered", "rejected"])
        elif status == "pending_dispatch":
            unit = None
        first_unit = proper = None
        if unit is not None and closure not in ("answered", "rejected", "merged") and rng.random() < 0.08:
            first_unit = rng.choice(units)
            first_unit = first_unit if first_unit != unit else units[0] if unit != units[0] else units[1]
            proper = rng.random() < 0.5
        start = received + (7200 if first_unit else 0)
        reply_s = DAY if urgent else due_after(start, REPLY_DAYS[kind])
        sign_s = 1800 if urgent else due_after(start, 1)
        signed_s = replied_s = closed_s = None
        contacted = satisfaction = resolved = None
        hours = None
        late = rng.random() < 0.12
        if status in ("in_progress", "replied", "return_requested") or closure == "callback_done":
            signed_s = int(sign_s * (1.5 if late else rng.random()))
        if status == "replied" or closure == "callback_done":
            replied_s = min(int(reply_s * (1.3 if late else rng.random())) + signed_s, int(end - received) - 60)
            replied_s = max(replied_s, signed_s + 60)
            hours = round(replied_s / 3600 * 0.3, 2)
        if closure == "callback_done":
            closed_s = replied_s + 7200 + (0 if first_unit is None else 7200) + DAY
            contacted = rng.random() < 0.92
            satisfaction, resolved = choose("sat"), choose("res")
        elif closure is not None:
            closed_s = 300
        yield (
            first_id + i,
            datetime.fromtimestamp(received, UTC),
            choose("ch"),
            kind,
            category,
            territory,
            urgent,
            status,
            closure,
            unit,
            first_unit,
            proper,
            signed_s,
            replied_s,
            closed_s,
            contacted,
            satisfaction,
            resolved,
            unit is not None and rng.random() < 0.04,
            unit is not None
            and status != "closed"
            and rng.random() < 0.05
            or (closure == "callback_done" and rng.random() < 0.03),
            hours,
            reply_s,
            sign_s,
        )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


TARGET_SECONDS = 0.300  # issue 5 (c): a one-month report by unit over the whole history


async def timed(fn, runs: int) -> tuple[float, list[float]]:
    t0 = time.perf_counter()
    await fn()
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await fn()
        warm.append(time.perf_counter() - t0)
    return cold, warm


def summary(warm: list[float]) -> str:
    warm = sorted(warm)
    p95 = warm[min(len(warm) - 1, int(len(warm) * 0.95))]
    return f"median {ms(statistics.median(warm))}, p95 {ms(p95)}, min {ms(warm[0])}, max {ms(warm[-1])}"


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--open", type=int, default=1_000_000)
    ap.add_argument("--closed", type=int, default=5_000_000)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--load-budget", type=float, default=600.0, help="seconds of loading before stopping early")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--keep", action="store_true", help="reuse an already loaded bench database")
    args = ap.parse_args()
    configure_logging("WARNING", False)
    logging.disable(logging.INFO)  # the service's per-report log line would drown the figures

    url = os.environ.get("HOTLINE_BENCH_DATABASE_URL", "postgresql://postgres@localhost:5432/hotline_report_bench")
    settings = Settings(
        database_url=url,
        redis_url=os.environ.get("HOTLINE_REDIS_URL", "redis://localhost:6379/0"),
        secret_key="report-bench-secret-key-0123456789abcdef",
        log_level="WARNING",
        db_pool_min=1,
        db_pool_max=4,
    )
    if not args.keep:
        await fresh_database(url, demo_password="bench", demo=False)
    rt = await Runtime.start(settings)
    try:
        if not args.keep:
            await load(rt, args)
        await measure(rt, settings, args.runs)
    finally:
        await rt.close()


async def load(rt: Runtime, args: argparse.Namespace) -> None:
    routes = {
        (c, t): routing.router(rt).resolve(c, t).unit for c, _ in CATEGORIES + [(None, 0)] for t, _ in TERRITORIES
    }
    rng = random.Random(20261120)
    # Two sessions: while the server expands one slice, Python generates and copies the next.
    copier, expander = await db.connect(rt.settings.database_url), await db.connect(rt.settings.database_url)
    for conn in (copier, expander):
        await conn.execute("SET session_replication_role = replica")  # no FK checks, no triggers while loading
        await conn.execute("SET synchronous_commit = off")
        await conn.execute("SET maintenance_work_mem = '1GB'")
    started = time.perf_counter()
    for k in (0, 1):
        await copier.execute(STORY_SQL.replace("bench_story", f"bench_story_{k}"))
    index_defs = await common.drop_secondary_indexes(copier, TABLES)
    next_id, loaded_open, loaded_closed = 1, 0, 0
    slice_seconds = 0.0

    async def expand(k: int) -> float:
        t0 = time.perf_counter()
        async with expander.transaction():
            for sql in EXPAND_SQL:
                await expander.execute(sql.replace("bench_story", f"bench_story_{k % 2}"))
            await expander.execute(f"TRUNCATE bench_story_{k % 2}")
        return time.perf_counter() - t0

    pending: asyncio.Task | None = None
    for k in range(SLICES):
        elapsed = time.perf_counter() - started
        if k and elapsed + slice_seconds * 1.2 + 150 > args.load_budget:  # keep room for the index rebuild
            print(f"load budget reached after {k} of {SLICES} slices")
            break
        t0 = time.perf_counter()
        n_open = args.open // SLICES + (1 if k < args.open % SLICES else 0)
        n_closed = args.closed // SLICES + (1 if k < args.closed % SLICES else 0)
        await copier.copy_records_to_table(
            f"bench_story_{k % 2}",
            columns=STORY_COLUMNS,
            records=stories(rng, next_id, n_open + n_closed, n_open, routes, args.months),
        )
        t_copy = time.perf_counter() - t0
        t_expand = await pending if pending is not None else 0.0
        pending = asyncio.create_task(expand(k))
        next_id += n_open + n_closed
        loaded_open += n_open
        loaded_closed += n_closed
        slice_seconds = time.perf_counter() - t0
        print(
            f"slice {k + 1}/{SLICES}: {n_open + n_closed:,} tickets generated and copied in {t_copy:.1f} s "
            f"(previous slice expanded in {t_expand:.1f} s); {loaded_open:,} open + {loaded_closed:,} closed",
            flush=True,
        )
    if pending is not None:
        print(f"last slice expanded in {await pending:.1f} s")
    await expander.close()
    conn = copier
    t0 = time.perf_counter()
    slowest = []
    for sql in index_defs:
        t1 = time.perf_counter()
        await conn.execute(sql)
        slowest.append((time.perf_counter() - t1, sql.split(" ON ")[0].split()[-1]))
    for table in ("tickets", "assignments", "clocks", "callbacks", "extension_requests", "events"):
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM {table}))"
        )
    await conn.execute("DROP TABLE bench_story_0, bench_story_1")
    print(
        f"{len(index_defs)} indexes rebuilt in {time.perf_counter() - t0:.1f} s (slowest: "
        + ", ".join(f"{name} {sec:.0f} s" for sec, name in sorted(slowest, reverse=True)[:3])
        + ")"
    )
    t0 = time.perf_counter()
    await conn.execute("ANALYZE")
    print(f"analyzed in {time.perf_counter() - t0:.1f} s")
    await conn.close()
    loading = time.perf_counter() - started
    t0 = time.perf_counter()
    days = await reports.rebuild_all(rt)
    rollup_s = time.perf_counter() - t0
    await common.as_owner(rt.settings.database_url, "VACUUM ANALYZE report_daily", "VACUUM ANALYZE report_pending")
    counts = await rt.pool.fetchrow(
        "SELECT (SELECT count(*) FROM tickets WHERE status <> 'closed') AS open, "
        "(SELECT count(*) FROM tickets WHERE status = 'closed') AS closed, (SELECT count(*) FROM assignments) AS a, "
        "(SELECT count(*) FROM clocks) AS c, (SELECT count(*) FROM callbacks) AS cb, "
        "(SELECT count(*) FROM report_daily) AS rd, (SELECT count(*) FROM report_pending) AS rp"
    )
    print(
        f"loaded {counts['open']:,} open + {counts['closed']:,} closed tickets, {counts['a']:,} assignments, "
        f"{counts['c']:,} clocks, {counts['cb']:,} callbacks in {loading:.0f} s of loading"
    )
    print(
        f"rollups built for {days} days in {rollup_s:.0f} s: {counts['rd']:,} report_daily rows, "
        f"{counts['rp']:,} report_pending rows"
    )


async def measure(rt: Runtime, settings: Settings, runs: int) -> None:
    import httpx

    from hotline.web.app import create_app

    manager = Principal(0, "bench", "manager", "压测")
    q = reports.parse_query(
        rt.settings.timezone, from_=MONTH[0], to=MONTH[1], as_of=NOW.isoformat(), group_by="unit", format=None
    )
    month_tickets = await rt.pool.fetchval(
        "SELECT count(*) FROM tickets WHERE received_at >= $1 AND received_at < $2", q.start, q.end
    )
    await common.as_owner(rt.settings.database_url, "TRUNCATE report_changes")
    print(
        f"\nreport: {MONTH[0]} .. {MONTH[1]} by unit, as_of {NOW.isoformat()}; {month_tickets:,} tickets received "
        f"in the month"
    )

    result: dict = {}

    async def service() -> None:
        result["r"] = await reports.closure_report(rt, manager, q)

    cold, warm = await timed(service, runs)
    print(f"service, rollups: cold {ms(cold)}; warm {summary(warm)}  ({len(result['r'].rows)} rows)")

    app = create_app(settings)
    app.state.runtime, app.state.settings, app.state.redis = rt, settings, rt.redis
    token, _ = issue_token(manager, settings.secret_key, 3600)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:

        async def http() -> None:
            r = await client.get(
                "/api/reports/closure",
                params={"from": MONTH[0], "to": MONTH[1], "as_of": NOW.isoformat(), "group_by": "unit"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert r.status_code == 200, r.text

        http_cold, http_warm = await timed(http, runs)
        print(f"HTTP GET /api/reports/closure (JSON): cold {ms(http_cold)}; warm {summary(http_warm)}")

    for group in ("territory", "channel", "category", "kind"):
        gq = reports.ReportQuery(q.start, q.end, q.as_of, group)

        async def by(gq: reports.ReportQuery = gq) -> None:  # bound now: timed() calls it within this turn
            await reports.closure_report(rt, manager, gq)

        _, warm = await timed(by, max(5, runs // 3))
        print(f"service, rollups, by {group}: warm {summary(warm)}")

    # Three days of the month changed since the last refresh: computed live until the worker's next run.
    await rt.pool.execute(
        "INSERT INTO report_changes (received_at) VALUES ($1), ($2), ($3)",
        datetime(2026, 10, 5, 12, tzinfo=TZ),
        datetime(2026, 10, 17, 12, tzinfo=TZ),
        datetime(2026, 10, 30, 12, tzinfo=TZ),
    )
    _, warm = await timed(service, max(5, runs // 3))
    print(f"service, 3 days queued as changed (live): warm {summary(warm)}")
    await common.as_owner(rt.settings.database_url, "TRUNCATE report_changes")

    t0 = time.perf_counter()
    scratch = await reports.closure_report(rt, manager, q, use_rollups=False)
    print(f"from scratch (no rollups), once: {ms(time.perf_counter() - t0)}")
    same = scratch.rows == result["r"].rows and scratch.totals == result["r"].totals
    print(f"rollup report equals from-scratch report: {same}")
    ok = same and statistics.median(http_warm) <= TARGET_SECONDS
    target = f"{TARGET_SECONDS * 1000:.0f} ms"
    print(
        f"PASS (equal, warm median <= {target})"
        if ok
        else f"FAIL (equal: {same}, warm median {ms(statistics.median(http_warm))}; target {target})"
    )
    t = msgspec.structs.asdict(result["r"].totals)
    print("totals: " + ", ".join(f"{k}={t[k]:.3f}" if isinstance(t[k], float) else f"{k}={t[k]}" for k in t))


if __name__ == "__main__":
    asyncio.run(main())

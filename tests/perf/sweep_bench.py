"""Benchmark (b): a sweep tick with 1,000 due items costs the same database time whatever the size of the tables.

A plain script, not collected by pytest:

    .venv/bin/python tests/perf/sweep_bench.py [--sizes 100000:500000,1000000:5000000] [--due 1000] [--ticks 5]

For each size OPEN:CLOSED it builds a fresh database (hotline_bench_sweep) and bulk-loads OPEN running tickets (an
assignment, a running reply clock, a sign clock running or stopped) and CLOSED finished ones (assignment ended, sign
and reply clocks stopped, a fifth of them with a recorded overdue step) with server-side INSERT ... SELECT over
generate_series, secondary indexes dropped during the load and rebuilt after, then VACUUM ANALYZE. 2 x TICKS x DUE
of the running clocks have a step already due; the rest fall due over the next weeks.

It then runs TICKS sweep ticks under EXPLAIN ANALYZE (the database's own elapsed time for the tick's one statement,
committed, so each tick takes the next DUE clocks), with the time to tell the steps recorded (the second, separate
transaction: notifications), and TICKS plain ticks timed from the client and by the CPU time of the PostgreSQL
backend (Linux /proc, same machine). Elapsed times grow when other work competes for the processors; CPU time does
not. The target is <= 50 ms of database time per tick of 1,000 due items, flat across sizes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # benchmark the working tree

from config.settings import Settings  # noqa: E402
from hotline.escalation import notifications  # noqa: E402
from hotline.escalation import steps as recording  # noqa: E402 - after sys.path: the working tree's package
from hotline.infra import db  # noqa: E402 - after sys.path: the working tree's package
from hotline.infra.runtime import Runtime  # noqa: E402
from hotline.ops import seed  # noqa: E402
from tests.perf import common  # noqa: E402

UTC = UTC
UNITS = [
    "320612-bureau",
    "320613-bureau",
    "320614-bureau",
    "320623-bureau",
    "320681-bureau",
    "320682-bureau",
    "320685-bureau",
    "city-taxi",
    "city-bus",
    "city-road",
    "city-transport",
    "city-highway",
]
TERRITORIES = ["320612", "320613", "320614", "320623", "320681", "320682", "320685"]
LOADED = ("tickets", "assignments", "clocks", "escalation_steps")
DEADLINE = {  # a compact stored deadline (no explanation): the sweep reads the clock's columns only
    "clock": "reply",
    "start": "2026-11-02T01:00:00+00:00",
    "due_at": "2026-11-20T09:30:00+00:00",
    "warning_at": "2026-11-16T05:00:00+00:00",
    "supervision_at": "2026-11-24T09:30:00+00:00",
    "basis": "working",
    "allowed_seconds": 378000.0,
    "provisional": False,
    "capped": False,
    "policy_id": "reply-complaint",
    "policy_version": 1,
    "calendar_version": "bench",
    "warning_ratio": 0.75,
    "supervision_after_working_days": 2,
    "limit": 15,
    "unit": "working_days",
    "cap": None,
    "computed_due_at": None,
    "suspended_at": None,
    "suspended_remaining_seconds": None,
    "adjustments": [],
    "policy": None,
}


def bench_urls() -> tuple[str, str]:
    return common.bench_urls("hotline_bench_sweep", os.environ.get("HOTLINE_BENCH_REDIS_DB", "13"))


async def fresh_database(url: str) -> None:
    await seed.fresh_database(url, demo_password="bench")


# --- the generator ---------------------------------------------------------------------------------------------------
# Server-side and set-based: generate_series feeds INSERT ... SELECT in chunks of ids, the fastest bulk path a
# single PostgreSQL offers (no row crosses the network). Ticket g has assignment g and clocks 2g-1 (sign) and 2g
# (reply); tickets 1..CLOSED are closed, the rest open. $1..$2 the chunk of ids, $3 CLOSED, $4 now, $5 the number of
# open reply clocks already due, $6 units, $7 territories, $8 the stored deadline.

RECEIVED = """CASE
     WHEN g <= $3 THEN $4::timestamptz - interval '730 days' + (g * 37 % (720 * 86400)) * interval '1 second'
     ELSE $4::timestamptz - ((g * 7919 % (14 * 86400)) + 3600) * interval '1 second' END"""

GENERATE = {
    "tickets": f"""
INSERT INTO tickets (id, number, channel, kind, category, territory, title, content, caller_name, caller_phone,
                     status, closure, unit, current_assignment_id, received_at, created_at, updated_at, closed_at,
                     sign_due_at, reply_due_at, version)
OVERRIDING SYSTEM VALUE
SELECT g, 'B' || lpad(g::text, 10, '0'), '96196', 'complaint', 'taxi',
       ($7::text[])[1 + g % cardinality($7::text[])], '基准工单', '出租车拒载，请核实处理。', '张先生', '13800000000',
       CASE WHEN g <= $3 THEN 'closed' WHEN g % 2 = 1 THEN 'in_progress' ELSE 'dispatched' END,
       CASE WHEN g <= $3 THEN 'callback_done' END, ($6::text[])[1 + g % cardinality($6::text[])], g,
       r.at, r.at, r.at, CASE WHEN g <= $3 THEN r.at + interval '9 days' END, r.at + interval '1 day',
       r.at + interval '21 days', CASE WHEN g <= $3 THEN 5 ELSE 2 END
FROM generate_series($1::bigint, $2::bigint) AS g, LATERAL (SELECT {RECEIVED} AS at) r
WHERE $5::integer >= 0 AND $8::jsonb IS NOT NULL
""",
    "assignments": f"""
INSERT INTO assignments (id, ticket_id, seq, unit, origin, started_at, signed_at, replied_at, ended_at, end_reason)
OVERRIDING SYSTEM VALUE
SELECT g, g, 1, ($6::text[])[1 + g % cardinality($6::text[])], 'route', r.at,
       CASE WHEN g <= $3 OR g % 2 = 1 THEN r.at + interval '3 hours' END,
       CASE WHEN g <= $3 THEN r.at + interval '8 days' END, CASE WHEN g <= $3 THEN r.at + interval '8 days' END,
       CASE WHEN g <= $3 THEN 'replied' END
FROM generate_series($1::bigint, $2::bigint) AS g, LATERAL (SELECT {RECEIVED} AS at) r
WHERE $5::integer >= 0 AND $7::text[] IS NOT NULL AND $8::jsonb IS NOT NULL
""",
    "clocks": f"""
INSERT INTO clocks (id, ticket_id, assignment_id, clock, unit, started_at, due_at, warning_at, supervision_at,
                    deadline, provisional, policy_version, calendar_version, version, stopped_at, stop_reason,
                    next_step, next_step_at)
OVERRIDING SYSTEM VALUE
SELECT 2 * g - 1, g, g, 'sign', u.unit, r.at, r.at + interval '1 day', r.at + interval '18 hours',
       r.at + interval '3 days', $8::jsonb, false, 1, 'bench', 1,
       CASE WHEN g <= $3 OR g % 2 = 1 THEN r.at + interval '3 hours' END,
       CASE WHEN g <= $3 OR g % 2 = 1 THEN 'signed' END,
       CASE WHEN g > $3 AND g % 2 = 0 THEN 'overdue' END,
       CASE WHEN g > $3 AND g % 2 = 0 THEN $4::timestamptz + interval '3 days' + (g % 86400) * interval '1 second' END
FROM generate_series($1::bigint, $2::bigint) AS g, LATERAL (SELECT {RECEIVED} AS at) r,
     LATERAL (SELECT ($6::text[])[1 + g % cardinality($6::text[])] AS unit) u
WHERE $7::text[] IS NOT NULL
UNION ALL
SELECT 2 * g, g, g, 'reply', u.unit, r.at, w.warning + interval '5 days', w.warning, w.warning + interval '7 days',
       $8::jsonb, false, 1, 'bench', 1,
       CASE WHEN g <= $3 THEN r.at + interval '8 days' END, CASE WHEN g <= $3 THEN 'replied' END,
       CASE WHEN g > $3 THEN 'warning' END, CASE WHEN g > $3 THEN w.warning END
FROM generate_series($1::bigint, $2::bigint) AS g, LATERAL (SELECT {RECEIVED} AS at) r,
     LATERAL (SELECT ($6::text[])[1 + g % cardinality($6::text[])] AS unit) u,
     LATERAL (SELECT CASE WHEN g <= $3 THEN r.at + interval '16 days'
                          -- already due: the ticks take these, oldest first
                          WHEN g - $3 <= $5 THEN $4::timestamptz - interval '10 minutes' + (g - $3) * interval '1 ms'
                          ELSE $4::timestamptz + interval '1 day' + (g * 104729 % (20 * 86400)) * interval '1 second'
                     END AS warning) w
""",
    # A fifth of the closed tickets were overdue once: the steps table is not empty either.
    "escalation_steps": f"""
INSERT INTO escalation_steps (clock_id, ticket_id, assignment_id, unit, clock, step, due_at, recorded_at,
                              clock_version, source, resolved_at)
SELECT 2 * g, g, g, ($6::text[])[1 + g % cardinality($6::text[])], 'reply', 'overdue', r.at + interval '7 days',
       r.at + interval '7 days 3 seconds', 1, 'job', r.at + interval '8 days'
FROM generate_series($1::bigint, least($2::bigint, $3::bigint)) AS g, LATERAL (SELECT {RECEIVED} AS at) r
WHERE g % 5 = 1 AND $5::integer >= 0 AND $7::text[] IS NOT NULL AND $8::jsonb IS NOT NULL
""",
}
CHUNK = 500_000


class Plan:
    def __init__(self, open_n: int, closed_n: int, due_total: int, now: datetime) -> None:
        self.open_n, self.closed_n, self.due_total, self.now = open_n, closed_n, due_total, now
        self.total = open_n + closed_n


async def load(url: str, plan: Plan) -> dict[str, float]:
    timings: dict[str, float] = {}
    conn = await db.connect(url)
    try:
        await conn.execute("SET maintenance_work_mem = '512MB'")
        await conn.execute("SET synchronous_commit = off")  # a benchmark's data set: nothing to lose on a crash
        indexes = await common.drop_secondary_indexes(conn, LOADED)
        # A generated data set is consistent by construction: skip FK and trigger checks row by row.
        await conn.execute("SET session_replication_role = replica")
        for table in LOADED:
            started = time.perf_counter()
            for first in range(1, plan.total + 1, CHUNK):
                await conn.execute(
                    GENERATE[table],
                    first,
                    min(plan.total, first + CHUNK - 1),
                    plan.closed_n,
                    plan.now,
                    plan.due_total,
                    UNITS,
                    TERRITORIES,
                    DEADLINE,
                )
            timings[f"generate {table}"] = time.perf_counter() - started
            print(f"  generated {table} in {timings[f'generate {table}']:.0f} s", flush=True)
        await conn.execute("RESET session_replication_role")
        started = time.perf_counter()
        for definition in indexes:
            await conn.execute(definition)
        timings["indexes"] = time.perf_counter() - started
        print(f"  rebuilt {len(indexes)} indexes in {timings['indexes']:.0f} s", flush=True)
        for table in LOADED:
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"
            )
        started = time.perf_counter()
        await conn.execute("VACUUM ANALYZE")
        timings["vacuum analyze"] = time.perf_counter() - started
        print(f"  vacuum analyze in {timings['vacuum analyze']:.0f} s", flush=True)
    finally:
        await conn.close()
    return timings


# --- the measurement -------------------------------------------------------------------------------------------------


def _server_ms(plan: Any) -> float:
    p = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
    return p["Planning Time"] + p["Execution Time"]


def _nodes(node: dict[str, Any], depth: int = 0) -> list[str]:
    line = "  " * depth + f"{node['Node Type']}" + (f" on {node['Relation Name']}" if "Relation Name" in node else "")
    if "Index Name" in node:
        line += f" using {node['Index Name']}"
    line += f" (rows {node.get('Actual Rows', '?')})"
    out = [line]
    for child in node.get("Plans", []):
        out += _nodes(child, depth + 1)
    return out


async def measure(rt: Runtime, ticks: int, due: int) -> dict[str, Any]:
    record_ms: list[float] = []
    tell_ms: list[float] = []
    wall_ms: list[float] = []
    shown_plan: list[str] = []
    for tick in range(ticks):  # server time of the tick's statement, then of telling its steps
        now = datetime.now(UTC)
        async with rt.pool.acquire() as conn:
            async with conn.transaction():
                plan = await conn.fetchval(
                    "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) " + recording.RECORD_DUE_SQL,
                    now,
                    "sweep",
                    now,
                    due,
                )
            record_ms.append(_server_ms(plan))
            if tick == 0:
                shown_plan = _nodes((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"])
            steps = await conn.fetch(
                "SELECT s.id, t.number, t.territory FROM escalation_outbox o JOIN escalation_steps s "
                "ON s.id = o.step_id JOIN tickets t ON t.id = s.ticket_id ORDER BY s.id"
            )
            assert len(steps) == due, (len(steps), due)
            async with conn.transaction():
                plan = await conn.fetchval(
                    "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + notifications.TELL_STEPS_SQL,
                    now,
                    [],
                    [r["id"] for r in steps],
                    [r["number"] for r in steps],
                    [r["territory"] for r in steps],
                )
            tell_ms.append(_server_ms(plan))
    cpu_ms: list[float] = []
    for _ in range(ticks):  # the tick itself (sweep_batch's statement), timed from the client and by backend CPU
        now = datetime.now(UTC)
        async with rt.pool.acquire() as conn:
            pid = await conn.fetchval("SELECT pg_backend_pid()")
            cpu0 = backend_cpu_ms(pid)
            started = time.perf_counter()
            async with conn.transaction():
                rows = await conn.fetch(recording.RECORD_DUE_SQL, now, "sweep", now, due)
            wall_ms.append((time.perf_counter() - started) * 1000)
            cpu1 = backend_cpu_ms(pid)
            if cpu0 is not None and cpu1 is not None:
                cpu_ms.append(cpu1 - cpu0)
        out = recording.Outcome.from_rows(rows, now, "sweep")
        assert len(out.recorded) == due, len(out.recorded)
        await recording.tell(rt, out.recorded, now=now)
    return {"record_ms": record_ms, "tell_ms": tell_ms, "wall_ms": wall_ms, "cpu_ms": cpu_ms, "plan": shown_plan}


def backend_cpu_ms(pid: int) -> float | None:
    """CPU time the PostgreSQL backend has used (Linux, same machine): the database's own work, whatever else
    competes for the processors."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e6
    except (OSError, ValueError, IndexError):
        return None


def summary(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):6.1f} ms  min {min(values):6.1f}  max {max(values):6.1f}  "
        f"({', '.join(f'{v:.0f}' for v in values)})"
    )


async def run_size(open_n: int, closed_n: int, due: int, ticks: int) -> dict[str, Any]:
    db_url, redis_url = bench_urls()
    print(f"\n=== {open_n:,} open + {closed_n:,} closed tickets ===", flush=True)
    started = time.perf_counter()
    await fresh_database(db_url)
    plan = Plan(open_n, closed_n, 2 * ticks * due, datetime.now(UTC))
    timings = await load(db_url, plan)
    load_s = time.perf_counter() - started
    rt = await Runtime.start(Settings(database_url=db_url, redis_url=redis_url, db_pool_min=1, db_pool_max=4))
    try:
        sizes = await rt.pool.fetchrow(
            """SELECT (SELECT count(*) FROM tickets) AS tickets, (SELECT count(*) FROM clocks) AS clocks,
                      (SELECT count(*) FROM clocks WHERE next_step_at IS NOT NULL) AS running,
                      pg_size_pretty(pg_database_size(current_database())) AS size"""
        )
        print(
            f"  loaded in {load_s:.0f} s: {sizes['tickets']:,} tickets, {sizes['clocks']:,} clocks "
            f"({sizes['running']:,} running), database {sizes['size']}",
            flush=True,
        )
        result = await measure(rt, ticks, due)
    finally:
        await rt.close()
    result.update(open=open_n, closed=closed_n, load_s=load_s, timings=timings)
    print(f"  tick, database time (EXPLAIN ANALYZE):  {summary(result['record_ms'])}")
    print(f"  tick, wall time from the client:        {summary(result['wall_ms'])}")
    if result["cpu_ms"]:
        print(f"  tick, CPU time of the backend:          {summary(result['cpu_ms'])}")
    print(f"  telling the {due} steps (separate txn): {summary(result['tell_ms'])}")
    print("  plan of the tick:\n    " + "\n    ".join(result["plan"]))
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000:500000,1000000:5000000", help="OPEN:CLOSED[,OPEN:CLOSED...]")
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--ticks", type=int, default=5)
    args = parser.parse_args()
    results = []
    for size in args.sizes.split(","):
        open_n, closed_n = (int(x) for x in size.split(":"))
        results.append(await run_size(open_n, closed_n, args.due, args.ticks))
    print("\n--- result ---")
    print(
        f"{'open':>10} {'closed':>10} {'load s':>7} {'db ms':>8} {'cpu ms':>8} {'wall ms':>8} {'tell ms':>8}"
        "   (medians per tick of "
        f"{args.due} due items)"
    )
    for r in results:
        cpu = f"{statistics.median(r['cpu_ms']):8.1f}" if r["cpu_ms"] else "     n/a"
        print(
            f"{r['open']:>10,} {r['closed']:>10,} {r['load_s']:>7.0f} {statistics.median(r['record_ms']):>8.1f} "
            f"{cpu} {statistics.median(r['wall_ms']):>8.1f} {statistics.median(r['tell_ms']):>8.1f}"
        )
    print(
        f"load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (db ms is elapsed time inside the "
        "server, so it grows when other work competes; cpu ms does not)"
    )
    ok = all(statistics.median(r["record_ms"]) <= 50 for r in results)
    print("PASS (<= 50 ms of database time per tick)" if ok else "FAIL (> 50 ms of database time per tick)")


if __name__ == "__main__":
    asyncio.run(main())

"""Benchmark (a): 10,000 clocks due in the same second are all escalated within 30 s, exactly once.

A plain script, not collected by pytest:

    .venv/bin/python tests/perf/escalation_bench.py [--clocks 10000] [--workers 1] [--lead 30]

It builds a fresh database (hotline_bench_escalation on the configured server, migrated and seeded), inserts
`--clocks` running reply clocks whose warning falls on the same instant T, arms their exact-time jobs through
hotline.infra.queue (Redis DB 13 unless HOTLINE_BENCH_REDIS_DB says otherwise), starts `--workers` real `hotline worker`
processes and watches PostgreSQL from T until every warning is recorded. It prints how long that took, the lag of
each step behind its instant (p50/p99/max), who recorded them (job or sweep), and checks exactly-once: one step per
clock and one notification per step and recipient. The workers are stopped with SIGTERM at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # benchmark the working tree

import sla  # noqa: E402
from config.reference import load_toml  # noqa: E402
from config.settings import Settings  # noqa: E402
from hotline.infra import queue as jobs  # noqa: E402
from hotline.infra.runtime import Runtime  # noqa: E402
from hotline.ops import seed  # noqa: E402
from tests.perf import common  # noqa: E402

UTC = UTC
UNITS = (
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
)

INSERT_SQL = """
WITH t AS (
    INSERT INTO tickets (id, number, channel, kind, category, territory, title, content, status, unit,
                         current_assignment_id, received_at, reply_due_at)
    OVERRIDING SYSTEM VALUE
    SELECT $1 + g, 'BENCH-' || ($1 + g), '96196', 'complaint', 'taxi', '320612', '基准测试', '同一秒到期的工单',
           'in_progress', ($4::text[])[1 + g % cardinality($4::text[])], $1 + g, $2, $3
    FROM generate_series(1, $5) AS g
    RETURNING id, unit
), a AS (
    INSERT INTO assignments (id, ticket_id, seq, unit, origin, started_at, signed_at)
    OVERRIDING SYSTEM VALUE
    SELECT t.id, t.id, 1, t.unit, 'route', $2, $2 FROM t
    RETURNING id, ticket_id, unit
)
INSERT INTO clocks (ticket_id, assignment_id, clock, unit, started_at, due_at, warning_at, supervision_at, deadline,
                    provisional, policy_version, calendar_version, next_step, next_step_at)
SELECT a.ticket_id, a.id, 'reply', a.unit, $2, $3, $6, $7, $8, false, 1, $9, 'warning', $6 FROM a
RETURNING id, version
"""


def bench_urls() -> tuple[str, str]:
    return common.bench_urls("hotline_bench_escalation", os.environ.get("HOTLINE_BENCH_REDIS_DB", "13"))


async def fresh_database(url: str) -> None:
    await seed.fresh_database(url, demo_password="bench")


def one_deadline(rt: Runtime, at: datetime) -> sla.Deadline:
    """A real reply deadline (1 natural hour) whose warning (75 %) falls exactly on `at`."""
    doc = load_toml("sla_policies.toml")
    doc["policy"] = [{**row, "limit": 1, "unit": "hours"} if row["clock"] == "reply" else row for row in doc["policy"]]
    policies = sla.PolicySet.from_config(doc, version=1)
    d = sla.compute_deadline(
        policies,
        rt.calendar,
        clock="reply",
        start=at - timedelta(minutes=45),
        channel="96196",
        kind="complaint",
        urgent=False,
    )
    assert d.warning_at == at, (d.warning_at, at)
    return d


def start_worker(db_url: str, redis_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HOTLINE_DATABASE_URL": db_url, "HOTLINE_REDIS_URL": redis_url, "HOTLINE_LOG_LEVEL": "WARNING"}
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "hotline.ops.cli", "worker"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p / 100 * len(s)))] if s else float("nan")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clocks", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--lead", type=float, default=30.0, help="seconds from now to the shared instant")
    parser.add_argument("--budget", type=float, default=30.0, help="the target, seconds after the instant")
    args = parser.parse_args()
    db_url, redis_url = bench_urls()
    print(f"database {db_url}\nredis    {redis_url}")
    await fresh_database(db_url)
    rt = await Runtime.start(Settings(database_url=db_url, redis_url=redis_url, db_pool_max=20))
    logs = Path(tempfile.mkdtemp(prefix="escalation-bench-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        await rt.redis.flushdb()
        at = (datetime.now(UTC) + timedelta(seconds=args.lead)).replace(microsecond=0)
        d = one_deadline(rt, at)
        base = await rt.pool.fetchval("SELECT coalesce(max(id), 0) FROM tickets")
        t0 = time.perf_counter()
        async with rt.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                INSERT_SQL,
                base,
                d.start,
                d.due_at,
                list(UNITS),
                args.clocks,
                d.warning_at,
                d.supervision_at,
                d.to_dict(),
                d.calendar_version,
            )
        await common.as_owner(db_url, "ANALYZE")
        print(
            f"inserted {len(rows)} running clocks, all warning at {at.isoformat()} ({time.perf_counter() - t0:.1f} s)"
        )
        t0 = time.perf_counter()
        await jobs.arm(rt.redis, [jobs.ArmedStep(r["id"], r["version"], "warning", at) for r in rows])
        print(f"armed {len(rows)} exact-time jobs in {time.perf_counter() - t0:.1f} s")
        procs = [start_worker(db_url, redis_url, logs / f"worker-{i}.log") for i in range(args.workers)]
        ids = [r["id"] for r in rows]
        wait = (at - datetime.now(UTC)).total_seconds()
        if wait < 2:
            raise SystemExit(f"the instant is only {wait:.1f} s away: raise --lead")
        print(f"{args.workers} worker process(es) started; the instant is {wait:.1f} s away")
        await asyncio.sleep(wait)
        started = time.perf_counter()
        done_after = None
        while time.perf_counter() - started < args.budget * 3:
            n = await rt.pool.fetchval("SELECT count(*) FROM escalation_steps WHERE clock_id = any($1::bigint[])", ids)
            if n >= len(ids):
                done_after = (datetime.now(UTC) - at).total_seconds()
                break
            await asyncio.sleep(0.1)
        stats = await rt.pool.fetch(
            """SELECT extract(epoch FROM recorded_at - due_at) AS lag, source FROM escalation_steps
               WHERE clock_id = any($1::bigint[])""",
            ids,
        )
        per_clock = await rt.pool.fetchval(
            "SELECT count(*) FROM (SELECT clock_id FROM escalation_steps WHERE clock_id = any($1::bigint[]) "
            "GROUP BY clock_id, step HAVING count(*) > 1) x",
            ids,
        )
        # Notifications are written right after the steps' commit (a second transaction, a moment later): the
        # figure is read once they have settled (nothing new for half a second, at most 10 s), so a check racing
        # the last batch's telling does not count it as missing.
        told, settle_until, last_n = None, time.monotonic() + 10, -1
        while True:
            told = await rt.pool.fetchrow(
                """SELECT count(*) AS n, count(DISTINCT (n.user_id, n.step_id)) AS distinct_n
                   FROM notifications n JOIN escalation_steps s ON s.id = n.step_id
                   WHERE s.clock_id = any($1::bigint[])""",
                ids,
            )
            if told["n"] == last_n or told["n"] >= len(ids) or time.monotonic() > settle_until:
                break
            last_n = told["n"]
            await asyncio.sleep(0.5)
        handlers = await rt.pool.fetchval(
            "SELECT count(*) FROM users WHERE role = 'handler' AND unit = any($1)", list(UNITS)
        )
        lags = [float(r["lag"]) for r in stats]
        sources: dict[str, int] = {}
        for r in stats:
            sources[r["source"]] = sources.get(r["source"], 0) + 1
        print("\n--- result ---")
        print(f"steps recorded        {len(stats)} / {len(ids)}")
        if done_after is None:
            print(f"all recorded within   NOT within {args.budget * 3:.0f} s")
        else:
            print(f"all recorded within   {done_after:.2f} s of the instant (target <= {args.budget:.0f} s)")
        print(f"lag behind instant    p50 {pct(lags, 50):.2f} s, p99 {pct(lags, 99):.2f} s, max {max(lags):.2f} s")
        print(f"recorded by           {sources}")
        print(f"duplicate steps       {per_clock}")
        print(
            f"notifications         {told['n']} ({told['distinct_n']} distinct; expected "
            f"{len(ids)} x 1 handler per unit = {len(ids) if handlers == len(UNITS) else '?'})"
        )
        ok = (
            done_after is not None
            and done_after <= args.budget
            and per_clock == 0
            and len(stats) == len(ids)
            and told["n"] == told["distinct_n"] == len(ids)
        )
        print("PASS" if ok else "FAIL")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        codes = [p.wait(timeout=30) for p in procs]
        if procs:
            print(f"workers stopped by SIGTERM, exit codes {codes}; logs in {logs}")
        await rt.close()


if __name__ == "__main__":
    asyncio.run(main())

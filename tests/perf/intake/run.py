"""Intake benchmark: POST /api/tickets under load, against a one-INSERT baseline of the same stack.

A plain script, not collected by pytest:

    .venv/bin/python tests/perf/intake/run.py                    # 50 clients, 60 s, 1 and 2 uvicorn workers
    .venv/bin/python tests/perf/intake/run.py --seconds 10 --workers 2

For each worker count it recreates the database `hotline_bench` (migrate + seed --demo), empties Redis DB 12,
starts `hotline serve --workers N` as a subprocess, signs in as `agent`, warms up, then drives POST /api/tickets
with `--clients` keep-alive connections for `--seconds`; then does the same against baseline_app.py (Litestar +
asyncpg, one INSERT per POST, same uvicorn settings and worker count) and prints a markdown table: tickets/s,
p50/p99 latency, errors, ratio to the baseline. Targets (issue 2, on a 2-core machine): >= 1,000 tickets/s,
0 errors, ratio >= 0.6, p99 no more than twice the baseline's. The verdict (PASS/FAIL) is on the worker count
`hotline serve` starts on this machine (one per core, at most 4: 2 here); the other counts are for comparison.

Load generator: `wrk` (Debian package; installed here with apt-get if missing and we are root). It is C with
epoll, so driving ~1-2k requests/s costs it a few percent of one core: a Python client on the same 2 cores would
take CPU from the server it measures. post.lua formats every request once and only picks one per call.
Ticket bodies vary territory, category, kind, urgency and caller (no external_ref: every POST makes a ticket).

The figures share the machine with PostgreSQL and Redis (as in production on one box); the script prints how busy
the machine was before each run, so a run disturbed by other work shows it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
DB_NAME = "hotline_bench"
REDIS_DB = 12
PASSWORD = "bench-password"
SECRET = "bench-secret-key-for-the-intake-benchmark-0123456789"

TERRITORIES = ("320600", "320613", "320612", "320614", "320623", "320681", "320682", "320685")
CATEGORIES = (
    "taxi",
    "ride_hailing",
    "bus",
    "coach",
    "freight",
    "driving_school",
    "vehicle_repair",
    "road",
    "road_admin",
    "highway",
    "toll",
    "waterway",
    "construction",
    "other",
)
KINDS = ("consultation", "help", "complaint", "report", "suggestion", "praise")
SURNAMES = "张王李赵刘陈杨黄周吴徐孙朱马胡郭林何高罗"


@dataclass
class Result:
    service: str
    workers: int
    requests: int
    seconds: float
    errors: int
    error_detail: str
    p50_ms: float
    p99_ms: float
    busy_before: float
    server_cpu: float  # CPU seconds used by the server's processes per wall second during the measured run
    db_cpu: float  # the same for the PostgreSQL backends serving it

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


# ---------------------------------------------------------------------------------------------------- needs
def check_needs() -> str:
    """The venv with Hotline installed, wrk, and reachable PostgreSQL/Redis; install wrk when we can."""
    # The checkout first, whatever the venv's editable install maps (a stale one maps packages as namespaces).
    sys.path.insert(0, str(ROOT))
    try:
        import asyncpg  # noqa: F401
        import redis  # noqa: F401

        import hotline  # noqa: F401
    except ImportError as exc:
        sys.exit(
            f"intake bench: {exc}. Run it with the project's venv after `make install`: "
            f".venv/bin/python tests/perf/intake/run.py"
        )
    wrk = shutil.which("wrk")
    if wrk is None:
        if os.geteuid() == 0 and shutil.which("apt-get"):
            print(
                "intake bench: installing wrk (Debian package) as the load generator: a C client keeps the "
                "2 cores for the server under test.",
                flush=True,
            )
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            if subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env).returncode != 0:
                subprocess.run(["apt-get", "update", "-qq"], env=env, check=True)
                subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, check=True)
            wrk = shutil.which("wrk")
        if wrk is None:
            sys.exit(
                "intake bench: needs `wrk` as its load generator: `sudo apt-get install wrk` (Debian/Ubuntu) "
                "or `brew install wrk`."
            )
    return wrk


def require_port(url: str, default_port: int, what: str) -> None:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "localhost", parts.port or default_port), timeout=2).close()
    except OSError as exc:
        sys.exit(
            f"intake bench: {what} is not reachable for {url} ({exc}); start it or set the URL "
            '(`eval "$(.venv/bin/hotline services)"` finds or starts them).'
        )


# ---------------------------------------------------------------------------------------------------- setup
def bench_urls(args: argparse.Namespace) -> tuple[str, str]:
    from tests.perf import common

    return common.bench_urls(DB_NAME, REDIS_DB, database_url=args.database_url, redis_url=args.redis_url)


async def reset_state(db_url: str, redis_url: str) -> None:
    """A fresh hotline_bench (migrated, demo seed) and an empty Redis DB 12: every run starts from the same state."""
    import baseline_app
    from redis.asyncio import Redis

    from hotline.infra import db
    from hotline.ops.seed import fresh_database

    await fresh_database(db_url, demo_password=PASSWORD)
    conn = await db.connect(db_url)
    try:
        await conn.execute(baseline_app.TABLE_SQL)
    finally:
        await conn.close()
    r = Redis.from_url(redis_url)
    try:
        await r.flushdb()
    finally:
        await r.aclose()


async def checkpoint(db_url: str) -> None:
    """Flush dirty buffers before a measured run, so neither service inherits the other's checkpoint."""
    from hotline.infra import db

    conn = await db.connect(db_url)
    try:
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


async def backend_pids(db_url: str) -> list[int]:
    """The PostgreSQL backends connected to the bench database (the servers' pools, after warm-up)."""
    from hotline.infra import db

    conn = await db.connect(db_url)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", DB_NAME
        )
        return [r["pid"] for r in rows]
    finally:
        await conn.close()


async def count_rows(db_url: str, table: str) -> int:
    from hotline.infra import db

    conn = await db.connect(db_url)
    try:
        return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
    finally:
        await conn.close()


def write_bodies(path: Path, count: int = 997) -> None:
    """Ticket bodies for post.lua, one JSON document a line (a prime count, so threads do not fall in step)."""
    rng = random.Random(20261122)
    with path.open("w", encoding="utf-8") as f:
        for i in range(count):
            territory = rng.choice(TERRITORIES)
            category = rng.choice(CATEGORIES)
            body = {
                "channel": "96196",
                "kind": rng.choice(KINDS),
                "category": category,
                # One in twenty without a territory: routed by a "*" rule or left pending for a dispatcher.
                "territory": None if i % 20 == 0 else territory,
                "title": f"{category} 来电诉求 #{i}",
                "content": f"市民来电反映{territory}辖区{category}相关问题，第{i}号样例，请核实处理并回复。",
                "caller": {"name": rng.choice(SURNAMES) + "先生", "phone": f"13{rng.randrange(10**9):09d}"},
                "urgent": rng.random() < 0.1,
            }
            f.write(json.dumps(body, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------------------------------------------- processes
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    kind: str, workers: int, port: int, db_url: str, redis_url: str, log: Path, source: Path = ROOT
) -> subprocess.Popen:
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": db_url,
        "HOTLINE_REDIS_URL": redis_url,
        "HOTLINE_LOG_LEVEL": "WARNING",
        "HOTLINE_DEMO_PASSWORD": PASSWORD,
        "HOTLINE_SECRET_KEY": SECRET,
        "BASELINE_DATABASE_URL": db_url,
        "BASELINE_POOL_MAX": os.environ.get("HOTLINE_DB_POOL_MAX", "20"),
        # One account posts every ticket of the run: the per-account limit is kept on (its cost is measured)
        # but far above the benchmark's rate.
        "HOTLINE_API_RATE_LIMIT": "100000000",
        "PYTHONPATH": os.pathsep.join(p for p in (str(source), os.environ.get("PYTHONPATH")) if p),
    }
    if kind == "hotline":
        cmd = [
            sys.executable,
            "-m",
            "hotline.ops.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ]
    else:
        # The same uvicorn settings as hotline/ops/cli.py cmd_serve.
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "baseline_app:create_app",
            "--app-dir",
            str(HERE),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
            "--lifespan",
            "on",
        ]
    out = log.open("ab")
    return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=source, start_new_session=True)


def wait_ready(proc: subprocess.Popen, port: int, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"intake bench: the server exited with {proc.returncode}; its log:\n{log.read_text()[-3000:]}")
        try:
            # Any HTTP answer means a worker has finished its lifespan start-up; 404/405 are answers too.
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    stop_server(proc)
    sys.exit(f"intake bench: the server did not answer within {timeout:.0f} s; its log:\n{log.read_text()[-3000:]}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # our own session, started above
            proc.wait()


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy(sample: float = 1.0) -> float:
    """Share of all cores busy over `sample` seconds (from /proc/stat)."""

    def read() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = values[3] + values[4]
        return sum(values), idle

    t0, i0 = read()
    time.sleep(sample)
    t1, i1 = read()
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


def wait_idle(patience: float, threshold: float = 0.25) -> float:
    """Wait up to `patience` seconds for the machine to go quiet (other work would take the server's CPU);
    returns how busy it was when measuring started."""
    deadline = time.monotonic() + patience
    busy = machine_busy()
    while busy > threshold and time.monotonic() < deadline:
        busy = machine_busy(2.0)
    return busy


# ---------------------------------------------------------------------------------------------------- load
def run_wrk(wrk: str, port: int, seconds: int, clients: int, threads: int, token: str, bodies: Path) -> dict:
    cmd = [
        wrk,
        f"-t{threads}",
        f"-c{clients}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(HERE / "post.lua"),
        f"http://127.0.0.1:{port}",
        "--",
        "/api/tickets",
        token,
        str(bodies),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    sys.exit(f"intake bench: wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def sign_in(port: int) -> str:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/auth/token",
        method="POST",
        data=json.dumps({"username": "agent", "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())["access_token"]


def measure(
    kind: str, workers: int, args: argparse.Namespace, wrk: str, db_url: str, redis_url: str, bodies: Path, logdir: Path
) -> Result:
    port = free_port()
    log = logdir / f"{kind}-{workers}.log"
    proc = start_server(kind, workers, port, db_url, redis_url, log, args.source)
    try:
        wait_ready(proc, port, log)
        token = sign_in(port) if kind == "hotline" else "-"
        if args.warmup:
            run_wrk(wrk, port, args.warmup, args.clients, args.threads, token, bodies)
        asyncio.run(checkpoint(db_url))
        busy = wait_idle(args.wait_idle)
        pids = process_tree(proc.pid)
        db_pids = asyncio.run(backend_pids(db_url))
        cpu0, db0 = cpu_seconds(pids), cpu_seconds(db_pids)
        if args.show_pids:
            print(f"  {kind} server pids {pids}: measuring for {args.seconds} s", flush=True)
        out = run_wrk(wrk, port, args.seconds, args.clients, args.threads, token, bodies)
        cpu, db_cpu = cpu_seconds(pids) - cpu0, cpu_seconds(db_pids) - db0
    finally:
        stop_server(proc)
    errors = out["connect"] + out["read"] + out["write"] + out["status"] + out["timeout"]
    detail = ", ".join(f"{k} {out[k]}" for k in ("connect", "read", "write", "status", "timeout") if out[k])
    seconds = out["duration_us"] / 1e6
    return Result(
        kind,
        workers,
        out["requests"] - out["status"],
        seconds,
        errors,
        detail or "none",
        out["p50_us"] / 1000,
        out["p99_us"] / 1000,
        busy,
        cpu / seconds,
        db_cpu / seconds,
    )


# ---------------------------------------------------------------------------------------------------- report
def table(results: list[Result]) -> str:
    base = {r.workers: r for r in results if r.service == "baseline"}
    lines = [
        "| service | uvicorn workers | tickets/s | p50 ms | p99 ms | errors | ratio to baseline | "
        "p99 / baseline p99 | CPU ms/ticket: server + db |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        b = base.get(r.workers)
        ratio = f"{r.rate / b.rate:.2f}" if b else "n/a"
        p99x = f"{r.p99_ms / b.p99_ms:.2f}" if b else "n/a"
        cpu = f"{1000 * r.server_cpu / r.rate:.2f} + {1000 * r.db_cpu / r.rate:.2f}" if r.rate else "n/a"
        lines.append(
            f"| {r.service} | {r.workers} | {r.rate:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.errors} | "
            f"{ratio} | {p99x} | {cpu} |"
        )
    return "\n".join(lines)


def verdicts(results: list[Result]) -> list[str]:
    out = []
    for w in sorted({r.workers for r in results}):
        h = next((r for r in results if r.service == "hotline" and r.workers == w), None)
        b = next((r for r in results if r.service == "baseline" and r.workers == w), None)
        if h is None or b is None:
            continue
        rate, brate = h.rate, b.rate
        checks = [
            (f">= 1,000 tickets/s ({rate:,.0f})", rate >= 1000),
            (f"0 errors ({h.errors})", h.errors == 0),
            (f"ratio >= 0.6 ({rate / brate:.2f})", rate / brate >= 0.6),
            (f"p99 <= 2x baseline ({h.p99_ms:.1f} <= {2 * b.p99_ms:.1f} ms)", h.p99_ms <= 2 * b.p99_ms),
        ]
        marks = "; ".join(f"{'ok' if ok else 'MISSED'} {text}" for text, ok in checks)
        out.append(f"{w} worker(s): {marks}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="measured duration per service (default 60)")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured warm-up per service (default 5)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent keep-alive connections (default 50)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: ample for ~2k req/s)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="uvicorn worker counts (default 1 2)")
    parser.add_argument("--only", choices=("hotline", "baseline"), help="measure one service only")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0,
        metavar="SECONDS",
        help="before each measured run, wait up to this long for the machine to be under 25%% busy",
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=ROOT,
        help="run the service from another checkout of the same schema (A/B comparisons)",
    )
    parser.add_argument("--show-pids", action="store_true", help="print server pids before each run (to attach py-spy)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("HOTLINE_DATABASE_URL", "postgresql://postgres@localhost:5432/hotline"),
        help=f"server to use; the database is always {DB_NAME}",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("HOTLINE_REDIS_URL", "redis://localhost:6379/0"),
        help=f"server to use; the database is always {REDIS_DB}",
    )
    args = parser.parse_args()

    wrk = check_needs()
    sys.path.insert(0, str(HERE))  # baseline_app, for its table
    db_url, redis_url = bench_urls(args)
    require_port(db_url, 5432, "PostgreSQL")
    require_port(redis_url, 6379, "Redis")
    services = [args.only] if args.only else ["hotline", "baseline"]
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="hotline-intake-bench-") as tmp:
        bodies = Path(tmp) / "bodies.jsonl"
        write_bodies(bodies)
        for workers in args.workers:
            asyncio.run(reset_state(db_url, redis_url))
            for kind in services:
                print(
                    f"measuring {kind} with {workers} uvicorn worker(s): {args.clients} clients, "
                    f"{args.warmup} s warm-up + {args.seconds} s ...",
                    flush=True,
                )
                r = measure(kind, workers, args, wrk, db_url, redis_url, bodies, Path(tmp))
                table_name = "tickets" if kind == "hotline" else "baseline_tickets"
                stored = asyncio.run(count_rows(db_url, table_name))
                print(
                    f"  {r.rate:,.0f}/s, p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms, errors: {r.error_detail}; "
                    f"CPU (cores): server {r.server_cpu:.2f}, db {r.db_cpu:.2f}; machine {r.busy_before:.0%} busy "
                    f"before; {stored} rows in {table_name} after warm-up and run",
                    flush=True,
                )
                if r.busy_before > 0.25:
                    print("  warning: the machine was busy before this run; its figures are disturbed", flush=True)
                results.append(r)
    print()
    print(
        f"POST /api/tickets, {args.clients} concurrent keep-alive clients (wrk), {args.seconds} s per run, "
        f"PostgreSQL {DB_NAME} with synchronous_commit on, on {os.cpu_count()} cores shared by server, database, "
        "Redis and load generator"
    )
    print()
    print(table(results))
    print()
    # The verdict is on the service as `hotline serve` (and `make run`) starts it on this machine: one API worker
    # per core (config.settings.default_web_workers). Other worker counts are printed for comparison.
    from config.settings import default_web_workers

    deployed = default_web_workers()
    lines = verdicts(results)
    for line in lines:
        print(line + ("  <- as deployed here (the verdict)" if line.startswith(f"{deployed} worker") else ""))
    judged = [line for line in lines if line.startswith(f"{deployed} worker")]
    # run_all.py reads this line.
    if not judged:
        print(f"FAIL (not measured with {deployed} worker(s), what `hotline serve` starts on this machine)")
    else:
        print("FAIL (a target was missed)" if any("MISSED" in line for line in judged) else "PASS")


if __name__ == "__main__":
    main()

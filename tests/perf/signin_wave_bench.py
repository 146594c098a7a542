"""Sign-in wave benchmark: 200 sign-ins in one second while intake runs at 500 tickets/s.

A plain script, not collected by pytest:

    .venv/bin/python tests/perf/signin_wave_bench.py [--rate 500] [--signins 200] [--seconds 20] [--workers 2]

It builds a fresh database `hotline_signin_bench` (migrated, demo seed, plus `--signins` agent accounts
wave-001... with the service's own argon2 parameters, or argon2-cffi's larger default ones (RFC 9106 low-memory,
which the service used before) with `--hash rfc9106` to show what the parameters cost), starts a private
redis-server and `hotline serve --workers N` on free ports, and drives
POST /api/tickets open-loop at `--rate` per second (each request has a scheduled instant and its latency is counted
from it, so a stalled server cannot hide behind a client that waits for it) over raw keep-alive sockets on
127.0.0.1. First `--seconds` without sign-ins (the baseline), then the same load with `--signins` sign-ins, one
per new connection, spread evenly over one second starting 3 s in; that phase lasts until every sign-in has been
answered (at least `--seconds`, at most 120 s). Intake p99 is compared over the requests scheduled while the wave
was being answered (from its first sign-in to its last answer) against the baseline's p99.
Targets (issue 11): that p99 at most 2x the baseline's, every sign-in answered (200) within 5 s, no intake error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # benchmark the working tree

from tests.perf import common  # noqa: E402
from tests.perf.intake import run as intake  # noqa: E402
from tests.scratch import free_port, start_redis, stop_redis  # noqa: E402

DB_NAME = "hotline_signin_bench"
PASSWORD = intake.PASSWORD
WAVE_START = 3.0
MAX_CONNECTIONS = 200  # intake sockets the load generator may open (it reuses idle ones first)
KEEPALIVE_SECONDS = 4.0  # an idle socket older than this is not reused (uvicorn closes them after 5 s)


def _count(items) -> dict:
    out: dict = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def add_wave_accounts(db_url: str, count: int, scheme: str) -> float:
    """`count` agents sharing one hash (same password: the cost of verifying is what matters); returns the cost
    of verifying that hash once here, in seconds."""
    from argon2 import PasswordHasher

    from hotline.auth.tokens import hash_password
    from hotline.infra import db

    stored = hash_password(PASSWORD) if scheme == "default" else PasswordHasher().hash(PASSWORD)
    hasher = PasswordHasher()
    started = time.perf_counter()
    hasher.verify(stored, PASSWORD)
    cost = time.perf_counter() - started
    conn = await db.connect(db_url)
    try:
        await conn.executemany(
            "INSERT INTO users (username, password_hash, role, display_name) VALUES ($1, $2, 'agent', $3)",
            [(f"wave-{i:03d}", stored, f"坐席{i:03d}") for i in range(1, count + 1)],
        )
    finally:
        await conn.close()
    return cost


def http_request(method: str, path: str, body: bytes, token: str | None = None) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{auth}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bytes]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


class Intake:
    """Open-loop POST /api/tickets at a fixed rate; (scheduled instant, latency, status) per request."""

    def __init__(self, port: int, token: str, bodies: list[bytes], rate: float) -> None:
        self.port, self.rate = port, rate
        self.requests = [http_request("POST", "/api/tickets", b, token) for b in bodies]
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.opened = 0
        self.results: list[tuple[float, float, int]] = []
        self.errors = 0
        self.error_kinds: dict[str, int] = {}
        self.given_back = asyncio.Condition()  # a connection went idle or closed: a request waiting may go

    async def _give_back(self) -> None:
        async with self.given_back:
            self.given_back.notify()

    async def _one(self, scheduled: float, request: bytes) -> None:
        async with self.given_back:  # taking a connection or a slot for one, without an await in between
            await self.given_back.wait_for(lambda: bool(self.idle) or self.opened < MAX_CONNECTIONS)
            while self.idle and self.idle[-1][2] < time.monotonic() - KEEPALIVE_SECONDS:
                self.idle.pop()[1].close()  # the server may have closed it: uvicorn drops idle ones after 5 s
                self.opened -= 1
            if self.idle:
                idle: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = self.idle.pop()[:2]
            else:
                idle = None
                self.opened += 1
        conn = idle or await asyncio.open_connection("127.0.0.1", self.port)
        try:
            status, _ = await asyncio.wait_for(exchange(*conn, request), 30)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            self.errors += 1
            self.error_kinds[type(exc).__name__] = self.error_kinds.get(type(exc).__name__, 0) + 1
            self.opened -= 1
            conn[1].close()
            await self._give_back()
            return
        now = time.monotonic()
        self.results.append((scheduled, now - scheduled, status))
        self.idle.append((*conn, now))
        await self._give_back()

    async def run(self, seconds: float, until: asyncio.Event | None = None, limit: float = 120.0) -> float:
        """Drive load for `seconds` (and then until `until` is set, up to `limit`); returns the start instant."""
        t0 = time.monotonic()
        pending: set[asyncio.Task[None]] = set()
        i = 0
        while True:
            scheduled = t0 + i / self.rate
            elapsed = scheduled - t0
            if elapsed >= limit or (elapsed >= seconds and (until is None or until.is_set())):
                break
            delay = scheduled - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(self._one(scheduled, self.requests[i % len(self.requests)]))
            pending.add(task)
            task.add_done_callback(pending.discard)
            i += 1
        if pending:
            await asyncio.wait(pending, timeout=60)
        return t0

    def close(self) -> None:
        for _, writer, _ in self.idle:
            writer.close()


async def wave(port: int, count: int, started: float, answered: asyncio.Event) -> list[tuple[float, float, int]]:
    """`count` sign-ins spread over one second from `started`, each on its own connection:
    (scheduled instant, latency, status)."""
    out: list[tuple[float, float, int]] = []

    async def one(i: int) -> None:
        scheduled = started + i / count
        await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
        body = json.dumps({"username": f"wave-{i + 1:03d}", "password": PASSWORD}).encode()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                status, _ = await asyncio.wait_for(
                    exchange(reader, writer, http_request("POST", "/api/auth/token", body)), 60
                )
            finally:
                writer.close()
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            status = 0
        out.append((scheduled, time.monotonic() - scheduled, status))

    await asyncio.gather(*(one(i) for i in range(count)))
    answered.set()
    return out


async def measure(args: argparse.Namespace, port: int, bodies: list[bytes]) -> dict:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    status, body = await exchange(
        reader,
        writer,
        http_request("POST", "/api/auth/token", json.dumps({"username": "agent", "password": PASSWORD}).encode()),
    )
    writer.close()
    assert status == 200, body
    token = json.loads(body)["access_token"]

    load = Intake(port, token, bodies, args.rate)
    await load.run(args.warmup)
    load.results.clear()
    load.errors = 0
    await load.run(args.seconds)
    baseline = [lat for _, lat, _ in load.results]
    base_errors = load.errors + sum(1 for _, _, s in load.results if s != 201)
    load.results.clear()
    load.errors = 0
    await asyncio.sleep(2)

    answered = asyncio.Event()
    t_start = time.monotonic() + WAVE_START
    wave_task = asyncio.create_task(wave(port, args.signins, t_start, answered))
    await load.run(args.seconds, until=answered)
    signins = await wave_task
    t_end = max(at + lat for at, lat, _ in signins)
    load.close()
    during = [lat for at, lat, _ in load.results if t_start <= at <= t_end]
    every = [lat for _, lat, _ in load.results]
    return {
        "baseline_requests": len(baseline),
        "baseline_p50_ms": pct(baseline, 50) * 1000,
        "baseline_p99_ms": pct(baseline, 99) * 1000,
        "baseline_errors": base_errors,
        "wave_requests": len(every),
        "wave_window_s": t_end - t_start,
        "during_requests": len(during),
        "during_p50_ms": pct(during, 50) * 1000,
        "during_p99_ms": pct(during, 99) * 1000,
        "phase_p99_ms": pct(every, 99) * 1000,
        "wave_errors": load.errors + sum(1 for _, _, s in load.results if s != 201),
        "intake_error_kinds": load.error_kinds,
        "intake_statuses": {str(k): v for k, v in sorted(_count(s for _, _, s in load.results).items())},
        "signins": len(signins),
        "signins_ok": sum(1 for _, _, s in signins if s == 200),
        "signin_statuses": sorted({s for _, _, s in signins}),
        "signin_p50_s": pct([lat for _, lat, _ in signins], 50),
        "signin_max_s": max(lat for _, lat, _ in signins),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=500.0, help="intake tickets per second (default 500)")
    parser.add_argument("--signins", type=int, default=200, help="sign-ins in the wave (default 200, in 1 s)")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of each phase (default 20)")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2, help="API processes (default 2: one per core here)")
    parser.add_argument(
        "--hash",
        choices=("default", "rfc9106"),
        default="default",
        help="argon2 parameters of the wave's accounts: the service's (default: OWASP's m=19 MiB, "
        "t=2, p=1) or argon2-cffi's RFC 9106 low-memory profile (m=64 MiB, t=3, p=4)",
    )
    parser.add_argument("--source", type=Path, default=ROOT, help="run the service from another checkout (A/B)")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0,
        metavar="SECONDS",
        help="first wait up to this long for the machine to be under 25%% busy",
    )
    args = parser.parse_args()

    from hotline.ops.seed import fresh_database

    db_url, _ = common.bench_urls(DB_NAME, 0)
    intake.require_port(db_url, 5432, "PostgreSQL")
    asyncio.run(fresh_database(db_url, demo_password=PASSWORD))
    cost = asyncio.run(add_wave_accounts(db_url, args.signins, args.hash))
    with tempfile.TemporaryDirectory(prefix="hotline-signin-bench-") as tmp:
        bodies_file = Path(tmp) / "bodies.jsonl"
        intake.write_bodies(bodies_file)
        bodies = [line.encode() for line in bodies_file.read_text(encoding="utf-8").splitlines() if line]
        redis_port = free_port()
        redis_proc = start_redis(redis_port, Path(tmp))
        port = free_port()
        log = Path(tmp) / "serve.log"
        proc = intake.start_server(
            "hotline", args.workers, port, db_url, f"redis://127.0.0.1:{redis_port}/0", log, args.source
        )
        try:
            intake.wait_ready(proc, port, log)
            busy = intake.wait_idle(args.wait_idle) if args.wait_idle else intake.machine_busy()
            print(
                f"sign-in wave: intake {args.rate:.0f}/s open-loop on {args.workers} API process(es), "
                f"{args.signins} sign-ins in 1 s ({args.hash} argon2: {cost * 1000:.0f} ms a verification here, "
                f"{args.signins * cost / (os.cpu_count() or 1):.1f} s of all {os.cpu_count()} cores for the "
                f"wave); machine {busy:.0%} busy before (shared)",
                flush=True,
            )
            out = asyncio.run(measure(args, port, bodies))
        finally:
            intake.stop_server(proc)
            stop_redis(redis_proc)
    print(json.dumps(out))
    ratio = out["during_p99_ms"] / out["baseline_p99_ms"]
    print(
        f"intake without the wave: {out['baseline_requests']:,} requests, p50 {out['baseline_p50_ms']:.1f} ms, "
        f"p99 {out['baseline_p99_ms']:.1f} ms, errors {out['baseline_errors']}"
    )
    print(
        f"intake while the wave was answered ({out['wave_window_s']:.1f} s, {out['during_requests']:,} requests): "
        f"p50 {out['during_p50_ms']:.1f} ms, p99 {out['during_p99_ms']:.1f} ms (whole phase p99 "
        f"{out['phase_p99_ms']:.1f} ms), errors {out['wave_errors']}; p99 ratio {ratio:.2f}"
    )
    print(
        f"sign-ins: {out['signins_ok']}/{out['signins']} answered 200 (statuses {out['signin_statuses']}), "
        f"p50 {out['signin_p50_s']:.2f} s, max {out['signin_max_s']:.2f} s"
    )
    checks = [
        (f"intake p99 during the wave <= 2x without ({ratio:.2f}x)", ratio <= 2.0),
        (
            f"every sign-in answered within 5 s (max {out['signin_max_s']:.2f} s, "
            f"{out['signins_ok']}/{out['signins']} ok)",
            out["signin_max_s"] <= 5.0 and out["signins_ok"] == out["signins"],
        ),
        (
            f"no intake errors ({out['baseline_errors']} + {out['wave_errors']})",
            out["baseline_errors"] == 0 and out["wave_errors"] == 0,
        ),
    ]
    print("; ".join(f"{'ok' if ok else 'MISSED'} {text}" for text, ok in checks))
    print("PASS" if all(ok for _, ok in checks) else "FAIL (a target was missed)")


if __name__ == "__main__":
    main()

"""Benchmark: replies to transfers told back upstream (外网反馈): all delivered, and the lag from each reply's commit
to the receiver's acknowledgement (target p99 <= 2 s); then the receiver down for a while and back: all delivered
within 60 s of its return.

A plain script, not collected by pytest:

    .venv/bin/python tests/perf/upstream_bench.py [--replies 10000] [--workers 1] [--down 60] [--down-replies 1000]

It builds a fresh database (hotline_bench_upstream on the configured server, migrated and seeded), starts an HTTP
receiver on a port of its own in this process and an upstream.toml pointing at it, takes `--replies` 12345
transfers to `in_progress` (intake and sign), starts `--workers` real `hotline worker` processes, then replies to
every one through the lifecycle (8 at a time) and waits until the receiver has acknowledged every `replied` event.
Then the receiver stops for `--down` seconds while `--down-replies` more are replied, comes back, and the time until
the last of them is acknowledged is measured (the backoff is capped at 10 s here, as a deployment would tune it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # benchmark the working tree

from config.settings import Settings  # noqa: E402
from hotline.auth.tokens import Principal  # noqa: E402
from hotline.infra.runtime import Runtime  # noqa: E402
from hotline.ops import seed  # noqa: E402
from hotline.tickets import intake, lifecycle  # noqa: E402
from tests.perf import common  # noqa: E402

AUTH_ENV = "HOTLINE_BENCH_UPSTREAM_AUTH"
UNIT = "320612-bureau"


class Receiver:
    def __init__(self) -> None:
        self.acked: dict[str, float] = {}  # ticket number -> when its replied event was first acknowledged
        self.posts = 0
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:] if h)}
            body = json.loads(await reader.readexactly(int(headers.get("content-length", "0"))))
            self.posts += 1
            if body["event"] == "replied":
                self.acked.setdefault(body["ticket"], time.time())
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "hotline.ops.cli", "worker"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p / 100 * len(s)))] if s else float("nan")


async def principal(rt: Runtime, username: str) -> Principal:
    row = await rt.pool.fetchrow(
        "SELECT id, role, unit, channel, display_name FROM users WHERE username = $1", username
    )
    return Principal(row["id"], username, row["role"], row["display_name"], row["unit"], row["channel"])


async def signed_transfers(rt: Runtime, n: int) -> list[str]:
    integration, handler = await principal(rt, "integration-12345"), await principal(rt, f"handler-{UNIT}")
    numbers: list[str] = []

    async def one() -> None:
        body = intake.TicketIn(
            channel="12345",
            kind="complaint",
            category="taxi",
            territory="320612",
            title="出租车拒载",
            content="基准测试",
            external_ref=f"BENCH-{uuid.uuid4().hex[:16]}",
        )
        result = await intake.create_ticket(rt, integration, body, idempotency_key=None)
        number = await rt.pool.fetchval("SELECT number FROM tickets WHERE id = $1", result.ticket_id)
        await lifecycle.perform(rt, handler, number, "sign", b"{}")
        numbers.append(number)

    for start in range(0, n, 8):
        await asyncio.gather(*(one() for _ in range(min(8, n - start))))
    return numbers


async def reply_all(rt: Runtime, numbers: list[str]) -> dict[str, float]:
    handler = await principal(rt, f"handler-{UNIT}")
    committed: dict[str, float] = {}
    body = json.dumps({"content": "已处理。", "outcome": "resolved"}).encode()

    async def one(number: str) -> None:
        await lifecycle.perform(rt, handler, number, "reply", body)
        committed[number] = time.time()  # just after the commit

    for start in range(0, len(numbers), 8):
        await asyncio.gather(*(one(n) for n in numbers[start : start + 8]))
    return committed


async def wait_acked(receiver: Receiver, numbers: list[str], budget: float) -> float | None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < budget:
        if all(n in receiver.acked for n in numbers):
            return time.monotonic() - t0
        await asyncio.sleep(0.05)
    return None


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--down", type=float, default=60.0, help="seconds the receiver is down (0: skip)")
    parser.add_argument("--down-replies", type=int, default=1000)
    args = parser.parse_args()
    db_url, redis_url = common.bench_urls("hotline_bench_upstream", os.environ.get("HOTLINE_BENCH_REDIS_DB", "12"))
    print(f"database {db_url}\nredis    {redis_url}")
    await seed.fresh_database(db_url, demo_password="bench")
    receiver = Receiver()
    await receiver.start()
    logs = Path(tempfile.mkdtemp(prefix="upstream-bench-"))
    config = logs / "upstream.toml"
    config.write_text(
        "[delivery]\nmax_attempts = 1000\nbackoff_base_seconds = 0.5\nbackoff_cap_seconds = 10\ntimeout_seconds = 5\n"
        f'[channel."12345"]\nurl = "http://127.0.0.1:{receiver.port}/feedback"\nauth_env = "{AUTH_ENV}"\n'
        'events = ["replied"]\n'
    )
    os.environ[AUTH_ENV] = "Bearer bench"
    rt = await Runtime.start(
        Settings(database_url=db_url, redis_url=redis_url, db_pool_max=20, upstream_config=str(config))
    )
    procs: list[subprocess.Popen[bytes]] = []
    ok = True
    try:
        await rt.redis.flushdb()
        t0 = time.perf_counter()
        numbers = await signed_transfers(rt, args.replies + (args.down_replies if args.down else 0))
        print(f"{len(numbers)} transfers taken and signed in {time.perf_counter() - t0:.1f} s")
        first, later = numbers[: args.replies], numbers[args.replies :]
        env = {
            **os.environ,
            "HOTLINE_DATABASE_URL": db_url,
            "HOTLINE_REDIS_URL": redis_url,
            "HOTLINE_LOG_LEVEL": os.environ.get("HOTLINE_BENCH_WORKER_LOG_LEVEL", "WARNING"),
            "HOTLINE_UPSTREAM_CONFIG": str(config),
        }
        procs = [start_worker(env, logs / f"worker-{i}.log") for i in range(args.workers)]
        await asyncio.sleep(3)  # the workers' start-up
        t0 = time.perf_counter()
        committed = await reply_all(rt, first)
        took = time.perf_counter() - t0
        done = await wait_acked(receiver, first, 300)
        lags = [receiver.acked[n] - committed[n] for n in first if n in receiver.acked]
        print("\n--- receiver up ---")
        print(f"replies committed     {len(committed)} in {took:.1f} s ({len(committed) / took:.0f}/s)")
        print(
            f"acknowledged          {len(lags)} / {len(first)}"
            + (f", the last {done:.1f} s after the last reply" if done is not None else " (NOT all in 300 s)")
        )
        print(f"lag commit -> ack     p50 {pct(lags, 50):.3f} s, p99 {pct(lags, 99):.3f} s, max {max(lags):.3f} s")
        ok = done is not None and pct(lags, 99) <= 2.0
        if args.down and later:
            await receiver.stop()
            down_at = time.monotonic()
            await reply_all(rt, later)
            await asyncio.sleep(max(0.0, args.down - (time.monotonic() - down_at)))
            await receiver.start()
            back = await wait_acked(receiver, later, 300)
            print(f"\n--- receiver down {args.down:.0f} s, then back ---")
            print(f"replies while down    {len(later)}")
            print(
                "all acknowledged      "
                + (
                    f"{back:.1f} s after its return (target <= 60 s)"
                    if back is not None
                    else "NOT within 300 s of its return"
                )
            )
            ok = ok and back is not None and back <= 60
        undelivered = None
        for _ in range(100):  # the receiver's 2xx comes a moment before the worker records it
            undelivered = await rt.pool.fetchval("SELECT count(*) FROM upstream_outbox WHERE status <> 'delivered'")
            if not undelivered:
                break
            await asyncio.sleep(0.1)
        print(f"outbox not delivered  {undelivered}; posts received {receiver.posts}")
        print("PASS" if ok and undelivered == 0 else "FAIL")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        codes = [p.wait(timeout=30) for p in procs]
        print(f"workers stopped by SIGTERM, exit codes {codes}; logs in {logs}")
        await rt.close()


if __name__ == "__main__":
    asyncio.run(main())

"""Live-feed benchmark: 1,000 open consoles on the API processes; Redis connections and delivery latency.

A plain script, not collected by pytest:

    .venv/bin/python tests/perf/live_bench.py [--clients 1000] [--tickets 40] [--interval 0.25] [--workers 2]

It builds a fresh database `hotline_live_bench` (migrated, demo seed) on the configured PostgreSQL server, starts a
private redis-server on a free port (pub/sub channels are server-wide, so a shared Redis would mix in other
services' live messages and connections), starts `hotline serve --workers N`, and opens `--clients` live feeds
(GET /api/live, raw keep-alive sockets on 127.0.0.1) as agent, dispatcher, manager and the handler of
320612-bureau, where every ticket goes, plus one in ten as the handler of 320614-bureau, who must get none. Once
every feed said `ready`, it logs `--tickets` tickets one every `--interval` seconds and records, per feed and
ticket, the time from sending the POST to the feed receiving the ticket's `create` message. Redis connections are
counted with CLIENT LIST (all of them the API processes', less this script's own) every half second.
Targets (issue 11): at most 10 Redis connections, delivery p99 within 1 s, no ticket missed, none leaked to
another unit's handler.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Collection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # benchmark the working tree

from tests.perf import common  # noqa: E402
from tests.perf.intake import run as intake  # noqa: E402
from tests.scratch import free_port, start_redis, stop_redis  # noqa: E402

DB_NAME = "hotline_live_bench"
PASSWORD = intake.PASSWORD
OWN, OTHER = "handler-320612-bureau", "handler-320614-bureau"
STAFF = ("agent", "dispatcher", "manager", OWN)
TICKET = {
    "channel": "96196",
    "kind": "complaint",
    "category": "taxi",
    "territory": "320612",
    "title": "出租车拒载",
    "content": "乘客在通州区打车被拒载。",
    "caller": {"name": "张先生", "phone": "13812345678"},
    "urgent": False,
}
TICKET_EVENT = re.compile(rb"event: ticket\r\ndata: ([^\r]*)")
NUMBER = re.compile(rb'"number":"([^"]+)"')


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Feed:
    """One console's event stream over a raw socket: when each ticket's `create` message arrived."""

    def __init__(self, username: str) -> None:
        self.username = username
        self.ready = asyncio.Event()
        self.arrived: dict[str, float] = {}
        self.changed = asyncio.Event()  # set on each new arrival
        self.ended = False
        self.task: asyncio.Task[None] | None = None

    async def all_arrived(self, numbers: Collection[str]) -> None:
        """Return once every ticket of `numbers` has arrived on this feed."""
        while not self.arrived.keys() >= set(numbers):
            self.changed.clear()
            await self.changed.wait()

    async def run(self, port: int, token: str, deadline: float) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            (
                f"GET /api/live HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                "Accept: text/event-stream\r\n\r\n"
            ).encode()
        )
        buf = b""
        try:
            while time.monotonic() < deadline:
                data = await reader.read(65536)
                now = time.monotonic()
                if not data:
                    break
                buf += data
                cut = buf.rfind(b"\r\n\r\n")
                if cut < 0:
                    continue
                done, buf = buf[: cut + 4], buf[cut + 4 :]
                if not self.ready.is_set() and b"event: ready" in done:
                    self.ready.set()
                for m in TICKET_EVENT.finditer(done):
                    if b'"action":"create"' in m.group(1) and (n := NUMBER.search(m.group(1))):
                        self.arrived.setdefault(n.group(1).decode(), now)
                        self.changed.set()
                if b"event: reconnect" in done:
                    break
        finally:
            self.ended = True
            writer.close()


async def redis_connections(redis_url: str, show: bool = False) -> int:
    from redis.asyncio import Redis

    r = Redis.from_url(redis_url)
    try:
        clients = await r.client_list()
        if show:
            kinds: dict[str, int] = {}
            for c in clients:
                key = f"cmd={c.get('cmd')} sub={c.get('sub')}"
                kinds[key] = kinds.get(key, 0) + 1
            print(f"  Redis clients (incl. this one): {kinds}", flush=True)
        return len(clients) - 1  # less this one
    finally:
        await r.aclose()


async def sign_in(http, username: str) -> str:
    r = await http.post("/api/auth/token", json={"username": username, "password": PASSWORD})
    r.raise_for_status()
    return r.json()["access_token"]


async def measure(args: argparse.Namespace, port: int, redis_url: str) -> dict:
    import httpx

    deadline = time.monotonic() + args.max_seconds
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        tokens = {u: await sign_in(http, u) for u in (*STAFF, OTHER)}
        feeds = [Feed(OTHER if i % 10 == 9 else STAFF[i % len(STAFF)]) for i in range(args.clients)]
        opened = time.monotonic()
        for start in range(0, len(feeds), 100):  # in steps, as consoles would open over a morning, only faster
            for f in feeds[start : start + 100]:
                f.task = asyncio.create_task(f.run(port, tokens[f.username], deadline))
            await asyncio.sleep(0.2)
        try:
            await asyncio.wait_for(
                asyncio.gather(*(f.ready.wait() for f in feeds)), max(0.0, deadline - time.monotonic())
            )
        except TimeoutError:
            pass  # counted below
        ready = sum(f.ready.is_set() for f in feeds)
        print(f"  {ready} of {len(feeds)} feeds ready after {time.monotonic() - opened:.1f} s", flush=True)

        counts = [await redis_connections(redis_url, show=True)]
        sampling = True

        async def sample() -> None:
            while sampling:
                counts.append(await redis_connections(redis_url))
                await asyncio.sleep(0.5)

        sampler = asyncio.create_task(sample())
        sent: dict[str, float] = {}
        post_ms: list[float] = []
        headers = {"Authorization": f"Bearer {tokens['agent']}"}
        for i in range(args.tickets):
            if time.monotonic() > deadline:
                break
            t0 = time.monotonic()
            r = await http.post("/api/tickets", json={**TICKET, "title": f"出租车拒载 #{i}"}, headers=headers)
            r.raise_for_status()
            post_ms.append((time.monotonic() - t0) * 1000)
            sent[r.json()["number"]] = t0
            await asyncio.sleep(max(0.0, args.interval - (time.monotonic() - t0)))
        wanted = [f for f in feeds if f.username != OTHER]
        try:
            await asyncio.wait_for(asyncio.gather(*(f.all_arrived(sent.keys()) for f in wanted)), args.settle)
        except TimeoutError:
            pass  # what did not arrive is counted below
        sampling = False
        await sampler
        await redis_connections(redis_url, show=True)
        for f in feeds:
            if f.task is not None:
                f.task.cancel()
        await asyncio.gather(*(f.task for f in feeds if f.task is not None), return_exceptions=True)

    latencies = [f.arrived[n] - t for f in wanted for n, t in sent.items() if n in f.arrived]
    missed = sum(1 for f in wanted for n in sent if n not in f.arrived)
    leaked = sum(1 for f in feeds if f.username == OTHER for n in sent if n in f.arrived)
    dropped = sum(1 for f in wanted if f.ended and len(sent.keys() & f.arrived.keys()) < len(sent))
    return {
        "clients": len(feeds),
        "ready": ready,
        "tickets": len(sent),
        "deliveries": len(latencies),
        "missed": missed,
        "leaked": leaked,
        "ended_early": dropped,
        "redis_max": max(counts),
        "redis_idle": counts[0],
        "p50_ms": pct(latencies, 50) * 1000,
        "p99_ms": pct(latencies, 99) * 1000,
        "max_ms": max(latencies, default=float("nan")) * 1000,
        "post_p50_ms": pct(post_ms, 50),
        "post_p99_ms": pct(post_ms, 99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--tickets", type=int, default=40)
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between tickets (default 0.25)")
    parser.add_argument("--workers", type=int, default=2, help="API processes (default 2: one per core here)")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds to wait for stragglers after the last")
    parser.add_argument("--max-seconds", type=float, default=180.0, help="hard bound on the measured part")
    parser.add_argument("--source", type=Path, default=ROOT, help="run the service from another checkout (A/B)")
    args = parser.parse_args()

    from hotline.ops.seed import fresh_database

    db_url, _ = common.bench_urls(DB_NAME, 0)
    intake.require_port(db_url, 5432, "PostgreSQL")
    asyncio.run(fresh_database(db_url, demo_password=PASSWORD))
    with tempfile.TemporaryDirectory(prefix="hotline-live-bench-") as tmp:
        redis_port = free_port()
        redis_proc = start_redis(redis_port, Path(tmp))
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        port = free_port()
        log = Path(tmp) / "serve.log"
        proc = intake.start_server("hotline", args.workers, port, db_url, redis_url, log, args.source)
        try:
            intake.wait_ready(proc, port, log)
            busy = intake.machine_busy()
            print(
                f"live feed: {args.clients} feeds on {args.workers} API process(es), {args.tickets} tickets "
                f"every {args.interval} s; machine {busy:.0%} busy before (shared)",
                flush=True,
            )
            out = asyncio.run(measure(args, port, redis_url))
        finally:
            intake.stop_server(proc)
            stop_redis(redis_proc)
    print(json.dumps(out))
    print(
        f"feeds ready {out['ready']}/{out['clients']}; Redis connections: {out['redis_idle']} with every feed open "
        f"and idle, at most {out['redis_max']} while tickets flowed"
    )
    print(
        f"deliveries {out['deliveries']:,} ({out['tickets']} tickets x {out['clients'] - out['clients'] // 10} "
        f"feeds that may see them): POST sent -> message received p50 {out['p50_ms']:.0f} ms, "
        f"p99 {out['p99_ms']:.0f} ms, max {out['max_ms']:.0f} ms; missed {out['missed']}, ended early "
        f"{out['ended_early']}, leaked to another unit's handler {out['leaked']}; "
        f"POST /api/tickets p50 {out['post_p50_ms']:.0f} ms, p99 {out['post_p99_ms']:.0f} ms"
    )
    checks = [
        (f"Redis connections <= 10 ({out['redis_max']})", out["redis_max"] <= 10),
        (f"delivery p99 <= 1 s ({out['p99_ms']:.0f} ms)", out["p99_ms"] <= 1000),
        (
            f"every feed ready and every ticket delivered ({out['ready']}, missed {out['missed']})",
            out["ready"] == out["clients"] and out["missed"] == 0,
        ),
        (f"nothing leaked across units ({out['leaked']})", out["leaked"] == 0),
    ]
    print("; ".join(f"{'ok' if ok else 'MISSED'} {text}" for text, ok in checks))
    print("PASS" if all(ok for _, ok in checks) else "FAIL (a target was missed)")


if __name__ == "__main__":
    os.environ.setdefault("HOTLINE_LOG_LEVEL", "WARNING")
    main()

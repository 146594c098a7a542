"""Soak: mixed traffic at a steady rate for a long time, with the worker escalating, on this 2-core machine.

A plain script, run by hand (not collected by pytest, not in `make bench`: the full run takes half an hour):

    .venv/bin/python tests/perf/soak.py                     # 300 requests/s for 1,800 s, 50 live-feed clients
    .venv/bin/python tests/perf/soak.py --duration 300      # five minutes

It recreates the database `hotline_bench_soak` (migrate + seed --demo), empties Redis DB 11
(HOTLINE_BENCH_REDIS_DB), starts `hotline serve --workers 2` and `hotline worker`, puts SLA rows in force that put
urgent praise tickets' sign deadline 30 s and reply deadline 60 s after receipt (so the worker records warnings and
overdue steps all along, at their instants, and the sweep runs under load), then sends requests open-loop (at their
scheduled instants, whatever the answers' speed: a slow server is not given a rest, and a request's latency counts
from its scheduled instant, so queueing in the client counts against the server too):

    40 %  reads: the ticket list (as manager, dispatcher or a unit's handler: its own unit) and a ticket's detail
    25 %  intake as `agent` with an Idempotency-Key (one in five urgent praise: the fast clocks above)
    20 %  actions on tickets this run made, by the right account: sign and reply as the unit's handler, callback
          as `agent` (one ticket is never acted on twice at once, so a 409 is an error too)
    10 %  the closure report of the last 30 days, grouped by unit, territory, category or kind
     5 %  other: SLA deadlines preview, escalations, notifications, /readyz

plus `--live` clients holding GET /api/live (server-sent events) open the whole time. Every minute it prints the
rate, errors, p50/p99 of that minute and the RSS of each process (API parent and workers, `hotline worker`); at the
end, PASS or FAIL against the targets: 0 errors (any answer but the expected 2xx, a dropped live-feed stream, a
request not sent because `--max-in-flight` were outstanding), p99 <= 200 ms over the run, and each process's RSS
at the end within 10 % of its RSS after the warm-up (the first tenth of the run, at least 60 s).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE / "intake"))

DB_NAME = "hotline_bench_soak"
P99_TARGET_MS = 200.0
RSS_GROWTH_TARGET = 0.10
FAST_ROWS = [  # urgent praise on 96196: escalates within the run (warning at 22.5 s, overdue at 30 s for sign)
    {
        "id": "soak-fast-sign",
        "clock": "sign",
        "channel": "96196",
        "kind": "praise",
        "urgent": True,
        "limit": 0.5,
        "unit": "minutes",
    },
    {
        "id": "soak-fast-reply",
        "clock": "reply",
        "channel": "96196",
        "kind": "praise",
        "urgent": True,
        "limit": 1,
        "unit": "minutes",
    },
]
PLACES = [
    ("320612", "taxi"),
    ("320614", "road"),
    ("320613", "bus"),
    ("320600", "highway"),
    ("320681", "coach"),
    ("320623", "freight"),
    ("320682", "ride_hailing"),
    ("320685", "vehicle_repair"),
    ("320600", "waterway"),
]
KINDS = ("complaint", "help", "consultation", "report", "suggestion")
GROUPS = ("unit", "territory", "category", "kind")


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []  # ms, whole run after warm-up
        self.minute: list[float] = []
        self.errors = collections.Counter()
        self.minute_errors = 0
        self.by_kind = collections.Counter()
        self.kind_latencies: dict[str, list[float]] = collections.defaultdict(list)
        self.sample_errors: list[str] = []

    def ok(self, kind: str, ms: float, measured: bool) -> None:
        self.by_kind[kind] += 1
        self.minute.append(ms)
        if measured:
            self.latencies.append(ms)
            self.kind_latencies[kind].append(ms)

    def error(self, kind: str, what: str) -> None:
        self.errors[f"{kind}: {what.split(chr(10))[0][:80]}"] += 1
        self.minute_errors += 1
        if len(self.sample_errors) < 10:
            self.sample_errors.append(f"{kind}: {what[:300]}")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class Response:
    def __init__(self, status_code: int, body: bytes) -> None:
        self.status_code, self.body = status_code, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


class Http:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams. The load generator shares the 2 cores with the
    server it measures: httpx cost about 1.5 ms of CPU a request here, which at 300/s took a core from the server
    and made the client itself the bottleneck; this costs a fraction of that."""

    def __init__(self, port: int, size: int) -> None:
        self.port = port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.slots = asyncio.Semaphore(size)

    async def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, json: Any = None, within: float = 30
    ) -> Response:
        body = b"" if json is None else _dumps(json)
        head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
        if json is not None:
            head.append("Content-Type: application/json")
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        data = ("\r\n".join(head) + "\r\n\r\n").encode() + body
        async with self.slots:
            for attempt in (1, 2):
                reused = bool(self.idle) and attempt == 1
                conn = self.idle.pop() if reused else await asyncio.open_connection("127.0.0.1", self.port)
                try:
                    status, payload, keep = await asyncio.wait_for(self._exchange(conn, data), within)
                except (ConnectionError, asyncio.IncompleteReadError) as exc:
                    conn[1].close()
                    if reused and attempt == 1:
                        continue  # the server closed an idle keep-alive connection: what every client does
                    raise ConnectionError(str(exc) or type(exc).__name__) from exc
                except BaseException:
                    conn[1].close()
                    raise
                if keep:
                    self.idle.append(conn)
                else:
                    conn[1].close()
                return Response(status, payload)
        raise AssertionError("unreachable")

    @staticmethod
    async def _exchange(
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], data: bytes
    ) -> tuple[int, bytes, bool]:
        reader, writer = conn
        writer.write(data)
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:] if h)}
        if "content-length" in fields:
            payload = await reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    break
                parts.append(chunk[:-2])
            payload = b"".join(parts)
        else:
            payload = await reader.read()
            return status, payload, False
        return status, payload, fields.get("connection", "").lower() != "close"

    async def get(self, path: str, **kw: Any) -> Response:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, **kw: Any) -> Response:
        return await self.request("POST", path, **kw)

    async def put(self, path: str, **kw: Any) -> Response:
        return await self.request("PUT", path, **kw)

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


class Traffic:
    """The mix. Tickets this run made wait in per-state queues for their next action, one action at a time."""

    def __init__(self, client: Any, tokens: dict[str, str], stats: Stats) -> None:
        self.c, self.tokens, self.stats = client, tokens, stats
        self.rng = random.Random(20261202)
        self.to_sign: collections.deque[tuple[str, str]] = collections.deque(maxlen=5000)  # (number, unit)
        self.to_reply: collections.deque[tuple[str, str]] = collections.deque(maxlen=5000)
        self.to_callback: collections.deque[str] = collections.deque(maxlen=5000)
        self.numbers: collections.deque[str] = collections.deque(maxlen=2000)
        self.units: list[str] = []
        self.measured = False

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    async def call(
        self, kind: str, scheduled: float, method: str, path: str, user: str, expect: tuple[int, ...], **kw: Any
    ) -> Any:
        try:
            r = await self.c.request(method, path, headers={**kw.pop("headers", {}), **self.auth(user)}, **kw)
        except Exception as exc:  # noqa: BLE001 - a failed connection is an error of the run, counted
            self.stats.error(kind, f"{type(exc).__name__} {exc}")
            return None
        ms = (time.monotonic() - scheduled) * 1000
        if r.status_code not in expect:
            self.stats.error(kind, f"{r.status_code} {r.text}")
            return None
        self.stats.ok(kind, ms, self.measured)
        return r

    def pick(self) -> str:
        x = self.rng.random()
        if x < 0.40:
            return "read"
        if x < 0.65:
            return "intake"
        if x < 0.85:
            return "action"
        if x < 0.95:
            return "report"
        return "other"

    async def one(self, scheduled: float) -> None:
        kind = self.pick()
        if kind == "action" and not (self.to_sign or self.to_reply or self.to_callback):
            kind = "read"
        await getattr(self, kind)(scheduled)

    async def read(self, t: float) -> None:
        x = self.rng.random()
        if x < 0.35 or not self.numbers:
            who = self.rng.choice(["manager", "dispatcher"])
            status = self.rng.choice(["", "&status=dispatched", "&status=in_progress", "&status=replied"])
            await self.call("list", t, "GET", f"/api/tickets?limit=20{status}", who, (200,))
        elif x < 0.55:
            unit = self.rng.choice(self.units)
            await self.call("list", t, "GET", "/api/tickets?limit=20", f"handler-{unit}", (200,))
        else:
            await self.call("detail", t, "GET", f"/api/tickets/{self.rng.choice(self.numbers)}", "manager", (200,))

    async def intake(self, t: float) -> None:
        territory, category = self.rng.choice(PLACES)
        fast = self.rng.random() < 0.2
        body = {
            "channel": "96196",
            "kind": "praise" if fast else self.rng.choice(KINDS),
            "category": category,
            "territory": territory,
            "title": f"浸泡测试 {category}",
            "urgent": fast,
            "content": f"市民来电反映{territory}辖区{category}相关问题，请核实处理并回复。",
            "caller": {"name": "王先生", "phone": f"13{self.rng.randrange(10**9):09d}"},
        }
        r = await self.call(
            "intake",
            t,
            "POST",
            "/api/tickets",
            "agent",
            (201,),
            json=body,
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        if r is not None:
            ticket = r.json()
            self.numbers.append(ticket["number"])
            # Fast tickets are mostly left alone, so that their clocks run out and the worker escalates them.
            if ticket["unit"] and (not fast or self.rng.random() < 0.3):
                self.to_sign.append((ticket["number"], ticket["unit"]))

    async def action(self, t: float) -> None:
        queues = [q for q in (self.to_callback, self.to_reply, self.to_sign) if q]
        q = self.rng.choice(queues)
        if q is self.to_sign:
            number, unit = q.popleft()
            r = await self.call("sign", t, "POST", f"/api/tickets/{number}/sign", f"handler-{unit}", (200,), json={})
            if r is not None:
                self.to_reply.append((number, unit))
        elif q is self.to_reply:
            number, unit = q.popleft()
            r = await self.call(
                "reply",
                t,
                "POST",
                f"/api/tickets/{number}/reply",
                f"handler-{unit}",
                (200,),
                json={"content": "已核实并处理，向市民作出答复。", "outcome": "resolved"},
            )
            if r is not None:
                self.to_callback.append(number)
        else:
            number = q.popleft()
            await self.call(
                "callback",
                t,
                "POST",
                f"/api/tickets/{number}/callback",
                "agent",
                (200,),
                json={"contacted": True, "resolved": "resolved", "satisfaction": "satisfied"},
            )

    async def report(self, t: float) -> None:
        now = datetime.now(UTC)
        start = (now - timedelta(days=30)).date().isoformat()
        end = (now + timedelta(days=1)).date().isoformat()
        group = self.rng.choice(GROUPS)
        await self.call(
            "report", t, "GET", f"/api/reports/closure?from={start}&to={end}&group_by={group}", "manager", (200,)
        )

    async def other(self, t: float) -> None:
        x = self.rng.random()
        if x < 0.3:
            at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
            await self.call(
                "other",
                t,
                "GET",
                f"/api/sla/deadlines?received_at={at}&channel=96196&kind=complaint&urgent=false",
                "agent",
                (200,),
            )
        elif x < 0.6:
            await self.call("other", t, "GET", "/api/escalations?limit=20", "manager", (200,))
        elif x < 0.8:
            await self.call("other", t, "GET", "/api/notifications", "dispatcher", (200,))
        else:
            await self.call("other", t, "GET", "/readyz", "manager", (200,))


async def live_client(port: int, token: str, stats: Stats, stop: asyncio.Event, counts: list[int], i: int) -> None:
    """One console holding the live feed open; a stream that ends or fails before the run does is an error. Events
    are counted in the raw bytes (no parsing: the client must stay cheap)."""
    writer = None
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            (
                f"GET /api/live HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                "Accept: text/event-stream\r\n\r\n"
            ).encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            stats.error("live", head.split(b"\r\n", 1)[0].decode("latin-1"))
            return
        while not stop.is_set():
            chunk = await reader.read(65536)
            if not chunk:
                break
            counts[i] += chunk.count(b"event:")
        if not stop.is_set():
            stats.error("live", "stream ended")
    except Exception as exc:  # noqa: BLE001
        if not stop.is_set():
            stats.error("live", f"{type(exc).__name__} {exc}")
    finally:
        if writer is not None:
            writer.close()


async def prepare(db_url: str, redis_url: str) -> None:
    from redis.asyncio import Redis
    from run import PASSWORD  # tests/perf/intake/run.py: the benchmarks' demo password

    from hotline.ops.seed import fresh_database

    await fresh_database(db_url, demo_password=PASSWORD)
    r = Redis.from_url(redis_url)
    try:
        await r.flushdb()
    finally:
        await r.aclose()


async def db_figures(db_url: str) -> dict[str, Any]:
    from hotline.infra import db

    conn = await db.connect(db_url)
    try:
        return dict(
            await conn.fetchrow(
                """SELECT (SELECT count(*) FROM tickets) AS tickets,
                      (SELECT count(*) FROM escalation_steps) AS steps,
                      (SELECT count(*) FROM escalation_steps WHERE source = 'job') AS steps_by_job,
                      (SELECT count(*) FROM (SELECT 1 FROM escalation_steps GROUP BY clock_id, step
                                             HAVING count(*) > 1) d) AS doubled_steps,
                      (SELECT count(*) FROM notifications) AS notifications,
                      (SELECT count(*) FROM clocks WHERE next_step_at < now() - interval '30 seconds')
                          AS overdue_unrecorded"""
            )
        )
    finally:
        await conn.close()


async def _signed_in_with_fast_policies(c: Http) -> tuple[dict[str, str], list[str]]:
    """Tokens of the staff and of every unit's handler that could sign in, and those units; the fast SLA rows put in
    force (so escalation steps fall due during the run)."""
    from run import PASSWORD

    tokens: dict[str, str] = {}

    async def sign_in(users: list[str]) -> None:
        for user in users:
            r = await c.post("/api/auth/token", json={"username": user, "password": PASSWORD})
            if r.status_code == 200:
                tokens[user] = r.json()["access_token"]

    await sign_in(["agent", "manager", "dispatcher", "admin"])
    r = await c.get("/api/reference", headers={"Authorization": f"Bearer {tokens['manager']}"})
    assert r.status_code == 200, r.text
    units = [u["code"] for u in r.json()["units"]]
    await sign_in([f"handler-{u}" for u in units])
    units = [u for u in units if f"handler-{u}" in tokens]
    assert units, "no handler could sign in"
    policies = (await c.get("/api/admin/sla-policies", headers={"Authorization": f"Bearer {tokens['admin']}"})).json()
    r = await c.put(
        "/api/admin/sla-policies",
        headers={"Authorization": f"Bearer {tokens['admin']}"},
        json={"defaults": policies["defaults"], "policy": [*policies["policy"], *FAST_ROWS]},
    )
    assert r.status_code == 200, r.text
    return tokens, units


async def drive(args: argparse.Namespace, port: int, pids: dict[str, list[int]]) -> int:
    stats = Stats()
    c = Http(port, args.connections)
    try:
        tokens, units = await _signed_in_with_fast_policies(c)
        traffic = Traffic(c, tokens, stats)
        traffic.units = units
        stop = asyncio.Event()
        counts = [0] * args.live
        viewers = ["manager", "dispatcher", "agent", *(f"handler-{u}" for u in units)]
        live_tasks = [
            asyncio.create_task(live_client(port, tokens[viewers[i % len(viewers)]], stats, stop, counts, i))
            for i in range(args.live)
        ]

        started = time.monotonic()
        warmup = args.warmup if args.warmup is not None else max(60.0, args.duration / 10)
        interval = 1.0 / args.rate
        in_flight: set[asyncio.Task[None]] = set()
        rss_start: dict[int, float] = {}
        all_pids = [p for group in pids.values() for p in group]
        print(
            f"{'min':>4} {'req/s':>7} {'errors':>6} {'p50 ms':>7} {'p99 ms':>7}  RSS MB "
            + " ".join(f"{name}:{p}" for name, group in pids.items() for p in group),
            flush=True,
        )
        next_report = started + 60
        n = 0
        dropped = 0
        while True:
            scheduled = started + n * interval
            now = time.monotonic()
            if scheduled > started + args.duration:
                break
            if scheduled > now:
                await asyncio.sleep(scheduled - now)
            if not traffic.measured and time.monotonic() - started >= warmup:
                traffic.measured = True
                rss_start = {p: rss_mb(p) for p in all_pids}
            if len(in_flight) >= args.max_in_flight:
                dropped += 1
                stats.error("client", "max in flight reached: request not sent")
            else:
                task = asyncio.create_task(traffic.one(scheduled))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            n += 1
            if time.monotonic() >= next_report:
                minute, stats.minute = stats.minute, []
                errs, stats.minute_errors = stats.minute_errors, 0
                rss = " ".join(f"{rss_mb(p):.0f}" for p in all_pids)
                print(
                    f"{int((next_report - started) // 60):>4} {len(minute) / 60:>7.1f} {errs:>6} "
                    f"{pct(minute, 0.5):>7.1f} {pct(minute, 0.99):>7.1f}  {rss}",
                    flush=True,
                )
                next_report += 60
        await asyncio.wait(in_flight, timeout=30) if in_flight else None
        elapsed = time.monotonic() - started
        rss_end = {p: rss_mb(p) for p in all_pids}
        stop.set()
        for t in live_tasks:
            t.cancel()
        await asyncio.gather(*live_tasks, return_exceptions=True)
    finally:
        c.close()

    figures = await db_figures(args.db_url)
    measured = stats.latencies
    total_errors = sum(stats.errors.values())
    print(
        f"\n{sum(stats.by_kind.values()):,} requests answered in {elapsed:.0f} s "
        f"({sum(stats.by_kind.values()) / elapsed:.1f}/s): {dict(stats.by_kind)}"
    )
    print(
        f"after the {warmup:.0f} s warm-up: {len(measured):,} requests, p50 {pct(measured, 0.5):.1f} ms, "
        f"p90 {pct(measured, 0.9):.1f} ms, p99 {pct(measured, 0.99):.1f} ms, max {max(measured or [0]):.1f} ms"
    )
    print(
        "by kind: "
        + ", ".join(
            f"{k} p50 {pct(v, 0.5):.1f} / p99 {pct(v, 0.99):.1f} ms" for k, v in sorted(stats.kind_latencies.items())
        )
    )
    print(f"errors: {total_errors} {dict(stats.errors) if stats.errors else ''}")
    for e in stats.sample_errors:
        print(f"  e.g. {e}")
    print(
        f"live feed: {args.live} clients, {sum(counts):,} events received "
        f"(min {min(counts or [0])}, max {max(counts or [0])} per client)"
    )
    print(f"database: {figures}")
    growth_ok = True
    for name, group in pids.items():
        for p in group:
            a, b = rss_start.get(p, float("nan")), rss_end[p]
            growth = (b - a) / a if a == a and a else float("nan")
            ok = growth == growth and growth <= RSS_GROWTH_TARGET
            growth_ok &= ok
            print(
                f"RSS {name} pid {p}: {a:.1f} MB after warm-up -> {b:.1f} MB at the end ({100 * growth:+.1f} %)"
                f"{'' if ok else '  MISSED'}"
            )
    p99 = pct(measured, 0.99)
    checks = [
        (f"0 errors ({total_errors})", total_errors == 0),
        (f"p99 <= {P99_TARGET_MS:.0f} ms ({p99:.1f})", p99 <= P99_TARGET_MS),
        (f"RSS growth <= {100 * RSS_GROWTH_TARGET:.0f} % per process after warm-up", growth_ok),
        (f"no step recorded twice ({figures['doubled_steps']})", figures["doubled_steps"] == 0),
        (f"the worker escalated ({figures['steps']} steps)", figures["steps"] > 0),
    ]
    print("; ".join(f"{'ok' if ok else 'MISSED'} {text}" for text, ok in checks))
    passed = all(ok for _, ok in checks)
    print("PASS" if passed else "FAIL (a target was missed)")
    return 0 if passed else 1


def main() -> int:
    import run  # tests/perf/intake/run.py: the benchmarks' process helpers

    from tests.perf import common

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=1800, help="seconds of traffic (default 1800)")
    parser.add_argument("--rate", type=float, default=300, help="requests per second (default 300)")
    parser.add_argument("--live", type=int, default=50, help="live-feed clients (default 50)")
    parser.add_argument("--workers", type=int, default=2, help="API worker processes (default 2)")
    parser.add_argument("--connections", type=int, default=64, help="client keep-alive connections (default 64)")
    parser.add_argument("--warmup", type=float, help="unmeasured seconds first (default: a tenth, at least 60)")
    parser.add_argument("--max-in-flight", type=int, default=1000, help="outstanding requests before dropping")
    args = parser.parse_args()
    args.db_url, args.redis_url = common.bench_urls(DB_NAME, os.environ.get("HOTLINE_BENCH_REDIS_DB", "11"))
    run.require_port(args.db_url, 5432, "PostgreSQL")
    run.require_port(args.redis_url, 6379, "Redis")
    print(
        f"soak: {args.rate:.0f} requests/s for {args.duration} s, {args.live} live-feed clients, "
        f"{args.workers} API workers + 1 hotline worker; machine {100 * run.machine_busy():.0f} % busy before",
        flush=True,
    )
    asyncio.run(prepare(args.db_url, args.redis_url))
    with tempfile.TemporaryDirectory(prefix="hotline-soak-") as tmp:
        port = run.free_port()
        log = Path(tmp) / "serve.log"
        server = run.start_server("hotline", args.workers, port, args.db_url, args.redis_url, log)
        env = {
            **os.environ,
            "HOTLINE_DATABASE_URL": args.db_url,
            "HOTLINE_REDIS_URL": args.redis_url,
            "HOTLINE_LOG_LEVEL": "WARNING",
            "HOTLINE_SECRET_KEY": run.SECRET,
            "HOTLINE_DEMO_PASSWORD": run.PASSWORD,
        }
        worker_log = (Path(tmp) / "worker.log").open("ab")
        worker = subprocess.Popen(
            [sys.executable, "-m", "hotline.ops.cli", "worker"],
            env=env,
            cwd=ROOT,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            run.wait_ready(server, port, log)
            time.sleep(2)  # every API worker past its start-up, not only the first to answer
            tree = run.process_tree(server.pid)
            # uvicorn's children: its workers and multiprocessing's resource tracker (small, idle).
            children = {p: Path(f"/proc/{p}/cmdline").read_bytes() for p in sorted(tree[1:])}
            pids = {
                "api-parent": tree[:1],
                "api-worker": [p for p, cmd in children.items() if b"resource_tracker" not in cmd],
                "api-tracker": [p for p, cmd in children.items() if b"resource_tracker" in cmd],
                "hotline-worker": [worker.pid],
            }
            cpu0 = {p: run.cpu_seconds([p]) for p in tree + [worker.pid]}
            started = time.monotonic()
            rc = asyncio.run(drive(args, port, pids))
            wall = time.monotonic() - started
            cpu = {p: (run.cpu_seconds([p]) - c) / wall for p, c in cpu0.items()}
            import resource

            me = resource.getrusage(resource.RUSAGE_SELF)
            print(
                "CPU (cores) "
                + ", ".join(f"pid {p}: {v:.2f}" for p, v in cpu.items())
                + f"; this load generator: {(me.ru_utime + me.ru_stime) / wall:.2f}"
                + f"; machine {100 * run.machine_busy():.0f} % busy after (other work on the box counts too)"
            )
        finally:
            run.stop_server(server)
            run.stop_server(worker)
            worker_log.close()
            tail = log.read_text()[-1500:]
            if "Traceback" in tail or "error" in tail.lower():
                print(f"server log (tail):\n{tail}")
    return rc


if __name__ == "__main__":
    sys.exit(main())

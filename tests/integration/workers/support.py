"""Helpers for the worker tests: a real arq worker (burst mode) on the test Redis DB and test database, tickets
whose steps are already due, taps on the live feed and a webhook receiver; waiting on explicit conditions
(`eventually()`) and measuring the worker's own scheduling lag (`LagProbes`) instead of fixed wall-clock windows."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from arq.connections import RedisSettings
from arq.constants import default_queue_name
from arq.jobs import Job
from arq.worker import Worker, func

from config.settings import Settings
from tests.conftest import principal  # noqa: F401  (re-exported: the worker tests import it from here)
from tests.polling import PATIENCE

UTC = UTC
ROOT = Path(__file__).resolve().parents[3]
FAST_ROWS = [  # urgent praise on 96196: sign due in 3 s (warning 2.25 s), reply in 6 s (warning 4.5 s)
    {
        "id": "test-fast-sign",
        "clock": "sign",
        "channel": "96196",
        "kind": "praise",
        "urgent": True,
        "limit": 0.05,
        "unit": "minutes",
    },
    {  # a ticket of that kind no rule routes waits for a dispatcher: its dispatch clock is due in 3 s too
        "id": "test-fast-dispatch",
        "clock": "dispatch",
        "channel": "96196",
        "kind": "praise",
        "urgent": True,
        "limit": 0.05,
        "unit": "minutes",
    },
    {
        "id": "test-fast-reply",
        "clock": "reply",
        "channel": "96196",
        "kind": "praise",
        "urgent": True,
        "limit": 0.1,
        "unit": "minutes",
    },
]
FAST = {"kind": "praise", "urgent": True, "category": "taxi", "territory": "320612"}  # -> 320612-bureau
FAST_PENDING = {"kind": "praise", "urgent": True, "category": "taxi", "territory": None}  # no rule: pending_dispatch
UNIT = "320612-bureau"
# --- the worker's own scheduling lag ---------------------------------------------------------------------------------

PROBE_JOB = "tests_scheduling_probe"
# A step recorded by its job is "at its instant" when it is no later than the worst lag of a trivial job due at the
# same instants on the same worker (measured in the same run), times LATENESS_FACTOR, with LATENESS_FLOOR as the
# least allowance: the factor covers the step's own work (one statement and the telling) on top of being picked
# up, the floor a machine whose probes happened to run at once. A step left to the sweep (every 15 s, 5 s grace)
# is told apart by its source, not by this allowance.
LATENESS_FACTOR = 3.0
LATENESS_FLOOR = 1.5


async def scheduling_probe(ctx: dict[str, Any], due: float) -> float:
    """A job that does nothing but tell how late it started after the instant it was deferred to (seconds)."""
    return time.time() - due


def allowed_lateness(worst_probe_lag: float) -> float:
    return max(LATENESS_FLOOR, LATENESS_FACTOR * worst_probe_lag)


class LagProbes:
    """Trivial jobs deferred to given instants, run by the same worker as the jobs under test; their lag is the
    worker's scheduling lag on this machine at that moment (a loaded 2-core machine makes it grow)."""

    def __init__(self, redis: Any) -> None:
        self.redis = redis
        self.job_ids: list[str] = []

    async def arm(self, *instants: datetime) -> None:
        for at in instants:
            job_id = f"probe:{uuid.uuid4().hex}"
            await self.redis.enqueue_job(PROBE_JOB, at.timestamp(), _job_id=job_id, _defer_until=at)
            self.job_ids.append(job_id)

    async def done(self) -> bool:
        return all([await Job(j, self.redis).result_info() is not None for j in self.job_ids])

    async def lags(self) -> list[float]:
        infos = [await Job(j, self.redis).result_info() for j in self.job_ids]
        assert all(i is not None and i.success for i in infos), infos
        return [i.result for i in infos if i is not None]


def worker_for(settings: Settings, **overrides: Any) -> Worker:
    """The production WorkerSettings, pointed at the test services, in burst mode, without signal handlers; plus the
    scheduling probe (a test-only job that touches nothing)."""
    from workers.settings import WorkerSettings

    kwargs: dict[str, Any] = {
        "functions": [*WorkerSettings.functions, func(scheduling_probe, name=PROBE_JOB, max_tries=1)],
        "cron_jobs": WorkerSettings.cron_jobs,
        "on_startup": WorkerSettings.on_startup,
        "on_shutdown": WorkerSettings.on_shutdown,
        "on_job_start": WorkerSettings.on_job_start,
        "after_job_end": WorkerSettings.after_job_end,
        "max_jobs": WorkerSettings.max_jobs,
        "job_timeout": WorkerSettings.job_timeout,
        "keep_result": WorkerSettings.keep_result,
        "allow_abort_jobs": WorkerSettings.allow_abort_jobs,
        "health_check_interval": WorkerSettings.health_check_interval,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "burst": True,
        "poll_delay": 0.05,
        "handle_signals": False,
        "ctx": {"settings": settings},
    }
    kwargs.update(overrides)
    return Worker(**kwargs)


async def nothing_due(worker: Worker) -> bool:
    """Burst mode would wait for far-future steps (supervision is days away): idle means started, nothing due soon
    and nothing running."""
    if worker._pool is None or "rt" not in worker.ctx or not worker._last_health_check:
        return False
    soon = int((time.time() + 1) * 1000)
    return not worker.tasks and await worker.pool.zcount(default_queue_name, "-inf", soon) == 0


async def run_workers(
    settings: Settings,
    *,
    until: Callable[[], Awaitable[bool]] | None = None,
    within: float = PATIENCE,
    count: int = 1,
    **overrides: Any,
) -> list[Worker]:
    """Run `count` burst workers at once until `until()` holds (default: nothing due) or the bursts end; then close.
    Neither within `within` seconds: the run fails (a hang guard, not a time limit on the behaviour)."""
    workers = [worker_for(settings, **overrides) for _ in range(count)]
    tasks = [asyncio.create_task(w.async_run()) for w in workers]
    deadline = time.monotonic() + within
    ended = False
    try:
        await asyncio.sleep(0.3)
        while time.monotonic() < deadline and not ended:
            if until is not None:
                ended = bool(await until())
            else:  # at least the start-up sweep has run
                ended = all([await nothing_due(w) for w in workers]) and sum(w.jobs_complete for w in workers) > 0
            ended = ended or all(t.done() for t in tasks)
            if not ended:
                await asyncio.sleep(0.1)
    finally:
        await asyncio.gather(*(stop_worker(w, t) for w, t in zip(workers, tasks, strict=True)))
    assert ended, f"the workers' run did not end within {within:.0f} s ({until or 'nothing due'})"
    return workers


async def stop_worker(worker: Worker, task: asyncio.Task[None]) -> None:
    """Let running jobs finish (as a graceful shutdown would), then stop polling and run the shutdown hook."""
    worker.allow_pick_jobs = False
    for _ in range(300):
        if all(t.done() for t in worker.tasks.values()):
            break
        await asyncio.sleep(0.05)
    if task.done() and not task.cancelled() and task.exception() is not None:
        raise task.exception()  # type: ignore[misc]
    # arq's close() cancels the poll loop but does not wait for it before closing the Redis pool: a loop cancelled
    # inside one of its pipelines then unwinds against a closed pool, the pipeline keeps its connection, and the
    # garbage collector warns about it later, in whichever test is running then. Stop the loop and let it unwind
    # first, as a graceful shutdown would.
    loop = worker.main_task
    if loop is not None and not loop.done():
        loop.cancel()
        await asyncio.wait([loop])
    await worker.close()
    try:
        await task
    except asyncio.CancelledError:
        pass


async def past_tickets(runtime: Any, n: int, *, days_ago: int = 40, kind: str = "consultation") -> list[int]:
    """`n` tickets received long ago whose clocks' steps are all due now; no job is armed (as if Redis lost them)."""
    from hotline.tickets import intake

    agent = await principal(runtime, "agent")
    received = datetime.now(UTC) - timedelta(days=days_ago)
    ids = []
    for i in range(n):
        body = intake.TicketIn(
            channel="96196",
            kind=kind,
            category="taxi",
            territory="320612",
            title=f"历史工单 {i}",
            content="用于测试补漏扫描的历史工单",
        )
        result = await intake.create_ticket(
            runtime, agent, body, idempotency_key=None, now=received + timedelta(seconds=i)
        )
        ids.append(result.ticket_id)
    return ids


async def arm_next_steps(runtime: Any, ticket_ids: list[int]) -> int:
    from hotline.infra import queue as jobs

    rows = await runtime.pool.fetch(
        "SELECT id, version, next_step, next_step_at FROM clocks WHERE ticket_id = any($1::bigint[]) "
        "AND next_step IS NOT NULL",
        ticket_ids,
    )
    await jobs.arm(
        runtime.redis, [jobs.ArmedStep(r["id"], r["version"], r["next_step"], r["next_step_at"]) for r in rows]
    )
    return len(rows)


async def steps_of(runtime: Any, ticket_ids: list[int]) -> list[Any]:
    return await runtime.pool.fetch(
        """SELECT s.id, s.clock_id, s.ticket_id, s.clock, s.step, s.due_at, s.recorded_at, s.source, s.unit
           FROM escalation_steps s WHERE s.ticket_id = any($1::bigint[]) ORDER BY s.id""",
        ticket_ids,
    )


async def expected_recipients(runtime: Any, step: Any) -> set[int]:
    from hotline.escalation.notifications import AUDIENCE_SQL

    rows = await runtime.pool.fetch(
        "SELECT u.id FROM users u, (SELECT $1::text AS step, $2::text AS unit, $3::text AS clock) s "
        f"WHERE {AUDIENCE_SQL}",
        step["step"],
        step["unit"],
        step.get("clock") or "",  # the audience depends on the clock only for the dispatch clock
    )
    return {r["id"] for r in rows}


class LiveTap:
    """Collects every message published on the live feed channel while it runs. On leaving it publishes a marker on
    a channel of its own and waits for it: Redis hands a subscriber its messages in the order they were published,
    so everything published before the exit (every announcement of a finished run) has then been collected."""

    def __init__(self, redis: Any) -> None:
        self.redis = redis
        self.messages: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None
        self._barrier = f"tests:live-tap:{uuid.uuid4().hex}"
        self._caught_up = asyncio.Event()

    async def __aenter__(self) -> LiveTap:
        from hotline.infra.live import CHANNEL

        self._pubsub = self.redis.pubsub()
        await self._pubsub.subscribe(CHANNEL, self._barrier)
        self._task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        async for message in self._pubsub.listen():
            if message["type"] != "message":
                continue
            channel = message["channel"]
            if (channel.decode() if isinstance(channel, bytes) else channel) == self._barrier:
                self._caught_up.set()
            else:
                self.messages.append(json.loads(message["data"]))

    async def __aexit__(self, exc_type: Any, *exc: Any) -> None:
        assert self._task is not None
        try:
            if exc_type is None:
                await self.redis.publish(self._barrier, "caught up?")
                await asyncio.wait_for(self._caught_up.wait(), PATIENCE)
        finally:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            await self._pubsub.unsubscribe()
            await self._pubsub.aclose()

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]


class WebhookReceiver:
    """A tiny HTTP server that records POSTed JSON bodies; `fail_first` requests get a 500."""

    def __init__(self, fail_first: int = 0) -> None:
        self.bodies: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.fail_first = fail_first
        self.requests = 0

    async def __aenter__(self) -> WebhookReceiver:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hook"
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:] if h)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests += 1
            if self.requests <= self.fail_first:
                writer.write(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            else:
                self.bodies.append((headers, json.loads(body)))
                writer.write(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
            await writer.drain()
        finally:
            writer.close()


def with_webhooks(settings: Settings, *urls: str) -> Settings:
    return dataclasses.replace(settings, webhook_urls=tuple(urls))


def worker_process(settings: Settings, log_path: Path, *args: str) -> subprocess.Popen[bytes]:
    """`hotline worker` as its own process, on the test database and Redis DB, logging to `log_path`."""
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": settings.database_url,
        "HOTLINE_REDIS_URL": settings.redis_url,
        "HOTLINE_LOG_LEVEL": "INFO",
        "HOTLINE_LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
    }
    with open(log_path, "wb") as out:  # a file, not a pipe: a full pipe would stall the worker
        return subprocess.Popen(
            [sys.executable, "-m", "hotline.ops.cli", "worker", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop_process(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
    proc.wait(timeout=30)

"""`hotline worker` as a real process: one JSON log setup with the job id bound, a health key, a clean SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

from arq.constants import default_queue_name, health_check_key_suffix
from arq.jobs import Job

from hotline.infra import queue as jobs
from tests.integration.workers.support import past_tickets, steps_of, stop_process, worker_process


async def test_worker_logs_jobs_keeps_its_health_key_and_stops_cleanly_on_sigterm(
    runtime, settings, redis_clean, tmp_path
):
    [tid] = await past_tickets(runtime, 1)
    clock = await runtime.pool.fetchrow("SELECT id, version FROM clocks WHERE ticket_id = $1 AND clock = 'sign'", tid)
    log_path = tmp_path / "worker.log"
    proc = worker_process(settings, log_path)
    try:
        health = default_queue_name + health_check_key_suffix
        for _ in range(200):
            if await runtime.redis.exists(health) and "worker_started" in log_path.read_text():
                break
            await asyncio.sleep(0.05)
        assert await runtime.redis.exists(health)
        ttl = await runtime.redis.pttl(health)
        assert 0 < ttl <= 11_000  # refreshed every 10 s, not hourly
        job_id = jobs.escalation_job_id(clock["id"], clock["version"], "warning")
        await runtime.redis.enqueue_job(jobs.ESCALATE_JOB, clock["id"], clock["version"], "warning", _job_id=job_id)
        for _ in range(200):
            if await Job(job_id, runtime.redis).result_info() is not None:
                break
            await asyncio.sleep(0.05)
        # The job or the worker's start-up sweep recorded them; either way, once.
        assert len(await steps_of(runtime, [tid])) == 6
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rc = await asyncio.to_thread(proc.wait, 15)
        assert rc == 0 and time.monotonic() - started < 5
    finally:
        stop_process(proc)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    assert lines, log_path.read_text()[:2000]
    events = [line["event"] for line in lines]
    assert "worker_started" in events and "worker_stopped" in events
    job_lines = [line for line in lines if line.get("job_id") == job_id]
    assert job_lines and all(line["job_try"] == 1 for line in job_lines)
    assert any("escalate_clock" in line["event"] for line in job_lines)  # arq's own line, through our logging
    assert not await runtime.redis.exists(health)  # removed on a clean shutdown


async def test_a_worker_outlives_a_redis_restart_and_stops_cleanly_on_sigterm(settings, tmp_path):
    """arq stops its worker when Redis goes away; `hotline worker` starts it again once Redis is back, so an
    operator never has to restart workers after a Redis restart."""
    import dataclasses

    import redis.asyncio as aioredis

    from tests.scratch import free_port, start_redis, stop_redis

    port = free_port()
    server = start_redis(port, tmp_path)
    mine = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{port}/0")
    proc = worker_process(mine, tmp_path / "worker.log")
    client = aioredis.from_url(mine.redis_url)
    try:

        async def healthy(timeout: float) -> bool:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    if await client.exists("arq:queue:health-check"):
                        return True
                except OSError:
                    pass
                except Exception:  # noqa: BLE001 - redis' own ConnectionError while it is down
                    pass
                await asyncio.sleep(0.2)
            return False

        assert await healthy(20), (tmp_path / "worker.log").read_text()
        check = subprocess.run(
            [sys.executable, "-m", "hotline.ops.cli", "worker", "--check"],
            capture_output=True,
            env={**os.environ, "HOTLINE_REDIS_URL": mine.redis_url},
            timeout=60,
        )
        assert check.returncode == 0, check.stdout + check.stderr  # what a supervisor's liveness probe runs
        stop_redis(server)
        await asyncio.sleep(3)
        assert proc.poll() is None, "the worker died with Redis"
        server = start_redis(port, tmp_path)  # back, and empty
        assert await healthy(40), (tmp_path / "worker.log").read_text()[-3000:]
        assert proc.poll() is None
        log_text = (tmp_path / "worker.log").read_text()
        assert "worker_redis_unavailable" in log_text and log_text.count("worker_started") >= 2
        stop_process(proc, signal.SIGTERM)
        assert proc.returncode == 0
        await client.delete("arq:queue:health-check")
        check = subprocess.run(
            [sys.executable, "-m", "hotline.ops.cli", "worker", "--check"],
            capture_output=True,
            env={**os.environ, "HOTLINE_REDIS_URL": mine.redis_url},
            timeout=60,
        )
        assert check.returncode == 1  # no worker: the probe says so
    finally:
        await client.aclose()
        stop_process(proc)
        stop_redis(server)

"""`hotline worker` as a real process: one JSON log setup with the job id bound, a health key, a clean SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

from arq.constants import default_queue_name, health_check_key_suffix
from arq.jobs import Job

from hotline.infra import queue as jobs
from tests.integration.workers.support import past_tickets, steps_of, stop_process, worker_process
from tests.polling import eventually

HEALTH = default_queue_name + health_check_key_suffix
# SIGTERM lets running jobs finish (job_completion_wait, 20 s) and stops; a worker that ignored it (seen with the
# wrong redis-py) would never exit. An idle worker exits at once: this bound only tells "stopped" from "ignored".
STOPS_WITHIN = 30


async def _check(redis_url: str) -> tuple[int, bytes]:
    """`hotline worker --check`, what a supervisor's liveness probe runs: its exit status and output."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hotline.ops.cli",
        "worker",
        "--check",
        env={**os.environ, "HOTLINE_REDIS_URL": redis_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None, out
    return proc.returncode, out


async def _stopped_by_sigterm(proc) -> int:
    proc.send_signal(signal.SIGTERM)
    return await asyncio.to_thread(proc.wait, STOPS_WITHIN)


async def test_worker_logs_jobs_keeps_its_health_key_and_stops_cleanly_on_sigterm(
    runtime, settings, redis_clean, tmp_path
):
    [tid] = await past_tickets(runtime, 1)
    clock = await runtime.pool.fetchrow("SELECT id, version FROM clocks WHERE ticket_id = $1 AND clock = 'sign'", tid)
    log_path = tmp_path / "worker.log"
    proc = worker_process(settings, log_path)
    try:

        async def started() -> bool:
            return bool(await runtime.redis.exists(HEALTH)) and "worker_started" in await asyncio.to_thread(
                log_path.read_text
            )

        await eventually(started, what="the worker started")
        ttl = await runtime.redis.pttl(HEALTH)
        assert 0 < ttl <= 11_000  # refreshed every 10 s, not hourly
        job_id = jobs.escalation_job_id(clock["id"], clock["version"], "warning")
        await runtime.redis.enqueue_job(jobs.ESCALATE_JOB, clock["id"], clock["version"], "warning", _job_id=job_id)

        async def job_done_and_steps_recorded() -> bool:
            done = await Job(job_id, runtime.redis).result_info() is not None
            return done and len(await steps_of(runtime, [tid])) >= 6

        await eventually(job_done_and_steps_recorded, what="the job ran and every due step was recorded")
        # The job or the worker's start-up sweep recorded them; either way, once.
        assert len(await steps_of(runtime, [tid])) == 6
        assert await _stopped_by_sigterm(proc) == 0
    finally:
        stop_process(proc)
    text = await asyncio.to_thread(log_path.read_text)
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert lines, text[:2000]
    events = [line["event"] for line in lines]
    assert "worker_started" in events and "worker_stopped" in events
    job_lines = [line for line in lines if line.get("job_id") == job_id]
    assert job_lines and all(line["job_try"] == 1 for line in job_lines)
    assert any("escalate_clock" in line["event"] for line in job_lines)  # arq's own line, through our logging
    assert not await runtime.redis.exists(HEALTH)  # removed on a clean shutdown


async def test_a_worker_outlives_a_redis_restart_and_stops_cleanly_on_sigterm(settings, tmp_path):
    """arq stops its worker when Redis goes away; `hotline worker` starts it again once Redis is back, so an
    operator never has to restart workers after a Redis restart."""
    import dataclasses

    import redis.asyncio as aioredis
    import redis.exceptions

    from tests.scratch import free_port, start_redis, stop_redis

    port = free_port()
    server = start_redis(port, tmp_path)
    mine = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{port}/0")
    log = tmp_path / "worker.log"
    proc = worker_process(mine, log)
    client = aioredis.from_url(mine.redis_url)
    down = (OSError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)

    def tail() -> str:
        return log.read_text()[-3000:]

    try:
        await eventually(lambda: client.exists(HEALTH), what=tail, every=0.2, tolerate=down)
        status, out = await _check(mine.redis_url)
        assert status == 0, out
        stop_redis(server)

        async def outage_noticed() -> bool:
            return "worker_redis_unavailable" in await asyncio.to_thread(log.read_text)

        # The signal: the worker has seen Redis gone (and logged it); it must still be running then.
        await eventually(outage_noticed, what=tail)
        assert proc.poll() is None, "the worker died with Redis"
        server = start_redis(port, tmp_path)  # back, and empty
        await eventually(lambda: client.exists(HEALTH), what=tail, every=0.2, tolerate=down)
        assert proc.poll() is None
        log_text = await asyncio.to_thread(log.read_text)
        assert log_text.count("worker_started") >= 2
        assert await _stopped_by_sigterm(proc) == 0
        await client.delete(HEALTH)
        status, out = await _check(mine.redis_url)
        assert status == 1, out  # no worker: the probe says so
    finally:
        await client.aclose()
        stop_process(proc)
        stop_redis(server)

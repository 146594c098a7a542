"""Redis restarted (empty) and later flushed while escalation steps fall due, with a real `hotline worker` running
throughout: once the sweep has run, every step whose instant has passed is recorded exactly once and told once to
the right people, the lost jobs' steps included (those due during the outage by the sweep).

test_catch_up.py flushes Redis under an in-process burst worker and runs the sweep by hand; here the worker is the
production process, Redis is a private redis-server killed and started again (nothing saved: it comes back empty)
and then flushed, and nothing is run by the test: the worker's own restart, start-up sweep and cron do the work.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis.exceptions
from arq.constants import default_queue_name, health_check_key_suffix

from hotline.infra.runtime import Runtime
from hotline.tickets import announcer, intake
from tests.integration.workers.support import (
    FAST,
    arm_next_steps,
    principal,
    steps_of,
    stop_process,
    worker_process,
)
from tests.integration.workers.test_catch_up import _assert_each_step_once_and_notified_once
from tests.polling import eventually
from tests.scratch import free_port, start_redis, stop_redis

UTC = UTC
HEALTH = default_queue_name + health_check_key_suffix


# While the private Redis is down or just back, a check through it may fail to connect: that is "not yet".
REDIS_DOWN = (OSError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


async def _until(check, what) -> None:
    await eventually(check, what=what, every=0.1, tolerate=REDIS_DOWN)


def _tail(log: Path) -> str:
    return log.read_text()[-2000:]


@pytest.mark.realtime
async def test_steps_falling_due_across_a_redis_restart_and_a_flush_are_each_recorded_and_told_once(
    settings, runtime, fast_policies, tmp_path
):
    port = free_port()
    server = start_redis(port, tmp_path)
    mine = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{port}/0")
    rt = await Runtime.start(mine)  # intake on the private Redis: its near steps are armed there
    agent = await principal(runtime, "agent")
    worker = worker_process(mine, tmp_path / "worker.log")
    log = tmp_path / "worker.log"

    async def create(n: int, tag: str) -> list[int]:
        ids = []
        for i in range(n):
            body = intake.TicketIn(channel="96196", title=f"{tag} {i}", content="Redis 重启期间到期的工单", **FAST)
            ids.append((await intake.create_ticket(rt, agent, body, idempotency_key=None)).ticket_id)
        await announcer.announced(rt)
        return ids

    try:
        await _until(lambda: rt.redis.exists(HEALTH), lambda: f"the worker started: {_tail(log)}")
        await rt.current_policies()
        first = await create(8, "重启前")
        first_last_due = await runtime.pool.fetchval(
            "SELECT max(due_at) FROM clocks WHERE ticket_id = any($1::bigint[])", first
        )
        stop_redis(server)  # gone, with every deferred job of the first batch
        killed_at = datetime.now(UTC)

        async def outage_seen_and_first_instants_passed() -> bool:
            # Redis comes back once the worker has noticed it gone and every instant of the first batch has
            # passed: those after the kill fell due during the outage, with their jobs lost.
            noticed = "worker_redis_unavailable" in await asyncio.to_thread(log.read_text)
            return noticed and datetime.now(UTC) > first_last_due

        await eventually(outage_seen_and_first_instants_passed, what=lambda: f"the outage noticed: {_tail(log)}")
        server = start_redis(port, tmp_path)  # back, empty
        back_at = datetime.now(UTC)
        await _until(lambda: rt.redis.exists(HEALTH), lambda: f"the worker back: {_tail(log)}")
        second = await create(8, "重启后")
        # Intake arms near steps as it goes, but a command on a connection from before the restart may have been
        # lost (that is what the sweep is for); armed here, so the flush below has jobs to lose.
        await arm_next_steps(rt, second)
        assert await rt.redis.zcard(default_queue_name) >= len(second)
        await _until(lambda: _recorded(runtime, second, 1), "a step of the second batch recorded")
        await rt.redis.flushall()  # and Redis loses everything once more, the second batch's jobs with it
        ids = first + second
        last_due = await runtime.pool.fetchval(
            "SELECT max(due_at) FROM clocks WHERE ticket_id = any($1::bigint[])", ids
        )
        # Every instant passed, then the sweep (every 15 s, 5 s grace) has had its turn.
        await _until(
            lambda: _recorded(runtime, ids, 4 * len(ids)),
            f"every one of the {4 * len(ids)} due steps recorded",
        )
        # A step recorded by a job that then lost Redis is told by a later sweep (the untold ones): wait for it.
        await _until(lambda: _all_told(runtime, ids), "every recorded step told")
        assert datetime.now(UTC) > last_due
        assert worker.poll() is None, "the worker died with Redis"
    finally:
        stop_process(worker)
        await rt.close()
        stop_redis(server)

    steps = await _assert_each_step_once_and_notified_once(runtime, ids, ("warning", "overdue"), "supervision")
    assert len(steps) == 4 * len(ids)
    # Steps whose instant came while Redis was away had lost their jobs: the worker's start-up sweep recorded them
    # or armed them again (one just past due is left to a job for the sweep's grace), after Redis was back.
    outage = [s for s in steps if s["ticket_id"] in first and killed_at < s["due_at"] <= back_at]
    assert outage, "no step fell due during the outage: the test did not test the loss"
    assert all(s["recorded_at"] > back_at for s in outage)
    late = max((s["recorded_at"] - s["due_at"]).total_seconds() for s in steps)
    print(
        f"\n{len(steps)} steps: {sum(s['source'] == 'job' for s in steps)} by their jobs, "
        f"{sum(s['source'] == 'sweep' for s in steps)} by the sweep; latest {late:.1f} s after its instant"
    )
    log_text = await asyncio.to_thread(log.read_text)
    assert "worker_redis_unavailable" in log_text and log_text.count("worker_started") >= 2


async def _recorded(runtime, ids: list[int], at_least: int) -> bool:
    return len(await steps_of(runtime, ids)) >= at_least


async def _all_told(runtime, ids: list[int]) -> bool:
    return not await runtime.pool.fetchval(
        "SELECT count(*) FROM escalation_steps s WHERE s.ticket_id = any($1::bigint[]) "
        "AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.step_id = s.id)",
        ids,
    )

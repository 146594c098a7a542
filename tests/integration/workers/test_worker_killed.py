"""`hotline worker` killed with SIGKILL while an escalation job is in progress: the job runs again on the next worker
and its effect (the steps, their notifications, their webhook deliveries) happens once.

The kill is made on an explicit signal, not by racing a burst: the test holds the clock's row, so the job's
statement waits on it; once arq's in-progress key for the job exists and PostgreSQL shows the worker's statement
waiting on the lock, the worker is killed. test_catch_up.py kills a worker mid-burst at whatever point it reached.
"""

from __future__ import annotations

import collections

from arq.constants import in_progress_key_prefix
from arq.jobs import Job

from hotline.infra import db
from hotline.infra import queue as jobs
from tests.integration.workers.support import (
    WebhookReceiver,
    expected_recipients,
    past_tickets,
    steps_of,
    stop_process,
    worker_process,
)
from tests.polling import eventually


async def test_a_worker_killed_mid_job_runs_it_again_and_its_effect_happens_once(
    runtime, settings, redis_clean, tmp_path, monkeypatch
):
    [tid] = await past_tickets(runtime, 1)  # every step of both clocks is due; no job armed
    clock = await runtime.pool.fetchrow("SELECT id, version FROM clocks WHERE ticket_id = $1 AND clock = 'sign'", tid)
    job_id = jobs.escalation_job_id(clock["id"], clock["version"], "warning")
    lock = await db.connect(settings.database_url)
    watch = await db.connect(settings.database_url)
    first = second = None
    async with WebhookReceiver() as hook:
        monkeypatch.setenv("HOTLINE_WEBHOOK_URLS", hook.url)  # the worker processes inherit it
        try:
            tx = lock.transaction()
            await tx.start()
            await lock.execute("SELECT 1 FROM clocks WHERE id = $1 FOR UPDATE", clock["id"])
            first = worker_process(settings, tmp_path / "first.log")
            await runtime.redis.enqueue_job(jobs.ESCALATE_JOB, clock["id"], clock["version"], "warning", _job_id=job_id)

            async def job_waits_on_the_clock() -> bool:
                if not await runtime.redis.exists(in_progress_key_prefix + job_id):
                    return False
                return bool(
                    await watch.fetchval(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock' AND query LIKE '%WHERE id = $3 AND version = $4%'"
                    )
                )

            await eventually(job_waits_on_the_clock, what="the job started and waits on the clock")
            stop_process(first, 9)  # SIGKILL: no shutdown, the in-progress key and the queued job left behind
            await tx.rollback()  # the statement of the dead worker goes on by itself: committed or not, no matter
            # arq keeps a dead worker's job for its in-progress key's life (job_timeout + 10 s = 130 s) and then
            # runs it again; the key is removed here to stand for that wait.
            assert await runtime.redis.exists(in_progress_key_prefix + job_id)
            await runtime.redis.delete(in_progress_key_prefix + job_id)
            second = worker_process(settings, tmp_path / "second.log")

            async def ran_again() -> bool:
                info = await Job(job_id, runtime.redis).result_info()
                return info is not None

            await eventually(ran_again, what="the job ran again on the second worker")
            info = await Job(job_id, runtime.redis).result_info()
            assert info.success and info.job_try == 2, info

            steps = await steps_of(runtime, [tid])
            sign_steps = [s for s in steps if s["clock_id"] == clock["id"]]

            async def told_and_posted() -> bool:
                told = await runtime.pool.fetchval(
                    "SELECT count(*) FROM notifications WHERE step_id = any($1::bigint[])", [s["id"] for s in steps]
                )
                posted = {b.get("step_id") for _, b in hook.bodies}
                # Posted is not yet recorded: the worker marks a delivery delivered after the receiver's answer.
                delivered = await runtime.pool.fetchval(
                    "SELECT count(*) FROM webhook_deliveries "
                    "WHERE step_id = any($1::bigint[]) AND status = 'delivered'",
                    [s["id"] for s in sign_steps],
                )
                return told > 0 and {s["id"] for s in sign_steps} <= posted and delivered == len(sign_steps)

            await eventually(told_and_posted, what="the steps were told, posted and recorded as delivered")
        finally:
            for proc in (first, second):
                if proc is not None:
                    stop_process(proc)
            await lock.close()
            await watch.close()

    steps = await steps_of(runtime, [tid])
    sign_steps = [s for s in steps if s["clock_id"] == clock["id"]]
    assert sorted(s["step"] for s in sign_steps) == ["overdue", "supervision", "warning"]
    assert len({(s["clock_id"], s["step"]) for s in steps}) == len(steps)
    for s in sign_steps:
        told = await runtime.pool.fetch(
            "SELECT user_id, count(*) AS n FROM notifications WHERE step_id = $1 GROUP BY user_id", s["id"]
        )
        assert {r["user_id"] for r in told} == await expected_recipients(runtime, s), s["step"]
        assert all(r["n"] == 1 for r in told)
    print(f"\nre-run (try {info.job_try}): {info.result}; steps by {sorted({s['source'] for s in sign_steps})}")
    posted = collections.Counter(b.get("step_id") for _, b in hook.bodies)
    assert [posted[s["id"]] for s in sign_steps] == [1, 1, 1]
    delivered = await runtime.pool.fetch(
        "SELECT status, count(*) AS n FROM webhook_deliveries WHERE step_id = any($1::bigint[]) GROUP BY status",
        [s["id"] for s in sign_steps],
    )
    assert [(r["status"], r["n"]) for r in delivered] == [("delivered", 3)]

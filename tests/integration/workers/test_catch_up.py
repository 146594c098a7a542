"""The catch-up sweep and failure cases with real workers: Redis flushed mid-run, a worker killed mid-burst, two
workers at once. Whatever happens, every due step is recorded exactly once, and so are its notifications, its live
announcement and its webhook delivery.

Faults land on an explicit signal (the database shows the first steps recorded), never at a guessed moment."""

from __future__ import annotations

import asyncio
import collections
import signal
from datetime import UTC, datetime, timedelta

import pytest
from arq.constants import default_queue_name, health_check_key_suffix

from hotline.escalation import catch_up
from hotline.escalation import steps as recording
from hotline.tickets import lifecycle
from tests.integration.workers.support import (
    FAST,
    LiveTap,
    WebhookReceiver,
    arm_next_steps,
    expected_recipients,
    past_tickets,
    principal,
    run_workers,
    steps_of,
    stop_process,
    with_webhooks,
    worker_process,
)
from tests.polling import eventually

UTC = UTC
HEALTH = default_queue_name + health_check_key_suffix
LADDER = ("warning", "overdue", "supervision")


async def _assert_each_step_once_and_notified_once(runtime, ticket_ids, per_clock=LADDER, next_step=None):
    steps = await steps_of(runtime, ticket_ids)
    clocks = await runtime.pool.fetch(
        "SELECT id, next_step FROM clocks WHERE ticket_id = any($1::bigint[])", ticket_ids
    )
    by_clock = collections.defaultdict(list)
    for s in steps:
        by_clock[s["clock_id"]].append(s["step"])
    assert {c["id"] for c in clocks} == set(by_clock), "a clock has no steps recorded"
    for c in clocks:
        assert sorted(by_clock[c["id"]], key=LADDER.index) == list(per_clock), (c["id"], by_clock[c["id"]])
        assert c["next_step"] == next_step  # nothing else left to fire
    recipients = {}
    for key in {(s["step"], s["unit"]) for s in steps}:
        recipients[key] = await expected_recipients(runtime, {"step": key[0], "unit": key[1]})
    told = await runtime.pool.fetch(
        "SELECT step_id, user_id, count(*) AS n FROM notifications WHERE step_id = any($1::bigint[]) "
        "GROUP BY step_id, user_id",
        [s["id"] for s in steps],
    )
    by_step = collections.defaultdict(set)
    for row in told:
        assert row["n"] == 1
        by_step[row["step_id"]].add(row["user_id"])
    for s in steps:
        assert by_step[s["id"]] == recipients[(s["step"], s["unit"])], s["step"]
    return steps


async def test_sweep_records_every_due_step_once_with_its_notifications(runtime, redis_clean):
    ids = await past_tickets(runtime, 5)
    now = datetime.now(UTC)
    async with LiveTap(runtime.redis) as tap:
        first = await catch_up.sweep(runtime, now=now, grace=timedelta(0))
        again = await catch_up.sweep(runtime, now=now + timedelta(seconds=1), grace=timedelta(0))
    steps = await _assert_each_step_once_and_notified_once(runtime, ids)
    assert {s["source"] for s in steps} == {"sweep"}
    assert first.recorded >= len(steps) and first.lag_seconds > 30 * 86400
    assert again.recorded == 0
    announced = collections.Counter(m["id"] for m in tap.of("escalation"))
    assert all(announced[s["id"]] == 1 for s in steps)
    # Supervision (督办) goes to the managers.
    manager = await principal(runtime, "manager")
    sup = [s["id"] for s in steps if s["step"] == "supervision"]
    assert await runtime.pool.fetchval(
        "SELECT count(*) FROM notifications WHERE user_id = $1 AND step_id = any($2::bigint[])", manager.user_id, sup
    ) == len(sup)


async def test_sweep_skips_what_is_not_yet_due_and_reads_only_the_due(runtime, redis_clean, api, fast_policies):
    t = await api.create("agent", **FAST)
    tid = await runtime.pool.fetchval("SELECT id FROM tickets WHERE number = $1", t["number"])
    received = datetime.fromisoformat(t["received_at"])
    # Just before the sign warning: nothing of this ticket; just after it: only the sign warning.
    await catch_up.sweep(runtime, now=received + timedelta(seconds=2.2), grace=timedelta(0))
    assert await steps_of(runtime, [tid]) == []
    await catch_up.sweep(runtime, now=received + timedelta(seconds=2.3), grace=timedelta(0))
    assert [(s["clock"], s["step"]) for s in await steps_of(runtime, [tid])] == [("sign", "warning")]
    # The grace leaves a just-due step to its job.
    await catch_up.sweep(runtime, now=received + timedelta(seconds=4), grace=timedelta(seconds=5))
    assert len(await steps_of(runtime, [tid])) == 1
    async with runtime.pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL enable_seqscan = off")  # a test table is small enough to scan; prove the index
        plan = await conn.fetchval(
            "EXPLAIN (FORMAT JSON) " + recording.RECORD_DUE_SQL, datetime.now(UTC), "sweep", datetime.now(UTC), 1000
        )
    assert "clocks_next_step_idx" in str(plan)


@pytest.mark.realtime
async def test_redis_flushed_mid_run_still_gives_every_step_once(api, runtime, settings, redis_clean, fast_policies):
    tickets = [await api.create("agent", **FAST) for _ in range(6)]
    ids = [await runtime.pool.fetchval("SELECT id FROM tickets WHERE number = $1", t["number"]) for t in tickets]
    last_due = max(datetime.fromisoformat(t["deadlines"]["reply"]) for t in tickets)
    flushed = False

    async def flush_after_first_steps() -> bool:
        nonlocal flushed
        if not flushed and await steps_of(runtime, ids):
            await runtime.redis.flushdb()  # every deferred job is gone, Redis knows nothing any more
            flushed = True
        return flushed and datetime.now(UTC) > last_due + timedelta(seconds=1)

    # A burst worker stops as soon as the flushed queue is empty; the instants pass without it. (No cron here: a
    # sweep tick falling in these seconds would re-arm the lost jobs and hide the loss this test is about.)
    await run_workers(settings, until=flush_after_first_steps, cron_jobs=[])
    assert flushed
    await asyncio.sleep(max(0.0, (last_due - datetime.now(UTC)).total_seconds() + 1))
    before = await steps_of(runtime, ids)
    assert 0 < len(before) < 4 * len(ids)  # the flush lost steps
    await catch_up.sweep(runtime, now=datetime.now(UTC), grace=timedelta(0))
    await run_workers(settings)  # jobs re-armed after the flush run and find nothing left
    steps = await steps_of(runtime, ids)
    by_clock = collections.Counter((s["clock_id"], s["step"]) for s in steps)
    assert len(by_clock) == 4 * len(ids) and set(by_clock.values()) == {1}
    assert {s["source"] for s in steps} == {"job", "sweep"}
    told = await runtime.pool.fetch(
        "SELECT step_id, user_id FROM notifications WHERE step_id = any($1::bigint[])", [s["id"] for s in steps]
    )
    assert len(told) == len({(r["step_id"], r["user_id"]) for r in told})


@pytest.mark.realtime
async def test_a_worker_killed_mid_burst_leaves_nothing_undone_or_doubled(
    api, runtime, settings, redis_clean, fast_policies, tmp_path
):
    # The worker is up before the tickets exist, so their steps fall due while it runs (not all at once, in a
    # start-up sweep, after a slow start).
    proc = worker_process(settings, tmp_path / "worker.log")
    try:
        await eventually(lambda: runtime.redis.exists(HEALTH), what="the worker started")
        tickets = [await api.create("agent", **FAST) for _ in range(30)]
        ids = [await runtime.pool.fetchval("SELECT id FROM tickets WHERE number = $1", t["number"]) for t in tickets]
        last_due = max(datetime.fromisoformat(t["deadlines"]["reply"]) for t in tickets)

        async def some_steps_recorded() -> bool:
            return len(await steps_of(runtime, ids)) >= 12

        # The signal: the worker has recorded a dozen steps (the sign warnings come first, seconds before the
        # reply clocks' steps), so the kill lands with the burst under way and most of it still to come.
        await eventually(some_steps_recorded, every=0.01, what="the worker recorded its first steps")
    finally:
        stop_process(proc, signal.SIGKILL)  # mid-burst: jobs in flight, their in-progress keys left behind
    partial = await steps_of(runtime, ids)
    assert 12 <= len(partial) < 4 * len(ids), len(partial)

    async def all_instants_passed() -> bool:
        return datetime.now(UTC) > last_due + timedelta(seconds=1.5)

    await run_workers(settings, until=all_instants_passed)  # a new worker takes over
    await catch_up.sweep(runtime, now=datetime.now(UTC), grace=timedelta(0))  # and the sweep catches the rest
    steps = await _assert_each_step_once_and_notified_once(runtime, ids, ("warning", "overdue"), "supervision")
    assert len(steps) == 4 * len(ids)


async def test_two_workers_at_once_give_no_duplicates(runtime, settings, redis_clean):
    ids = await past_tickets(runtime, 80)
    await arm_next_steps(runtime, ids)
    async with WebhookReceiver() as hook, LiveTap(runtime.redis) as tap:
        await run_workers(with_webhooks(settings, hook.url), count=2, until=None)
        steps = await _assert_each_step_once_and_notified_once(runtime, ids)

        async def all_posted() -> bool:  # deliveries are posted right after the steps' commit
            return len(hook.bodies) >= len(steps)

        await eventually(all_posted, what=lambda: f"{len(hook.bodies)} of {len(steps)} deliveries posted")
    announced = collections.Counter(m["id"] for m in tap.of("escalation"))
    assert [announced[s["id"]] for s in steps] == [1] * len(steps)
    posted = collections.Counter(body["step_id"] for _, body in hook.bodies)
    assert [posted[s["id"]] for s in steps] == [1] * len(steps)
    assert len({h["x-hotline-delivery"] for h, _ in hook.bodies}) == len(hook.bodies)


async def test_steps_recorded_while_people_act_on_the_tickets(runtime, redis_clean):
    """The sweep takes ticket locks before clock locks, as the lifecycle does: concurrent signs never deadlock."""
    ids = await past_tickets(runtime, 30, days_ago=3, kind="help")
    numbers = [
        r["number"]
        for r in await runtime.pool.fetch("SELECT number FROM tickets WHERE id = any($1::bigint[]) ORDER BY id", ids)
    ]
    handler = await principal(runtime, "handler-320612-bureau")
    now = datetime.now(UTC)

    async def sign_all() -> None:
        for n in numbers:
            await lifecycle.perform(runtime, handler, n, "sign", b"{}", now=now)

    async def sweep_repeatedly() -> None:
        for _ in range(10):
            await catch_up.sweep(runtime, now=now, grace=timedelta(0), batch=5)

    # A deadlock would not hang: PostgreSQL breaks it within deadlock_timeout and perform() turns it into a 409
    # (Conflict), which fails this gather. So the proof is that both sides finish without an error.
    await asyncio.gather(sign_all(), sweep_repeatedly())
    await catch_up.sweep(runtime, now=now, grace=timedelta(0))
    rows = await runtime.pool.fetch(
        "SELECT c.clock, c.stopped_at, count(s.id) AS steps FROM clocks c LEFT JOIN escalation_steps s "
        "ON s.clock_id = c.id WHERE c.ticket_id = any($1::bigint[]) GROUP BY c.id",
        ids,
    )
    assert all(r["stopped_at"] is not None for r in rows if r["clock"] == "sign")
    assert any(r["steps"] for r in rows if r["clock"] == "sign")  # the sweeps did record while signs went on


async def test_steps_recorded_by_a_process_that_died_before_telling_are_told_by_the_sweep(runtime, redis_clean):
    ids = await past_tickets(runtime, 2)
    now = datetime.now(UTC)
    await catch_up.sweep_batch(runtime, now=now, cutoff=now, limit=10_000)  # recorded; then the process "died"
    steps = await steps_of(runtime, ids)
    assert len(steps) == 12
    assert (
        await runtime.pool.fetchval(
            "SELECT count(*) FROM notifications WHERE step_id = any($1::bigint[])", [s["id"] for s in steps]
        )
        == 0
    )
    async with LiveTap(runtime.redis) as tap:
        result = await catch_up.sweep(runtime, now=now + timedelta(seconds=6))
        again = await catch_up.sweep(runtime, now=now + timedelta(seconds=7))
    assert result.untold_told >= 12 and again.untold_told == 0
    await _assert_each_step_once_and_notified_once(runtime, ids)
    announced = collections.Counter(m["id"] for m in tap.of("escalation"))
    assert all(announced[s["id"]] == 1 for s in steps)


@pytest.mark.realtime
async def test_two_workers_share_exact_time_jobs_falling_due_while_they_run(
    api, runtime, settings, redis_clean, fast_policies
):
    """Steps that fall due while two workers run are split between them, by job, and each is recorded and told once:
    the queue and the database's constraints (not luck) keep the effects single."""
    created = [await api.create("agent", **FAST) for _ in range(30)]
    ids = [await runtime.pool.fetchval("SELECT id FROM tickets WHERE number = $1", t["number"]) for t in created]

    async def all_overdue() -> bool:
        return sum(s["step"] == "overdue" for s in await steps_of(runtime, ids)) == 2 * len(ids)

    workers = await run_workers(settings, count=2, until=all_overdue)
    await _assert_each_step_once_and_notified_once(
        runtime, ids, per_clock=("warning", "overdue"), next_step="supervision"
    )
    steps = await steps_of(runtime, ids)
    assert len(steps) == 4 * len(ids)
    assert sum(s["source"] == "job" for s in steps) >= len(steps) // 2  # at their instants, not left to a sweep
    assert all(w.jobs_complete > 0 for w in workers), [w.jobs_complete for w in workers]

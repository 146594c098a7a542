"""Exact-time escalation with a real arq worker: steps at their instants, moved deadlines, stale jobs, early jobs.

"At its instant" is judged against the step's own due instant (escalation_steps.recorded_at - due_at), with an
allowance derived from the scheduling lag of trivial jobs due at the same instants on the same worker
(support.LagProbes), not a fixed wall-clock window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from arq.jobs import Job

from hotline.escalation import exact_time
from hotline.infra import queue as jobs
from tests.integration.workers.support import (
    FAST,
    UNIT,
    LagProbes,
    LiveTap,
    allowed_lateness,
    expected_recipients,
    run_workers,
    steps_of,
)

UTC = UTC


async def _ticket_id(runtime, number):
    return await runtime.pool.fetchval("SELECT id FROM tickets WHERE number = $1", number)


@pytest.mark.realtime
async def test_a_deadline_seconds_away_produces_its_steps_at_their_instants(
    api, runtime, settings, redis_clean, fast_policies
):
    t = await api.create("agent", **FAST)
    assert t["unit"] == UNIT
    tid = await _ticket_id(runtime, t["number"])
    clocks = await runtime.pool.fetch("SELECT id, clock, warning_at, due_at FROM clocks WHERE ticket_id = $1", tid)
    assert {c["clock"] for c in clocks} == {"sign", "reply"}
    # Both clocks follow the fast rows: sign due 3 s after receipt, reply 6 s, warnings at 75 %.
    received = datetime.fromisoformat(t["received_at"])
    by_clock = {c["clock"]: c for c in clocks}
    assert by_clock["reply"]["due_at"] - received == timedelta(seconds=6)
    assert by_clock["sign"]["warning_at"] - received == timedelta(seconds=2.25)

    probes = LagProbes(runtime.redis)  # due at the same four instants as the steps, on the same worker
    await probes.arm(*(c[at] for c in clocks for at in ("warning_at", "due_at")))

    async def overdue_everywhere() -> bool:
        return sum(s["step"] == "overdue" for s in await steps_of(runtime, [tid])) == 2 and await probes.done()

    async with LiveTap(runtime.redis) as tap:
        await run_workers(settings, until=overdue_everywhere)
    steps = await steps_of(runtime, [tid])
    assert sorted((s["clock"], s["step"]) for s in steps) == [
        ("reply", "overdue"),
        ("reply", "warning"),
        ("sign", "overdue"),
        ("sign", "warning"),
    ]
    lags = await probes.lags()
    allowed = allowed_lateness(max(lags))
    for s in steps:
        assert s["source"] == "job", s  # recorded by its exact-time job, not left to a sweep
        late = (s["recorded_at"] - s["due_at"]).total_seconds()
        assert 0 <= late <= allowed, (s["clock"], s["step"], late, allowed, lags)  # never early; at its instant
    latest = max((s["recorded_at"] - s["due_at"]).total_seconds() for s in steps)
    print(f"\nsteps at most {latest:.3f} s after their instants; probes {max(lags):.3f} s; allowed {allowed:.2f} s")
    # Each step: its notifications once, to the right people, and one live announcement for the unit.
    for s in steps:
        told = await runtime.pool.fetch("SELECT user_id FROM notifications WHERE step_id = $1", s["id"])
        assert sorted(r["user_id"] for r in told) == sorted(await expected_recipients(runtime, s))
    announced = [m for m in tap.of("escalation") if m["number"] == t["number"]]
    assert sorted((m["clock"], m["step"]) for m in announced) == sorted((s["clock"], s["step"]) for s in steps)
    assert all(m["unit"] == UNIT and m["units"] == [UNIT] for m in announced)
    assert {m["step"]: m["notify"] for m in announced} == {"warning": ["handler"], "overdue": ["handler", "dispatcher"]}
    # The following step (supervision, days away) is armed with the clock's version in its id.
    for c in clocks:
        job = Job(jobs.escalation_job_id(c["id"], 1, "supervision"), runtime.redis)
        assert (await job.info()) is not None


@pytest.mark.realtime
async def test_a_moved_deadline_makes_the_old_jobs_harmless(api, runtime, settings, redis_clean, fast_policies):
    h = "handler-320612-bureau"
    t = await api.create("agent", **FAST)
    tid = await _ticket_id(runtime, t["number"])
    await api.act(h, t["number"], "sign")
    await api.act(h, t["number"], "request-extension", working_days=2, reason="需要调查取证")
    await api.act("dispatcher", t["number"], "decide-extension", approve=True)
    reply = await runtime.pool.fetchrow(
        "SELECT id, version, warning_at, due_at, next_step, next_step_at FROM clocks "
        "WHERE ticket_id = $1 AND clock = 'reply'",
        tid,
    )
    assert reply["version"] == 2 and reply["due_at"] > datetime.now(UTC) + timedelta(hours=12)
    old_warning = jobs.escalation_job_id(reply["id"], 1, "warning")
    old_due = datetime.fromisoformat(t["deadlines"]["reply"])
    assert old_due < datetime.now(UTC) + timedelta(seconds=6)

    async def old_instants_passed() -> bool:
        return (
            datetime.now(UTC) > old_due + timedelta(seconds=1)
            and (await Job(old_warning, runtime.redis).result_info()) is not None
        )

    await run_workers(settings, until=old_instants_passed)
    info = await Job(old_warning, runtime.redis).result_info()
    assert info is not None and info.success and info.result == "stale"
    # The old instants passed with the worker running: nothing was recorded for the reply clock.
    assert [s for s in await steps_of(runtime, [tid]) if s["clock"] == "reply"] == []
    assert datetime.now(UTC) > old_due + timedelta(seconds=1)
    # The new deadline's warning is armed under the new version.
    assert (await Job(jobs.escalation_job_id(reply["id"], 2, "warning"), runtime.redis).info()) is not None


async def test_the_same_job_twice_records_and_notifies_once(runtime, redis_clean):
    from tests.integration.workers.support import past_tickets

    [tid] = await past_tickets(runtime, 1)
    clock = await runtime.pool.fetchrow("SELECT id, version FROM clocks WHERE ticket_id = $1 AND clock = 'reply'", tid)
    now = datetime.now(UTC)
    first, second = [
        await exact_time.escalate_clock(runtime, clock["id"], clock["version"], "warning", now=now) for _ in range(2)
    ]
    assert [s.step for s in first.outcome.recorded] == ["warning", "overdue", "supervision"]
    assert second.outcome.recorded == [] and second.state == "done"
    told = await runtime.pool.fetchval(
        "SELECT count(*) FROM notifications n JOIN escalation_steps s ON s.id = n.step_id WHERE s.clock_id = $1",
        clock["id"],
    )
    assert told == sum(r.notified for r in first.outcome.recorded) and told >= 3
    # A job for an old version, or for a stopped clock, does nothing.
    stale = await exact_time.escalate_clock(runtime, clock["id"], clock["version"] - 1, "warning", now=now)
    assert stale.state == "stale" and stale.outcome.recorded == []


async def test_a_job_fired_early_waits_for_its_instant(runtime, api, redis_clean, fast_policies):
    t = await api.create("agent", **FAST)
    tid = await _ticket_id(runtime, t["number"])
    c = await runtime.pool.fetchrow(
        "SELECT id, version, warning_at FROM clocks WHERE ticket_id = $1 AND clock = 'reply'", tid
    )
    early = await exact_time.escalate_clock(
        runtime, c["id"], c["version"], "warning", now=c["warning_at"] - timedelta(seconds=2)
    )
    # `now` is an argument: the wait is computed from it, exactly, whatever the wall clock did meanwhile.
    assert early.state == "not_due" and early.wait_seconds == 2.0 and early.outcome.recorded == []
    on_time = await exact_time.escalate_clock(runtime, c["id"], c["version"], "warning", now=c["warning_at"])
    assert [s.step for s in on_time.outcome.recorded] == ["warning"]

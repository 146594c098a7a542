"""The dispatch clock (派单时限) on the exact-time ladder: a ticket no rule routed waits for a dispatcher on a clock
of its own, whose warning and overdue are recorded by their exact-time jobs at their instants, once, and told to
the dispatchers (and the overdue to the duty managers); dispatching stops it, and nothing more is recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.escalation import exact_time
from tests.integration.workers.support import (
    FAST_PENDING,
    LagProbes,
    LiveTap,
    allowed_lateness,
    expected_recipients,
    run_workers,
    steps_of,
)


async def _pending(api, runtime):
    t = await api.create("agent", **FAST_PENDING)
    assert t["status"] == "pending_dispatch" and t["unit"] is None
    tid = await runtime.pool.fetchval("SELECT id FROM tickets WHERE number = $1", t["number"])
    return t, tid


@pytest.mark.realtime
async def test_a_waiting_ticket_escalates_on_its_dispatch_clock_at_the_exact_instants(
    api, runtime, settings, redis_clean, fast_policies
):
    t, tid = await _pending(api, runtime)
    [clock] = await runtime.pool.fetch(
        "SELECT id, clock, assignment_id, unit, warning_at, due_at FROM clocks WHERE ticket_id = $1", tid
    )
    assert (clock["clock"], clock["assignment_id"], clock["unit"]) == ("dispatch", None, None)
    received = datetime.fromisoformat(t["received_at"])
    assert clock["due_at"] - received == timedelta(seconds=3)  # the fast dispatch row: 0.05 natural minutes
    assert clock["warning_at"] - received == timedelta(seconds=2.25)  # warning at 75 %

    probes = LagProbes(runtime.redis)
    await probes.arm(clock["warning_at"], clock["due_at"])

    async def overdue() -> bool:
        return any(s["step"] == "overdue" for s in await steps_of(runtime, [tid])) and await probes.done()

    async with LiveTap(runtime.redis) as tap:
        await run_workers(settings, until=overdue)
    steps = await steps_of(runtime, [tid])
    assert [(s["clock"], s["step"]) for s in steps] == [("dispatch", "warning"), ("dispatch", "overdue")]  # once each
    lags = await probes.lags()
    allowed = allowed_lateness(max(lags))
    for s in steps:
        assert s["source"] == "job", s
        late = (s["recorded_at"] - s["due_at"]).total_seconds()
        assert 0 <= late <= allowed, (s["step"], late, allowed, lags)
    print(f"\ndispatch steps at most {max((s['recorded_at'] - s['due_at']).total_seconds() for s in steps):.3f} s late")
    # Told once each: the warning to the dispatchers, the overdue to the dispatchers and the duty managers.
    roles = {}
    for s in steps:
        told = await runtime.pool.fetch(
            "SELECT u.id, u.role FROM notifications n JOIN users u ON u.id = n.user_id WHERE n.step_id = $1", s["id"]
        )
        assert sorted(r["id"] for r in told) == sorted(await expected_recipients(runtime, s))
        roles[s["step"]] = {r["role"] for r in told}
    assert roles == {"warning": {"dispatcher"}, "overdue": {"dispatcher", "manager"}}
    announced = [m for m in tap.of("escalation") if m["number"] == t["number"]]
    assert {m["step"]: m["notify"] for m in announced} == {
        "warning": ["dispatcher"],
        "overdue": ["dispatcher", "manager"],
    }
    # Running it again records nothing more.
    row = await runtime.pool.fetchrow("SELECT version FROM clocks WHERE id = $1", clock["id"])
    again = await exact_time.escalate_clock(runtime, clock["id"], row["version"], "overdue", now=datetime.now(UTC))
    assert again.outcome.recorded == []
    assert len(await steps_of(runtime, [tid])) == 2


async def test_dispatching_stops_the_dispatch_clock_and_its_jobs_find_nothing(api, runtime, redis_clean, fast_policies):
    t, tid = await _pending(api, runtime)
    clock = await runtime.pool.fetchrow("SELECT id, version, due_at FROM clocks WHERE ticket_id = $1", tid)
    await api.act("dispatcher", t["number"], "dispatch", unit="320612-bureau")
    stopped = await runtime.pool.fetchrow(
        "SELECT stopped_at, stop_reason, next_step FROM clocks WHERE id = $1", clock["id"]
    )
    assert stopped["stopped_at"] is not None and stopped["stop_reason"] == "dispatched" and stopped["next_step"] is None
    late = clock["due_at"] + timedelta(seconds=1)
    result = await exact_time.escalate_clock(runtime, clock["id"], clock["version"], "warning", now=late)
    assert (
        result.outcome.recorded == [] and [s for s in await steps_of(runtime, [tid]) if s["clock"] == "dispatch"] == []
    )

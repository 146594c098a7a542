"""The catch-up sweep (every SWEEP_EVERY, workers/settings.py): the safety net behind the exact-time jobs.

It records every step that is due and not recorded (lost jobs, stopped workers), in set-based batches over
clocks_next_step_idx, with the recording of hotline.escalation.steps; tells the steps whose recorder died before
telling; and re-arms the jobs of the steps falling due before the next tick but one, so that after Redis lost its
jobs the steps still fire at their instant.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from hotline.escalation import notifications, steps
from hotline.infra import queue as jobs
from hotline.infra.runtime import Runtime
from hotline.infra.sql import load

log = structlog.get_logger(__name__)
SWEEP_BATCH = 1000
# The sweep leaves a just-due step to its exact-time job for this long, so the job, not the safety net, records it.
SWEEP_GRACE = timedelta(seconds=5)
UPCOMING_SQL = load(__file__, "upcoming")


@dataclass(frozen=True, slots=True)
class SweepResult:
    recorded: int
    clocks: int
    batches: int
    lag_seconds: float  # how long the oldest step found had been due: the scan lag, the safety net's own metric
    duration_ms: float
    armed: int
    untold_told: int = 0  # steps recorded earlier by a process that died before telling, told now


async def sweep_batch(rt: Runtime, *, now: datetime, cutoff: datetime, limit: int = SWEEP_BATCH) -> steps.Outcome:
    """One set-based pass over at most `limit` clocks whose next step fell due by `cutoff` (the tick the sweep
    benchmark times); telling and arming are left to the caller."""
    async with rt.pool.acquire() as conn:
        async with conn.transaction():
            rows = await conn.fetch(steps.RECORD_DUE_SQL, now, "sweep", cutoff, limit)
    return steps.Outcome.from_rows(rows, now, "sweep")


async def sweep(
    rt: Runtime,
    *,
    now: datetime,
    grace: timedelta = SWEEP_GRACE,
    batch: int = SWEEP_BATCH,
    max_batches: int = 1000,
    now_fn: Callable[[], datetime] | None = None,
) -> SweepResult:
    """Record every step that is due and not recorded (the safety net for lost jobs and stopped workers).
    With `now_fn`, each batch reads the time afresh (a long pass records each step when it really does)."""
    started = time.perf_counter()
    total = steps.Outcome()
    batches = 0
    lag = 0.0
    while batches < max_batches:
        if now_fn is not None and batches:
            now = now_fn()
        out = await sweep_batch(rt, now=now, cutoff=now - grace, limit=batch)
        batches += 1
        if out.recorded and batches == 1:
            lag = max(0.0, (now - min(s.due_at for s in out.recorded)).total_seconds())
        total.extend(await steps.after_recording(rt, out, now=now, batch=True))
        # A short batch means nothing more is due, or the rest is held by others: the next tick takes it.
        if out.clocks < batch:
            break
    # Steps recorded by a process that died before telling anyone (older than the grace: not still being told).
    untold = await tell_untold(rt, now=now, older_than=grace)
    result = SweepResult(
        len(total.recorded),
        total.clocks,
        batches,
        lag,
        round((time.perf_counter() - started) * 1000, 2),
        len(total.armed),
        untold,
    )
    if result.recorded or result.clocks or untold:
        log.info(
            "sweep",
            recorded=result.recorded,
            clocks=result.clocks,
            batches=result.batches,
            lag_seconds=round(lag, 3),
            duration_ms=result.duration_ms,
            untold_told=untold,
        )
    return result


async def tell_untold(
    rt: Runtime, *, now: datetime, older_than: timedelta = SWEEP_GRACE, limit: int = SWEEP_BATCH
) -> int:
    """Tell the steps whose recorder died before telling (the second half of the safety net)."""
    async with rt.pool.acquire() as conn:
        async with conn.transaction():
            rows = await notifications.tell_untold(
                conn, now=now, before=now - older_than, limit=limit, webhook_urls=rt.settings.webhook_urls
            )
    told = [steps.RecordedStep(**dict(r)) for r in rows]  # TELL_SQL returns a step's fields by their names
    await steps.publish(rt, told)
    return len(told)


async def rearm_upcoming(
    rt: Runtime, *, now: datetime, within: timedelta = steps.REARM_WINDOW, limit: int = 10_000
) -> int:
    """Arm the jobs of steps falling due in the next `within` (armed ones are deduplicated by their id), so that
    after Redis lost its jobs the steps still fire at their instant rather than at the next sweep."""
    rows = await rt.pool.fetch(UPCOMING_SQL, now - SWEEP_GRACE, now + within, limit)
    await jobs.arm(rt.redis, [jobs.ArmedStep(r["id"], r["version"], r["next_step"], r["next_step_at"]) for r in rows])
    return len(rows)

"""The exact-time job (escalate_clock): at the instant armed for one step of one deadline version of a clock,
record every step of that clock that is due, with the recording of hotline.escalation.steps.

A job that finds a burst behind it (many clocks already late) catches up in set-based batches, as the sweep does.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hotline.escalation import catch_up, steps
from hotline.infra.runtime import Runtime


@dataclass(frozen=True, slots=True)
class JobResult:
    outcome: steps.Outcome
    state: str  # recorded | stale | stopped | not_due | done
    wait_seconds: float = 0.0  # > 0: the job fired before its instant (clock skew) and should come back then

    def summary(self) -> str:
        names = ",".join(s.step for s in self.outcome.recorded)
        return f"{self.state}:{names}" if names else self.state


async def escalate_clock(rt: Runtime, clock_id: int, version: int, step: str, *, now: datetime) -> JobResult:
    """The job armed for `step` of deadline `version` of a clock: record every step of it that is due at `now`,
    if the deadline is still that version and the clock still runs. A stale or stopped clock is left alone."""
    rows = await rt.pool.fetch(steps.RECORD_ONE_SQL, now, "job", clock_id, version)
    out = steps.Outcome.from_rows(rows, now, "job")
    if out.clocks:
        await steps.after_recording(rt, out, now=now)
        await catch_up_if_behind(rt)
        return JobResult(out, "recorded")
    row = await rt.pool.fetchrow(
        "SELECT version, stopped_at, next_step, next_step_at FROM clocks WHERE id = $1", clock_id
    )
    if row is None or row["stopped_at"] is not None:
        return JobResult(out, "stopped")
    if row["version"] != version:
        return JobResult(out, "stale")
    if row["next_step"] == step and row["next_step_at"] > now:
        return JobResult(out, "not_due", (row["next_step_at"] - now).total_seconds())
    return JobResult(out, "done")


# A burst (thousands of clocks due in the same second) would otherwise be worked off one job at a time. When a job
# finds more than BURST clocks already BURST_LAG late, it records them in set-based batches, like the sweep, and
# retires their queued jobs. One catch-up per process at a time; other processes' batches skip locked rows.
BURST = 50
BURST_LAG = timedelta(seconds=1)
BURST_MAX_BATCHES = 5  # then the next job carries on: a SIGTERM never waits long
BACKLOG_SQL = "SELECT count(*) FROM (SELECT 1 FROM clocks WHERE next_step_at <= $1 LIMIT $2) AS late"
_catching_up = asyncio.Lock()


async def catch_up_if_behind(rt: Runtime) -> catch_up.SweepResult | None:
    """Real time only: a burst is a fact about the wall clock, whatever `now` the calling job was given."""
    if _catching_up.locked():
        return None
    async with _catching_up:
        now = datetime.now(UTC)
        if await rt.pool.fetchval(BACKLOG_SQL, now - BURST_LAG, BURST) < BURST:
            return None
        return await catch_up.sweep(
            rt, now=now, grace=BURST_LAG, max_batches=BURST_MAX_BATCHES, now_fn=lambda: datetime.now(UTC)
        )

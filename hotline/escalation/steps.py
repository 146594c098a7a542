"""Escalation (预警 / 超期 / 督办): recording each step of a clock's ladder once, when it is due.

Recording is one set-based statement (RECORD_SQL) over a set of running clocks: it inserts every step that is due
and not yet recorded (and puts it in escalation_outbox), and advances each clock's next step. UNIQUE (clock_id,
step) decides what was inserted, so a job that runs twice, a sweep racing a job, or two workers at once record a
step once. Telling people follows at once in a second transaction (hotline.escalation.notifications.tell takes the step out
of the outbox and writes its notifications and webhook deliveries), then the live feed; a step whose recorder died
before telling stays in the outbox for the next sweep. Keeping the telling out of the recording keeps the sweep
tick small.

Two callers: the exact-time job (one clock, armed for one step and one deadline version) and the catch-up sweep
(every running clock whose next step is due, read from clocks_next_step_idx in batches, so its cost follows the
number of due steps, not the size of the ticket table). After recording, each clock's following step is armed.

Recording locks the clocks it records and nothing else (a step references its clock, not the ticket row), so it
cannot deadlock with an action on the ticket: the job waits for a clock an action holds, the sweep skips it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import structlog

from hotline import inputs
from hotline.auth.tokens import Principal
from hotline.errors import Forbidden
from hotline.escalation import ladder, notifications
from hotline.infra import live
from hotline.infra import queue as jobs
from hotline.infra.runtime import Runtime
from hotline.vocab import STAFF_ROLES

log = structlog.get_logger(__name__)
UTC = UTC
SWEEP_BATCH = 1000
# The sweep leaves a just-due step to its exact-time job for this long, so the job, not the safety net, records it.
SWEEP_GRACE = timedelta(seconds=5)
SWEEP_EVERY = timedelta(seconds=15)  # the cron schedule of workers/settings.py
# Each sweep arms the steps falling due before the next tick but one (rearm_upcoming): a job lost with Redis, or
# left unarmed by a batch pass, is armed again well before its instant.
REARM_WINDOW = SWEEP_EVERY * 2

# {picked} selects and locks the clocks (a subquery on clocks alone, so the sweep reads clocks_next_step_idx in
# order and stops at its limit). $1 is now, $2 the source; `upto` is the moment steps are counted to: now, or the
# instant a suspended clock paused at. New steps also go to the outbox, to be told. One row per clock and new step.
RECORD_SQL_TEMPLATE = """
WITH due AS (
    SELECT c.row_id, c.id, c.ticket_id, c.assignment_id, c.unit, c.clock, c.version, c.warning_at, c.due_at,
           c.supervision_at, c.next_step AS armed_step, c.suspended_at IS NULL AS running,
           least($1::timestamptz, coalesce(c.suspended_at, $1::timestamptz)) AS upto, t.number, t.territory
    FROM ({picked}) AS c
    JOIN tickets t ON t.id = c.ticket_id
), steps AS (
    INSERT INTO escalation_steps (clock_id, ticket_id, assignment_id, unit, clock, step, due_at, recorded_at,
                                  clock_version, source)
    SELECT d.id, d.ticket_id, d.assignment_id, d.unit, d.clock, s.step, s.at, $1, d.version, $2
    FROM due d
    CROSS JOIN LATERAL (VALUES {ladder_values}) AS s (step, at)
    WHERE s.at <= d.upto
    ON CONFLICT (clock_id, step) DO NOTHING
    RETURNING id, clock_id, step, due_at
), outboxed AS (
    INSERT INTO escalation_outbox (step_id, recorded_at) SELECT id, $1 FROM steps
), following AS (
    -- The first step of the ladder still ahead and not recorded. A step ahead can be recorded already only if the
    -- deadline moved since (a new version); a paused clock has no next step until it resumes.
    SELECT d.row_id, d.id, d.warning_at, d.due_at, d.supervision_at,
           CASE WHEN NOT d.running THEN NULL ELSE {ladder_next} END AS step
    FROM due d
), advanced AS (
    UPDATE clocks c
    SET next_step = f.step,
        next_step_at = {ladder_instant}
    FROM following f
    WHERE c.ctid = f.row_id AND c.id = f.id  -- the row version just locked: no index lookup
    RETURNING c.id, c.next_step, c.next_step_at
)
SELECT d.id AS clock_id, d.version, d.armed_step, d.clock, d.unit, d.number, d.territory,
       a.next_step, a.next_step_at, s.id AS step_id, s.step, s.due_at
FROM due d
JOIN advanced a ON a.id = d.id
LEFT JOIN steps s ON s.clock_id = d.id
ORDER BY d.id, s.id
"""
_UNRECORDED = (
    "(d.version = 1 OR NOT EXISTS (SELECT 1 FROM escalation_steps e WHERE e.clock_id = d.id AND e.step = '{step}'))"
)
RECORD_SQL = (
    RECORD_SQL_TEMPLATE.replace("{ladder_values}", ladder.values("d"))
    .replace("{ladder_next}", ladder.next_step("d", "d.upto", _UNRECORDED))
    .replace("{ladder_instant}", ladder.instant_of("f.step", "f"))
)
PICKED_COLUMNS = (
    "ctid AS row_id, id, ticket_id, assignment_id, unit, clock, version, warning_at, due_at, "
    "supervision_at, next_step, suspended_at"
)
# One clock, for its exact-time job: $3 clock id, $4 the deadline version it was armed for. Waits for the clock if
# an action holds it, then sees the clock as the action left it (stopped, moved to a new version, or not).
RECORD_ONE_SQL = RECORD_SQL.format(
    picked=f"""SELECT {PICKED_COLUMNS} FROM clocks
        WHERE id = $3 AND version = $4 AND stopped_at IS NULL AND next_step_at <= $1
        FOR UPDATE"""
)
# The sweep: the clocks due by $3 (now less the grace), oldest first, at most $4; those someone holds are skipped.
RECORD_DUE_SQL = RECORD_SQL.format(
    picked=f"""SELECT {PICKED_COLUMNS} FROM clocks
        WHERE next_step_at <= $3 AND stopped_at IS NULL
        ORDER BY next_step_at
        LIMIT $4
        FOR UPDATE SKIP LOCKED"""
)

UPCOMING_SQL = """
SELECT id, version, next_step, next_step_at FROM clocks
WHERE next_step_at > $1 AND next_step_at <= $2
ORDER BY next_step_at
LIMIT $3
"""


@dataclass(frozen=True, slots=True)
class RecordedStep:
    id: int
    clock_id: int
    number: str
    territory: str | None
    unit: str | None
    clock: str
    step: str
    due_at: datetime
    recorded_at: datetime
    source: str
    notified: int = 0  # people told (notifications written)
    hooks: int = 0  # webhook deliveries queued

    def message(self) -> dict[str, Any]:
        """The live-feed announcement; `unit`/`units` let the feed show it to the handling unit only."""
        return {
            "id": self.id,
            "number": self.number,
            "clock": self.clock,
            "step": self.step,
            "level": self.step,
            "unit": self.unit,
            "units": [self.unit] if self.unit else [],
            "territory": self.territory,
            "due_at": self.due_at.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
            "source": self.source,
            "notified": self.notified,
            "notify": notifications.audience(self.step, self.unit),
        }


@dataclass
class Outcome:
    recorded: list[RecordedStep] = field(default_factory=list)
    armed: list[jobs.ArmedStep] = field(default_factory=list)  # each clock's following step, to schedule
    done: list[jobs.ArmedStep] = field(default_factory=list)  # the steps whose jobs were armed: now pointless
    clocks: int = 0

    def extend(self, other: Outcome) -> None:
        self.recorded += other.recorded
        self.armed += other.armed
        self.done += other.done
        self.clocks += other.clocks


def _outcome(rows: list[asyncpg.Record], now: datetime, source: str) -> Outcome:
    out = Outcome()
    seen: set[int] = set()
    for r in rows:
        if r["clock_id"] not in seen:
            seen.add(r["clock_id"])
            out.done.append(jobs.ArmedStep(r["clock_id"], r["version"], r["armed_step"], now))
            if r["next_step"] is not None:
                out.armed.append(jobs.ArmedStep(r["clock_id"], r["version"], r["next_step"], r["next_step_at"]))
        if r["step_id"] is not None:
            out.recorded.append(
                RecordedStep(
                    r["step_id"],
                    r["clock_id"],
                    r["number"],
                    r["territory"],
                    r["unit"],
                    r["clock"],
                    r["step"],
                    r["due_at"],
                    now,
                    source,
                )
            )
    out.clocks = len(seen)
    return out


async def tell(rt: Runtime, steps: list[RecordedStep], *, now: datetime) -> list[RecordedStep]:
    """Notifications and webhook deliveries for steps just recorded, then the live feed; returns the steps told
    here (a step another process is telling at this moment is its business)."""
    if not steps:
        return []
    async with rt.pool.acquire() as conn:
        async with conn.transaction():
            counts = await notifications.tell(
                conn, [(s.id, s.number, s.territory) for s in steps], now=now, webhook_urls=rt.settings.webhook_urls
            )
    told = [replace(s, notified=counts[s.id][0], hooks=counts[s.id][1]) for s in steps if s.id in counts]
    await _publish(rt, told)
    return told


async def _publish(rt: Runtime, told: list[RecordedStep]) -> None:
    if told:  # one pipeline for the whole batch
        await live.publish_many(rt.redis, "escalation", [s.message() for s in told])
    if any(s.hooks for s in told):
        now = datetime.now(UTC)
        await jobs.enqueue(rt.redis, jobs.WEBHOOK_JOB, job_id=f"webhooks:{int(now.timestamp())}")


async def tell_untold(
    rt: Runtime, *, now: datetime, older_than: timedelta = SWEEP_GRACE, limit: int = SWEEP_BATCH
) -> int:
    """Tell the steps whose recorder died before telling (the second half of the safety net)."""
    async with rt.pool.acquire() as conn:
        async with conn.transaction():
            rows = await notifications.tell_untold(
                conn, now=now, before=now - older_than, limit=limit, webhook_urls=rt.settings.webhook_urls
            )
    told = [
        RecordedStep(
            r["id"],
            r["clock_id"],
            r["number"],
            r["territory"],
            r["unit"],
            r["clock"],
            r["step"],
            r["due_at"],
            r["recorded_at"],
            r["source"],
            r["notified"],
            r["hooks"],
        )
        for r in rows
    ]
    await _publish(rt, told)
    return len(told)


async def after_recording(rt: Runtime, out: Outcome, *, now: datetime, batch: bool = False) -> Outcome:
    """After the commit: tell, and arm each clock's following step. A batch pass arms only the steps falling due
    before the sweep's re-arming window has passed (the sweep arms the later ones as they come near, so a burst
    does not spend its time arming steps days away), and retires the queued jobs of the steps it recorded, which
    would only run to find nothing to do."""
    out.recorded = await tell(rt, out.recorded, now=now)
    if batch:
        await arm_near(rt.redis, out.armed, now=now)
        await jobs.retire(rt.redis, out.done)
    else:
        await jobs.arm(rt.redis, out.armed)
    return out


async def arm_near(redis: Any, steps: list[jobs.ArmedStep], *, now: datetime) -> None:
    """Arm the steps falling due before the sweep's re-arming window has passed; the sweep arms the later ones as
    they come near (rearm_upcoming), at their exact instant all the same, so no Redis call is spent on them now."""
    near = [s for s in steps if s.at <= now + REARM_WINDOW]
    if near:
        await jobs.arm(redis, near)


# --- the exact-time job ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobResult:
    outcome: Outcome
    state: str  # recorded | stale | stopped | not_due | done
    wait_seconds: float = 0.0  # > 0: the job fired before its instant (clock skew) and should come back then

    def summary(self) -> str:
        steps = ",".join(s.step for s in self.outcome.recorded)
        return f"{self.state}:{steps}" if steps else self.state


async def escalate_clock(rt: Runtime, clock_id: int, version: int, step: str, *, now: datetime) -> JobResult:
    """The job armed for `step` of deadline `version` of a clock: record every step of it that is due at `now`,
    if the deadline is still that version and the clock still runs. A stale or stopped clock is left alone."""
    out = _outcome(await rt.pool.fetch(RECORD_ONE_SQL, now, "job", clock_id, version), now, "job")
    if out.clocks:
        await after_recording(rt, out, now=now)
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


async def catch_up_if_behind(rt: Runtime) -> SweepResult | None:
    """Real time only: a burst is a fact about the wall clock, whatever `now` the calling job was given."""
    if _catching_up.locked():
        return None
    async with _catching_up:
        now = datetime.now(UTC)
        if await rt.pool.fetchval(BACKLOG_SQL, now - BURST_LAG, BURST) < BURST:
            return None
        return await sweep(
            rt, now=now, grace=BURST_LAG, max_batches=BURST_MAX_BATCHES, now_fn=lambda: datetime.now(UTC)
        )


# --- the catch-up sweep ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SweepResult:
    recorded: int
    clocks: int
    batches: int
    lag_seconds: float  # how long the oldest step found had been due: the scan lag, the safety net's own metric
    duration_ms: float
    armed: int
    untold_told: int = 0  # steps recorded earlier by a process that died before telling, told now


async def sweep_batch(rt: Runtime, *, now: datetime, cutoff: datetime, limit: int = SWEEP_BATCH) -> Outcome:
    """One set-based pass over at most `limit` clocks whose next step fell due by `cutoff` (the tick the sweep
    benchmark times); telling and arming are left to the caller."""
    async with rt.pool.acquire() as conn:
        async with conn.transaction():
            rows = await conn.fetch(RECORD_DUE_SQL, now, "sweep", cutoff, limit)
    return _outcome(rows, now, "sweep")


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
    total = Outcome()
    batches = 0
    lag = 0.0
    while batches < max_batches:
        if now_fn is not None and batches:
            now = now_fn()
        out = await sweep_batch(rt, now=now, cutoff=now - grace, limit=batch)
        batches += 1
        if out.recorded and batches == 1:
            lag = max(0.0, (now - min(s.due_at for s in out.recorded)).total_seconds())
        total.extend(await after_recording(rt, out, now=now, batch=True))
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


async def rearm_upcoming(rt: Runtime, *, now: datetime, within: timedelta = REARM_WINDOW, limit: int = 10_000) -> int:
    """Arm the jobs of steps falling due in the next `within` (armed ones are deduplicated by their id), so that
    after Redis lost its jobs the steps still fire at their instant rather than at the next sweep."""
    rows = await rt.pool.fetch(UPCOMING_SQL, now - SWEEP_GRACE, now + within, limit)
    await jobs.arm(rt.redis, [jobs.ArmedStep(r["id"], r["version"], r["next_step"], r["next_step_at"]) for r in rows])
    return len(rows)


# --- reading: open steps (GET /api/escalations) ----------------------------------------------------------------------

LEVELS = ("warning", "overdue", "supervision")

LIST_SQL = """
SELECT s.id, s.clock, s.step, s.unit, s.due_at, s.recorded_at, s.source, t.number, t.territory, t.status, t.title
FROM escalation_steps s JOIN tickets t ON t.id = s.ticket_id
WHERE s.resolved_at IS NULL
  AND ($1::text IS NULL OR s.unit = $1)
  AND ($2::text IS NULL OR s.step = $2)
  AND ($3::text IS NULL OR t.territory = $3)
  AND ($4::text IS NULL OR s.clock = $4)
  AND ($5::timestamptz IS NULL OR (s.recorded_at, s.id) < ($5, $6))
ORDER BY s.recorded_at DESC, s.id DESC
LIMIT $7
"""


async def list_open(
    rt: Runtime,
    principal: Principal,
    *,
    unit: str | None = None,
    level: str | None = None,
    territory: str | None = None,
    clock: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Open (unresolved) escalation steps, newest first; a handler sees its own unit's only."""
    if principal.role not in STAFF_ROLES:
        raise Forbidden(f"role {principal.role} may not read escalations")
    fields: dict[str, str] = {}
    if level is not None and level not in LEVELS:
        fields["level"] = f"one of {', '.join(LEVELS)}"
    if clock is not None and clock not in ("sign", "reply", "callback"):
        fields["clock"] = "one of sign, reply, callback"
    fields.update(inputs.limit_fields(limit))
    after = inputs.read_cursor(cursor, "instant", "id", fields=fields) or (None, None)
    inputs.raise_fields(fields)
    if principal.role == "handler":
        if unit is not None and unit != principal.unit:
            return {"items": [], "next_cursor": None}
        unit = principal.unit
    rows = await rt.pool.fetch(LIST_SQL, unit, level, territory, clock, after[0], after[1], limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        {
            "id": r["id"],
            "ticket": r["number"],
            "title": r["title"],
            "ticket_status": r["status"],
            "clock": r["clock"],
            "level": r["step"],
            "unit": r["unit"],
            "unit_name": rt.names.units.get(r["unit"]) if r["unit"] else None,
            "territory": r["territory"],
            "due_at": r["due_at"].isoformat(),
            "recorded_at": r["recorded_at"].isoformat(),
            "source": r["source"],
        }
        for r in rows
    ]
    last = rows[-1] if rows else None
    return {
        "items": items,
        "next_cursor": inputs.encode_cursor(last["recorded_at"], last["id"]) if more and last else None,
    }

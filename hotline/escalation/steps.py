"""Escalation (预警 / 超期 / 督办): recording each step of a clock's ladder once, when it is due, and telling it.

Recording is one set-based statement (RECORD_SQL) over a set of running clocks: it inserts every step that is due
and not yet recorded (and puts it in escalation_outbox), and advances each clock's next step. UNIQUE (clock_id,
step) decides what was inserted, so a job that runs twice, a sweep racing a job, or two workers at once record a
step once. Telling people follows at once in a second transaction (hotline.escalation.notifications.tell takes the
step out of the outbox and writes its notifications and webhook deliveries), then the live feed; a step whose
recorder died before telling stays in the outbox for the next sweep. Keeping the telling out of the recording keeps
the sweep tick small. After recording, each clock's following step is armed.

Two recorders run RECORD_SQL: the exact-time job (hotline.escalation.exact_time: one clock, armed for one step and
one deadline version) and the catch-up sweep (hotline.escalation.catch_up: every running clock whose next step is
due, read from clocks_next_step_idx in batches, so its cost follows the number of due steps, not the size of the
ticket table). Listing the open steps is hotline.escalation.open_steps.

Recording locks the clocks it records and nothing else (a step references its clock, not the ticket row), so it
cannot deadlock with an action on the ticket: the job waits for a clock an action holds, the sweep skips it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from hotline.escalation import ladder, notifications
from hotline.infra import live
from hotline.infra import queue as jobs
from hotline.infra.runtime import Runtime

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
            "notify": notifications.audience(self.step, self.unit, self.clock),
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

    @classmethod
    def from_rows(cls, rows: list[asyncpg.Record], now: datetime, source: str) -> Outcome:
        """What RECORD_SQL returned (one row per clock and new step): the steps recorded, the clocks' following
        steps to arm, and the steps whose jobs are now pointless."""
        out = cls()
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
    await publish(rt, told)
    return told


async def publish(rt: Runtime, told: list[RecordedStep]) -> None:
    """The live feed for steps told, and a nudge to the webhook job when they queued deliveries."""
    if told:  # one pipeline for the whole batch
        await live.publish_many(rt.redis, "escalation", [s.message() for s in told])
    if any(s.hooks for s in told):
        now = datetime.now(UTC)
        await jobs.enqueue(rt.redis, jobs.WEBHOOK_JOB, job_id=f"webhooks:{int(now.timestamp())}")


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

"""Recomputing running clocks under a new SLA policy version.

When a change asks for it, a worker job walks the running clocks in throttled keyset batches, recomputes each
deadline from its start under the new set (approved extensions are granted again on top), bumps the clock version
of those that moved so their old jobs become harmless, records a `deadline_recomputed` event, and re-arms their next
step. Stopped clocks are never touched, nor are paused ones (their remaining time cannot be re-derived). The job
stops at once when a newer version is in force, and the sweep resumes one whose job was lost.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import structlog

import sla
from hotline.escalation import ladder
from hotline.infra import queue as jobs
from hotline.infra.db import Conn
from hotline.infra.runtime import Runtime
from hotline.infra.sql import load

log = structlog.get_logger(__name__)
RECOMPUTE_BATCH = 500
RECOMPUTE_PAUSE_SECONDS = 0.1  # between batches, so people acting on tickets keep the database
RECOMPUTE_BUDGET_SECONDS = 10.0  # one job's share, short enough for a SIGTERM to wait for; then a continuation
# A recomputation makes progress at least every RECOMPUTE_BUDGET_SECONDS while its jobs run; one silent for this long
# lost its job (Redis flushed, enqueue failed, worker gone): resume it from where PostgreSQL says it got to.
RECOMPUTE_STALLED_AFTER_SECONDS = 300

RUNNING_CLOCKS_SQL = load(__file__, "running_clocks")
CANDIDATES_SQL = load(__file__, "candidates")
LOCK_TICKETS_SQL = load(__file__, "lock_tickets")
LOCK_CLOCKS_SQL = load(__file__, "lock_clocks")
PROJECT_SQL = load(__file__, "project_due")
EVENTS_SQL = load(__file__, "recomputed_events")
PROGRESS_SQL = load(__file__, "recompute_progress")
STALLED_SQL = load(__file__, "stalled_recomputation")

# Generated: the ladder's steps come from sla. $1..$8 one array element per clock (id, due_at, warning_at,
# supervision_at, deadline, provisional, calendar_version, moved), $9 the policy version. A clock that moved gets a
# new version and, as its next step, the first step of the ladder it has not recorded yet.
UPDATE_CLOCKS_SQL = """
WITH n AS (
    SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[], $4::timestamptz[], $5::jsonb[],
                         $6::boolean[], $7::text[], $8::boolean[])
        AS n (id, due_at, warning_at, supervision_at, deadline, provisional, calendar_version, moved)
), following AS (
    SELECT n.id, f.step, f.at
    FROM n
    LEFT JOIN LATERAL (
        SELECT s.step, s.at
        FROM (VALUES {ladder}) AS s (ord, step, at)
        WHERE NOT EXISTS (SELECT 1 FROM escalation_steps e WHERE e.clock_id = n.id AND e.step = s.step)
        ORDER BY s.ord
        LIMIT 1
    ) f ON true
)
UPDATE clocks c
SET due_at = n.due_at, warning_at = n.warning_at, supervision_at = n.supervision_at, deadline = n.deadline,
    provisional = n.provisional, calendar_version = n.calendar_version, policy_version = $9,
    version = c.version + CASE WHEN n.moved THEN 1 ELSE 0 END,
    next_step = CASE WHEN n.moved THEN f.step ELSE c.next_step END,
    next_step_at = CASE WHEN n.moved THEN f.at ELSE c.next_step_at END
FROM n JOIN following f ON f.id = n.id
WHERE c.id = n.id
RETURNING c.id, c.version, c.next_step, c.next_step_at, n.moved
""".replace("{ladder}", ladder.values("n", ordered=True))


async def running_clocks(rt: Runtime) -> AsyncIterator[asyncpg.Record]:
    """Every running clock with what its deadline depends on, in id order and in batches (keyset), for the
    previews of a policy or calendar change."""
    after_id = 0
    async with rt.pool.acquire() as conn:
        while True:
            rows = await conn.fetch(RUNNING_CLOCKS_SQL, after_id, RECOMPUTE_BATCH)
            if not rows:
                return
            after_id = rows[-1]["id"]
            for row in rows:
                yield row


def recomputed(
    old: sla.Deadline, policies: sla.PolicySet, calendar: sla.WorkCalendar, *, channel: str, kind: str, urgent: bool
) -> sla.Deadline | None:
    """The deadline the clock would have under `policies`, with its approved extensions granted again; None for a
    paused (suspended or resumed) clock, whose remaining time cannot be re-derived from its start, and for a dispatch
    clock when the new set times no dispatching (it keeps the deadline it was given)."""
    if old.suspended_at is not None or any(a.kind != "extension" for a in old.adjustments):
        return None
    if not policies.times(old.clock):
        return None
    new = sla.compute_deadline(
        policies, calendar, clock=old.clock, start=old.start, channel=channel, kind=kind, urgent=urgent, cap=old.cap
    )
    for adjustment in old.adjustments:
        try:
            new = sla.extend_deadline(new, calendar, working_days=adjustment.working_days, until=adjustment.until)
        except (sla.InvalidExtension, sla.OutOfRange):
            continue  # the new due already lies past what the extension granted
    return new


def moves(old: sla.Deadline, new: sla.Deadline) -> bool:
    """Whether a recomputed deadline differs from the old one in an instant the ladder uses."""
    return (old.due_at, old.warning_at, old.supervision_at) != (new.due_at, new.warning_at, new.supervision_at)


@dataclass(frozen=True, slots=True)
class RecomputeProgress:
    version: int
    last_id: int
    examined: int
    moved: int
    skipped: int
    more: bool
    superseded: bool = False


@dataclass(frozen=True, slots=True)
class _Change:
    row: Any
    old: sla.Deadline
    new: sla.Deadline

    @property
    def moved(self) -> bool:
        return moves(self.old, self.new)


async def recompute_batch(
    rt: Runtime, policies: sla.PolicySet, *, after_id: int, now: datetime, limit: int = RECOMPUTE_BATCH
) -> tuple[int, int, int, int, list[jobs.ArmedStep]]:
    """One batch: (last clock id examined, examined, moved, skipped, steps to arm)."""
    version = policies.version
    async with rt.pool.acquire() as conn:
        candidates = await conn.fetch(CANDIDATES_SQL, after_id, version, limit)
        if not candidates:
            return after_id, 0, 0, 0, []
        last_id = candidates[-1]["id"]
        async with conn.transaction():
            # Ticket before clock, as the lifecycle locks them; in id order, so two batches never cross.
            ticket_ids = list({r["ticket_id"] for r in candidates})
            tickets = {r["id"]: r for r in await conn.fetch(LOCK_TICKETS_SQL, ticket_ids)}
            rows = await conn.fetch(LOCK_CLOCKS_SQL, [r["id"] for r in candidates], version)
            changes, skipped = _changes(rows, tickets, policies, rt.calendar_for)
            updated = await _apply(conn, changes, version, now) if changes else []
    return (
        last_id,
        len(candidates),
        sum(1 for u in updated if u["moved"]),
        skipped,
        [
            jobs.ArmedStep(u["id"], u["version"], u["next_step"], u["next_step_at"])
            for u in updated
            if u["moved"] and u["next_step"] is not None
        ],
    )


def _changes(
    rows: list[asyncpg.Record],
    tickets: dict[int, Any],
    policies: sla.PolicySet,
    calendar_for: Callable[[str | None], sla.WorkCalendar],
) -> tuple[list[_Change], int]:
    changes: list[_Change] = []
    skipped = 0
    for row in rows:
        t = tickets[row["ticket_id"]]
        old = sla.Deadline.from_dict(row["deadline"])
        try:
            calendar = calendar_for(t["territory"])  # the ticket's territory's (属地)
            new = recomputed(old, policies, calendar, channel=t["channel"], kind=t["kind"], urgent=t["urgent"])
        except sla.SlaError as exc:  # no policy row applies, an instant out of range: that clock is left as it is
            log.warning("recompute_refused", clock_id=row["id"], error=str(exc)[:200])
            new = None
        if new is None:
            skipped += 1
        else:
            changes.append(_Change(row, old, new))
    return changes, skipped


async def _apply(conn: Conn, changes: list[_Change], version: int, now: datetime) -> list[asyncpg.Record]:
    updated = await conn.fetch(
        UPDATE_CLOCKS_SQL,
        [c.row["id"] for c in changes],
        [c.new.due_at for c in changes],
        [c.new.warning_at for c in changes],
        [c.new.supervision_at for c in changes],
        [c.new.to_dict(datetimes=True) for c in changes],
        [c.new.provisional for c in changes],
        [c.new.calendar_version for c in changes],
        [c.moved for c in changes],
        version,
    )
    moved = [c for c in changes if c.moved]
    if moved:
        await conn.execute(
            PROJECT_SQL,
            [c.row["ticket_id"] for c in moved],
            [c.row["assignment_id"] for c in moved],
            [c.row["clock"] for c in moved],
            [c.new.due_at for c in moved],
        )
        await conn.execute(
            EVENTS_SQL,
            [c.row["ticket_id"] for c in moved],
            [c.row["assignment_id"] for c in moved],
            [c.row["clock"] for c in moved],
            [c.old.due_at for c in moved],
            [c.new.due_at for c in moved],
            now,
            version,
        )
    return updated


async def recompute_open(
    rt: Runtime,
    *,
    version: int,
    after_id: int,
    now_fn: Any,
    budget_seconds: float = RECOMPUTE_BUDGET_SECONDS,
    batch: int = RECOMPUTE_BATCH,
    pause_seconds: float = RECOMPUTE_PAUSE_SECONDS,
) -> RecomputeProgress:
    """Recompute running clocks under policy `version`, batch after batch, for up to `budget_seconds`.
    Stops at once when a newer version is in force: its own recomputation covers every clock."""
    await rt.reload_policies()
    policies = rt.policies
    if policies.version != version:
        return RecomputeProgress(version, after_id, 0, 0, 0, more=False, superseded=True)
    started = time.monotonic()
    examined = moved = skipped = 0
    last_id = after_id
    more = True
    while time.monotonic() - started < budget_seconds:
        last_id, n, m, s, armed = await recompute_batch(rt, policies, after_id=last_id, now=now_fn(), limit=batch)
        examined, moved, skipped = examined + n, moved + m, skipped + s
        if armed:
            await jobs.arm(rt.redis, armed)
        if n < batch:
            more = False
            break
        await asyncio.sleep(pause_seconds)
    await rt.pool.execute(PROGRESS_SQL, version, last_id, now_fn(), more)
    log.info(
        "recompute_open", version=version, examined=examined, moved=moved, skipped=skipped, last_id=last_id, more=more
    )
    return RecomputeProgress(version, last_id, examined, moved, skipped, more)


async def stalled_recomputation(rt: Runtime, *, now: datetime) -> tuple[int, int] | None:
    """(version, last clock id) of the policy version in force if its requested recomputation stalled."""
    row = await rt.pool.fetchrow(STALLED_SQL, now - timedelta(seconds=RECOMPUTE_STALLED_AFTER_SECONDS))
    return (row["version"], row["recompute_last_id"]) if row else None

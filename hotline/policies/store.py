"""SLA policies at runtime: the set in force, replacing it as a new version, and recomputing running clocks.

A new set is validated exactly as config/data/sla_policies.toml is (sla.PolicySet.from_config against the known
channels and kinds) and stored as the next row of sla_policy_versions; new assignments use it at once. Running
clocks keep the deadline they were given unless the change asks for recomputation: then a worker job walks them
in throttled keyset batches, recomputes each deadline from its start under the new set (approved extensions are
granted again on top), bumps the clock version of those that moved so their old jobs become harmless, and re-arms
their next step. Stopped clocks are never touched.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import structlog

import sla
from hotline.admin import audit as admin_events
from hotline.auth.tokens import Principal
from hotline.errors import InvalidInput, NotFound, StaleVersion
from hotline.escalation import ladder
from hotline.infra import queue as jobs
from hotline.infra.db import Conn
from hotline.infra.runtime import Runtime
from hotline.vocab import ADMIN

log = structlog.get_logger(__name__)
READ_ONLY_KEYS = ("version", "source", "created_at", "created_by", "reason")  # shown by GET, ignored by PUT
RECOMPUTE_BATCH = 500
RECOMPUTE_PAUSE_SECONDS = 0.1  # between batches, so people acting on tickets keep the database
RECOMPUTE_BUDGET_SECONDS = 10.0  # one job's share, short enough for a SIGTERM to wait for; then a continuation

CURRENT_SQL = """
SELECT v.version, v.rows, v.source, v.created_at, u.username AS created_by, v.reason
FROM sla_policy_versions v LEFT JOIN users u ON u.id = v.created_by
ORDER BY v.version DESC LIMIT 1
"""


async def current(rt: Runtime) -> dict[str, Any]:
    row = await rt.pool.fetchrow(CURRENT_SQL)
    if row is None:
        return {
            "version": rt.policies.version,
            "defaults": {},
            "policy": rt.policies.to_rows(),
            "source": "config",
            "created_at": None,
            "created_by": None,
        }
    doc = row["rows"]
    return {
        "version": row["version"],
        "defaults": doc.get("defaults", {}),
        "policy": doc.get("policy", []),
        "source": row["source"],
        "created_at": row["created_at"].isoformat(),
        "created_by": row["created_by"],
        "reason": row["reason"],
    }


def _fields(problems: tuple[str, ...], rows: Any) -> dict[str, str]:
    """Name the offending rows as fields, policy[0] for the first: by the position (#N) or the quoted id a problem
    names; set-wide problems (a gap) under `policy`."""
    ids: dict[str, int] = {}
    for i, row in enumerate(rows if isinstance(rows, list) else []):
        if isinstance(row, dict) and isinstance(row.get("id"), str):
            ids.setdefault(row["id"], i)
    fields: dict[str, str] = {}
    for problem in problems:
        positions = {int(p) - 1 for p in re.findall(r"#(\d+)", problem)}
        positions |= {ids[q] for q in re.findall(r"'([^']*)'", problem) if q in ids}
        keys = [f"policy[{p}]" for p in sorted(positions)] or ["policy"]
        for key in keys:
            fields[key] = f"{fields[key]}; {problem}" if key in fields else problem
    return fields


def validate(rt: Runtime, doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise InvalidInput("the body must be a policy set: {defaults, policy: [...]}", fields={"body": "an object"})
    clean = {k: v for k, v in doc.items() if k not in READ_ONLY_KEYS}
    if "policy" not in clean:
        raise InvalidInput("the policy set has no rows", fields={"policy": "required: a list of policy rows"})
    try:
        sla.PolicySet.from_config(clean, version=1, channels=rt.names.channels, kinds=rt.names.kinds)
    except sla.PolicyError as exc:
        raise InvalidInput(
            "the policy set was refused: " + "; ".join(exc.problems),
            fields=_fields(exc.problems, clean.get("policy")),
            problems=list(exc.problems),
        ) from exc
    return clean


async def replace(
    rt: Runtime,
    principal: Principal,
    doc: Any,
    *,
    expected_version: int | None = None,
    recompute_open: bool = False,
    reason: str | None = None,
) -> dict[str, Any]:
    """Store a validated set as the next version and put it in force; optionally queue the recomputation. The
    change is an admin event (the rows added, removed and changed, the reason)."""
    principal.require(ADMIN)
    if reason is not None and len(reason) > 500:
        raise InvalidInput("reason: at most 500 characters", fields={"reason": "at most 500 characters"})
    clean = validate(rt, doc)
    before = await current(rt)
    async with rt.pool.acquire() as conn:
        async with conn.transaction():
            # Versions are numbered in order: one writer at a time, readers are not blocked.
            await conn.execute("LOCK TABLE sla_policy_versions IN SHARE ROW EXCLUSIVE MODE")
            latest = await conn.fetchval("SELECT coalesce(max(version), 0) FROM sla_policy_versions")
            if expected_version is not None and expected_version != latest:
                raise StaleVersion(
                    f"the policies changed (version {latest}, you sent {expected_version}); reload them", version=latest
                )
            version = latest + 1
            await conn.execute(
                """INSERT INTO sla_policy_versions (version, rows, source, created_by, recompute_requested,
                                                    recompute_progress_at, reason)
                   VALUES ($1, $2, 'api', $3, $4, CASE WHEN $4 THEN now() END, $5)""",
                version,
                {"version": version, **clean},
                principal.user_id,
                recompute_open,
                reason or None,
            )
            await admin_events.record(
                conn,
                principal,
                "sla_policy.version",
                str(version),
                {"version": before["version"]},
                {
                    "version": version,
                    "reason": reason or None,
                    "recompute_open": recompute_open,
                    "diff": diff(before, clean),
                },
            )
    await rt.reload_policies()
    queued = False
    if recompute_open:
        queued = await jobs.enqueue(rt.redis, jobs.RECOMPUTE_JOB, version, 0, job_id=f"recompute:{version}:0")
    log.info("sla_policies_replaced", version=version, rows=len(clean["policy"]), recompute_open=recompute_open)
    return {**await current(rt), "recompute_open": recompute_open, "recompute_queued": queued}


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows added, removed and changed between two policy sets, by row id (and the defaults as one entry)."""
    old = {r.get("id"): r for r in before.get("policy", []) if isinstance(r, dict)}
    new = {r.get("id"): r for r in after.get("policy", []) if isinstance(r, dict)}
    out: list[dict[str, Any]] = []
    if (before.get("defaults") or {}) != (after.get("defaults") or {}):
        out.append(
            {
                "id": "defaults",
                "change": "changed",
                "before": before.get("defaults") or {},
                "after": after.get("defaults") or {},
            }
        )
    for rid in [*old, *(k for k in new if k not in old)]:
        if rid not in new:
            out.append({"id": rid, "change": "removed", "before": old[rid], "after": None})
        elif rid not in old:
            out.append({"id": rid, "change": "added", "before": None, "after": new[rid]})
        elif old[rid] != new[rid]:
            out.append({"id": rid, "change": "changed", "before": old[rid], "after": new[rid]})
    return out


async def versions(rt: Runtime, principal: Principal) -> dict[str, Any]:
    principal.require(ADMIN)
    rows = await rt.pool.fetch(
        """SELECT v.version, v.source, v.created_at, u.username AS created_by, v.reason, v.recompute_requested,
                  v.recompute_done_at, jsonb_array_length(coalesce(v.rows -> 'policy', '[]'::jsonb)) AS rows
           FROM sla_policy_versions v LEFT JOIN users u ON u.id = v.created_by ORDER BY v.version DESC"""
    )
    return {
        "items": [
            {
                "version": r["version"],
                "source": r["source"],
                "created_at": r["created_at"].isoformat(),
                "created_by": r["created_by"],
                "reason": r["reason"],
                "rows": r["rows"],
                "recompute_requested": r["recompute_requested"],
                "recompute_done_at": r["recompute_done_at"].isoformat() if r["recompute_done_at"] else None,
            }
            for r in rows
        ]
    }


async def version(rt: Runtime, principal: Principal, number: int) -> dict[str, Any]:
    principal.require(ADMIN)
    if not 0 < number < 2**31:  # versions are int4: a number past that names no version (and would not bind)
        raise NotFound(f"no SLA policy version {number}")
    row = await rt.pool.fetchrow(
        """SELECT v.version, v.rows, v.source, v.created_at, u.username AS created_by, v.reason
           FROM sla_policy_versions v LEFT JOIN users u ON u.id = v.created_by WHERE v.version = $1""",
        number,
    )
    if row is None:
        raise NotFound(f"no SLA policy version {number}")
    doc = row["rows"]
    return {
        "version": row["version"],
        "defaults": doc.get("defaults", {}),
        "policy": doc.get("policy", []),
        "source": row["source"],
        "created_at": row["created_at"].isoformat(),
        "created_by": row["created_by"],
        "reason": row["reason"],
    }


RUNNING_CLOCKS_SQL = """
SELECT c.id, c.clock, c.deadline, t.number, t.channel, t.kind, t.urgent
FROM clocks c JOIN tickets t ON t.id = c.ticket_id
WHERE c.stopped_at IS NULL AND c.id > $1
ORDER BY c.id
LIMIT $2
"""


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


async def preview(rt: Runtime, principal: Principal, doc: Any) -> dict[str, Any]:
    """What saving `doc` would do, without saving it: the diff against the set in force, and how many running
    clocks a recomputation would move (and how many it would leave, being paused)."""
    principal.require(ADMIN)
    clean = validate(rt, doc)
    policies = sla.PolicySet.from_config(
        clean, version=rt.policies.version + 1, channels=rt.names.channels, kinds=rt.names.kinds
    )
    examined = moved = skipped = 0
    async for row in running_clocks(rt):
        examined += 1
        old = sla.Deadline.from_dict(row["deadline"])
        try:
            new = recomputed(old, policies, rt.calendar, channel=row["channel"], kind=row["kind"], urgent=row["urgent"])
        except (sla.PolicyError, ValueError):
            new = None
        if new is None:
            skipped += 1
        elif _Change(row, old, new).moved:
            moved += 1
    return {"diff": diff(await current(rt), clean), "open_clocks": examined, "would_move": moved, "would_skip": skipped}


# --- recomputing running clocks --------------------------------------------------------------------------------------

CANDIDATES_SQL = """
SELECT id, ticket_id FROM clocks
WHERE stopped_at IS NULL AND id > $1 AND policy_version < $2
ORDER BY id
LIMIT $3
"""

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

PROJECT_SQL = """
UPDATE tickets t
SET sign_due_at = coalesce(x.sign, t.sign_due_at), reply_due_at = coalesce(x.reply, t.reply_due_at),
    callback_due_at = coalesce(x.callback, t.callback_due_at)
FROM (
    SELECT m.ticket_id, m.assignment_id,
           max(m.due_at) FILTER (WHERE m.clock = 'sign') AS sign,
           max(m.due_at) FILTER (WHERE m.clock = 'reply') AS reply,
           max(m.due_at) FILTER (WHERE m.clock = 'callback') AS callback
    FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::timestamptz[])
        AS m (ticket_id, assignment_id, clock, due_at)
    GROUP BY m.ticket_id, m.assignment_id
) x
WHERE t.id = x.ticket_id AND t.current_assignment_id = x.assignment_id
"""

# The trace (全程留痕): who moved the deadline is the system, under which policy version, from what to what.
EVENTS_SQL = """
INSERT INTO events (ticket_id, assignment_id, at, actor, role, action, status_before, status_after, version, payload)
SELECT t.id, m.assignment_id, $6, 'system', 'system', 'deadline_recomputed', t.status, t.status, t.version,
       jsonb_build_object('clock', m.clock, 'old_due_at', m.old_due_at, 'new_due_at', m.new_due_at,
                          'policy_version', $7::integer)
FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::timestamptz[], $5::timestamptz[])
    AS m (ticket_id, assignment_id, clock, old_due_at, new_due_at)
JOIN tickets t ON t.id = m.ticket_id
"""


def recomputed(
    old: sla.Deadline, policies: sla.PolicySet, calendar: sla.WorkCalendar, *, channel: str, kind: str, urgent: bool
) -> sla.Deadline | None:
    """The deadline the clock would have under `policies`, with its approved extensions granted again; None for a
    paused (suspended or resumed) clock, whose remaining time cannot be re-derived from its start."""
    if old.suspended_at is not None or any(a.kind != "extension" for a in old.adjustments):
        return None
    new = sla.compute_deadline(
        policies, calendar, clock=old.clock, start=old.start, channel=channel, kind=kind, urgent=urgent, cap=old.cap
    )
    for adjustment in old.adjustments:
        try:
            new = sla.extend_deadline(new, calendar, working_days=adjustment.working_days, until=adjustment.until)
        except ValueError:
            continue  # the new due already lies past what the extension granted
    return new


@dataclass(frozen=True, slots=True)
class RecomputeProgress:
    version: int
    last_id: int
    examined: int
    moved: int
    skipped: int
    more: bool
    superseded: bool = False


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
            tickets = {
                r["id"]: r
                for r in await conn.fetch(
                    "SELECT id, channel, kind, urgent FROM tickets WHERE id = any($1::bigint[]) ORDER BY id "
                    "FOR NO KEY UPDATE",
                    list({r["ticket_id"] for r in candidates}),
                )
            }
            rows = await conn.fetch(
                "SELECT id, ticket_id, assignment_id, clock, deadline FROM clocks WHERE id = any($1::bigint[]) "
                "AND stopped_at IS NULL AND policy_version < $2 ORDER BY id FOR UPDATE",
                [r["id"] for r in candidates],
                version,
            )
            changes, skipped = _changes(rows, tickets, policies, rt.calendar)
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


@dataclass(frozen=True, slots=True)
class _Change:
    row: Any
    old: sla.Deadline
    new: sla.Deadline

    @property
    def moved(self) -> bool:
        o, n = self.old, self.new
        return (o.due_at, o.warning_at, o.supervision_at) != (n.due_at, n.warning_at, n.supervision_at)


def _changes(
    rows: list[asyncpg.Record], tickets: dict[int, Any], policies: sla.PolicySet, calendar: sla.WorkCalendar
) -> tuple[list[_Change], int]:
    changes: list[_Change] = []
    skipped = 0
    for row in rows:
        t = tickets[row["ticket_id"]]
        old = sla.Deadline.from_dict(row["deadline"])
        try:
            new = recomputed(old, policies, calendar, channel=t["channel"], kind=t["kind"], urgent=t["urgent"])
        except (sla.PolicyError, ValueError) as exc:
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
    await rt.pool.execute(
        """UPDATE sla_policy_versions SET recompute_last_id = greatest(recompute_last_id, $2), recompute_progress_at = $3,
                  recompute_done_at = CASE WHEN $4 THEN recompute_done_at ELSE $3 END
           WHERE version = $1""",
        version,
        last_id,
        now_fn(),
        more,
    )
    log.info(
        "recompute_open", version=version, examined=examined, moved=moved, skipped=skipped, last_id=last_id, more=more
    )
    return RecomputeProgress(version, last_id, examined, moved, skipped, more)


# A recomputation makes progress at least every RECOMPUTE_BUDGET_SECONDS while its jobs run; one silent for this long
# lost its job (Redis flushed, enqueue failed, worker gone): resume it from where PostgreSQL says it got to.
RECOMPUTE_STALLED_AFTER_SECONDS = 300


async def stalled_recomputation(rt: Runtime, *, now: datetime) -> tuple[int, int] | None:
    """(version, last clock id) of the policy version in force if its requested recomputation stalled."""
    row = await rt.pool.fetchrow(
        """SELECT version, recompute_last_id FROM sla_policy_versions
           WHERE version = (SELECT max(version) FROM sla_policy_versions)
             AND recompute_requested AND recompute_done_at IS NULL
             AND (recompute_progress_at IS NULL OR recompute_progress_at < $1)""",
        now - timedelta(seconds=RECOMPUTE_STALLED_AFTER_SECONDS),
    )
    return (row["version"], row["recompute_last_id"]) if row else None

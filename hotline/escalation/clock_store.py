"""SQL for clocks inside a lifecycle transaction: start, stop, move. Returns the escalation steps to arm."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

import sla
from hotline.escalation import ladder
from hotline.escalation.clocks import ClockRow, next_step_of
from hotline.infra.db import Conn
from hotline.infra.queue import ArmedStep

INSERT_CLOCK = """
INSERT INTO clocks (ticket_id, assignment_id, clock, unit, started_at, due_at, warning_at, supervision_at, deadline,
                    provisional, policy_version, calendar_version, next_step, next_step_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, '{first_step}', $7)
RETURNING id, version
""".replace("{first_step}", ladder.FIRST_STEP)
# A new clock's next step is the ladder's first, at its instant: $7, the warning_at column.
assert ladder.FIRST_INSTANT == "warning_at"


async def start(
    conn: Conn, *, ticket_id: int, assignment_id: int | None, unit: str | None, rows: list[ClockRow]
) -> list[ArmedStep]:
    """Start clocks: an assignment's (its unit's), or, with no assignment and no unit, the ticket's dispatch clock."""
    armed: list[ArmedStep] = []
    for row in rows:
        d = row.deadline
        rec = await conn.fetchrow(
            INSERT_CLOCK,
            ticket_id,
            assignment_id,
            row.clock,
            unit,
            d.start,
            d.due_at,
            d.warning_at,
            d.supervision_at,
            d.to_dict(datetimes=True),
            d.provisional,
            d.policy_version,
            d.calendar_version,
        )
        assert rec is not None  # INSERT ... RETURNING
        armed.append(ArmedStep(rec["id"], rec["version"], ladder.FIRST_STEP, d.warning_at))
    return armed


async def stop(
    conn: Conn, *, assignment_id: int, at: datetime, reason: str, clocks: tuple[str, ...] | None = None
) -> None:
    """Stop running clocks of an assignment; their open escalation steps are resolved (kept, never deleted)."""
    stopped = await conn.fetch(
        """UPDATE clocks SET stopped_at = $2, stop_reason = $3, next_step = NULL, next_step_at = NULL
           WHERE assignment_id = $1 AND stopped_at IS NULL AND ($4::text[] IS NULL OR clock = any($4::text[]))
           RETURNING id""",
        assignment_id,
        at,
        reason,
        list(clocks) if clocks else None,
    )
    if stopped:
        await conn.execute(
            "UPDATE escalation_steps SET resolved_at = $2 WHERE clock_id = any($1::bigint[]) AND resolved_at IS NULL",
            [r["id"] for r in stopped],
            at,
        )


async def stop_dispatch(conn: Conn, *, ticket_id: int, at: datetime, reason: str) -> None:
    """Stop the ticket's running dispatch clock (派单时限), if any: a dispatcher dispatched or ruled, or the ticket
    closed. Its open escalation steps are resolved, as an assignment's are."""
    stopped = await conn.fetch(
        """UPDATE clocks SET stopped_at = $2, stop_reason = $3, next_step = NULL, next_step_at = NULL
           WHERE ticket_id = $1 AND clock = 'dispatch' AND stopped_at IS NULL
           RETURNING id""",
        ticket_id,
        at,
        reason,
    )
    if stopped:
        await conn.execute(
            "UPDATE escalation_steps SET resolved_at = $2 WHERE clock_id = any($1::bigint[]) AND resolved_at IS NULL",
            [r["id"] for r in stopped],
            at,
        )


async def running(conn: Conn, assignment_id: int, clock: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, deadline, version FROM clocks WHERE assignment_id = $1 AND clock = $2 AND stopped_at IS NULL "
        "FOR UPDATE",
        assignment_id,
        clock,
    )


async def move(conn: Conn, clock_id: int, new: sla.Deadline) -> ArmedStep | None:
    """Replace a running clock's deadline (extension, resumption): new version, next step recomputed from the
    steps already recorded, so a step is never recorded twice and old jobs see a stale version. The clock's pause
    follows the deadline's (a resumed deadline is no longer suspended)."""
    recorded = {r["step"] for r in await conn.fetch("SELECT step FROM escalation_steps WHERE clock_id = $1", clock_id)}
    nxt = next_step_of(new, recorded)
    rec = await conn.fetchrow(
        """UPDATE clocks SET due_at = $2, warning_at = $3, supervision_at = $4, deadline = $5, provisional = $6,
                  policy_version = $7, calendar_version = $8, version = version + 1, next_step = $9, next_step_at = $10,
                  suspended_at = $11
           WHERE id = $1 RETURNING version""",
        clock_id,
        new.due_at,
        new.warning_at,
        new.supervision_at,
        new.to_dict(datetimes=True),
        new.provisional,
        new.policy_version,
        new.calendar_version,
        nxt[0] if nxt else None,
        nxt[1] if nxt else None,
        new.suspended_at,
    )
    if nxt is None or rec is None:
        return None
    return ArmedStep(clock_id, rec["version"], nxt[0], nxt[1])


async def pause(conn: Conn, clock_id: int, paused: sla.Deadline, at: datetime) -> None:
    """A suspended clock keeps running=true (not stopped) but has no next step, so nothing escalates while paused;
    its version moves so jobs armed before the pause are stale."""
    await conn.execute(
        """UPDATE clocks SET deadline = $2, suspended_at = $3, version = version + 1, next_step = NULL,
                  next_step_at = NULL WHERE id = $1""",
        clock_id,
        paused.to_dict(),
        at,
    )


def deadline_of(record: asyncpg.Record | dict[str, Any]) -> sla.Deadline:
    return sla.Deadline.from_dict(record["deadline"])

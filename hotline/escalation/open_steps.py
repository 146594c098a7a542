"""Reading the open escalation steps (GET /api/escalations): those not yet resolved, newest first, filtered by
unit, level, territory and clock; a handler sees its own unit's only."""

from __future__ import annotations

from typing import Literal

import msgspec

from hotline import inputs
from hotline.auth.tokens import Principal
from hotline.errors import Forbidden
from hotline.infra.runtime import Runtime
from hotline.infra.sql import load
from hotline.vocab import STAFF_ROLES

LEVELS = ("warning", "overdue", "supervision")

LIST_SQL = load(__file__, "open_steps")

Level = Literal["warning", "overdue", "supervision"]  # LEVELS
Clock = Literal["sign", "reply", "callback", "dispatch"]
CLOCKS = ("sign", "reply", "callback", "dispatch")


class OpenStep(msgspec.Struct, kw_only=True):
    """An escalation step (预警 warning, 超期 overdue, 督办 supervision) whose clock still runs: the ticket, the
    clock and its deadline, the unit charged (null for the callback clock, which the call center runs, and for the
    dispatch clock, the dispatchers')."""

    id: int
    ticket: str
    title: str
    ticket_status: str
    clock: Clock
    level: Level
    unit: str | None
    unit_name: str | None
    territory: str | None
    due_at: str
    recorded_at: str
    source: Literal["job", "sweep"]  # its exact-time job, or the sweep that catches what a lost job missed


class OpenStepPage(msgspec.Struct, kw_only=True):
    items: list[OpenStep]
    next_cursor: str | None


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
) -> OpenStepPage:
    """Open (unresolved) escalation steps, newest first; a handler sees its own unit's only."""
    if principal.role not in STAFF_ROLES:
        raise Forbidden(f"role {principal.role} may not read escalations")
    fields: dict[str, str] = {}
    if level is not None and level not in LEVELS:
        fields["level"] = f"one of {', '.join(LEVELS)}"
    if clock is not None and clock not in CLOCKS:
        fields["clock"] = f"one of {', '.join(CLOCKS)}"
    fields.update(inputs.limit_fields(limit))
    after = inputs.read_cursor(cursor, "instant", "id", fields=fields) or (None, None)
    inputs.raise_fields(fields)
    if principal.role == "handler":
        if unit is not None and unit != principal.unit:
            return OpenStepPage(items=[], next_cursor=None)
        unit = principal.unit
    rows = await rt.pool.fetch(LIST_SQL, unit, level, territory, clock, after[0], after[1], limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        OpenStep(
            id=r["id"],
            ticket=r["number"],
            title=r["title"],
            ticket_status=r["status"],
            clock=r["clock"],
            level=r["step"],
            unit=r["unit"],
            unit_name=rt.names.units.get(r["unit"]) if r["unit"] else None,
            territory=r["territory"],
            due_at=r["due_at"].isoformat(),
            recorded_at=r["recorded_at"].isoformat(),
            source=r["source"],
        )
        for r in rows
    ]
    last = rows[-1] if rows else None
    return OpenStepPage(
        items=items, next_cursor=inputs.encode_cursor(last["recorded_at"], last["id"]) if more and last else None
    )

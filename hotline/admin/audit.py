"""The record of administrators' changes (table admin_events, append-only for the service): who, when, what, and
the thing before and after, as JSON. Written in the same transaction as the change it records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from hotline import inputs
from hotline.auth.tokens import Principal
from hotline.infra.db import Conn
from hotline.infra.runtime import Runtime
from hotline.vocab import ADMIN


async def record(
    conn: Conn,
    actor: Principal,
    what: str,
    subject: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    await conn.execute(
        "INSERT INTO admin_events (actor, what, subject, before, after) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)",
        actor.user_id,
        what,
        subject,
        None if before is None else msgspec.json.encode(before).decode(),
        None if after is None else msgspec.json.encode(after).decode(),
    )


class AdminEvent(msgspec.Struct):
    """One change: its actor, time, what (`account.create`, `sla_policy.version`...), subject, and the thing before
    and after (JSON whose shape depends on `what`; null where there was none)."""

    id: int
    at: str
    actor: str
    what: str
    subject: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AdminEventPage(msgspec.Struct):
    items: list[AdminEvent]


async def recent(
    rt: Runtime,
    principal: Principal,
    *,
    what_prefix: str | None = None,
    subject: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> AdminEventPage:
    principal.require(ADMIN)
    inputs.require_limit(limit)
    rows = await rt.pool.fetch(
        """SELECT e.id, e.at, u.username AS actor, e.what, e.subject, e.before, e.after
           FROM admin_events e JOIN users u ON u.id = e.actor
           WHERE ($1::text IS NULL OR starts_with(e.what, $1)) AND ($2::text IS NULL OR e.subject = $2)
             AND ($3::bigint IS NULL OR e.id < $3)
           ORDER BY e.id DESC LIMIT $4""",
        what_prefix,
        subject,
        before_id,
        limit,
    )
    return AdminEventPage(items=[_view(r) for r in rows])


def _view(r: Any) -> AdminEvent:
    at: datetime = r["at"]
    decode = lambda v: None if v is None else msgspec.json.decode(v)  # noqa: E731
    return AdminEvent(
        id=r["id"],
        at=at.isoformat(),
        actor=r["actor"],
        what=r["what"],
        subject=r["subject"],
        before=decode(r["before"]),
        after=decode(r["after"]),
    )

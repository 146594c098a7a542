"""The record of administrators' changes (table admin_events, append-only for the service): who, when, what, and
the thing before and after, as JSON objects (events recorded before 2026-12-04 hold them as JSON text inside a jsonb
string: readers accept both). Written in the same transaction as the change it records."""

from __future__ import annotations

from typing import Any

from hotline.auth.tokens import Principal
from hotline.infra.db import Conn


async def record(
    conn: Conn,
    actor: Principal,
    what: str,
    subject: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    await conn.execute(
        "INSERT INTO admin_events (actor, what, subject, before, after) VALUES ($1, $2, $3, $4, $5)",
        actor.user_id,
        what,
        subject,
        before,
        after,
    )

"""The export audit: every file of figures that leaves the service, with who asked, what for and how many rows.

The row is written before the file is sent: an export that cannot be recorded is not handed out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from hotline import inputs
from hotline.auth.tokens import Principal
from hotline.errors import Forbidden
from hotline.infra.runtime import Runtime
from hotline.reports.shapes import ExportEntry, ExportPage, ExportQuery
from hotline.vocab import READER_ROLES

RECORD_SQL = """
INSERT INTO export_audit (actor_id, actor, role, unit, report, format, query, row_count, client)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""

LIST_SQL = """
SELECT id, at, actor, role, unit, report, format, query, row_count, client
FROM export_audit
WHERE ($1::text IS NULL OR actor = $1)
  AND ($2::bigint IS NULL OR id < $2)
ORDER BY id DESC
LIMIT $3
"""


async def record(
    rt: Runtime,
    principal: Principal,
    *,
    report: str,
    format: str,
    query: ExportQuery,
    row_count: int,
    client: str | None,
) -> None:
    await rt.pool.execute(
        RECORD_SQL,
        principal.user_id,
        principal.username,
        principal.role,
        principal.unit,
        report,
        format,
        query,
        row_count,
        client,
    )


def _entry(row: Any) -> ExportEntry:
    at: datetime = row["at"]
    return ExportEntry(
        id=row["id"],
        at=at.isoformat(),
        actor=row["actor"],
        role=row["role"],
        unit=row["unit"],
        report=row["report"],
        format=row["format"],
        query=msgspec.convert(row["query"], ExportQuery),  # the JSON `record` stored
        row_count=row["row_count"],
        client=row["client"],
    )


async def list_entries(
    rt: Runtime, principal: Principal, *, actor: str | None, limit: int, cursor: str | None
) -> ExportPage:
    """Newest first; managers and admins only (a handler's own exports are in this list too, not theirs to read)."""
    if principal.role not in READER_ROLES:
        raise Forbidden(f"role {principal.role} may not read the export audit (allowed: manager, admin)")
    fields = inputs.limit_fields(limit, 500)
    after = inputs.read_cursor(cursor, "id", fields=fields)
    before = after[0] if after else None
    if actor is not None and (not actor or len(actor) > 100 or "\x00" in actor):
        fields["actor"] = "a username of at most 100 characters"
    inputs.raise_fields(fields)
    rows = await rt.pool.fetch(LIST_SQL, actor, before, limit + 1)
    items = [_entry(r) for r in rows[:limit]]
    return ExportPage(items=items, next_cursor=inputs.encode_cursor(items[-1].id) if len(rows) > limit else None)

"""GET /api/reports/exports: the export audit (who exported what), for managers and admins."""

from __future__ import annotations

from typing import Any

from litestar import get

from hotline.auth.tokens import Principal
from hotline.infra.runtime import Runtime
from hotline.reports import export_audit


@get("/api/reports/exports")
async def list_exports(
    rt: Runtime, principal: Principal, actor: str | None = None, limit: int = 50, cursor: str | None = None
) -> dict[str, Any]:
    return await export_audit.list_entries(rt, principal, actor=actor, limit=limit, cursor=cursor)


ROUTES = [list_exports]

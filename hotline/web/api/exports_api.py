"""GET /api/reports/exports: the export audit (who exported what), for managers and admins."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from hotline.auth.tokens import Principal
from hotline.infra.runtime import Runtime
from hotline.reports import export_audit
from hotline.reports.shapes import ExportPage
from hotline.vocab import READER_ROLES
from hotline.web.contract import operation


@get(
    "/api/reports/exports",
    **operation(
        "listExports",
        "reports",
        roles=READER_ROLES,
        summary="The export audit: every CSV/XLSX file of figures, who asked for it and what it held",
        description="Newest first, by pages (`next_cursor`).",
    ),
)
async def list_exports(
    rt: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    actor: Annotated[str | None, QueryParameter(description="Only this user's exports (a username)")] = None,
    limit: Annotated[int, QueryParameter(description="At most this many (1 to 500)")] = 50,
    cursor: Annotated[str | None, QueryParameter(description="The previous page's next_cursor")] = None,
) -> ExportPage:
    return await export_audit.list_entries(rt, principal, actor=actor, limit=limit, cursor=cursor)


ROUTES = [list_exports]

"""Reports: GET /api/reports/closure (JSON, CSV, XLSX) and the stored daily digests."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.params import Parameter

from hotline import inputs, reports
from hotline.auth.tokens import Principal
from hotline.errors import InvalidInput
from hotline.infra.runtime import Runtime
from hotline.reports import export_audit

MEDIA = {
    "csv": "text/csv",  # Litestar adds "; charset=utf-8" to text types
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@get("/api/reports/closure")
async def closure(
    rt: Runtime,
    principal: Principal,
    request: Request[Any, Any, Any],
    from_: Annotated[str | None, Parameter(query="from", required=False)] = None,
    to: str | None = None,
    as_of: str | None = None,
    group_by: str | None = None,
    format: str | None = None,
) -> Response[Any]:
    reports.unit_scope(principal)  # 403 before a 422: agents and integrations learn nothing about the query
    q = reports.parse_query(rt.settings.timezone, from_=from_, to=to, as_of=as_of, group_by=group_by, format=format)
    body = await reports.closure_report(rt, principal, q)
    if q.format == "json":
        return Response(body)
    await export_audit.record(
        rt,
        principal,
        report="closure",
        format=q.format,
        row_count=len(body["rows"]),
        query={
            "from": body["from"],
            "to": body["to"],
            "as_of": body["as_of"],
            "group_by": q.group_by,
            "unit": body["unit"],
        },
        client=request.client.host if request.client else None,
    )
    # openpyxl takes tens of milliseconds per workbook (more for long reports): in a thread, not on the event loop.
    content = reports.to_csv(body) if q.format == "csv" else await asyncio.to_thread(reports.to_xlsx, body)
    name = f"closure-{q.group_by}-{q.start.date():%Y%m%d}-{q.end.date():%Y%m%d}.{q.format}"
    return Response(
        content, media_type=MEDIA[q.format], headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@get("/api/reports/digests")
async def digests(rt: Runtime, principal: Principal, day: str | None = None, limit: int = 50) -> dict[str, Any]:
    try:
        on = date.fromisoformat(day) if day else None
    except ValueError as exc:
        raise InvalidInput("day must be YYYY-MM-DD", fields={"day": "YYYY-MM-DD"}) from exc
    inputs.require_instants({"day": on})
    inputs.require_limit(limit, 500)
    return {"items": await reports.list_digests(rt, principal, on, limit)}


ROUTES = [closure, digests]

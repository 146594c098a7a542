"""Reports: GET /api/reports/closure (JSON, CSV, XLSX) and the stored daily digests."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Schema
from litestar.params import QueryParameter

from hotline import inputs, reports
from hotline.auth.tokens import Principal
from hotline.errors import InvalidInput
from hotline.infra.runtime import Runtime
from hotline.reports import export_audit
from hotline.reports.query import REPORT_ROLES
from hotline.reports.shapes import ClosureReport, DigestPage, ExportQuery
from hotline.web.contract import operation
from hotline.web.media import success_media

CSV = "text/csv"  # Litestar adds "; charset=utf-8" to text types
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA = {"csv": CSV, "xlsx": XLSX}

CLOSURE_FILES = success_media(
    {
        CSV: Schema(
            type=OpenAPIType.STRING,
            description="format=csv: UTF-8 with a BOM; a header row, a row per group, a last row 合计. By default "
            "(columns=labels) the screen's Chinese headers (分组, 受理量, …, 按时办结率, …), rates as percentages "
            "(86.3%) and — for null; with columns=codes the header row is group, group_name and the metrics, the last "
            "row's group is `total`, the values are the JSON's (rates as fractions, empty cells for null)",
        ),
        XLSX: Schema(
            type=OpenAPIType.STRING,
            format=OpenAPIFormat.BINARY,
            description="format=xlsx: a workbook with the figures (as the CSV, numbers kept numeric, rates formatted "
            "as percentages) and the query. By default the sheets 办结率统计 and 查询条件 (Chinese headers, instants "
            "in the calendar's local time, e.g. 2026-12-03 09:30 北京时间); with columns=codes the sheets `closure` "
            "(group, group_name, the metrics) and `query` (from, to, as_of in ISO 8601, group_by, unit)",
        ),
    }
)
_QUERY_TEXT = "An ISO 8601 date (YYYY-MM-DD, the local midnight that starts it) or a datetime with its offset"


@get(
    "/api/reports/closure",
    **operation(
        "getClosureReport",
        "reports",
        roles=REPORT_ROLES,
        summary="Closure-rate report (办结率统计), as JSON, CSV or XLSX",
        description="Figures of the tickets received in [from, to), judged at as_of, by group. A handler gets its "
        "own unit's figures only. `format=csv` or `xlsx` answers a file (Content-Disposition: attachment), and "
        "every file is recorded in the export audit before it is sent.",
    ),
    operation_class=CLOSURE_FILES,
)
async def closure(
    rt: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    request: Request[Any, Any, Any],
    from_: Annotated[
        str | None,
        QueryParameter(name="from", required=False, description=f"Start of the period (inclusive). {_QUERY_TEXT}"),
    ] = None,
    to: Annotated[str | None, QueryParameter(description=f"End of the period (exclusive). {_QUERY_TEXT}")] = None,
    as_of: Annotated[
        str | None,
        QueryParameter(
            description="The instant deadlines are judged at (default now); a bare date is the end of that day"
        ),
    ] = None,
    group_by: Annotated[
        str | None,
        QueryParameter(description="How the rows are grouped (default unit)", schema_extra={"enum": [*reports.GROUPS]}),
    ] = None,
    format: Annotated[
        str | None,
        QueryParameter(description="json (default), or a file: csv or xlsx", schema_extra={"enum": [*reports.FORMATS]}),
    ] = None,
    columns: Annotated[
        str | None,
        QueryParameter(
            description="A file's columns: labels (default), the screen's Chinese headers, percentages and local "
            "times, for people; codes, the field names of the JSON report and its raw values, for integrations "
            "(ignored with format=json)",
            schema_extra={"enum": [*reports.COLUMNS]},
        ),
    ] = None,
) -> Response[ClosureReport]:
    # 403 before a 422: agents and integrations learn nothing about the query (the route's guard refuses them before
    # anything is read, and unit_scope, the service's own check, refuses them and a handler without a unit here).
    reports.unit_scope(principal)
    q = reports.parse_query(
        rt.settings.timezone, from_=from_, to=to, as_of=as_of, group_by=group_by, format=format, columns=columns
    )
    body = await reports.closure_report(rt, principal, q)
    if q.format == "json":
        return Response(body)
    await export_audit.record(
        rt,
        principal,
        report="closure",
        format=q.format,
        row_count=len(body.rows),
        query=ExportQuery(from_=body.from_, to=body.to, as_of=body.as_of, group_by=q.group_by, unit=body.unit),
        client=request.client.host if request.client else None,
    )
    # openpyxl takes tens of milliseconds per workbook (more for long reports): in a thread, not on the event loop.
    readable = (
        None
        if q.columns == "codes"
        else reports.Readable(rt.calendar.tz, rt.names.units.get(body.unit) if body.unit else None)
    )
    content = (
        reports.to_csv(body, readable)
        if q.format == "csv"
        else await asyncio.to_thread(reports.to_xlsx, body, readable)
    )
    name = f"closure-{q.group_by}-{q.start.date():%Y%m%d}-{q.end.date():%Y%m%d}.{q.format}"
    # The same route answers a file: its media types are documented by CLOSURE_FILES beside the JSON report.
    file: Response[Any] = Response(
        content, media_type=MEDIA[q.format], headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
    return file


@get(
    "/api/reports/digests",
    **operation(
        "listDigests",
        "reports",
        roles=REPORT_ROLES,
        summary="Stored daily digests (日报)",
        description="Newest day first; a handler reads its own unit's digests only.",
    ),
)
async def digests(
    rt: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    day: Annotated[str | None, QueryParameter(description="Only this day's digests (YYYY-MM-DD)")] = None,
    limit: Annotated[int, QueryParameter(description="At most this many (1 to 500)")] = 50,
) -> DigestPage:
    try:
        on = date.fromisoformat(day) if day else None
    except ValueError as exc:
        raise InvalidInput("day must be YYYY-MM-DD", fields={"day": "YYYY-MM-DD"}) from exc
    inputs.require_instants({"day": on})
    inputs.require_limit(limit, 500)
    return await reports.list_digests(rt, principal, on, limit)


ROUTES = [closure, digests]

"""What the reports answer, as typed shapes: the closure report (GET /api/reports/closure as JSON), the stored daily
digests and the export audit. The figures' names are METRICS (hotline.reports.metrics), in that order; what each
means is in hotline/reports/__init__.py. Rates and working-hour percentiles are null when there is nothing to
divide by (no dispatch, nothing due, no callback, nothing replied)."""

from __future__ import annotations

from typing import Literal

import msgspec

Group = Literal["unit", "territory", "channel", "category", "kind"]  # hotline.reports.metrics.GROUPS
FileFormat = Literal["csv", "xlsx"]  # the formats that leave as files (and are audited)


class ClosureFigures(msgspec.Struct, kw_only=True):
    """The closure-rate figures of one group, or of the whole report (DESIGN.md "Reports")."""

    received: int
    dispatched: int
    signed_on_time: int
    on_time_sign_rate: float | None
    due: int
    replied_on_time: int
    on_time_reply_rate: float | None
    closed: int
    closure_rate: float | None
    callbacks: int
    satisfaction_rate: float | None
    resolution_rate: float | None
    returned: int
    return_rate: float | None
    extensions: int
    urges: int
    overdue_open: int
    p50_working_hours: float | None
    p90_working_hours: float | None


class ClosureRow(msgspec.Struct, kw_only=True):
    """One group's figures: `group` is the code (null: tickets never dispatched, or without that attribute), then
    the figures of ClosureFigures in the same order (the JSON keeps that order; msgspec puts inherited fields first,
    so they are spelled out here; tests/unit/test_report_shapes.py keeps the two the same)."""

    group: str | None
    group_name: str
    received: int
    dispatched: int
    signed_on_time: int
    on_time_sign_rate: float | None
    due: int
    replied_on_time: int
    on_time_reply_rate: float | None
    closed: int
    closure_rate: float | None
    callbacks: int
    satisfaction_rate: float | None
    resolution_rate: float | None
    returned: int
    return_rate: float | None
    extensions: int
    urges: int
    overdue_open: int
    p50_working_hours: float | None
    p90_working_hours: float | None


class ClosureReport(msgspec.Struct, kw_only=True):
    """GET /api/reports/closure as JSON. `from`, `to` and `as_of` are the instants the query was read as (ISO 8601
    with offset); `unit` is the only unit whose figures are counted (a handler's), or null for every unit."""

    from_: str = msgspec.field(name="from")
    to: str
    as_of: str
    group_by: Group
    unit: str | None
    metrics: list[str]
    rows: list[ClosureRow]
    totals: ClosureFigures


class DigestUnitRow(ClosureFigures, kw_only=True):
    """A unit's figures in the managers' digest (unit null: tickets never dispatched)."""

    unit: str | None
    unit_name: str


class DigestBody(msgspec.Struct, kw_only=True):
    """A digest as stored and pushed. A unit's digest carries unit, unit_name, day_figures and month_to_date; the
    managers' digest the totals, the figures by unit and the overdue assignments by unit."""

    day: str
    as_of: str
    month_from: str
    overdue_open_now: int
    unit: str | msgspec.UnsetType = msgspec.UNSET
    unit_name: str | msgspec.UnsetType = msgspec.UNSET
    day_figures: ClosureFigures | msgspec.UnsetType = msgspec.UNSET
    month_to_date: ClosureFigures | msgspec.UnsetType = msgspec.UNSET
    day_totals: ClosureFigures | msgspec.UnsetType = msgspec.UNSET
    month_totals: ClosureFigures | msgspec.UnsetType = msgspec.UNSET
    day_by_unit: list[DigestUnitRow] | msgspec.UnsetType = msgspec.UNSET
    month_by_unit: list[DigestUnitRow] | msgspec.UnsetType = msgspec.UNSET
    overdue_open_now_by_unit: dict[str, int] | msgspec.UnsetType = msgspec.UNSET


class Digest(msgspec.Struct, kw_only=True):
    """A stored daily digest (日报): `audience` unit (with its `unit`) or managers (unit null)."""

    id: int
    day: str
    audience: Literal["unit", "managers"]
    unit: str | None
    body: DigestBody
    created_at: str
    pushed_at: str | None


class DigestPage(msgspec.Struct, kw_only=True):
    items: list[Digest]


class ExportQuery(msgspec.Struct, kw_only=True):
    """What an exported file held: the report's period, as_of, grouping and unit scope."""

    from_: str = msgspec.field(name="from")
    to: str
    as_of: str
    group_by: Group
    unit: str | None


class ExportEntry(msgspec.Struct, kw_only=True):
    """One file of figures that left the service: who asked (actor, role, unit), when, what and from where."""

    id: int
    at: str
    actor: str
    role: str
    unit: str | None
    report: Literal["closure"]
    format: FileFormat
    query: ExportQuery
    row_count: int
    client: str | None


class ExportPage(msgspec.Struct, kw_only=True):
    items: list[ExportEntry]
    next_cursor: str | None

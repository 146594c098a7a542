"""A closure report as CSV (UTF-8 with a BOM, for Excel) or XLSX (rates as percentages, a sheet for the query).

Two ways to write the columns (the `columns` query parameter, hotline.reports.metrics.COLUMNS):
- `labels` (the default, for people): what the manager's screen shows. Its Chinese headers (metrics.LABELS), one
  分组 column with the group's name, in the CSV rates as percentages rounded half-up to tenths (86.3%, as the
  screen rounds them), working hours to two decimals and "—" for a null figure; in the XLSX the numbers stay numbers
  (rates formatted as percentages) and the query sheet says its instants in the calendar's local time
  (2026-12-03 09:30 北京时间).
- `codes` (for integrations, DESIGN.md "Reports"): the contract's field names (group, group_name, the metrics, a
  `total` row) and the raw values exactly as the JSON has them (rates as fractions, instants in ISO 8601, empty
  cells for null).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hotline.reports.metrics import GROUP_COLUMN, GROUP_LABELS, HOURS, LABELS, METRICS, RATES, TOTAL_LABEL
from hotline.reports.shapes import ClosureReport

# What a person calls the calendar's zone; any other zone is written by its name.
ZONE_NAMES = {"Asia/Shanghai": "北京时间", "Asia/Chongqing": "北京时间", "PRC": "北京时间"}
NULL = "—"  # the screen's mark for a figure with nothing to divide by


@dataclass(frozen=True, slots=True)
class Readable:
    """How to write a file for people: the calendar's zone, and the name of the unit a handler's report covers."""

    tz: ZoneInfo
    unit_name: str | None = None


def percent(value: float) -> str:
    """86.3% for 0.8625: half-up on tenths of a percent, exactly as the console rounds (manager.js)."""
    return f"{math.floor(value * 1000 + 0.5 + 1e-9) / 10:.1f}%"


def local_text(instant: str | datetime, tz: ZoneInfo) -> str:
    """2026-12-03 09:30 北京时间: an instant as a clock on the wall of the calendar's zone."""
    at = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    return f"{at.astimezone(tz):%Y-%m-%d %H:%M} {ZONE_NAMES.get(str(tz), str(tz))}"


def _table(report: ClosureReport, readable: Readable | None) -> tuple[list[str], list[list[Any]]]:
    if readable is None:
        header = ["group", "group_name", *METRICS]
        body = [[r.group, r.group_name, *(getattr(r, m) for m in METRICS)] for r in report.rows]
        body.append(["total", TOTAL_LABEL, *(getattr(report.totals, m) for m in METRICS)])
        return header, body
    figures = [*((r, r.group_name) for r in report.rows), (report.totals, TOTAL_LABEL)]
    return [GROUP_COLUMN, *(LABELS[m] for m in METRICS)], [
        [name, *(getattr(f, m) for m in METRICS)] for f, name in figures
    ]


def _cell_text(metric: str, value: Any) -> Any:
    if value is None:
        return NULL
    if metric in RATES:
        return percent(value)
    if metric in HOURS:
        return f"{value:.2f}"
    return value


def to_csv(report: ClosureReport, readable: Readable | None = None) -> bytes:
    """UTF-8 with a BOM, so that Excel opens the Chinese names correctly. readable=None: the contract's codes."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    header, body = _table(report, readable)
    writer.writerow(header)
    for row in body:
        if readable is None:
            writer.writerow(["" if v is None else v for v in row])
        else:
            writer.writerow([row[0], *(_cell_text(m, v) for m, v in zip(METRICS, row[1:], strict=True))])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _query_rows(report: ClosureReport, readable: Readable | None) -> list[tuple[str, Any]]:
    if readable is None:
        return [
            ("from", report.from_),
            ("to", report.to),
            ("as_of", report.as_of),
            ("group_by", report.group_by),
            ("unit", report.unit),
        ]
    tz = readable.tz
    return [
        ("起始时间（含）", local_text(report.from_, tz)),
        ("截止时间（不含）", local_text(report.to, tz)),
        ("统计时点", local_text(report.as_of, tz)),
        ("分组方式", GROUP_LABELS[report.group_by]),
        ("承办单位范围", readable.unit_name or report.unit or "全部单位"),
    ]


def to_xlsx(report: ClosureReport, readable: Readable | None = None) -> bytes:
    """The sheets `closure` and `query` (codes), or 办结率统计 and 查询条件 (labels). readable=None: codes."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.create_sheet("closure" if readable is None else "办结率统计", 0)  # first (instead of the empty default)
    wb.remove(wb.worksheets[1])
    header, body = _table(report, readable)
    ws.append(header)
    for row in body:
        ws.append(row)
    bold = Font(bold=True)
    for cell in ws[1]:
        cell.font = bold
    for cell in ws[ws.max_row]:
        cell.font = bold
    lead = len(header) - len(METRICS)  # the group columns before the metrics
    for col, metric in enumerate(METRICS, start=lead + 1):
        fmt = "0.0%" if metric in RATES else "0.00" if metric in HOURS else None
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
                cell.number_format = fmt
    ws.freeze_panes = ws.cell(row=2, column=lead + 1).coordinate
    if readable is not None:
        ws.column_dimensions["A"].width = 24
    meta = wb.create_sheet("query" if readable is None else "查询条件")
    for key, value in _query_rows(report, readable):
        meta.append([key, value])
    if readable is not None:
        meta.column_dimensions["A"].width = 18
        meta.column_dimensions["B"].width = 28
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

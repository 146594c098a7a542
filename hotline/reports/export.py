"""A closure report as CSV (UTF-8 with a BOM, for Excel) or XLSX (rates as percentages, a sheet for the query)."""

from __future__ import annotations

import csv
import io
from typing import Any

from hotline.reports.metrics import HOURS, METRICS, RATES
from hotline.reports.shapes import ClosureReport

TOTAL_LABEL = "合计"


def _table(report: ClosureReport) -> tuple[list[str], list[list[Any]]]:
    header = ["group", "group_name", *METRICS]
    body = [[r.group, r.group_name, *(getattr(r, m) for m in METRICS)] for r in report.rows]
    body.append(["total", TOTAL_LABEL, *(getattr(report.totals, m) for m in METRICS)])
    return header, body


def to_csv(report: ClosureReport) -> bytes:
    """UTF-8 with a BOM, so that Excel opens the Chinese names correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    header, body = _table(report)
    writer.writerow(header)
    for row in body:
        writer.writerow(["" if v is None else v for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(report: ClosureReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.create_sheet("closure", 0)  # the workbook's first sheet (instead of the empty default one)
    wb.remove(wb.worksheets[1])
    header, body = _table(report)
    ws.append(header)
    for row in body:
        ws.append(row)
    bold = Font(bold=True)
    for cell in ws[1]:
        cell.font = bold
    for cell in ws[ws.max_row]:
        cell.font = bold
    for col, name in enumerate(header, start=1):
        fmt = "0.0%" if name in RATES else "0.00" if name in HOURS else None
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
                cell.number_format = fmt
    ws.freeze_panes = "C2"
    meta = wb.create_sheet("query")
    for key, value in (
        ("from", report.from_),
        ("to", report.to),
        ("as_of", report.as_of),
        ("group_by", report.group_by),
        ("unit", report.unit),
    ):
        meta.append([key, value])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

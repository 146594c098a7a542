"""What the closure-rate report counts: its groupings and formats, the metric names in their contract order, the
counters summed from facts, and how the rates and working-hour percentiles come from them (the meanings are in
hotline/reports/__init__.py)."""

from __future__ import annotations

import math
from typing import Any

import asyncpg

GROUPS = ("unit", "territory", "channel", "category", "kind")
FORMATS = ("json", "csv", "xlsx")
# How a file's columns are written: `labels` (default) as the manager's screen reads them, `codes` with the field
# names and raw values of the contract, for integrations (hotline/reports/export.py).
COLUMNS = ("labels", "codes")
METRICS = (
    "received",
    "dispatched",
    "signed_on_time",
    "on_time_sign_rate",
    "due",
    "replied_on_time",
    "on_time_reply_rate",
    "closed",
    "closure_rate",
    "callbacks",
    "satisfaction_rate",
    "resolution_rate",
    "returned",
    "return_rate",
    "extensions",
    "urges",
    "overdue_open",
    "p50_working_hours",
    "p90_working_hours",
)
RATES = {
    "on_time_sign_rate",
    "on_time_reply_rate",
    "closure_rate",
    "satisfaction_rate",
    "resolution_rate",
    "return_rate",
}
HOURS = {"p50_working_hours", "p90_working_hours"}
# The screen's words (the manager's report table and the exported files' default headers).
GROUP_LABELS = {"unit": "承办单位", "territory": "属地", "channel": "渠道", "category": "业务类别", "kind": "诉求类型"}
GROUP_COLUMN = "分组"
TOTAL_LABEL = "合计"
LABELS = {
    "received": "受理量",
    "dispatched": "派单",
    "signed_on_time": "按时签收",
    "on_time_sign_rate": "按时签收率",
    "due": "应办结",
    "replied_on_time": "按时办结",
    "on_time_reply_rate": "按时办结率",
    "closed": "办结",
    "closure_rate": "办结率",
    "callbacks": "回访",
    "satisfaction_rate": "满意率",
    "resolution_rate": "解决率",
    "returned": "退单",
    "return_rate": "退单率",
    "extensions": "延期",
    "urges": "催办",
    "overdue_open": "超期未办结",
    "p50_working_hours": "办理用时中位数（工作小时）",
    "p90_working_hours": "办理用时90%分位（工作小时）",
}
# Counters summed from facts; due and overdue_open are added from the as_of-dependent parts.
COUNTERS = (
    "received",
    "closed",
    "dispatched",
    "signed_on_time",
    "replied",
    "replied_on_time",
    "returned",
    "callbacks",
    "satisfied",
    "resolved",
    "extensions",
    "urges",
)
NO_GROUP_NAMES = {"unit": "未派单", "territory": "未知属地", "category": "未分类", "channel": "-", "kind": "-"}


def percentiles(
    values: list[float], ps: tuple[float, ...] = (0.5, 0.9), *, presorted: bool = False
) -> list[float | None]:
    """Linear interpolation between closest ranks, as PostgreSQL's percentile_cont and numpy's default."""
    if not values:
        return [None for _ in ps]
    if not presorted:
        values = sorted(values)
    out: list[float | None] = []
    for p in ps:
        pos = p * (len(values) - 1)
        lo, hi = math.floor(pos), math.ceil(pos)
        out.append(values[lo] + (values[hi] - values[lo]) * (pos - lo))
    return out


def rate(num: int, den: int) -> float | None:
    return num / den if den else None


def metrics_of(r: asyncpg.Record | dict[str, Any], p: list[float | None]) -> dict[str, Any]:
    due = r["replied"] + r["due_pending"]
    return {
        "received": r["received"],
        "dispatched": r["dispatched"],
        "signed_on_time": r["signed_on_time"],
        "on_time_sign_rate": rate(r["signed_on_time"], r["dispatched"]),
        "due": due,
        "replied_on_time": r["replied_on_time"],
        "on_time_reply_rate": rate(r["replied_on_time"], due),
        "closed": r["closed"],
        "closure_rate": rate(r["closed"], r["received"]),
        "callbacks": r["callbacks"],
        "satisfaction_rate": rate(r["satisfied"], r["callbacks"]),
        "resolution_rate": rate(r["resolved"], r["callbacks"]),
        "returned": r["returned"],
        "return_rate": rate(r["returned"], r["dispatched"]),
        "extensions": r["extensions"],
        "urges": r["urges"],
        "overdue_open": r["overdue_open"],
        "p50_working_hours": p[0],
        "p90_working_hours": p[1],
    }


def empty_metrics() -> dict[str, Any]:
    return metrics_of({**{c: 0 for c in COUNTERS}, "due_pending": 0, "overdue_open": 0}, [None, None])

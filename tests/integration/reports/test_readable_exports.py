"""The closure report's files read as the manager's screen by default (issue 23, item 7): Chinese headers, rates as
percentages rounded as the screen rounds them, local times in the query sheet; columns=codes keeps the contract."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from hotline import reports
from hotline.reports.export import percent
from tests.integration.reports.conftest import A, B, C

CLOSURE = "/api/reports/closure"
PERIOD = {"from": "2033-05-09", "to": "2033-05-14", "as_of": "2033-06-05T12:00:00+08:00"}
HEADER = [
    "分组",
    "受理量",
    "派单",
    "按时签收",
    "按时签收率",
    "应办结",
    "按时办结",
    "按时办结率",
    "办结",
    "办结率",
    "回访",
    "满意率",
    "解决率",
    "退单",
    "退单率",
    "延期",
    "催办",
    "超期未办结",
    "办理用时中位数（工作小时）",
    "办理用时90%分位（工作小时）",
]


def test_percentages_round_half_up_on_tenths_as_the_screen_does():
    assert percent(0.8625) == "86.3%" and percent(69 / 80) == "86.3%"
    assert percent(0.9024390243902439) == "90.2%" and percent(2 / 3) == "66.7%"
    assert percent(1.0) == "100.0%" and percent(0.0) == "0.0%" and percent(0.0004) == "0.0%"


async def test_csv_by_default_has_the_screens_headers_percentages_and_names(api, week, runtime):
    r = await api.get("manager", CLOSURE, params={**PERIOD, "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.content.startswith(b"\xef\xbb\xbf")
    text = r.content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == HEADER
    rows = {line[0]: dict(zip(HEADER, line, strict=True)) for line in table[1:]}
    a, b, c = (rows[runtime.names.units[u]] for u in (A, B, C))
    assert a["办结率"] == "75.0%" and a["办理用时中位数（工作小时）"] == "12.25" and a["受理量"] == "4"
    assert c["按时签收率"] == "—" and c["退单率"] == "—"  # nothing dispatched: the screen's dash
    assert rows["未派单"]["受理量"] == "1" and rows["合计"]["受理量"] == "8"
    # Every rate as the JSON's fraction, written as the screen writes it; no raw float anywhere.
    body = (await api.get("manager", CLOSURE, params=PERIOD)).json()
    for want in [*body["rows"], {**body["totals"], "group_name": "合计"}]:
        got = rows[want["group_name"]]
        for metric in reports.METRICS:
            label = HEADER[1 + reports.METRICS.index(metric)]
            if want[metric] is None:
                assert got[label] == "—", (metric, got)
            elif metric.endswith("_rate"):
                assert got[label] == percent(want[metric]) and got[label].endswith("%"), (metric, got)
            elif metric.endswith("_working_hours"):
                assert got[label] == f"{want[metric]:.2f}"
            else:
                assert got[label] == str(want[metric])
    assert "0.75" not in text and "group_name" not in text and "total" not in text
    assert b["催办"] == "1" and b["延期"] == "1"


async def test_xlsx_by_default_has_chinese_sheets_percent_cells_and_local_times(api, week):
    r = await api.get("manager", CLOSURE, params={**PERIOD, "format": "xlsx", "group_by": "channel"})
    assert r.status_code == 200 and r.content[:2] == b"PK"
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["办结率统计", "查询条件"]
    ws = wb["办结率统计"]
    values = list(ws.iter_rows(values_only=True))
    assert list(values[0]) == HEADER
    rows = {v[0]: dict(zip(HEADER, v, strict=True)) for v in values[1:]}
    # Numbers stay numbers (a spreadsheet sums them); rates are shown as percentages.
    hotline, transport = rows["12345政务服务便民热线"], rows["96196交通运输服务热线"]
    assert hotline["受理量"] == 1 and hotline["按时办结率"] == 0 and transport["办结率"] == 4 / 7
    assert transport["办理用时90%分位（工作小时）"] == 15.25 and rows["合计"]["办结"] == 5
    rate_col = 1 + HEADER.index("按时办结率")
    assert {ws.cell(row=i, column=rate_col).number_format for i in range(2, ws.max_row + 1)} == {"0.0%"}
    query = {k: v for k, v in wb["查询条件"].iter_rows(values_only=True)}
    assert query == {
        "起始时间（含）": "2033-05-09 00:00 北京时间",
        "截止时间（不含）": "2033-05-14 00:00 北京时间",
        "统计时点": "2033-06-05 12:00 北京时间",
        "分组方式": "渠道",
        "承办单位范围": "全部单位",
    }


async def test_a_handlers_xlsx_names_its_unit_and_codes_keep_the_contracts_query_sheet(api, week, runtime):
    r = await api.get("handler-320681-bureau", CLOSURE, params={**PERIOD, "format": "xlsx"})
    query = dict(load_workbook(io.BytesIO(r.content))["查询条件"].iter_rows(values_only=True))
    assert query["承办单位范围"] == runtime.names.units[A] and query["分组方式"] == "承办单位"
    r = await api.get("handler-320681-bureau", CLOSURE, params={**PERIOD, "format": "xlsx", "columns": "codes"})
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["closure", "query"]
    body = (await api.get("handler-320681-bureau", CLOSURE, params=PERIOD)).json()
    assert dict(wb["query"].iter_rows(values_only=True)) == {
        "from": body["from"],
        "to": body["to"],
        "as_of": body["as_of"],
        "group_by": "unit",
        "unit": A,
    }
    assert [c.value for c in wb["closure"][1]] == ["group", "group_name", *reports.METRICS]

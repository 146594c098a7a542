"""The reports' part of the API contract: the document says what GET /api/reports/closure answers in each format,
what the digests and the export audit are, and the service's real answers match it (tests/integration/documented)."""

from __future__ import annotations

from hotline import reports
from tests.integration.documented import JSON, component, document, mismatches, operation, success_content
from tests.integration.reports.conftest import at

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CLOSURE = "/api/reports/closure"
WEEK = {"from": "2033-05-09", "to": "2033-05-14", "as_of": "2033-05-20T12:00:00+08:00"}
HA = "handler-320681-bureau"


async def test_the_closure_report_is_documented_as_json_csv_and_xlsx(client):
    doc = await document(client)
    op = operation(doc, "GET", CLOSURE)
    assert op["operationId"] == "getClosureReport" and op["tags"] == ["reports"]
    assert op["security"] == [{"bearer": []}]
    assert "Roles: admin, dispatcher, handler, manager." in op["description"]
    content = success_content(doc, "GET", CLOSURE)
    assert set(content) == {JSON, CSV, XLSX}
    assert content[CSV]["schema"]["type"] == "string"
    assert content[XLSX]["schema"] == {**content[XLSX]["schema"], "type": "string", "format": "binary"}
    # The JSON is the typed report: every metric of DESIGN.md "Reports", in each row and in the totals.
    report = component(doc, content[JSON]["schema"]["$ref"])
    assert set(report["properties"]) == {"from", "to", "as_of", "group_by", "unit", "metrics", "rows", "totals"}
    assert set(report["required"]) == set(report["properties"])
    assert report["properties"]["group_by"]["enum"] == list(reports.GROUPS)
    row = component(doc, report["properties"]["rows"]["items"]["$ref"])
    totals = component(doc, report["properties"]["totals"]["$ref"])
    assert set(row["properties"]) == {"group", "group_name", *reports.METRICS}
    assert set(totals["properties"]) == set(reports.METRICS) and set(totals["required"]) == set(reports.METRICS)
    # Rates and percentiles may be null (nothing to divide by); counts may not.
    for name, schema in totals["properties"].items():
        nullable = {"type": "null"} in schema.get("oneOf", [])
        assert nullable == (name.endswith(("_rate", "_working_hours"))), name
    params = {p["name"]: p for p in op["parameters"]}
    assert params["format"]["schema"]["enum"] == ["json", "csv", "xlsx"]
    assert params["columns"]["schema"]["enum"] == ["labels", "codes"] and "codes" in params["columns"]["description"]
    assert {"from", "to", "as_of", "group_by"} <= set(params)


async def test_each_format_is_sent_as_documented_and_the_json_conforms(api, week):
    for who in ("manager", HA):
        for group in reports.GROUPS:
            r = await api.get(who, CLOSURE, params={**WEEK, "group_by": group})
            assert r.status_code == 200 and r.headers["content-type"] == JSON
            assert mismatches(await document(api.client), "GET", CLOSURE, r.json()) == []
    body = (await api.get("manager", CLOSURE, params=WEEK)).json()
    bus = next(row for row in body["rows"] if row["group"] == "city-bus")
    assert bus["dispatched"] == 0 and bus["on_time_sign_rate"] is None and bus["return_rate"] is None
    assert body["metrics"] == list(reports.METRICS) and body["unit"] is None
    csv = await api.get("manager", CLOSURE, params={**WEEK, "format": "csv"})
    assert csv.status_code == 200 and csv.headers["content-type"] == f"{CSV}; charset=utf-8"
    # Issue 23's contract: Chinese column headers by default; DESIGN's: columns=codes gives the field names.
    assert csv.content.decode("utf-8-sig").split("\r\n")[0].split(",")[:4] == ["分组", "受理量", "派单", "按时签收"]
    codes = await api.get("manager", CLOSURE, params={**WEEK, "format": "csv", "columns": "codes"})
    assert codes.status_code == 200 and codes.headers["content-type"] == f"{CSV}; charset=utf-8"
    assert codes.content.decode("utf-8-sig").split("\r\n")[0] == ",".join(["group", "group_name", *reports.METRICS])
    xlsx = await api.get(HA, CLOSURE, params={**WEEK, "format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.headers["content-type"] == XLSX and xlsx.content[:2] == b"PK"
    assert xlsx.headers["content-disposition"].startswith('attachment; filename="closure-unit-20330509-20330514')


async def test_roles_the_report_does_not_admit_are_refused_before_the_query_is_read(api):
    bad = {"from": "x", "group_by": "nope", "format": "pdf", "columns": "english"}
    for who in ("agent", "integration-12345"):
        r = await api.get(who, CLOSURE, params=bad)
        assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
        assert (await api.get(who, "/api/reports/digests", params={"day": "x"})).status_code == 403
    r = await api.get("manager", CLOSURE, params=bad)
    assert r.status_code == 422 and {"from", "to", "group_by", "format", "columns"} <= set(r.json()["fields"])
    assert (await api.get(None, CLOSURE)).status_code == 401


async def test_digests_and_the_export_audit_answer_their_documented_shapes(api, runtime, week):
    doc = await document(api.client)
    for path, op_id, roles in (
        ("/api/reports/digests", "listDigests", "Roles: admin, dispatcher, handler, manager."),
        ("/api/reports/exports", "listExports", "Roles: admin, manager."),
    ):
        op = operation(doc, "GET", path)
        assert op["operationId"] == op_id and op["tags"] == ["reports"] and roles in op["description"]
    # Wed 06-01 08:00: the digest of Tue 05-31, with May's figures to date. No other test stores or pushes the digests
    # of that day or of the week before it (test_digest_and_jobs counts what each of its runs pushes).
    await reports.daily_digest(runtime, at(6, 1, 8), urls=())
    everyone = (await api.get("manager", "/api/reports/digests", params={"day": "2033-05-31"})).json()
    assert mismatches(doc, "GET", "/api/reports/digests", everyone) == []
    by_audience = {d["audience"]: d for d in everyone["items"]}
    managers, unit = by_audience["managers"]["body"], by_audience["unit"]["body"]
    assert {"day_totals", "month_totals", "day_by_unit", "month_by_unit", "overdue_open_now_by_unit"} <= set(managers)
    assert "unit" not in managers and "day_figures" not in managers
    assert {r["unit"] for r in managers["month_by_unit"]} == {"320681-bureau", "city-taxi", "city-bus", None}
    assert {"unit", "unit_name", "day_figures", "month_to_date"} <= set(unit) and "day_totals" not in unit
    mine = (await api.get(HA, "/api/reports/digests", params={"day": "2033-05-31"})).json()
    assert mismatches(doc, "GET", "/api/reports/digests", mine) == []
    assert [d["unit"] for d in mine["items"]] == ["320681-bureau"]

    assert (await api.get("manager", CLOSURE, params={**WEEK, "group_by": "kind", "format": "csv"})).status_code == 200
    page = (await api.get("admin", "/api/reports/exports", params={"actor": "manager", "limit": 1})).json()
    assert mismatches(doc, "GET", "/api/reports/exports", page) == []
    newest = page["items"][0]
    assert newest["format"] == "csv" and newest["query"]["group_by"] == "kind" and newest["query"]["unit"] is None
    assert newest["query"]["from"] == "2033-05-09T00:00:00+08:00" and page["next_cursor"]

"""The audit trail's snapshots as the document describes them (issue 13, typed shapes): each kind of admin event
(accounts, units, routing rules, calendar exceptions, SLA policy versions) is made here through the API, read back
from GET /api/admin/events and validated against the AdminEvent schema of the served document, so a recording site
that changes its snapshot without its type fails here. The explanation of a deadline (ticket detail, SLA preview)
is checked the same way against its schema."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from jsonschema import Draft202012Validator

from hotline.infra import reference_follower

EVENTS = "/api/admin/events"
KINDS = {
    "account.create",
    "account.change",
    "account.reset_password",
    "account.unlock",
    "unit.change",
    "territory.change",
    "routing_rule.create",
    "routing_rule.change",
    "calendar.exception",
    "sla_policy.version",
}


async def _schema(client: Any, name: str) -> Draft202012Validator:
    doc = (await client.get("/schema/openapi.json")).json()
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": doc["components"]})


def _problems(validator: Draft202012Validator, value: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in validator.iter_errors(value)]


async def _make_one_event_of_each_kind(api: Any, runtime: Any) -> None:
    name = f"snap-{uuid.uuid4().hex[:8]}"
    r = await api.post("admin", "/api/admin/accounts", json={"username": name, "role": "agent", "display_name": "甲"})
    assert r.status_code == 201, r.text
    assert (await api.request("admin", "PATCH", f"/api/admin/accounts/{name}", json={"display_name": "乙"})).is_success
    assert (await api.post("admin", f"/api/admin/accounts/{name}/reset-password")).is_success
    assert (await api.post("admin", f"/api/admin/accounts/{name}/unlock")).is_success

    unit = (await api.get("admin", "/api/admin/units")).json()["items"][0]
    r = await api.request("admin", "PATCH", f"/api/admin/units/{unit['code']}", json={"contact_person": "王科长"})
    assert r.status_code == 200, r.text
    r = await api.request(
        "admin", "PATCH", f"/api/admin/units/{unit['code']}", json={"contact_person": unit["contact_person"]}
    )
    assert r.status_code == 200, r.text

    r = await api.request("admin", "PATCH", "/api/admin/territories/320623", json={"name": "如东县（快照）"})
    assert r.status_code == 200, r.text
    r = await api.request("admin", "PATCH", "/api/admin/territories/320623", json={"name": "如东县"})
    assert r.status_code == 200, r.text

    in_force = [r["id"] for r in await runtime.pool.fetch("SELECT id FROM routing_rules WHERE active")]
    rule = await api.post(
        "admin", "/api/admin/routing-rules", json={"category": "taxi", "territory": "320685", "unit": "city-taxi"}
    )
    assert rule.status_code in (200, 201), rule.text
    try:
        r = await api.request("admin", "PATCH", f"/api/admin/routing-rules/{rule.json()['id']}", json={"active": False})
        assert r.status_code == 200, r.text
    finally:
        await runtime.pool.execute("DELETE FROM routing_rules WHERE id = $1", rule.json()["id"])
        await runtime.pool.execute("UPDATE routing_rules SET active = true WHERE id = any($1::int[])", in_force)
        await reference_follower.of(runtime).changed()

    day = date.today() + timedelta(days=40)
    while runtime.calendar.is_working_day(day):  # a day off made a working day: nothing runs on it yet
        day += timedelta(days=1)
    saved = await api.post(
        "admin",
        "/api/admin/calendar/exceptions",
        json={"date": day.isoformat(), "working": True, "reason": "调休上班（测试）"},
    )
    assert saved.status_code == 201, saved.text
    gone = await api.request("admin", "DELETE", f"/api/admin/calendar/exceptions/{saved.json()['exception']['id']}")
    assert gone.status_code == 200, gone.text
    local = await api.post(  # one territory's day
        "admin",
        "/api/admin/calendar/exceptions",
        json={"date": day.isoformat(), "working": True, "reason": "启东调休（测试）", "territories": ["320681"]},
    )
    assert local.status_code == 201, local.text
    gone = await api.request("admin", "DELETE", f"/api/admin/calendar/exceptions/{local.json()['exception']['id']}")
    assert gone.status_code == 200, gone.text

    policies = (await api.get("admin", "/api/admin/sla-policies")).json()
    rows = [dict(r) for r in policies["policy"]]
    changed = [{**r, "limit": r["limit"] + 1} if r["id"] == rows[-1]["id"] else r for r in rows]
    try:
        r = await api.request(
            "admin", "PUT", "/api/admin/sla-policies", json={"defaults": {"warning_ratio": 0.8}, "policy": changed}
        )
        assert r.status_code == 200, r.text
    finally:
        r = await api.request(
            "admin", "PUT", "/api/admin/sla-policies", json={"defaults": policies["defaults"], "policy": rows}
        )
        assert r.status_code == 200, r.text


async def test_every_kind_of_admin_event_is_what_the_document_says(api, runtime, client):
    await _make_one_event_of_each_kind(api, runtime)
    r = await api.get("admin", EVENTS, params={"limit": 200})
    assert r.status_code == 200, r.text
    events = r.json()["items"]
    assert KINDS <= {e["what"] for e in events}, sorted({e["what"] for e in events})
    validator = await _schema(client, "AdminEvent")
    bad = {e["what"]: _problems(validator, e) for e in events if _problems(validator, e)}
    assert not bad, bad
    # The policy version's diff holds the defaults entry and a changed row, each as its own shape.
    version = next(e for e in events if e["what"] == "sla_policy.version" and e["after"]["diff"])
    assert {d["id"] == "defaults" for d in version["after"]["diff"]} == {True, False}, version


async def test_a_deadline_explanation_is_what_the_document_says(api, client):
    t = await api.create("agent")
    detail = (await api.get("dispatcher", f"/api/tickets/{t['number']}")).json()
    explanations = [c["explanation"] for a in detail["assignments"] for c in a["clocks"]]
    received = datetime.fromisoformat(t["received_at"]).isoformat()
    preview = await api.get(
        "agent", "/api/sla/deadlines", params={"received_at": received, "channel": "96196", "kind": "complaint"}
    )
    assert preview.status_code == 200, preview.text
    explanations += [preview.json()["explanation"]["sign"], preview.json()["explanation"]["reply"]]
    assert len(explanations) >= 4
    validator = await _schema(client, "DeadlineExplanation")
    bad = [p for e in explanations for p in _problems(validator, e)]
    assert not bad, bad


async def test_snapshots_are_stored_as_json_objects_that_sql_can_read(api, runtime):
    r = await api.request("admin", "PATCH", "/api/admin/territories/320682", json={"name": "如皋市（存储）"})
    assert r.status_code == 200, r.text
    row = await runtime.pool.fetchrow(
        "SELECT jsonb_typeof(before) AS b, jsonb_typeof(after) AS a, after ->> 'name' AS name FROM admin_events "
        "WHERE what = 'territory.change' AND subject = '320682' ORDER BY id DESC LIMIT 1"
    )
    assert (row["b"], row["a"], row["name"]) == ("object", "object", "如皋市（存储）")
    r = await api.request("admin", "PATCH", "/api/admin/territories/320682", json={"name": "如皋市"})
    assert r.status_code == 200, r.text

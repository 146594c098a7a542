"""Bodies are taken as the document describes them (issue 13): a number or a boolean sent as text is refused with a
422 naming the field, where Litestar alone would have converted it; the same values sent as JSON numbers and
booleans pass."""

from __future__ import annotations

from tests.conftest import ticket_body


async def test_numbers_and_booleans_sent_as_text_are_refused_naming_the_field(api):
    r = await api.post("agent", "/api/tickets", json=ticket_body(urgent="true"))
    assert r.status_code == 422 and set(r.json()["fields"]) == {"urgent"}, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    t = await api.create("agent", kind="help")
    n = t["number"]
    r = await api.post("dispatcher", f"/api/tickets/{n}/note", json={"text": "核实", "expected_version": "1"})
    assert r.status_code == 422 and set(r.json()["fields"]) == {"expected_version"}, r.text
    await api.act("handler-320612-bureau", n, "sign")
    r = await api.post(
        "handler-320612-bureau", f"/api/tickets/{n}/request-extension", json={"reason": "现场核查", "working_days": "3"}
    )
    assert r.status_code == 422 and set(r.json()["fields"]) == {"working_days"}, r.text
    assert (await api.get("dispatcher", f"/api/tickets/{n}")).json()["version"] == 2  # nothing was done
    done = await api.act("handler-320612-bureau", n, "request-extension", reason="现场核查", working_days=3)
    assert done["version"] == 3


async def test_every_offending_field_is_named_by_its_path(api):
    body = ticket_body(caller={"name": "李", "phone": 13812345678}, urgent=1, location={"lat": 32.0})
    r = await api.post("agent", "/api/tickets", json=body)
    assert r.status_code == 422, r.text
    assert set(r.json()["fields"]) == {"caller.phone", "urgent", "location.lng"}, r.json()
    current = (await api.get("admin", "/api/admin/sla-policies")).json()
    rows = [dict(r) for r in current["policy"]]
    bad = [rows[0], {**rows[1], "limit": "5"}, {**rows[2], "colour": "red"}, *rows[3:]]
    r = await api.post("admin", "/api/admin/sla-policies/preview", json={"policy": bad})
    assert r.status_code == 422 and set(r.json()["fields"]) == {"policy[1].limit", "policy[2].colour"}, r.text

"""Inputs at the edge (issue 16, items 7 and 10): out-of-range instants and integers in list filters, cursors and
report periods, JSON nested 1,000 deep, bodies that are not JSON, text where a number belongs, a reused
Idempotency-Key with another body, an oversized body. Each is a 4xx problem naming the field, never a 500."""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from tests.conftest import ticket_body

BIG = "9" * 30


def _cursor(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


OUT_OF_RANGE = [
    ("/api/tickets?created_from=0001-01-01T00:00:00%2B14:00", "created_from"),
    ("/api/tickets?created_from=9999-12-31T23:59:59-14:00", "created_from"),
    ("/api/tickets?created_to=0001-01-01T00:00:00Z", "created_to"),
    ("/api/tickets?created_to=2150-01-01T00:00:00Z", "created_to"),
    (f"/api/tickets?limit={BIG}", "limit"),
    (f"/api/tickets?cursor={_cursor(['2026-01-01T00:00:00+00:00', int(BIG)])}", "cursor"),
    (f"/api/tickets?cursor={_cursor(['0001-01-01T00:00:00+14:00', 1])}", "cursor"),
    (f"/api/tickets?cursor={_cursor(['9999-12-31T23:59:59-14:00', 1])}", "cursor"),
    (f"/api/tickets?sort=due&cursor={_cursor(['2026-01-01T00:00:00+00:00', int(BIG)])}", "cursor"),
    (f"/api/tickets?sort=due&cursor={_cursor([None, int(BIG)])}", "cursor"),
    ("/api/reports/closure?from=2026-01-01&to=9999-12-31", "to"),
    ("/api/reports/closure?from=0001-01-01&to=2026-02-01", "from"),
    ("/api/reports/closure?from=2026-01-01&to=2026-02-01&as_of=9999-12-31", "as_of"),
    ("/api/reports/closure?from=2026-01-01T00:00:00%2B14:00&to=9999-12-31T23:59:59-14:00", "to"),
    ("/api/reports/digests?day=0001-01-01", "day"),
    (f"/api/notifications?cursor={BIG}", "cursor"),
    ("/api/sla/deadlines?received_at=9999-12-31T23:59:59-14:00", "received_at"),
    ("/api/sla/deadlines?received_at=0001-01-01T00:00:00%2B14:00", "received_at"),
]


@pytest.mark.parametrize(("path", "field"), OUT_OF_RANGE)
async def test_out_of_range_instants_and_integers_are_422_naming_the_field(api, path, field):
    r = await api.get("manager", path)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in r.json()["fields"], r.json()


async def test_the_bounds_still_let_real_periods_through(api):
    assert (await api.get("manager", "/api/tickets?created_from=2026-01-01T00:00:00%2B08:00")).status_code == 200
    r = await api.get("manager", "/api/reports/closure?from=2000-01-01&to=2099-12-31&as_of=2099-12-31")
    assert r.status_code == 200, r.text


DEEP = "[" * 1000 + "]" * 1000


@pytest.mark.parametrize(
    ("user", "method", "path", "body"),
    [
        ("agent", "POST", "/api/tickets", '{"channel": "96196", "x": ' + DEEP + "}"),
        ("agent", "POST", "/api/tickets", DEEP),
        ("dispatcher", "POST", "/api/tickets/{n}/note", '{"text": "x", "x": ' + DEEP + "}"),
        ("admin", "PUT", "/api/admin/sla-policies", '{"x": ' + DEEP + "}"),
        ("agent", "POST", "/api/notifications/read", '{"ids": ' + DEEP + "}"),
    ],
)
async def test_json_nested_a_thousand_deep_is_refused_not_a_recursion_error(api, user, method, path, body):
    n = (await api.create())["number"]
    r = await api.request(
        user, method, path.format(n=n), content=body.encode(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 422, r.text
    assert r.json()["fields"] == {"body": "at most 32 levels of nesting"}


async def test_brackets_inside_strings_do_not_count_as_nesting(api):
    r = await api.post("agent", "/api/tickets", json=ticket_body(content="[[[[" * 40 + "乘客投诉"))
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("content_type", ["text/plain", None, "application/x-www-form-urlencoded"])
async def test_a_json_body_without_the_json_content_type_is_415(api, runtime, content_type):
    before = await runtime.pool.fetchval("SELECT count(*) FROM tickets")
    headers = {"content-type": content_type} if content_type else {}
    r = await api.post("agent", "/api/tickets", content=json.dumps(ticket_body()).encode(), headers=headers)
    assert r.status_code == 415, r.text
    assert "Content-Type" in r.json()["fields"]
    assert await runtime.pool.fetchval("SELECT count(*) FROM tickets") == before
    ok = await api.post(
        "agent",
        "/api/tickets",
        content=json.dumps(ticket_body()).encode(),
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert ok.status_code == 201, ok.text


@pytest.mark.parametrize("location", [{"lat": "32.0", "lng": 120.8}, {"lat": 32.0, "lng": "120.8"}])
async def test_a_coordinate_sent_as_text_is_refused(api, location):
    r = await api.post("agent", "/api/tickets", json=ticket_body(location=location))
    assert r.status_code in (400, 422), r.text
    assert "location" in r.json()["fields"]
    good = await api.post("agent", "/api/tickets", json=ticket_body(location={"lat": 32, "lng": 120.8}))
    assert good.status_code == 201 and good.json()["location"] == {"lat": 32.0, "lng": 120.8}


async def test_reusing_an_idempotency_key_with_another_body_is_422_and_the_same_body_replays(api, runtime):
    key = {"Idempotency-Key": f"key-{uuid.uuid4().hex}"}
    first = await api.post("agent", "/api/tickets", json=ticket_body(title="第一件"), headers=key)
    assert first.status_code == 201
    same = await api.post("agent", "/api/tickets", json=ticket_body(title="第一件"), headers=key)
    assert same.status_code == 200 and same.json()["number"] == first.json()["number"]
    before = await runtime.pool.fetchval("SELECT count(*) FROM tickets")
    other = await api.post("agent", "/api/tickets", json=ticket_body(title="第二件"), headers=key)
    assert other.status_code == 422, other.text
    assert "Idempotency-Key" in other.json()["fields"] and "title" in other.json()["detail"]
    assert await runtime.pool.fetchval("SELECT count(*) FROM tickets") == before


async def test_an_oversized_body_is_413_problem(api):
    r = await api.post(
        "agent",
        "/api/tickets",
        content=b'{"a": "' + b"x" * (2 * 1024 * 1024) + b'"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json") and "body" in r.json()["fields"]

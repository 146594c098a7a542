"""Health, readiness, OpenAPI, request ids, and logs without phone numbers."""

from __future__ import annotations

import logging


async def test_health_and_readiness(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    r = await client.get("/readyz")
    assert r.status_code == 200 and r.json()["checks"] == {"postgresql": "ok", "redis": "ok"}


async def test_openapi_lists_the_api(client):
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/api/tickets" in paths and "/api/auth/token" in paths


async def test_request_id_is_returned_and_logged_without_phone(api, caplog):
    caplog.set_level(logging.INFO)
    r = await api.post(
        "agent",
        "/api/tickets",
        json={
            "channel": "96196",
            "kind": "help",
            "category": "bus",
            "territory": "320682",
            "title": "求助",
            "content": "我的手机号是13987654321，请回电",
            "caller": {"name": "赵", "phone": "13987654321"},
        },
        headers={"X-Request-ID": "req-test-42"},
    )
    assert r.status_code == 201 and r.headers["x-request-id"] == "req-test-42"
    lines = [str(rec.msg) for rec in caplog.records]
    assert any("req-test-42" in line for line in lines)
    assert not any("13987654321" in line for line in lines)

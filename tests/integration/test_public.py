"""Citizen side: web intake and progress check, no personal data, rate-limited."""

from __future__ import annotations

import httpx


async def test_web_form_and_progress_check(api, client):
    r = await client.post(
        "/public/tickets",
        json={
            "kind": "complaint",
            "category": "bus",
            "territory": "320685",
            "title": "公交司机玩手机",
            "content": "海安市5路公交司机开车时玩手机",
            "caller": {"name": "陈", "phone": "13700001234"},
        },
    )
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    assert number.startswith("web-")
    r = await client.get(f"/public/tickets/{number}", params={"phone_tail": "1234"})
    assert r.status_code == 200
    body = r.json()
    assert (
        body["status"] == "dispatched" and body["unit_name"] == "海安市交通运输局" and body["status_text"] == "已派单"
    )
    assert "caller" not in body and "13700001234" not in r.text and "陈" not in r.text
    await api.act("handler-320685-bureau", number, "sign")
    await api.act("handler-320685-bureau", number, "reply", content="已批评教育驾驶员", outcome="resolved")
    body = (await client.get(f"/public/tickets/{number}", params={"phone_tail": "1234"})).json()
    assert body["status"] == "replied" and body["reply"] == "已批评教育驾驶员"


async def test_wrong_tail_is_404_and_bad_tail_422(client):
    r = await client.post(
        "/public/tickets",
        json={"kind": "help", "title": "求助", "content": "需要帮助", "caller": {"phone": "13700005678"}},
    )
    number = r.json()["number"]
    assert (await client.get(f"/public/tickets/{number}", params={"phone_tail": "0000"})).status_code == 404
    assert (await client.get("/public/tickets/web-19990101-000001", params={"phone_tail": "5678"})).status_code == 404
    r = await client.get(f"/public/tickets/{number}", params={"phone_tail": "12"})
    assert r.status_code == 422 and "phone_tail" in r.json()["fields"]
    r = await client.post("/public/tickets", json={"kind": "help", "title": "x", "content": "y", "caller": {}})
    assert r.status_code == 422 and "caller.phone" in r.json()["fields"]


async def test_progress_check_is_rate_limited_per_client(client, settings):
    transport = httpx.ASGITransport(app=client.app, client=("10.9.8.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as guesser:
        codes = [
            (await guesser.get("/public/tickets/web-20260101-000001", params={"phone_tail": "1234"})).status_code
            for _ in range(settings.public_rate_limit_per_minute + 1)
        ]
        refused = await guesser.get("/public/tickets/web-20260101-000001", params={"phone_tail": "1234"})
    assert codes[:-1] == [404] * settings.public_rate_limit_per_minute
    assert codes[-1] == 429 and refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 60


async def test_web_form_submissions_are_rate_limited_per_client_and_a_refused_one_writes_nothing(
    client, settings, runtime
):
    limit = max(1, settings.public_rate_limit_per_minute // 6)
    body = {"kind": "suggestion", "title": "建议", "content": "建议增加夜班公交", "caller": {"phone": "13700009999"}}
    transport = httpx.ASGITransport(app=client.app, client=("10.9.8.6", 40001))
    before = await runtime.pool.fetchval("SELECT count(*) FROM tickets WHERE channel = 'web'")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as flooder:
        codes = [(await flooder.post("/public/tickets", json=body)).status_code for _ in range(limit + 2)]
    assert codes == [201] * limit + [429, 429]
    assert await runtime.pool.fetchval("SELECT count(*) FROM tickets WHERE channel = 'web'") == before + limit
    # Another client is not held back by the first one's limit.
    other = httpx.ASGITransport(app=client.app, client=("10.9.8.5", 40002))
    async with httpx.AsyncClient(transport=other, base_url="http://testserver") as neighbour:
        assert (await neighbour.post("/public/tickets", json=body)).status_code == 201

"""Lists: filters and keyset pagination."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta


async def test_filters(api):
    marker = uuid.uuid4().hex[:8]
    phone = "139" + marker[:0] + str(uuid.uuid4().int)[:8]
    a = await api.create(
        "agent",
        title=f"公交晚点 {marker}",
        category="bus",
        territory="320681",
        kind="suggestion",
        caller={"name": "王", "phone": phone},
    )
    b = await api.create("agent", title=f"路面坑洼 {marker}", category="road", territory="320681")

    async def numbers(**params):
        r = await api.get("dispatcher", "/api/tickets", params={"limit": 200, **params})
        assert r.status_code == 200, r.text
        return {t["number"] for t in r.json()["items"]}

    assert {a["number"], b["number"]} <= await numbers(q=marker)
    assert await numbers(q=marker, category="bus") == {a["number"]}
    assert await numbers(q=marker, kind="suggestion") == {a["number"]}
    assert await numbers(phone=phone) == {a["number"]}
    assert await numbers(q=marker, unit="320681-bureau") == {a["number"], b["number"]}
    assert await numbers(q=marker, territory="320612") == set()
    assert await numbers(q=marker, status="dispatched") == {a["number"], b["number"]}
    assert await numbers(q=marker, status="open") == {a["number"], b["number"]}
    assert await numbers(q=marker, status="closed") == set()
    assert await numbers(q=marker, channel="12345") == set()
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert await numbers(q=marker, created_from=future) == set()
    assert {a["number"], b["number"]} <= await numbers(q=marker, created_to=future)


async def test_keyset_pagination_walks_every_ticket_once(api):
    marker = uuid.uuid4().hex[:8]
    made = [(await api.create("agent", title=f"分页 {marker} {i}"))["number"] for i in range(7)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"q": marker, "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await api.get("dispatcher", "/api/tickets", params=params)).json()
        seen += [t["number"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))


async def test_bad_list_parameters(api):
    for params, field in (
        ({"limit": 0}, "limit"),
        ({"status": "lost"}, "status"),
        ({"cursor": "zzz"}, "cursor"),
        ({"created_from": "2026-01-01T00:00:00"}, "created_from"),
    ):
        r = await api.get("dispatcher", "/api/tickets", params=params)
        assert r.status_code in (400, 422), (params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in r.json()["fields"], (params, r.text)  # the offending parameter is named

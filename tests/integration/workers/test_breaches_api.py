"""GET /api/escalations (open steps) and GET /api/notifications (each person's own, mark as read)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hotline.escalation import catch_up
from tests.integration.documented import document, mismatches, operation
from tests.integration.workers.support import past_tickets

UTC = UTC
H = "handler-320612-bureau"


async def _numbers(runtime, ids):
    return [
        r["number"]
        for r in await runtime.pool.fetch("SELECT number FROM tickets WHERE id = any($1::bigint[]) ORDER BY id", ids)
    ]


async def test_open_escalations_filtered_by_unit_level_and_territory(api, runtime, redis_clean):
    ids = await past_tickets(runtime, 3)
    numbers = await _numbers(runtime, ids)
    await catch_up.sweep(runtime, now=datetime.now(UTC), grace=timedelta(0))

    r = await api.get(
        "manager",
        "/api/escalations",
        params={"unit": "320612-bureau", "level": "supervision", "territory": "320612", "limit": 200},
    )
    assert r.status_code == 200, r.text
    mine = [i for i in r.json()["items"] if i["ticket"] in numbers]
    assert sorted((i["ticket"], i["clock"]) for i in mine) == sorted((n, c) for n in numbers for c in ("sign", "reply"))
    assert all(i["level"] == "supervision" and i["unit"] == "320612-bureau" and i["unit_name"] for i in mine)
    r = await api.get("manager", "/api/escalations", params={"territory": "320614", "limit": 200})
    assert not [i for i in r.json()["items"] if i["ticket"] in numbers]

    # A handler sees its own unit's only; another unit's handler sees none of these.
    own = await api.get(H, "/api/escalations", params={"limit": 200})
    assert {i["unit"] for i in own.json()["items"]} == {"320612-bureau"}
    other = await api.get("handler-320614-bureau", "/api/escalations", params={"unit": "320612-bureau"})
    assert other.status_code == 200 and other.json()["items"] == []
    assert (await api.get("integration-12345", "/api/escalations")).status_code == 403
    bad = await api.get("manager", "/api/escalations", params={"level": "panic"})
    assert bad.status_code == 422 and "level" in bad.json()["fields"]

    # Keyset pagination walks every open step once.
    seen, cursor = [], None
    while True:
        params = {"limit": 2, "unit": "320612-bureau", "level": "overdue"}
        if cursor:
            params["cursor"] = cursor
        page = (await api.get("dispatcher", "/api/escalations", params=params)).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) and len(seen) >= 2 * len(ids)

    # A step is open while its clock runs: signing resolves the sign clock's steps (kept, no longer listed).
    await api.act(H, numbers[0], "sign")
    r = await api.get("manager", "/api/escalations", params={"limit": 200, "clock": "sign"})
    assert numbers[0] not in {i["ticket"] for i in r.json()["items"]}
    kept = await runtime.pool.fetchval(
        "SELECT count(*) FROM escalation_steps WHERE ticket_id = $1 AND clock = 'sign' AND resolved_at IS NOT NULL",
        ids[0],
    )
    assert kept == 3


async def test_notifications_are_each_persons_own_and_can_be_marked_read(api, runtime, redis_clean):
    ids = await past_tickets(runtime, 2)
    numbers = await _numbers(runtime, ids)
    await catch_up.sweep(runtime, now=datetime.now(UTC), grace=timedelta(0))

    r = await api.get(H, "/api/notifications", params={"limit": 200})
    assert r.status_code == 200
    body = r.json()
    # Pages of three, by the cursor each page gives, walk the same list once (hotline.inputs' one cursor format).
    paged, cursor = [], None
    while True:
        page = await api.get(H, "/api/notifications", params={"limit": 3, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        paged += [n["id"] for n in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    assert paged == [n["id"] for n in body["items"]]
    bad = await api.get(H, "/api/notifications", params={"limit": 0, "cursor": "12"})
    assert bad.status_code == 422 and set(bad.json()["fields"]) == {"limit", "cursor"}
    mine = [n for n in body["items"] if n["ticket"] in numbers]
    # The unit hears of warnings and overdues of both its clocks, not of supervision (managers' business).
    assert sorted((n["ticket"], n["clock"], n["step"]) for n in mine) == sorted(
        (t, c, s) for t in numbers for c in ("sign", "reply") for s in ("warning", "overdue")
    )
    assert all(not n["read"] and n["title"].startswith(("预警", "超期")) for n in mine)
    assert body["unread"] >= len(mine)
    disp = [
        n
        for n in (await api.get("dispatcher", "/api/notifications", params={"limit": 200})).json()["items"]
        if n["ticket"] in numbers
    ]
    assert {n["step"] for n in disp} == {"overdue"} and len(disp) == 2 * len(numbers)
    mgr = [
        n
        for n in (await api.get("manager", "/api/notifications", params={"limit": 200})).json()["items"]
        if n["ticket"] in numbers
    ]
    assert {n["step"] for n in mgr} == {"supervision"} and mgr[0]["title"].startswith("督办")
    assert [
        n
        for n in (await api.get("agent", "/api/notifications", params={"limit": 200})).json()["items"]
        if n["ticket"] in numbers
    ] == []

    # Mark one, then the rest; another user cannot touch them.
    first = mine[0]["id"]
    assert (await api.post("manager", f"/api/notifications/{first}/read")).status_code == 404
    r = await api.post(H, f"/api/notifications/{first}/read")
    assert r.status_code == 200 and r.json()["read"]
    unread = (await api.get(H, "/api/notifications", params={"unread": "true", "limit": 200})).json()
    assert first not in {n["id"] for n in unread["items"]} and unread["unread"] == body["unread"] - 1
    r = await api.post(H, "/api/notifications/read", json={"ids": [n["id"] for n in mine]})
    assert r.status_code == 200 and r.json()["marked"] == len(mine) - 1
    r = await api.post(H, "/api/notifications/read", json={"all": True})
    assert r.status_code == 200 and r.json()["unread"] == 0
    assert (await api.post(H, "/api/notifications/read", json={})).status_code == 422
    # Paging by cursor.
    page = (await api.get(H, "/api/notifications", params={"limit": 1})).json()
    nxt = (await api.get(H, "/api/notifications", params={"limit": 1, "cursor": page["next_cursor"]})).json()
    assert nxt["items"][0]["id"] < page["items"][0]["id"]


async def test_notification_ids_no_database_could_hold_are_a_404_or_422_not_a_500(api):
    huge = 2**81
    r = await api.post("dispatcher", f"/api/notifications/{huge}/read")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert (await api.post("dispatcher", "/api/notifications/0/read")).status_code == 404
    r = await api.post("dispatcher", "/api/notifications/read", json={"ids": [1, huge]})
    assert r.status_code == 422 and "ids" in " ".join(r.json()["fields"])


async def test_escalations_and_notifications_answer_their_documented_shapes(api, runtime, redis_clean):
    ids = await past_tickets(runtime, 1)
    (number,) = await _numbers(runtime, ids)
    await catch_up.sweep(runtime, now=datetime.now(UTC), grace=timedelta(0))
    doc = await document(api.client)
    for method, path, op_id, roles in (
        ("GET", "/api/escalations", "listEscalations", "Roles: admin, agent, dispatcher, handler, manager."),
        ("GET", "/api/notifications", "listNotifications", "Any signed-in account."),
        ("POST", "/api/notifications/read", "markNotificationsRead", "Any signed-in account."),
        ("POST", "/api/notifications/{notification_id}/read", "markNotificationRead", "Any signed-in account."),
    ):
        op = operation(doc, method, path)
        assert op["operationId"] == op_id and op["tags"] == ["escalations"] and op["security"] == [{"bearer": []}]
        assert roles in op["description"]

    steps = (await api.get("manager", "/api/escalations", params={"limit": 200})).json()
    assert number in {s["ticket"] for s in steps["items"]}
    assert mismatches(doc, "GET", "/api/escalations", steps) == []
    page = (await api.get(H, "/api/notifications", params={"limit": 2})).json()
    assert page["items"] and page["next_cursor"] and mismatches(doc, "GET", "/api/notifications", page) == []
    none = (await api.get("integration-12345", "/api/notifications")).json()
    assert none == {"items": [], "next_cursor": None, "unread": 0}
    assert mismatches(doc, "GET", "/api/notifications", none) == []
    one = (await api.post(H, f"/api/notifications/{page['items'][0]['id']}/read")).json()
    assert one["read"] and mismatches(doc, "POST", "/api/notifications/{notification_id}/read", one) == []
    marked = (await api.post(H, "/api/notifications/read", json={"ids": [page["items"][1]["id"]]})).json()
    assert marked["marked"] == 1 and mismatches(doc, "POST", "/api/notifications/read", marked) == []

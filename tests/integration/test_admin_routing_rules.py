"""The administrator's routing rules (issue 22): added, changed, deactivated through the API, stored in PostgreSQL,
each change an admin event with its actor and before/after; the most specific rule still wins, overlaps are refused,
and every process's router is rebuilt at once (the trial answers from the live router)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from hotline.infra import reference_follower
from hotline.tickets import routing

PATH = "/api/admin/routing-rules"


async def _until(check: Callable[[], bool], seconds: float = 5.0) -> bool:
    for _ in range(int(seconds / 0.05)):
        if check():
            return True
        await asyncio.sleep(0.05)
    return check()


@pytest.fixture
async def made(runtime: Any) -> AsyncIterator[list[int]]:
    """Ids of the rules a test adds: removed afterwards, and the rules they replaced put back in force."""
    ids: list[int] = []
    in_force = [r["id"] for r in await runtime.pool.fetch("SELECT id FROM routing_rules WHERE active")]
    yield ids
    await runtime.pool.execute("DELETE FROM routing_rules WHERE id = any($1::int[])", ids)
    await runtime.pool.execute("UPDATE routing_rules SET active = true WHERE id = any($1::int[])", in_force)
    await reference_follower.of(runtime).changed()


async def _patch(api: Any, rule_id: int, **body: Any) -> Any:
    return await api.request("admin", "PATCH", f"{PATH}/{rule_id}", json=body)


async def test_a_rule_added_changed_and_deactivated_reaches_every_router(api, runtime, settings, made):
    from hotline.infra.runtime import Runtime

    star = routing.router(runtime).resolve("taxi", "320612")
    assert star.unit == "320612-bureau"  # today: the "*" rule, the local bureau
    elsewhere = next(
        t
        for t in sorted(runtime.names.territories)
        if t != "320612" and routing.router(runtime).resolve("taxi", t).rule_id == star.rule_id
    )
    other = await Runtime.start(settings)  # a second API process, started before the changes
    try:
        r = await api.post("admin", PATH, json={"category": "taxi", "territory": "320612", "unit": "city-taxi"})
        assert r.status_code == 201, r.text
        rule = r.json()
        made.append(rule["id"])
        assert rule == {
            "id": rule["id"],
            "category": "taxi",
            "territory": "320612",
            "unit": "city-taxi",
            "active": True,
            "replaces": None,
        }
        # The most specific rule wins, here and in the other process; the "*" rule still serves the others.
        assert routing.router(runtime).resolve("taxi", "320612").rule_id == rule["id"]
        assert routing.router(runtime).resolve("taxi", elsewhere).rule_id == star.rule_id
        assert await _until(lambda: routing.router(other).resolve("taxi", "320612").unit == "city-taxi")
        t = await api.create("agent")
        assert t["unit"] == "city-taxi"
        trial = await api.get("admin", "/api/admin/routing-test", params={"category": "taxi", "territory": "320612"})
        assert trial.json()["rule"]["id"] == rule["id"] and trial.json()["unit"] == "city-taxi"
        listed = [i for i in (await api.get("admin", PATH)).json()["items"] if i["category"] == "taxi"]
        assert [i["id"] for i in listed].index(rule["id"]) < [i["id"] for i in listed].index(star.rule_id)
        event = await runtime.pool.fetchrow(
            """SELECT u.username AS actor, e.what, e.before, e.after FROM admin_events e JOIN users u ON u.id = e.actor
               WHERE e.subject = $1 AND e.what LIKE 'routing_rule.%' ORDER BY e.id DESC LIMIT 1""",
            str(rule["id"]),
        )
        assert (event["actor"], event["what"], event["before"]) == ("admin", "routing_rule.create", None)
        assert event["after"] == {k: v for k, v in rule.items() if k != "replaces"}

        # The same category and territory again: an overlap, refused naming the territory.
        r = await api.post("admin", PATH, json={"category": "taxi", "territory": "320612", "unit": "city-bus"})
        assert r.status_code == 422 and "territory" in r.json()["fields"]
        r = await api.post("admin", PATH, json={"category": "taxi", "territory": "*", "unit": "city-bus"})
        assert r.status_code == 422 and "territory" in r.json()["fields"]

        # A new unit: a successor with a new id; the ticket routed before still names the rule as it was.
        r = await _patch(api, rule["id"], unit="city-bus")
        assert r.status_code == 200, r.text
        changed = r.json()
        made.append(changed["id"])
        assert changed["replaces"] == rule["id"] and changed["id"] != rule["id"] and changed["unit"] == "city-bus"
        assert routing.router(runtime).resolve("taxi", "320612").unit == "city-bus"
        assert await _until(lambda: routing.router(other).resolve("taxi", "320612").unit == "city-bus")
        explained = (await api.get("agent", f"/api/tickets/{t['number']}/routing")).json()
        assert explained["rule"] == {"id": rule["id"], "category": "taxi", "territory": "320612", "unit": "city-taxi"}
        event = await runtime.pool.fetchrow(
            "SELECT before, after FROM admin_events WHERE what = 'routing_rule.change' AND subject = $1",
            str(rule["id"]),
        )
        assert event["before"]["unit"] == "city-taxi" and event["after"]["id"] == changed["id"]

        # Deactivated: the category and territory fall back to the "*" rule, everywhere.
        r = await _patch(api, changed["id"], active=False)
        assert r.status_code == 200 and r.json()["active"] is False and r.json()["id"] == changed["id"]
        assert routing.router(runtime).resolve("taxi", "320612").rule_id == star.rule_id
        assert await _until(lambda: routing.router(other).resolve("taxi", "320612").rule_id == star.rule_id)
        assert changed["id"] not in [i["id"] for i in (await api.get("admin", PATH)).json()["items"]]
        # Reactivating the replaced one is fine (nothing in force overlaps it); then the successor would overlap.
        assert (await _patch(api, rule["id"], active=True)).status_code == 200
        r = await _patch(api, changed["id"], active=True)
        assert r.status_code == 422 and "territory" in r.json()["fields"]
        assert (await api.create("agent"))["unit"] == "city-taxi"
    finally:
        await other.close()


async def test_the_last_rule_for_a_category_deactivated_sends_its_cases_to_manual_dispatch(api, runtime, made):
    star = routing.router(runtime).resolve("highway", "320612")
    assert star.unit == "city-highway"
    r = await _patch(api, star.rule_id, active=False)
    assert r.status_code == 200, r.text
    t = await api.create("agent", category="highway")
    assert t["status"] == "pending_dispatch" and t["unit"] is None
    trial = (await api.get("admin", "/api/admin/routing-test", params={"category": "highway"})).json()
    assert trial["unit"] is None and trial["rule"] is None and "no routing rule" in trial["reason"]


async def test_rules_are_for_administrators_only(api):
    body = {"category": "taxi", "territory": "320612", "unit": "city-taxi"}
    assert (await api.post("manager", PATH, json=body)).status_code == 403
    assert (await api.request("manager", "PATCH", f"{PATH}/1", json={"active": False})).status_code == 403
    assert (await api.post("dispatcher", PATH, json=body)).status_code == 403
    assert (await api.post(None, PATH, json=body)).status_code == 401


async def test_bad_rules_are_refused_naming_the_field(api, runtime):
    count = await runtime.pool.fetchval("SELECT count(*) FROM routing_rules")
    good = {"category": "taxi", "territory": "320612", "unit": "city-taxi"}
    for body, field in [
        ({**good, "category": "no-such"}, "category"),
        ({**good, "territory": "999999"}, "territory"),
        ({**good, "unit": "no-such-unit"}, "unit"),
        ({**good, "unit": ""}, "unit"),
        ({"category": "taxi", "unit": "city-taxi"}, "territory"),
        ({**good, "territory": "a\x00"}, "territory"),
    ]:
        r = await api.post("admin", PATH, json=body)
        assert r.status_code == 422, (body, r.status_code, r.text)
        assert field in r.json()["fields"], (body, r.text)
    star = routing.router(runtime).resolve("taxi", "320612").rule_id
    r = await _patch(api, star, unit="no-such-unit")
    assert r.status_code == 422 and "unit" in r.json()["fields"]
    r = await _patch(api, star, active="no")
    assert r.status_code == 422 and "active" in r.json()["fields"]
    assert (await _patch(api, 999_999, active=False)).status_code == 404
    assert (await _patch(api, 108_358_745_386, active=False)).status_code == 404  # beyond a PostgreSQL integer
    assert (await _patch(api, -1, active=False)).status_code == 404
    assert await runtime.pool.fetchval("SELECT count(*) FROM routing_rules") == count
    assert routing.router(runtime).resolve("taxi", "320612").rule_id == star


async def test_deactivated_rules_are_listed_newest_first_with_the_rule_that_replaced_them(api, runtime, made):
    r = await api.post("admin", PATH, json={"category": "bus", "territory": "320612", "unit": "city-bus"})
    assert r.status_code == 201, r.text
    first = r.json()["id"]
    made.append(first)
    r = await _patch(api, first, unit="city-taxi")  # replaced by a successor
    successor = r.json()["id"]
    made.append(successor)
    listed = (await api.get("admin", f"{PATH}/deactivated")).json()["items"]
    old = next(i for i in listed if i["id"] == first)
    assert old == {
        "id": first,
        "category": "bus",
        "territory": "320612",
        "unit": "city-bus",
        "category_name": runtime.names.categories["bus"],
        "territory_name": runtime.names.territories["320612"],
        "unit_name": runtime.names.units["city-bus"],
        "in_force": successor,
    }
    assert successor not in [i["id"] for i in listed]
    assert [i["id"] for i in listed] == sorted((i["id"] for i in listed), reverse=True)
    # The successor deactivated too: both listed, and the first one is free to come back.
    assert (await _patch(api, successor, active=False)).status_code == 200
    listed = (await api.get("admin", f"{PATH}/deactivated")).json()["items"]
    assert [i["id"] for i in listed][:2] == [successor, first]
    assert next(i for i in listed if i["id"] == first)["in_force"] is None
    assert (await _patch(api, first, active=True)).status_code == 200
    assert routing.router(runtime).resolve("bus", "320612").unit == "city-bus"
    assert first not in [i["id"] for i in (await api.get("admin", f"{PATH}/deactivated")).json()["items"]]
    assert (await api.get("manager", f"{PATH}/deactivated")).status_code == 403

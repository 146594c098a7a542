"""The administrator's units (issue 22): display name, contact and active flag changed through the API, stored in
PostgreSQL, each change an admin event with its actor and before/after, and known at once to every process: a
renamed unit shows its new name in ticket views; an inactive unit gets no new routing and cannot be dispatched to."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from hotline.tickets import routing

PATH = "/api/admin/units"


async def _until(check: Callable[[], bool], seconds: float = 5.0) -> bool:
    for _ in range(int(seconds / 0.05)):
        if check():
            return True
        await asyncio.sleep(0.05)
    return check()


async def _unit(runtime: Any, code: str) -> dict[str, Any]:
    row = await runtime.pool.fetchrow(
        "SELECT code, name, territory, active, contact_person, contact_phone FROM units WHERE code = $1", code
    )
    return dict(row)


async def _restore(api: Any, before: dict[str, Any]) -> None:
    body = {k: before[k] for k in ("name", "active", "contact_person", "contact_phone")}
    r = await api.request("admin", "PATCH", f"{PATH}/{before['code']}", json=body)
    assert r.status_code == 200, r.text


async def test_units_are_listed_with_their_contacts_and_active_flag(api, runtime):
    r = await api.get("admin", PATH)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["code"] for i in items] == sorted(i["code"] for i in items)
    assert len(items) == await runtime.pool.fetchval("SELECT count(*) FROM units")
    bureau = next(i for i in items if i["code"] == "320612-bureau")
    assert set(bureau) == {
        "code", "name", "territory", "territory_name", "active", "contact_person", "contact_phone"
    }  # fmt: skip
    assert bureau["territory"] == "320612" and bureau["territory_name"] and bureau["active"] is True
    assert bureau["name"] == runtime.names.units["320612-bureau"]


async def test_a_renamed_unit_shows_its_new_name_in_ticket_views_of_every_process(api, runtime, settings):
    from hotline.infra.runtime import Runtime

    code = "320612-bureau"
    before = await _unit(runtime, code)
    other = await Runtime.start(settings)  # a second API process, started before the change
    try:
        t = await api.create("agent")
        assert t["unit"] == code
        new_name = "通州区交通运输局（新）"
        r = await api.request(
            "admin",
            "PATCH",
            f"{PATH}/{code}",
            json={"name": f"  {new_name} ", "contact_person": "王科长", "contact_phone": "0513-86123456"},
        )
        assert r.status_code == 200, r.text
        assert r.json() == {
            "code": code,
            "name": new_name,
            "territory": "320612",
            "territory_name": runtime.names.territories["320612"],
            "active": True,
            "contact_person": "王科长",
            "contact_phone": "0513-86123456",
        }
        # Stored, and on record with its actor and the unit before and after.
        assert (await _unit(runtime, code))["name"] == new_name
        event = await runtime.pool.fetchrow(
            """SELECT u.username AS actor, e.before, e.after FROM admin_events e JOIN users u ON u.id = e.actor
               WHERE e.what = 'unit.change' AND e.subject = $1 ORDER BY e.id DESC LIMIT 1""",
            code,
        )
        assert event["actor"] == "admin"
        assert event["before"]["name"] == before["name"]
        assert event["after"] == {**before, "name": new_name, "contact_person": "王科长",
                                              "contact_phone": "0513-86123456"}  # fmt: skip
        events = (await api.get("admin", "/api/admin/events", params={"what": "unit.", "subject": code})).json()
        assert events["items"][0]["after"]["name"] == new_name
        # This process's ticket views at once; the other process's names within moments, without a restart.
        detail = (await api.get("agent", f"/api/tickets/{t['number']}")).json()
        assert detail["unit_name"] == new_name
        assert await _until(lambda: other.names.units.get(code) == new_name)
        # Keys left out stay as they were; an empty contact is removed.
        r = await api.request("admin", "PATCH", f"{PATH}/{code}", json={"contact_person": ""})
        assert r.status_code == 200 and r.json()["contact_person"] is None
        assert r.json()["name"] == new_name and r.json()["contact_phone"] == "0513-86123456"
    finally:
        await _restore(api, before)
        await other.close()
    assert runtime.names.units[code] == before["name"]


async def test_an_inactive_unit_gets_no_new_routing_and_cannot_be_dispatched_to(api, runtime, settings):
    from hotline.infra.runtime import Runtime

    code = "city-highway"  # category highway, any territory, goes to this unit by name
    before = await _unit(runtime, code)
    assert routing.router(runtime).resolve("highway", "320612").unit == code
    other = await Runtime.start(settings)
    try:
        r = await api.request("admin", "PATCH", f"{PATH}/{code}", json={"active": False})
        assert r.status_code == 200 and r.json()["active"] is False
        t = await api.create("agent", category="highway")
        assert t["status"] == "pending_dispatch" and t["unit"] is None
        explained = (await api.get("dispatcher", f"/api/tickets/{t['number']}/routing")).json()
        assert explained["unit"] is None and "inactive" in explained["reason"] and code in explained["reason"]
        r = await api.post("dispatcher", f"/api/tickets/{t['number']}/dispatch", json={"unit": code})
        assert r.status_code == 422 and "unit" in r.json()["fields"], r.text
        trial = (await api.get("admin", "/api/admin/routing-test", params={"category": "highway"})).json()
        assert trial["unit"] is None and "inactive" in trial["reason"]
        assert await _until(lambda: routing.router(other).resolve("highway", "320612").unit is None)
        assert code not in other.names.active_units and other.names.units[code] == before["name"]
        # Still listed for the administrator, as inactive.
        listed = {u["code"]: u for u in (await api.get("admin", PATH)).json()["items"]}
        assert listed[code]["active"] is False
        # Active again: routed again, everywhere.
        r = await api.request("admin", "PATCH", f"{PATH}/{code}", json={"active": True})
        assert r.status_code == 200
        assert (await api.create("agent", category="highway"))["unit"] == code
        assert await _until(lambda: routing.router(other).resolve("highway", "320612").unit == code)
        t = await api.act("dispatcher", t["number"], "dispatch", unit=code)
        assert t["unit"] == code
    finally:
        await _restore(api, before)
        await other.close()


async def test_a_ticket_held_by_a_deactivated_unit_still_shows_the_unit_name(api, runtime, settings):
    from hotline.infra.runtime import Runtime

    code = "city-highway"
    before = await _unit(runtime, code)
    t = await api.create("agent", category="highway")
    assert t["unit"] == code
    r = await api.request("admin", "PATCH", f"{PATH}/{code}", json={"active": False})
    assert r.status_code == 200, r.text
    fresh = await Runtime.start(settings)  # a process started after the change loads the names the same way
    try:
        assert fresh.names.units[code] == before["name"] and code not in fresh.names.active_units
        assert routing.router(fresh).resolve("highway", "320612").unit is None
        detail = (await api.get("agent", f"/api/tickets/{t['number']}")).json()
        assert detail["unit"] == code and detail["unit_name"] == before["name"]
        listed = (await api.get("dispatcher", "/api/tickets", params={"unit": code})).json()["items"]
        assert any(i["number"] == t["number"] and i["unit_name"] == before["name"] for i in listed)
        page = await api.get("agent", f"/tickets/{t['number']}", headers={"Accept": "text/html"})
        assert page.status_code == 200 and before["name"] in page.text, page.text[:300]
        # Named, but still not a unit to route to, dispatch to or give an account.
        r = await api.post("dispatcher", f"/api/tickets/{t['number']}/dispatch", json={"unit": code})
        assert r.status_code == 422 and "unit" in r.json()["fields"]
        body = {"username": "h-deactivated", "role": "handler", "display_name": "测试", "unit": code}
        r = await api.post("admin", "/api/admin/accounts", json=body)
        assert r.status_code == 422 and "unit" in r.json()["fields"]
        # Its own handler keeps it: the account can still be renamed (and deactivated), not moved to it anew.
        handler = f"/api/admin/accounts/handler-{code}"
        shown = next(a for a in (await api.get("admin", "/api/admin/accounts")).json()["items"]
                     if a["username"] == f"handler-{code}")  # fmt: skip
        r = await api.request("admin", "PATCH", handler, json={"display_name": "高速处承办员（改）"})
        assert r.status_code == 200 and r.json()["unit"] == code, r.text
        r = await api.request("admin", "PATCH", handler, json={"display_name": shown["display_name"]})
        assert r.status_code == 200
        r = await api.request("admin", "PATCH", "/api/admin/accounts/handler-city-bus", json={"unit": code})
        assert r.status_code == 422 and "unit" in r.json()["fields"]
    finally:
        await _restore(api, before)
        await fresh.close()


async def test_units_are_for_administrators_only(api):
    assert (await api.get("manager", PATH)).status_code == 403
    r = await api.request("manager", "PATCH", f"{PATH}/320612-bureau", json={"name": "x"})
    assert r.status_code == 403
    r = await api.request("dispatcher", "PATCH", f"{PATH}/320612-bureau", json={"active": False})
    assert r.status_code == 403
    assert (await api.get(None, PATH)).status_code == 401


async def test_bad_unit_changes_are_refused_naming_the_field(api, runtime):
    code = "320612-bureau"
    before = await _unit(runtime, code)
    for body, field in [
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"contact_phone": "call me"}, "contact_phone"),
        ({"contact_person": "y" * 51}, "contact_person"),
        ({"active": "yes"}, "active"),
        ({"name": "a\x00b"}, "name"),
    ]:
        r = await api.request("admin", "PATCH", f"{PATH}/{code}", json=body)
        assert r.status_code == 422, (body, r.status_code, r.text)
        assert field in r.json()["fields"], (body, r.text)
    r = await api.request("admin", "PATCH", f"{PATH}/{code}", json={"colour": "red"})
    assert r.status_code in (400, 422)
    r = await api.request("admin", "PATCH", f"{PATH}/no-such-unit", json={"name": "x"})
    assert r.status_code == 404
    assert await _unit(runtime, code) == before

"""The administrator's territories (issue 22): display names changed through the API (the GB/T 2260 codes are a
contract and stay), stored in PostgreSQL, each change an admin event with its actor and before/after, known at once
to every process; bad input refused naming the field, nothing written."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

PATH = "/api/admin/territories"
CODE = "320612"


async def _until(check: Callable[[], bool], seconds: float = 5.0) -> bool:
    for _ in range(int(seconds / 0.05)):
        if check():
            return True
        await asyncio.sleep(0.05)
    return check()


async def _row(runtime: Any, code: str) -> dict[str, Any]:
    return dict(await runtime.pool.fetchrow("SELECT code, name, parent FROM territories WHERE code = $1", code))


async def test_territories_are_listed_city_first_with_parent_and_units(api, runtime):
    r = await api.get("admin", PATH)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert len(items) == await runtime.pool.fetchval("SELECT count(*) FROM territories")
    assert items[0]["code"] == "320600" and items[0]["parent"] is None and items[0]["parent_name"] is None
    tongzhou = next(i for i in items if i["code"] == CODE)
    assert tongzhou == {
        "code": CODE,
        "name": runtime.names.territories[CODE],
        "parent": "320600",
        "parent_name": runtime.names.territories["320600"],
        "units": await runtime.pool.fetchval("SELECT count(*) FROM units WHERE territory = $1", CODE),
    }
    assert tongzhou["units"] >= 1  # its local bureau


async def test_a_renamed_territory_shows_its_new_name_in_every_process(api, runtime, settings):
    from hotline.infra.runtime import Runtime

    before = await _row(runtime, CODE)
    other = await Runtime.start(settings)  # a second API process, started before the change
    new_name = "通州区（测试）"
    try:
        r = await api.request("admin", "PATCH", f"{PATH}/{CODE}", json={"name": f" {new_name}  "})
        assert r.status_code == 200, r.text
        assert r.json()["name"] == new_name and r.json()["code"] == CODE and r.json()["parent"] == "320600"
        assert await _row(runtime, CODE) == {**before, "name": new_name}
        event = await runtime.pool.fetchrow(
            """SELECT u.username AS actor, e.before, e.after FROM admin_events e JOIN users u ON u.id = e.actor
               WHERE e.what = 'territory.change' AND e.subject = $1 ORDER BY e.id DESC LIMIT 1""",
            CODE,
        )
        assert event["actor"] == "admin"
        assert event["before"] == before and event["after"] == {**before, "name": new_name}
        events = (await api.get("admin", "/api/admin/events", params={"what": "territory.", "subject": CODE})).json()
        assert events["items"][0]["after"]["name"] == new_name
        # This process at once, the other within moments: intake's choices, units, rules and the trial name it.
        assert runtime.names.territories[CODE] == new_name
        assert await _until(lambda: other.names.territories.get(CODE) == new_name)
        units = (await api.get("admin", "/api/admin/units")).json()["items"]
        assert next(u for u in units if u["code"] == f"{CODE}-bureau")["territory_name"] == new_name
        reference = (await api.get("agent", "/api/reference")).json()
        assert any(t.get("code") == CODE and t.get("name") == new_name for t in reference["territories"]), reference
        # The same name again is no change: no second event.
        count = await runtime.pool.fetchval("SELECT count(*) FROM admin_events WHERE what = 'territory.change'")
        assert (await api.request("admin", "PATCH", f"{PATH}/{CODE}", json={"name": new_name})).status_code == 200
        assert await runtime.pool.fetchval("SELECT count(*) FROM admin_events WHERE what = 'territory.change'") == count
    finally:
        r = await api.request("admin", "PATCH", f"{PATH}/{CODE}", json={"name": before["name"]})
        assert r.status_code == 200, r.text
        await other.close()
    assert runtime.names.territories[CODE] == before["name"]


async def test_territories_are_for_administrators_only(api):
    assert (await api.get("manager", PATH)).status_code == 403
    assert (await api.request("dispatcher", "PATCH", f"{PATH}/{CODE}", json={"name": "x"})).status_code == 403
    assert (
        await api.request("handler-320612-bureau", "PATCH", f"{PATH}/{CODE}", json={"name": "x"})
    ).status_code == 403
    assert (await api.get(None, PATH)).status_code == 401


async def test_bad_territory_changes_are_refused_naming_the_field(api, runtime):
    before = await _row(runtime, CODE)
    events = await runtime.pool.fetchval("SELECT count(*) FROM admin_events WHERE what = 'territory.change'")
    for body, field in [
        ({"name": "   "}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"name": 5}, "name"),
        ({}, "name"),
    ]:
        r = await api.request("admin", "PATCH", f"{PATH}/{CODE}", json=body)
        assert r.status_code == 422, (body, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in r.json()["fields"], (body, r.text)
    # The code is not editable: a body naming it is refused, naming it.
    r = await api.request("admin", "PATCH", f"{PATH}/{CODE}", json={"name": "x", "code": "320699"})
    assert r.status_code in (400, 422) and "code" in r.text, r.text
    r = await api.request("admin", "PATCH", f"{PATH}/999999", json={"name": "x"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert await _row(runtime, CODE) == before
    assert await runtime.pool.fetchval("SELECT count(*) FROM admin_events WHERE what = 'territory.change'") == events

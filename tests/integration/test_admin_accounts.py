"""The administrator's accounts API: list and search, create (with a one-time password changed at first sign-in),
change, reset password, unlock after throttling; each change an admin event with its actor and before/after.
Routing rules in the router's order and a trial of the live router."""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

import httpx

from hotline.tickets import routing
from tests.conftest import PASSWORD

PATH = "/api/admin/accounts"


def _name() -> str:
    return f"adm-{uuid.uuid4().hex[:10]}"


async def _events(runtime: Any, subject: str) -> list[dict[str, Any]]:
    rows = await runtime.pool.fetch(
        """SELECT u.username AS actor, e.what, e.before, e.after FROM admin_events e JOIN users u ON u.id = e.actor
           WHERE e.subject = $1 ORDER BY e.id""",
        subject,
    )
    return [
        {
            "actor": r["actor"],
            "what": r["what"],
            "before": r["before"] if r["before"] else None,
            "after": r["after"] if r["after"] else None,
        }
        for r in rows
    ]


async def test_an_admin_creates_a_handler_who_changes_the_one_time_password_then_signs_in(api, client, runtime):
    username = _name()
    r = await api.post(
        "admin",
        PATH,
        json={"username": username, "role": "handler", "unit": "320612-bureau", "display_name": "通州承办员"},
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["unit"] == "320612-bureau" and created["active"] and created["must_change_password"]
    one_time = created["password"]
    assert len(one_time) == 12
    # The one-time password opens no session: it must be changed first.
    r = await client.post("/api/auth/token", json={"username": username, "password": one_time})
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert "password" in r.json()["fields"]
    r = await client.post(
        "/api/auth/password", json={"username": username, "password": one_time, "new_password": "short"}
    )
    assert r.status_code == 422 and "new_password" in r.json()["fields"]
    r = await client.post(
        "/api/auth/password",
        json={"username": username, "password": "not-it-at-all", "new_password": "a-long-new-password"},
    )
    assert r.status_code == 401
    r = await client.post(
        "/api/auth/password", json={"username": username, "password": one_time, "new_password": "a-long-new-password"}
    )
    assert r.status_code == 200, r.text
    r = await client.post("/api/auth/token", json={"username": username, "password": "a-long-new-password"})
    assert r.status_code == 200 and r.json()["unit"] == "320612-bureau" and r.json()["role"] == "handler"
    assert (await client.post("/api/auth/token", json={"username": username, "password": one_time})).status_code == 401
    # Listed, found by a part of the display name, and the creation is on record with its actor; no password in it.
    r = await api.get("admin", PATH, params={"q": "通州承办"})
    found = [a for a in r.json()["items"] if a["username"] == username]
    assert found and found[0]["must_change_password"] is False and found[0]["locked_seconds"] == 0
    events = await _events(runtime, username)
    assert [(e["actor"], e["what"], e["before"]) for e in events] == [("admin", "account.create", None)]
    assert events[0]["after"] == {
        "username": username,
        "role": "handler",
        "unit": "320612-bureau",
        "channel": None,
        "display_name": "通州承办员",
        "active": True,
    }
    assert one_time not in json.dumps(events) and "argon" not in json.dumps(events)


async def test_an_account_created_with_a_password_signs_in_with_it(api, client):
    username = _name()
    r = await api.post(
        "admin",
        PATH,
        json={"username": username, "role": "agent", "display_name": "坐席甲", "password": "chosen-by-admin"},
    )
    assert r.status_code == 201 and "password" not in r.json() and not r.json()["must_change_password"]
    r = await client.post("/api/auth/token", json={"username": username, "password": "chosen-by-admin"})
    assert r.status_code == 200 and r.json()["role"] == "agent"


async def test_bad_new_accounts_name_the_field_and_only_an_admin_manages_accounts(api, runtime):
    taken = _name()
    assert (
        await api.post("admin", PATH, json={"username": taken, "role": "agent", "display_name": "甲"})
    ).status_code == 201
    cases = [
        ({"username": taken, "role": "agent", "display_name": "乙"}, 409, "username"),
        ({"username": "Bad Name!", "role": "agent", "display_name": "乙"}, 422, "username"),
        ({"username": _name(), "role": "boss", "display_name": "乙"}, 422, "role"),
        ({"username": _name(), "role": "handler", "display_name": "乙"}, 422, "unit"),
        ({"username": _name(), "role": "handler", "unit": "nowhere", "display_name": "乙"}, 422, "unit"),
        ({"username": _name(), "role": "agent", "unit": "320612-bureau", "display_name": "乙"}, 422, "unit"),
        ({"username": _name(), "role": "integration", "display_name": "乙"}, 422, "channel"),
        ({"username": _name(), "role": "agent", "display_name": ""}, 422, "display_name"),
        ({"username": "public-web", "role": "agent", "display_name": "乙"}, 422, "username"),
        ({"username": _name(), "role": "agent", "display_name": "乙", "password": "short"}, 422, "password"),
    ]
    for body, status, field in cases:
        r = await api.post("admin", PATH, json=body)
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in json.dumps(r.json().get("fields") or r.json()["detail"]), (body, r.text)
    for who in ("manager", "dispatcher", "agent"):
        assert (await api.get(who, PATH)).status_code == 403
        assert (
            await api.post(who, PATH, json={"username": _name(), "role": "agent", "display_name": "丙"})
        ).status_code == 403
        assert (await api.post(who, f"{PATH}/{taken}/reset-password")).status_code == 403
        assert (await api.post(who, f"{PATH}/{taken}/unlock")).status_code == 403
    r = await api.get("admin", PATH, params={"role": "boss"})
    assert r.status_code == 422 and "role" in r.json()["fields"]
    assert await runtime.pool.fetchval("SELECT count(*) FROM users WHERE display_name IN ('乙', '丙')") == 0


async def test_a_change_is_recorded_with_before_and_after_and_an_admin_cannot_lock_themself_out(api, runtime):
    username = _name()
    await api.post("admin", PATH, json={"username": username, "role": "agent", "display_name": "旧名"})
    r = await api.request(
        "admin",
        "PATCH",
        f"{PATH}/{username}",
        json={"role": "handler", "unit": "320614-bureau", "display_name": "新名"},
    )
    assert r.status_code == 200, r.text
    r = await api.request("admin", "PATCH", f"{PATH}/{username}", json={"display_name": "新名"})  # no change
    r = await api.request("admin", "PATCH", f"{PATH}/{username}", json={"active": False})
    changes = [e for e in await _events(runtime, username) if e["what"] == "account.change"]
    assert [
        (e["before"]["role"], e["after"]["role"], e["after"]["unit"], e["after"]["display_name"], e["after"]["active"])
        for e in changes
    ] == [("agent", "handler", "320614-bureau", "新名", True), ("handler", "handler", "320614-bureau", "新名", False)]
    assert all(e["actor"] == "admin" for e in changes)
    r = await api.get("admin", PATH, params={"q": username, "active": "false"})
    assert [a["username"] for a in r.json()["items"]] == [username]
    r = await api.request("admin", "PATCH", f"{PATH}/admin", json={"active": False})
    assert r.status_code == 422 and "active" in r.json()["fields"]
    r = await api.request("admin", "PATCH", f"{PATH}/admin", json={"role": "manager"})
    assert r.status_code == 422 and "role" in r.json()["fields"]
    assert await runtime.pool.fetchval("SELECT active FROM users WHERE username = 'admin'") is True
    r = await api.get("admin", "/api/admin/events", params={"subject": username})
    assert [e["what"] for e in r.json()["items"]] == ["account.change", "account.change", "account.create"]


async def test_a_password_reset_gives_a_one_time_password_and_the_old_one_stops_working(api, client, runtime):
    username = _name()
    await api.post(
        "admin", PATH, json={"username": username, "role": "agent", "display_name": "甲", "password": PASSWORD}
    )
    assert (await client.post("/api/auth/token", json={"username": username, "password": PASSWORD})).status_code == 200
    r = await api.post("admin", f"{PATH}/{username}/reset-password")
    assert r.status_code == 200 and r.json()["must_change_password"] is True
    one_time = r.json()["password"]
    assert (await client.post("/api/auth/token", json={"username": username, "password": PASSWORD})).status_code == 401
    assert (await client.post("/api/auth/token", json={"username": username, "password": one_time})).status_code == 403
    r = await client.post(
        "/api/auth/password", json={"username": username, "password": one_time, "new_password": "my-own-password-2"}
    )
    assert r.status_code == 200
    events = await _events(runtime, username)
    assert events[-1]["what"] == "account.reset_password" and events[-1]["after"] == {"must_change_password": True}
    assert one_time not in json.dumps(events)
    assert (await api.post("admin", f"{PATH}/nobody-{uuid.uuid4().hex[:6]}/reset-password")).status_code == 404


async def test_an_unlock_lets_a_throttled_account_sign_in_at_once(api, client, runtime, settings):
    username = _name()
    await api.post(
        "admin", PATH, json={"username": username, "role": "agent", "display_name": "甲", "password": PASSWORD}
    )
    address = f"198.18.{random.randrange(256)}.{random.randrange(1, 255)}"
    transport = httpx.ASGITransport(app=client.app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        for _ in range(settings.signin_free_failures + 1):
            await c.post("/api/auth/token", json={"username": username, "password": "wrong-password"})
        r = await c.post("/api/auth/token", json={"username": username, "password": PASSWORD})
        assert r.status_code == 429, r.text
        listed = (await api.get("admin", PATH, params={"q": username})).json()["items"]
        assert listed[0]["locked_seconds"] > 0
        r = await api.post("admin", f"{PATH}/{username}/unlock")
        assert r.status_code == 200 and r.json()["locked_seconds"] == 0
        r = await c.post("/api/auth/token", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
    events = await _events(runtime, username)
    assert events[-1]["what"] == "account.unlock" and events[-1]["before"]["locked_seconds"] > 0


async def test_routing_rules_in_the_routers_order_and_the_trial_uses_the_live_router(api, runtime):
    r = await api.get("admin", "/api/admin/routing-rules")
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["order"] for i in items] == list(range(1, len(items) + 1))
    assert len(items) == await runtime.pool.fetchval("SELECT count(*) FROM routing_rules")
    for category in {i["category"] for i in items}:
        mine = [i["territory"] for i in items if i["category"] == category]
        assert "*" not in mine or mine[-1] == "*"  # a territory's own rule is tried before the "any" one
    r = await api.get("admin", "/api/admin/routing-test", params={"category": "taxi", "territory": "320612"})
    decision = routing.router(runtime).resolve("taxi", "320612")
    assert r.json()["unit"] == decision.unit == "320612-bureau"
    assert r.json()["rule"]["id"] == decision.rule_id and r.json()["unit_name"]
    r = await api.get("admin", "/api/admin/routing-test", params={"category": "no-such", "territory": "320612"})
    assert r.status_code == 422 and "category" in r.json()["fields"]
    assert (await api.get("manager", "/api/admin/routing-rules")).status_code == 403
    assert (await api.get("dispatcher", "/api/admin/routing-test", params={"category": "taxi"})).status_code == 403

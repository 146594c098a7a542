"""Accounts, tokens, roles, and a handler's view limited to its own unit."""

from __future__ import annotations

from tests.conftest import PASSWORD


async def test_token_contract(client):
    r = await client.post("/api/auth/token", json={"username": "agent", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["role"] == "agent" and body["access_token"]


async def test_wrong_password_and_unknown_user_get_the_same_401(client):
    r1 = await client.post("/api/auth/token", json={"username": "agent", "password": "nope"})
    r2 = await client.post("/api/auth/token", json={"username": "ghost", "password": "nope"})
    assert r1.status_code == r2.status_code == 401
    assert r1.json()["detail"] == r2.json()["detail"]
    assert r1.headers["content-type"].startswith("application/problem+json")


async def test_passwords_are_hashed(runtime):
    # "!" marks an account that cannot sign in at all (the public web form's, made on first use)
    rows = await runtime.pool.fetch("SELECT password_hash FROM users WHERE password_hash <> '!'")
    assert rows and all(r["password_hash"].startswith("$argon2") for r in rows)
    assert all(PASSWORD not in r["password_hash"] for r in rows)


async def test_every_api_route_requires_a_token(client):
    for path in ("/api/tickets", "/api/tickets/96196-20260101-000001", "/api/auth/me"):
        r = await client.get(path)
        assert r.status_code == 401, path
    r = await client.get("/api/tickets", headers={"Authorization": "Bearer forged.token.value"})
    assert r.status_code == 401
    r = await client.get("/api/tickets", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401
    # Intake too, and before its body is looked at: a stranger learns nothing of the fields it expects.
    for headers in ({}, {"Authorization": "Bearer forged.token.value"}):
        for body in ({"channel": "96196"}, {"title": 1}):
            r = await client.post("/api/tickets", json=body, headers=headers)
            assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json"), r.text


async def test_signed_out_token_is_refused(client):
    r = await client.post("/api/auth/token", json={"username": "manager", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert (await client.get("/api/auth/me", headers=headers)).status_code == 200
    assert (await client.post("/api/auth/logout", headers=headers)).status_code == 200
    assert (await client.get("/api/auth/me", headers=headers)).status_code == 401


async def test_handler_sees_only_its_units_tickets(api):
    own = await api.create("agent", territory="320612", category="road")
    other = await api.create("agent", territory="320614", category="road")
    assert own["unit"] == "320612-bureau" and other["unit"] == "320614-bureau"
    h = "handler-320612-bureau"
    r = await api.get(h, f"/api/tickets/{own['number']}")
    assert r.status_code == 200
    assert r.json()["caller"]["phone"] == "138****5678"  # handlers do not call back: masked
    r = await api.get(h, f"/api/tickets/{other['number']}")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert (await api.get(h, f"/api/tickets/{other['number']}/routing")).status_code == 404
    listed = (await api.get(h, "/api/tickets", params={"limit": 200})).json()["items"]
    assert own["number"] in {t["number"] for t in listed}
    assert all(t["unit"] == "320612-bureau" for t in listed)
    # Asking for another unit explicitly yields nothing, not their tickets.
    listed = (await api.get(h, "/api/tickets", params={"unit": "320614-bureau"})).json()["items"]
    assert listed == []


async def test_a_hash_made_with_older_parameters_is_replaced_at_the_next_sign_in(client, runtime):
    from argon2 import PasswordHasher

    from hotline.auth.tokens import needs_rehash

    old = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4).hash(PASSWORD)  # the former default
    assert needs_rehash(old)
    await runtime.pool.execute("UPDATE users SET password_hash = $1 WHERE username = 'integration-12319'", old)
    r = await client.post("/api/auth/token", json={"username": "integration-12319", "password": PASSWORD})
    assert r.status_code == 200, r.text
    stored = await runtime.pool.fetchval("SELECT password_hash FROM users WHERE username = 'integration-12319'")
    assert stored != old and not needs_rehash(stored) and "m=19456,t=2,p=1" in stored
    r = await client.post("/api/auth/token", json={"username": "integration-12319", "password": PASSWORD})
    assert r.status_code == 200

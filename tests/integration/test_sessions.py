"""A session is its token and its account: a validly signed token is refused once its account is gone, inactive or
changed, at once in every API process; a sign-out is durable in PostgreSQL, whatever becomes of Redis."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from hotline.auth import revocation
from hotline.auth.tokens import Principal, hash_password, issue_token
from tests.conftest import PASSWORD
from tests.scratch import free_port, start_redis, stop_redis


@asynccontextmanager
async def api_process(settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Another API process: its own app and runtime (pools, memory) on the same database and Redis."""
    from hotline.infra.runtime import Runtime
    from hotline.web.app import create_app

    app = create_app(settings)
    runtime = await Runtime.start(settings)
    app.state.runtime, app.state.settings, app.state.redis = runtime, settings, runtime.redis
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            c.runtime = runtime  # type: ignore[attr-defined]
            yield c
    finally:
        await runtime.close()


async def new_account(runtime: Any, role: str = "agent", unit: str | None = None) -> str:
    username = f"staff-{uuid.uuid4().hex[:10]}"
    await runtime.pool.execute(
        "INSERT INTO users (username, password_hash, role, unit, display_name) VALUES ($1, $2, $3, $4, '测试')",
        username,
        hash_password(PASSWORD),
        role,
        unit,
    )
    return username


async def bearer(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def until_status(client: httpx.AsyncClient, headers: dict[str, str], status: int, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while True:
        got = (await client.get("/api/auth/me", headers=headers)).status_code
        if got == status or time.monotonic() > deadline:
            return got
        await asyncio.sleep(0.05)


async def test_a_token_signed_with_the_key_for_an_account_that_does_not_exist_is_refused(client, settings):
    ghost = Principal(987_654_321, "ghost", "admin", "幽灵")
    token, _ = issue_token(ghost, settings.secret_key, 3600)
    r = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    assert (
        await client.get("/api/admin/sla-policies", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 401


async def test_a_token_claiming_more_than_its_account_has_is_refused(client, runtime, settings):
    username = await new_account(runtime, "agent")
    uid = await runtime.pool.fetchval("SELECT id FROM users WHERE username = $1", username)
    token, _ = issue_token(Principal(uid, username, "admin", "测试"), settings.secret_key, 3600)
    r = await client.get("/api/admin/sla-policies", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401, r.text


async def test_deactivating_an_account_ends_its_sessions_at_once_in_every_process(client, api, settings, runtime):
    username = await new_account(runtime)
    headers = await bearer(client, username)
    async with api_process(settings) as other:
        assert (await other.get("/api/auth/me", headers=headers)).status_code == 200  # cached there now
        assert (await client.get("/api/auth/me", headers=headers)).status_code == 200
        r = await api.request("admin", "PATCH", f"/api/admin/accounts/{username}", json={"active": False})
        assert r.status_code == 200 and r.json()["active"] is False, r.text
        r = await client.get("/api/auth/me", headers=headers)
        assert r.status_code == 401 and "not active" in r.json()["detail"]
        # The other process heard of it over pub/sub: long before its cache entry would have aged out.
        assert revocation.of(other.runtime).account_ttl >= 30
        assert await until_status(other, headers, 401, 3.0) == 401
    r = await client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 401


async def test_a_moved_or_demoted_account_must_sign_in_again(client, api, runtime):
    username = await new_account(runtime, "handler", unit="320612-bureau")
    headers = await bearer(client, username)
    assert (await client.get("/api/auth/me", headers=headers)).json()["unit"] == "320612-bureau"
    r = await api.request("admin", "PATCH", f"/api/admin/accounts/{username}", json={"unit": "320614-bureau"})
    assert r.status_code == 200, r.text
    r = await client.get("/api/tickets", headers=headers)
    assert r.status_code == 401 and "sign in again" in r.json()["detail"]
    again = await bearer(client, username)
    assert (await client.get("/api/auth/me", headers=again)).json()["unit"] == "320614-bureau"


async def test_an_account_changed_behind_the_services_back_is_caught_when_its_cache_entry_ages(client, runtime):
    username = await new_account(runtime)
    headers = await bearer(client, username)
    assert (await client.get("/api/auth/me", headers=headers)).status_code == 200
    await runtime.pool.execute("UPDATE users SET role = 'manager' WHERE username = $1", username)
    assert (await client.get("/api/auth/me", headers=headers)).status_code == 200  # cached, no news published
    ttl = revocation.of(runtime).account_ttl
    revocation.of(runtime).account_ttl = 0.3
    try:
        assert await until_status(client, headers, 401, 3.0) == 401
    finally:
        revocation.of(runtime).account_ttl = ttl


async def test_only_an_admin_changes_accounts_and_a_bad_change_names_the_field(api, runtime):
    username = await new_account(runtime)
    path = f"/api/admin/accounts/{username}"
    assert (await api.request("manager", "PATCH", path, json={"active": False})).status_code == 403
    r = await api.request("admin", "PATCH", path, json={"role": "handler"})
    assert r.status_code == 422 and "unit" in r.json()["fields"]
    r = await api.request("admin", "PATCH", path, json={"role": "handler", "unit": "no-such-unit"})
    assert r.status_code == 422 and "unit" in r.json()["fields"]
    r = await api.request("admin", "PATCH", path, json={"role": "boss"})
    assert r.status_code == 422 and "role" in r.json()["fields"]
    assert (await api.request("admin", "PATCH", "/api/admin/accounts/nobody-here", json={})).status_code == 404
    assert await runtime.pool.fetchval("SELECT role FROM users WHERE username = $1", username) == "agent"


async def test_a_sign_out_holds_after_redis_loses_its_data_and_the_api_restarts(settings, database, tmp_path):
    port = free_port()
    redis_proc = start_redis(port, tmp_path)
    mine = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{port}/0")
    try:
        async with api_process(mine) as before:
            headers = await bearer(before, "dispatcher")
            assert (await before.post("/api/auth/logout", headers=headers)).status_code == 200
        stop_redis(redis_proc)
        redis_proc = start_redis(port, tmp_path)  # empty: Redis kept nothing
        async with api_process(mine) as after:  # a fresh process: nothing in memory either
            assert (await after.get("/api/auth/me", headers=headers)).status_code == 401
            assert await until_status(after, headers, 401, 1.0) == 401  # and once it follows Redis again
    finally:
        stop_redis(redis_proc)


async def test_sign_out_while_redis_is_down_answers_200_and_reaches_the_other_processes(settings, database, tmp_path):

    port = free_port()
    redis_proc = start_redis(port, tmp_path)
    mine = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{port}/0")
    try:
        async with api_process(mine) as a, api_process(mine) as b:
            headers = await bearer(a, "manager")
            assert (await b.get("/api/auth/me", headers=headers)).status_code == 200
            stop_redis(redis_proc)
            out = await a.post("/api/auth/logout", headers=headers)
            assert out.status_code == 200, out.text
            assert (await a.get("/api/auth/me", headers=headers)).status_code == 401
            assert await until_status(b, headers, 401, 3 * revocation.POLL_SECONDS) == 401
    finally:
        stop_redis(redis_proc)

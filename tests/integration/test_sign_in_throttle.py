"""Sign-in throttling: wrong passwords cost a wait, per account and per client address, answered 429 with
Retry-After; a try made while waiting is not even checked; each attempt is logged, never with its password."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import uuid
from typing import Any

import httpx

from tests.conftest import PASSWORD
from tests.integration.test_sessions import api_process, new_account
from tests.scratch import free_port, start_redis, stop_redis


def _address() -> str:
    # A client of its own per test run (198.18.0.0/15, the benchmarking range): counts in Redis outlive a run.
    return f"198.18.{random.randrange(256)}.{random.randrange(1, 255)}"


def _from(app: Any, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://t")


async def _try(c: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await c.post("/api/auth/token", json={"username": username, "password": password})


async def test_wrong_passwords_for_an_account_make_it_wait_twice_as_long_each_time(client, runtime, settings, caplog):
    username = await new_account(runtime)
    secret_guess = f"guess-{uuid.uuid4().hex}"
    free = settings.signin_free_failures
    with caplog.at_level(logging.INFO):
        async with _from(client.app, _address()) as c:
            codes = [(await _try(c, username, secret_guess)).status_code for _ in range(free)]
            assert codes == [401] * free
            refused = await _try(c, username, PASSWORD)  # even the right password: not checked while waiting
            assert refused.status_code == 429 and refused.headers["retry-after"] == "1", refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
            await asyncio.sleep(1.1)
            assert (await _try(c, username, secret_guess)).status_code == 401  # the 6th failure: 2 s now
            r = await _try(c, username, PASSWORD)
            assert r.status_code == 429 and r.headers["retry-after"] == "2"
            await asyncio.sleep(2.1)
            assert (await _try(c, username, PASSWORD)).status_code == 200
            assert (await _try(c, username, secret_guess)).status_code == 401  # a success starts the count afresh
            assert (await _try(c, username, PASSWORD)).status_code == 200
    # Another address gets the same account's wait: guessing from many addresses is no way round it.
    for _ in range(free):
        await _try(client, username, secret_guess)
    async with _from(client.app, _address()) as elsewhere:
        assert (await _try(elsewhere, username, PASSWORD)).status_code == 429
    events = [r.msg for r in caplog.records if isinstance(r.msg, dict)]
    assert [e["username"] for e in events if e.get("event") == "sign_in_failed"].count(username) >= free + 2
    assert any(e.get("event") == "sign_in_throttled" and e["username"] == username for e in events)
    assert any(e.get("event") == "sign_in" and e["username"] == username for e in events)
    assert all(secret_guess not in str(e) and PASSWORD not in str(e) for e in events)


async def test_one_address_guessing_many_accounts_is_made_to_wait(client, settings):
    address = _address()
    async with _from(client.app, address) as c:
        names = [f"nobody-{uuid.uuid4().hex[:8]}" for _ in range(settings.signin_client_free_failures)]
        codes = [(await _try(c, name, "x")).status_code for name in names]
        assert codes == [401] * len(names)  # each account failed once only: the address's count did it
        r = await _try(c, "agent", PASSWORD)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    async with _from(client.app, _address()) as other:
        assert (await _try(other, "agent", PASSWORD)).status_code == 200


async def test_the_console_sign_in_is_throttled_too(client, runtime, settings):
    username = await new_account(runtime)
    async with _from(client.app, _address()) as c:
        for _ in range(settings.signin_free_failures):
            r = await c.post("/console/login", data={"username": username, "password": "wrong"})
            assert r.status_code == 401
        r = await c.post("/console/login", data={"username": username, "password": PASSWORD})
        assert r.status_code == 429 and r.headers["retry-after"] == "1" and "秒后再试" in r.text


async def test_without_redis_each_process_throttles_by_itself(settings, database, tmp_path):
    port = free_port()
    redis_proc = start_redis(port, tmp_path)
    mine = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{port}/0")
    try:
        async with api_process(mine) as c:
            username = await new_account(c.runtime)
            stop_redis(redis_proc)
            codes = [(await _try(c, username, "wrong")).status_code for _ in range(settings.signin_free_failures)]
            assert codes == [401] * settings.signin_free_failures
            r = await _try(c, username, PASSWORD)
            assert r.status_code == 429 and r.headers["retry-after"] == "1"
            await asyncio.sleep(1.1)
            assert (await _try(c, username, PASSWORD)).status_code == 200
    finally:
        stop_redis(redis_proc)

"""Limits on the API: per signed-in account (shared by every process), no phone search for roles that may not
see the number, and the citizen side's limit keyed on the real client (X-Forwarded-For believed only from
HOTLINE_TRUSTED_PROXIES), every 429 with Retry-After."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import httpx

from hotline.web import ratelimit
from tests.integration.test_sessions import api_process, bearer, new_account
from tests.scratch import free_port


def _clear_of_a_minute_edge() -> None:
    """Limits count in fixed minutes: a test's few requests must fall in one."""
    if 60 - time.time() % 60 < 5:
        time.sleep(60 - time.time() % 60 + 0.1)


async def test_a_handler_may_not_search_by_phone_number(api):
    made = await api.create("agent", territory="320612", category="road")
    h = "handler-320612-bureau"
    r = await api.get(h, "/api/tickets", params={"phone": "13812345678"})
    assert r.status_code == 403 and "phone" in r.json()["fields"], r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    listed = (await api.get("agent", "/api/tickets", params={"phone": "13812345678", "limit": 200})).json()["items"]
    assert made["number"] in {t["number"] for t in listed}
    assert (await api.get(h, "/api/tickets")).status_code == 200


async def test_api_requests_are_limited_per_account_across_processes(settings, database):
    mine = dataclasses.replace(settings, api_rate_limit_per_minute=20)
    async with api_process(mine) as a, api_process(mine) as b:
        username = await new_account(a.runtime)
        headers = await bearer(a, username)
        _clear_of_a_minute_edge()
        for _ in range(15):
            assert (await a.get("/api/auth/me", headers=headers)).status_code == 200
        await ratelimit.limiter_of(a.runtime).flush()
        assert (await b.get("/api/auth/me", headers=headers)).status_code == 200
        await ratelimit.limiter_of(b.runtime).flush()  # b now knows of a's 15
        codes = [(await b.get("/api/auth/me", headers=headers)).status_code for _ in range(5)]
        assert codes == [200] * 4 + [429]
        refused = await b.get("/api/tickets", headers=headers)
        assert refused.status_code == 429 and 0 < int(refused.headers["retry-after"]) <= 60
        assert refused.headers["content-type"].startswith("application/problem+json")
        # Another account is not held back by the first one's limit.
        other = await bearer(b, await new_account(b.runtime))
        assert (await b.get("/api/auth/me", headers=other)).status_code == 200


async def test_forwarded_addresses_are_believed_from_trusted_proxies_only(settings, database):
    mine = dataclasses.replace(settings, public_rate_limit_per_minute=3, trusted_proxies=("10.99.0.0/16",))
    async with api_process(mine) as c:
        app = c._transport.app  # type: ignore[attr-defined]

        def peer(address: str) -> httpx.AsyncClient:
            return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 1)), base_url="http://t")

        suffix = f"{int(time.time() * 1000) % 250 + 1}"
        _clear_of_a_minute_edge()
        async with peer(f"198.19.7.{suffix}") as stranger:  # not a proxy: its header is ignored
            codes = [
                (
                    await stranger.get(
                        "/public/tickets/web-20260101-000001",
                        params={"phone_tail": "1234"},
                        headers={"X-Forwarded-For": f"203.0.113.{i}"},
                    )
                ).status_code
                for i in range(4)
            ]
        assert codes == [404, 404, 404, 429]
        async with peer("10.99.0.5") as proxy:
            # Through the proxy: the right-most address it did not add is the client; what the client wrote to the
            # left of it changes nothing.
            codes = [
                (
                    await proxy.get(
                        "/public/tickets/web-20260101-000001",
                        params={"phone_tail": "1234"},
                        headers={"X-Forwarded-For": f"1.2.3.{i}, 198.19.8.{suffix}"},
                    )
                ).status_code
                for i in range(4)
            ]
            assert codes == [404, 404, 404, 429]
            r = await proxy.get(
                "/public/tickets/web-20260101-000001",
                params={"phone_tail": "1234"},
                headers={"X-Forwarded-For": f"198.19.9.{suffix}"},
            )
            assert r.status_code == 404  # a different client behind the same proxy has its own count


def test_hotline_serve_does_not_believe_forwarded_addresses_from_an_untrusted_peer(settings, database):
    port = free_port()
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": settings.database_url,
        "HOTLINE_REDIS_URL": settings.redis_url,
        "HOTLINE_SECRET_KEY": settings.secret_key,
        "HOTLINE_LOG_LEVEL": "WARNING",
        "HOTLINE_PUBLIC_RATE_LIMIT": "3",
        "HOTLINE_DB_POOL_MIN": "1",
        "HOTLINE_DB_POOL_MAX": "2",
    }
    env.pop("HOTLINE_TRUSTED_PROXIES", None)
    env.pop("FORWARDED_ALLOW_IPS", None)
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("hotline")), "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "hotline serve did not start"
                time.sleep(0.2)
        _clear_of_a_minute_edge()
        codes = []
        for i in range(4):
            req = urllib.request.Request(
                f"{base}/public/tickets/web-20260101-000001?phone_tail=1234",
                headers={"X-Forwarded-For": f"203.0.113.{i + 1}"},
            )
            try:
                urllib.request.urlopen(req, timeout=5).close()
                codes.append(200)
            except urllib.error.HTTPError as exc:
                codes.append(exc.code)
                retry_after = exc.headers.get("Retry-After")
                exc.close()
        assert codes[-1] == 429, codes
        assert retry_after is not None and int(retry_after) > 0
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        assert proc.stderr is not None
        proc.stderr.close()


async def test_requests_taken_while_a_flush_is_under_way_still_count(runtime):
    import asyncio

    import pytest

    from hotline.errors import RateLimited
    from hotline.web.ratelimit import AccountLimiter

    _clear_of_a_minute_edge()
    limiter = AccountLimiter(runtime.redis, 10)
    account = 10**12 + int(time.time() * 1000) % 10**9  # no real account: its own counter in Redis
    for _ in range(10):
        limiter.hit(account)
    flushing = asyncio.create_task(limiter.flush())
    await asyncio.sleep(0)  # the flush has taken the counts and waits for Redis
    with pytest.raises(RateLimited):
        limiter.hit(account)
    await flushing
    with pytest.raises(RateLimited):
        limiter.hit(account)
    await limiter.close()

"""A real `hotline serve` on a freshly seeded database of its own, for the tests that drive the API over HTTP as an
integrator would: the OpenAPI conformance run (tests/integration/test_api_conformance.py) and the generated client
(tests/integration/test_generated_client.py). One web worker,
its own database (the admin's share of generated requests replaces SLA policies and changes accounts, which would
leak into the suite's shared one), rate limits out of the way (429 stays a documented answer)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from config.settings import Settings
from hotline.infra import db
from hotline.ops.seed import fresh_database
from tests.conftest import PASSWORD
from tests.polling import eventually
from tests.scratch import drop_roles, free_port

HOTLINE = str(Path(sys.executable).with_name("hotline"))


def _serve(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`hotline serve` in a session of its own (so the worker it forks is stopped with it); returns at once."""
    return subprocess.Popen(
        [HOTLINE, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


@asynccontextmanager
async def served_api(settings: Settings, prefix: str) -> AsyncIterator[str]:
    """The base URL of `hotline serve` on a free port against a seeded database named after the suite's (so a
    developer's runs stay within the databases of their own); everything is stopped and dropped afterwards."""
    database_url, redis_url = settings.database_url, settings.redis_url
    url = db.with_database(database_url, f"{db.database_name(database_url)}_{prefix}_{uuid.uuid4().hex[:8]}")
    await fresh_database(url, demo_password=PASSWORD)
    port = free_port()
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": url,
        "HOTLINE_REDIS_URL": redis_url,
        "HOTLINE_SECRET_KEY": settings.secret_key,
        "HOTLINE_LOG_LEVEL": "WARNING",
        "HOTLINE_WEB_WORKERS": "1",
        "HOTLINE_API_RATE_LIMIT": "100000000",
        "HOTLINE_PUBLIC_RATE_LIMIT": "100000000",
    }
    proc = _serve(port, env)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=1) as client:

            async def healthy() -> bool:
                assert proc.poll() is None, f"hotline serve exited with {proc.returncode}"
                return (await client.get("/healthz")).status_code == 200

            await eventually(healthy, what="hotline serve answered /healthz", every=0.2, tolerate=(httpx.HTTPError,))
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        await db.drop_database(url)
        await drop_roles(url)
        # The tickets it took armed escalation jobs in the suite's Redis database for a database now gone.
        import redis.asyncio as aioredis

        r = aioredis.from_url(redis_url)
        try:
            await r.flushdb()
        finally:
            await r.aclose()


def sign_in(base: str, username: str) -> str:
    r = httpx.post(f"{base}/api/auth/token", json={"username": username, "password": PASSWORD}, timeout=10)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])

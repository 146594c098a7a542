"""Shared fixtures: a fresh test database migrated and seeded once per session, the app, and signed-in clients.

Tests talk to real PostgreSQL and Redis. If either is missing the session stops with a clear message: a test
suite that passes without its services proves nothing.
"""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from config.settings import DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, Settings

# The suite is development: a `hotline serve` a test starts may sign with the development key.
os.environ.setdefault("HOTLINE_ENV", "development")
TEST_DB_SUFFIX = "_test"
TEST_REDIS_DB = int(os.environ.get("HOTLINE_TEST_REDIS_DB", "15"))
PASSWORD = "test-password"


def _test_urls() -> tuple[str, str]:
    db_url = os.environ.get("HOTLINE_DATABASE_URL") or DEFAULT_DATABASE_URL
    parts = urlsplit(db_url)
    name = (parts.path.lstrip("/") or "hotline") + TEST_DB_SUFFIX
    db_url = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
    redis_url = os.environ.get("HOTLINE_REDIS_URL") or DEFAULT_REDIS_URL
    rparts = urlsplit(redis_url)
    redis_url = urlunsplit((rparts.scheme, rparts.netloc, f"/{TEST_REDIS_DB}", rparts.query, ""))
    return db_url, redis_url


def _require(url: str, default_port: int, what: str) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "localhost", parts.port or default_port
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        pytest.exit(
            f"{what} is not reachable at {host}:{port} ({exc}). The tests need real services: run "
            f"`make test` (it finds or starts them) or set HOTLINE_DATABASE_URL / HOTLINE_REDIS_URL.",
            returncode=3,
        )


@pytest.fixture(scope="session")
def settings() -> Settings:
    db_url, redis_url = _test_urls()
    _require(db_url, 5432, "PostgreSQL")
    _require(redis_url, 6379, "Redis")
    return Settings(
        database_url=db_url,
        redis_url=redis_url,
        secret_key="test-secret-key-for-the-hotline-suite-0123456789",
        demo_password=PASSWORD,
        log_level="WARNING",
        db_pool_min=1,
        db_pool_max=10,
        # The suite signs in a few accounts and sends thousands of requests a minute as each; the
        # per-account limit itself is tested with its own settings (test_rate_limits.py).
        api_rate_limit_per_minute=10_000_000,
    )


@pytest.fixture(scope="session")
async def database(settings: Settings) -> str:
    """Drop and recreate the test database, migrate and seed it with the demo data."""
    from hotline.ops.seed import fresh_database

    await fresh_database(settings.database_url, demo_password=PASSWORD)
    # Redis database TEST_REDIS_DB is the suite's alone: empty it too, so a run starts from nothing whatever an
    # earlier run left there (sign-in failures counted for 15 minutes, rate-limit windows, jobs armed for tickets of
    # a database that no longer exists).
    from redis.asyncio import Redis

    redis = Redis.from_url(settings.redis_url)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()
    return settings.database_url


@pytest.fixture(scope="session")
async def app(settings: Settings, database: str) -> Any:
    from hotline.web.app import create_app

    app = create_app(settings)
    app.state.settings = settings
    return app


@pytest.fixture(scope="session")
async def client(app: Any) -> AsyncIterator[Any]:
    """An HTTP client calling the app in the test's own event loop, so tests may share the app's pools."""
    import httpx

    from hotline.infra.runtime import Runtime

    # The same start-up as the app's lifespan, done here so the pools live in the tests' event loop.
    runtime = await Runtime.start(app.state.settings)
    app.state.runtime = runtime
    app.state.redis = runtime.redis
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            c.app = app  # type: ignore[attr-defined]
            yield c
    finally:
        await runtime.close()


@pytest.fixture(scope="session")
async def runtime(client: Any) -> Any:
    return client.app.state.runtime


class Api:
    """A signed-in user's view of the API, with the token cached per username."""

    def __init__(self, client: Any, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    async def token(self, username: str) -> str:
        if username not in self.tokens:
            r = await self.client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.text
            self.tokens[username] = r.json()["access_token"]
        return self.tokens[username]

    async def request(self, username: str | None, method: str, path: str, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}) or {})
        if username is not None:
            headers["Authorization"] = f"Bearer {await self.token(username)}"
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def get(self, username: str | None, path: str, **kwargs: Any) -> Any:
        return await self.request(username, "GET", path, **kwargs)

    async def post(self, username: str | None, path: str, **kwargs: Any) -> Any:
        return await self.request(username, "POST", path, **kwargs)

    async def create(self, username: str = "agent", **fields: Any) -> dict[str, Any]:
        body = ticket_body(**fields)
        r = await self.post(username, "/api/tickets", json=body)
        assert r.status_code == 201, r.text
        return r.json()

    async def act(self, username: str, number: str, action: str, expect: int = 200, **body: Any) -> dict[str, Any]:
        r = await self.post(username, f"/api/tickets/{number}/{action}", json=body)
        assert r.status_code == expect, f"{action} by {username}: {r.status_code} {r.text}"
        return r.json()


async def principal(runtime: Any, username: str) -> Any:
    """A user as the service sees a signed-in one, for tests that call services directly (with `now=`)."""
    from hotline.auth.tokens import Principal

    row = await runtime.pool.fetchrow(
        "SELECT id, role, unit, channel, display_name FROM users WHERE username = $1", username
    )
    return Principal(row["id"], username, row["role"], row["display_name"], row["unit"], row["channel"])


async def create_at(runtime: Any, who: Any, when: Any, **fields: Any) -> str:
    """Log a ticket through intake as `who` (a principal) received at `when`, for worked examples in time; returns
    its number. Defaults: a taxi complaint in 通州区 by phone."""
    from hotline.tickets import intake

    body = {
        "channel": "96196",
        "kind": "complaint",
        "category": "taxi",
        "territory": "320612",
        "title": "投诉",
        "content": "拒载",
        **fields,
    }
    result = await intake.create_ticket(runtime, who, intake.TicketIn(**body), idempotency_key=None, now=when)
    return await runtime.pool.fetchval("SELECT number FROM tickets WHERE id = $1", result.ticket_id)


def ticket_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "96196",
        "kind": "complaint",
        "category": "taxi",
        "territory": "320612",
        "title": "出租车拒载",
        "content": "乘客在通州区万达广场打车被拒载，车牌苏F12345。",
        "caller": {"name": "张先生", "phone": "13812345678"},
        "urgent": False,
    }
    body.update(fields)
    return body


@pytest.fixture(scope="session")
async def api(client: Any) -> Api:
    return Api(client, {})


@pytest.fixture
def recording_apt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An apt-get (and systemctl, sudo) on PATH that only records how it was called; the file of its calls."""
    from hotline.ops import packages

    bindir, calls = tmp_path / "bin", tmp_path / "apt-calls"
    bindir.mkdir()
    # systemctl recorded too, never run: the machine's own services stay as they are; sudo for a non-root run.
    for name, body in (
        ("apt-get", f'echo "$@" >> {calls}'),
        ("systemctl", f'echo systemctl "$@" >> {calls}'),
        ("sudo", 'exec "$@"'),
    ):
        script = bindir / name
        script.write_text(f"#!/bin/sh\n{body}\n")
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    # Present, so the install leaves the machine's /usr/sbin/policy-rc.d alone.
    policy = tmp_path / "policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    monkeypatch.setattr(packages, "POLICY_RC_D", policy)
    return calls

"""PostgreSQL restarted, then stopped and started again, under a small concurrent load: every request is answered
2xx or 503 with Retry-After (never a 500), and the API recovers by itself when the database is back.

A private PostgreSQL cluster is started for this test (the shared server must stay up for the others).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import time
from typing import Any

import httpx

from hotline.ops.seed import fresh_database
from tests.conftest import PASSWORD, Api, ticket_body
from tests.scratch import PrivatePostgres, free_port

CLIENTS = 6


async def _load(
    api: Api, numbers: list[str], seen: list[tuple[str, int, str | None]], stop: asyncio.Event, k: int
) -> None:
    """One client: intake, a list, a ticket's detail and a note, round and round, until told to stop."""
    i = 0
    while not stop.is_set():
        i += 1
        calls: list[tuple[str, Any]] = [
            ("intake", api.post("agent", "/api/tickets", json=ticket_body())),
            ("list", api.get("manager", "/api/tickets?limit=5")),
        ]
        if numbers:
            n = numbers[(i + k) % len(numbers)]
            calls.append(("detail", api.get("manager", f"/api/tickets/{n}")))
            calls.append(("note", api.post("dispatcher", f"/api/tickets/{n}/note", json={"text": f"记录 {k}-{i}"})))
        for name, call in calls:
            try:
                r = await asyncio.wait_for(call, timeout=20)
            except TimeoutError:
                seen.append((name, 0, None))  # no answer at all is a failure too
                continue
            seen.append((name, r.status_code, r.headers.get("retry-after")))
            if name == "intake" and r.status_code == 201 and len(numbers) < 50:
                numbers.append(r.json()["number"])
            if r.status_code == 503:
                await asyncio.sleep(0.05)


async def test_requests_during_a_database_restart_and_stop_are_answered_503_with_retry_after_never_500(settings):
    from hotline.infra.runtime import Runtime
    from hotline.web.app import create_app

    pg = PrivatePostgres(free_port())
    pg.start()
    try:
        mine = dataclasses.replace(settings, database_url=pg.url, db_pool_min=2, db_pool_max=6)
        await fresh_database(mine.database_url, demo_password=PASSWORD)
        app = create_app(mine)
        runtime = await Runtime.start(mine)
        app.state.runtime, app.state.settings, app.state.redis = runtime, mine, runtime.redis
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
                api = Api(c, {})
                for user in ("agent", "manager", "dispatcher"):
                    await api.token(user)
                numbers: list[str] = []
                phases: dict[str, list[tuple[str, int, str | None]]] = {}
                stop = asyncio.Event()
                seen: list[tuple[str, int, str | None]] = []
                tasks = [asyncio.create_task(_load(api, numbers, seen, stop, k)) for k in range(CLIENTS)]

                async def phase(name: str, seconds: float, action: Any = None) -> None:
                    start = len(seen)
                    if action is not None:
                        await asyncio.to_thread(action)
                    await asyncio.sleep(seconds)
                    phases[name] = seen[start:]

                started = time.monotonic()
                await phase("before", 1.5)
                await phase("restart", 2.5, pg.restart)  # fast shutdown: sessions ended, then back at once
                await phase("stop", 1.5, lambda: pg.stop("immediate"))  # gone: nothing listens
                await phase("start", 3.0, pg.start)
                stop.set()
                await asyncio.gather(*tasks)
                elapsed = time.monotonic() - started
        finally:
            await runtime.close()
    finally:
        pg.close()

    statuses = collections.Counter(s for _, s, _ in seen)
    by_call = collections.Counter((name, s) for name, s, _ in seen if s >= 500 or s == 0)
    print(
        f"\n{len(seen)} requests in {elapsed:.1f} s: {dict(sorted(statuses.items()))}; failures by call {dict(by_call)}"
    )
    assert statuses[0] == 0, "some requests were not answered within 20 s"
    assert statuses[500] == 0, f"500s among the answers: {dict(by_call)}"
    assert set(statuses) <= {200, 201, 503}, dict(statuses)
    assert all(retry for _, s, retry in seen if s == 503), "a 503 without Retry-After"
    # The outage was real (the stop phase could not be served) and the API came back by itself.
    assert any(s == 503 for _, s, _ in phases["stop"]), phases["stop"][:5]
    assert any(s in (200, 201) for _, s, _ in phases["before"])
    tail = phases["start"][len(phases["start"]) // 2 :]
    assert any(name == "intake" and s == 201 for name, s, _ in tail), tail[-10:]


async def test_only_failures_of_the_database_connection_are_called_a_database_outage(runtime):
    import asyncpg
    from litestar.testing import RequestFactory

    from hotline import errors
    from hotline.web import problems

    request = RequestFactory().get("/api/x")
    # A statement timeout raised inside asyncpg: the database is too slow, a 503 saying so.
    async with runtime.pool.acquire() as conn:
        try:
            await conn.execute("SELECT pg_sleep(2)", timeout=0.05)
        except TimeoutError as exc:
            db_timeout = exc
    assert errors.database_gone(db_timeout)
    r = problems.unavailable_handler(request, db_timeout)
    assert r.status_code == 503 and "database" in r.content.detail and r.headers["Retry-After"]

    # A timeout elsewhere (Redis, an outbound call): still a 503 to retry, but not blamed on the database.
    try:
        await asyncio.wait_for(asyncio.sleep(1), timeout=0.01)
    except TimeoutError as exc:
        other_timeout = exc
    assert not errors.database_gone(other_timeout)
    r = problems.unavailable_handler(request, other_timeout)
    assert r.status_code == 503 and "database" not in r.content.detail and r.headers["Retry-After"]

    # The same asyncpg exception types report misuse in the code too: that stays a 500.
    misuse = asyncpg.InterfaceError("cannot perform operation: another transaction is in progress")
    assert not errors.database_gone(misuse)
    assert problems.unavailable_handler(request, misuse).status_code == 500
    lost = asyncpg.InterfaceError("cannot call Transaction.__aexit__(): the underlying connection is closed")
    assert errors.database_gone(lost) and problems.unavailable_handler(request, lost).status_code == 503
    try:
        try:
            raise ConnectionResetError("Connection reset by peer")
        except ConnectionResetError as reset:  # as asyncpg does: its state error raised while the reset unwinds
            raise asyncpg.InternalClientError(
                "cannot switch to state 12; another operation (2) is in progress"
            ) from reset
    except asyncpg.InternalClientError as exc:
        assert errors.database_gone(exc)

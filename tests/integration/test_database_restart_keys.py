"""PostgreSQL restarted and stopped during an intake load whose clients retry each submission under its own
`Idempotency-Key` until it is acknowledged: every acknowledged key is exactly one ticket (nothing lost, nothing
doubled, the same number on a replay), every ticket is whole, the API answers 503 with Retry-After (never a 500)
while the database is away and takes tickets again by itself when it is back.

test_database_restart.py checks the answers under a mixed load; this checks what was written. A private
PostgreSQL cluster is started for it (the shared server must stay up for the others).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import time
import uuid
from typing import Any

import httpx
import pytest

from hotline.ops.seed import fresh_database
from tests.conftest import PASSWORD, Api, ticket_body
from tests.scratch import PrivatePostgres, free_port

CLIENTS = 8
TERRITORIES = ("320612", "320613", "320614", "320681")


@dataclasses.dataclass
class Ledger:
    """What the clients saw: the number each key was acknowledged with, every answer with its instant."""

    acked: dict[str, tuple[str, int, float]] = dataclasses.field(default_factory=dict)  # key -> number, status, at
    answers: list[tuple[float, int, str | None]] = dataclasses.field(default_factory=list)  # at, status, retry-after
    unfinished: list[str] = dataclasses.field(default_factory=list)


async def submit_until_acknowledged(
    post: Any, key: str, body: dict[str, Any], ledger: Ledger, give_up_at: float
) -> None:
    """What a well-behaved client does: the same body under the same key until a 201/200, waiting as told on a
    503 (at most a second here, to keep the test short) and at once after a connection error."""
    while time.monotonic() < give_up_at:
        try:
            r = await asyncio.wait_for(post(key, body), timeout=20)
        except (TimeoutError, httpx.TransportError):
            ledger.answers.append((time.monotonic(), 0, None))
            await asyncio.sleep(0.05)
            continue
        ledger.answers.append((time.monotonic(), r.status_code, r.headers.get("retry-after")))
        if r.status_code in (200, 201):
            ledger.acked[key] = (r.json()["number"], r.status_code, time.monotonic())
            return
        if r.status_code != 503:
            return  # a wrong answer; the assertions on `answers` name it
        await asyncio.sleep(min(1.0, float(r.headers.get("retry-after") or 1)))
    ledger.unfinished.append(key)


async def client_stream(post: Any, run: str, k: int, ledger: Ledger, stop: asyncio.Event, give_up_at: float) -> None:
    i = 0
    while not stop.is_set():
        i += 1
        key = f"{run}-{k}-{i}"
        body = ticket_body(territory=TERRITORIES[i % len(TERRITORIES)], title=f"重试受理 {key}")
        await submit_until_acknowledged(post, key, body, ledger, give_up_at)


async def tickets_by_key(conn: Any, run: str) -> list[Any]:
    """Each ticket of the run with what intake writes with it in one statement."""
    return await conn.fetch(
        """SELECT t.idempotency_key AS key, t.number, t.status, t.unit, a.unit AS assignment_unit,
                  (SELECT array_agg(e.action ORDER BY e.id) FROM events e WHERE e.ticket_id = t.id) AS actions,
                  (SELECT array_agg(c.clock ORDER BY c.id) FROM clocks c WHERE c.ticket_id = t.id) AS clocks
           FROM tickets t LEFT JOIN assignments a ON a.id = t.current_assignment_id
           WHERE t.idempotency_key LIKE $1""",
        f"{run}-%",
    )


def assert_every_key_once(rows: list[Any], ledger: Ledger) -> None:
    per_key = collections.Counter(r["key"] for r in rows)
    doubled = {k: n for k, n in per_key.items() if n > 1}
    assert not doubled, f"keys with more than one ticket: {doubled}"
    stored = {r["key"]: r["number"] for r in rows}
    lost = set(ledger.acked) - set(stored)
    assert not lost, f"acknowledged but not in the database: {sorted(lost)[:10]}"
    unacked = set(stored) - set(ledger.acked)
    assert not unacked, f"in the database but never acknowledged: {sorted(unacked)[:10]}"
    wrong = {k: (n, stored[k]) for k, (n, _, _) in ledger.acked.items() if stored[k] != n}
    assert not wrong, f"acknowledged with another ticket's number: {wrong}"
    for r in rows:  # nothing half-made: the ticket, its assignment, both clocks and its two events
        assert r["status"] == "dispatched" and r["assignment_unit"] == r["unit"], dict(r)
        assert r["actions"] == ["create", "route"] and r["clocks"] == ["sign", "reply"], dict(r)


async def _run(settings: Any, seconds: float) -> None:
    from hotline.infra import db
    from hotline.infra.runtime import Runtime
    from hotline.web.app import create_app

    pg = PrivatePostgres(free_port())
    pg.start()
    run = uuid.uuid4().hex[:8]
    ledger = Ledger()
    marks: dict[str, float] = {}
    try:
        mine = dataclasses.replace(settings, database_url=pg.url, db_pool_min=2, db_pool_max=6)
        await fresh_database(mine.database_url, demo_password=PASSWORD)
        app = create_app(mine)
        runtime = await Runtime.start(mine)
        app.state.runtime, app.state.settings, app.state.redis = runtime, mine, runtime.redis
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
                api = Api(c, {})
                await api.token("agent")

                async def post(key: str, body: dict[str, Any]) -> Any:
                    return await api.post("agent", "/api/tickets", json=body, headers={"Idempotency-Key": key})

                stop = asyncio.Event()
                started = time.monotonic()
                give_up_at = started + seconds + 60
                tasks = [
                    asyncio.create_task(client_stream(post, run, k, ledger, stop, give_up_at)) for k in range(CLIENTS)
                ]
                # A restart (sessions ended, back at once), then an outage of a few seconds (nothing listens).
                await asyncio.sleep(seconds / 3)
                marks["restart"] = time.monotonic()
                await asyncio.to_thread(pg.restart)
                marks["restarted"] = time.monotonic()
                await asyncio.sleep(seconds / 3 - 3)
                marks["stop"] = time.monotonic()
                await asyncio.to_thread(pg.stop)
                await asyncio.sleep(3)
                marks["start"] = time.monotonic()
                await asyncio.to_thread(pg.start)
                marks["started"] = time.monotonic()
                await asyncio.sleep(max(3.0, started + seconds - time.monotonic()))
                stop.set()  # each client finishes the key in hand (retrying it if need be), then stops
                await asyncio.wait_for(asyncio.gather(*tasks), timeout=90)
                marks["end"] = time.monotonic()
        finally:
            await runtime.close()
        conn = await db.connect(pg.url)
        try:
            rows = await tickets_by_key(conn, run)
        finally:
            await conn.close()
    finally:
        pg.close()

    statuses = collections.Counter(s for _, s, _ in ledger.answers)
    print(
        f"\n{len(ledger.acked)} keys acknowledged ({sum(s == 200 for _, s, _ in ledger.acked.values())} as "
        f"replays) in {marks['end'] - started:.1f} s; answers {dict(sorted(statuses.items()))}; "
        f"{len(rows)} tickets"
    )
    assert not ledger.unfinished, f"keys never acknowledged: {ledger.unfinished[:10]}"
    assert set(statuses) <= {0, 200, 201, 503}, dict(statuses)  # 0: the connection failed (retried)
    assert all(retry for _, s, retry in ledger.answers if s == 503), "a 503 without Retry-After"
    # The outage was real, was answered 503, and the API took keys again by itself after each return.
    assert any(s == 503 for at, s, _ in ledger.answers if marks["stop"] <= at <= marks["start"])
    assert any(marks["restarted"] < at < marks["stop"] for _, _, at in ledger.acked.values())
    assert any(at > marks["started"] for _, _, at in ledger.acked.values())
    assert_every_key_once(rows, ledger)


async def test_every_acknowledged_key_is_one_whole_ticket_across_a_database_restart_and_outage(settings):
    await _run(settings, 24)


@pytest.mark.slow
async def test_every_acknowledged_key_is_one_whole_ticket_across_a_database_restart_in_a_60_s_load(settings):
    await _run(settings, 60)

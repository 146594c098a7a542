"""`hotline serve` killed (SIGKILL, every process of it) while intakes are half-way through their statement: no
half-written ticket. A ticket is its row, its assignment, both clocks and its events, or nothing; every ticket
acknowledged before the kill is there; the clients retrying their keys against a new server get each ticket once.

The kill is made on an explicit signal, not by racing a burst: the test holds the `agent` account's users row
locked, so the intake statements block in their foreign-key checks, after their rows are inserted and before they
end; it kills the server once PostgreSQL shows them waiting on that lock, then lets them go.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from hotline.infra import db
from tests.conftest import PASSWORD, ticket_body
from tests.integration.test_database_restart_keys import (
    TERRITORIES,
    Ledger,
    assert_every_key_once,
    submit_until_acknowledged,
    tickets_by_key,
)
from tests.polling import eventually
from tests.scratch import free_port

ROOT = Path(__file__).resolve().parents[2]
IN_FLIGHT = 24


def serve(settings, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": settings.database_url,
        "HOTLINE_REDIS_URL": settings.redis_url,
        "HOTLINE_SECRET_KEY": settings.secret_key,
        "HOTLINE_LOG_LEVEL": "WARNING",
        "HOTLINE_API_RATE_LIMIT": str(settings.api_rate_limit_per_minute),
        "PYTHONUNBUFFERED": "1",
    }
    with open(log, "ab") as out:  # a file, not a pipe: a full pipe would stall the server
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hotline.ops.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "2",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def tail(log: Path) -> str:
    return log.read_text()[-3000:]


async def signed_in(proc: subprocess.Popen[bytes], base: str, log: Path) -> str:
    token: list[str] = []
    async with httpx.AsyncClient(base_url=base, timeout=5) as c:

        async def answered() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"hotline serve exited: {await asyncio.to_thread(tail, log)}")
            r = await c.post("/api/auth/token", json={"username": "agent", "password": PASSWORD})
            if r.status_code == 200:
                token.append(r.json()["access_token"])
            return bool(token)

        await eventually(
            answered, what=lambda: f"hotline serve answered: {tail(log)}", every=0.2, tolerate=(httpx.TransportError,)
        )
    return token[0]


def kill_all(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL to the server's own session (started above): the uvicorn parent and its workers at once."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


async def test_api_killed_mid_intake_leaves_no_half_written_ticket_and_retried_keys_give_one_each(
    settings, database, tmp_path
):
    run = uuid.uuid4().hex[:8]
    base_port = free_port()
    base = f"http://127.0.0.1:{base_port}"
    log = tmp_path / "serve.log"
    ledger = Ledger()
    bodies = {
        f"{run}-{i}": ticket_body(territory=TERRITORIES[i % len(TERRITORIES)], title=f"中断受理 {run}-{i}")
        for i in range(40 + IN_FLIGHT)
    }
    before, during = list(bodies)[:40], list(bodies)[40:]
    proc = serve(settings, base_port, log)
    lock = await db.connect(settings.database_url)  # the superuser: may lock a users row
    try:
        token = await signed_in(proc, base, log)
        async with httpx.AsyncClient(base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"}) as c:

            async def post(key, body):
                return await c.post("/api/tickets", json=body, headers={"Idempotency-Key": key})

            give_up = time.monotonic() + 60
            await asyncio.gather(*(submit_until_acknowledged(post, k, bodies[k], ledger, give_up) for k in before))
            assert set(ledger.acked) == set(before)

            tx = lock.transaction()
            await tx.start()
            await lock.execute("SELECT 1 FROM users WHERE username = 'agent' FOR UPDATE")
            answers: dict[str, object] = {}

            async def one(key):
                try:
                    answers[key] = (await post(key, bodies[key])).status_code
                except httpx.TransportError as exc:
                    answers[key] = type(exc).__name__

            tasks = [asyncio.create_task(one(k)) for k in during]
            blocked = 0

            async def statements_held() -> bool:
                nonlocal blocked  # the statements have inserted their rows and wait in their foreign-key checks
                await lock.execute("SELECT pg_stat_clear_snapshot()")  # a transaction sees one snapshot otherwise
                blocked = await lock.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE '%jsonb_to_recordset%'"
                )
                return blocked >= 1

            await eventually(statements_held, what=lambda: f"an intake statement reached the lock: {answers}")
            await asyncio.sleep(0.3)  # the rest queue behind them in the writers
            kill_all(proc)
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
            assert not any(isinstance(a, int) for a in answers.values()), answers  # none was answered: mid-request
            await tx.rollback()  # the blocked statements go on to their end, on a server whose client is gone

            async def sessions_ended() -> bool:  # the dead server's statements have run to their end
                return not await lock.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND query LIKE '%jsonb_to_recordset%' AND state <> 'idle'"
                )

            await eventually(sessions_ended, what="the killed server's intake statements ended")
            after_kill = await tickets_by_key(lock, run)
            # Nothing half-made: whatever the killed server left is whole (a statement that ran to its end with no
            # one to answer is a committed ticket that its client will get on its retry).
            for r in after_kill:
                assert r["actions"] == ["create", "route"] and r["clocks"] == ["sign", "reply"], dict(r)
                assert r["status"] == "dispatched" and r["assignment_unit"] == r["unit"], dict(r)
            assert set(before) <= {r["key"] for r in after_kill}  # every acknowledged ticket survived
            orphans = await lock.fetchval(
                """SELECT (SELECT count(*) FROM events e WHERE NOT EXISTS
                               (SELECT 1 FROM tickets t WHERE t.id = e.ticket_id))
                        + (SELECT count(*) FROM clocks c WHERE NOT EXISTS
                               (SELECT 1 FROM tickets t WHERE t.id = c.ticket_id))
                        + (SELECT count(*) FROM assignments a WHERE NOT EXISTS
                               (SELECT 1 FROM tickets t WHERE t.id = a.ticket_id))"""
            )
            assert orphans == 0

        proc = serve(settings, base_port, log)  # a new server; the clients retry what was never acknowledged
        token = await signed_in(proc, base, log)
        async with httpx.AsyncClient(base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"}) as c:

            async def post(key, body):
                return await c.post("/api/tickets", json=body, headers={"Idempotency-Key": key})

            give_up = time.monotonic() + 60
            await asyncio.gather(*(submit_until_acknowledged(post, k, bodies[k], ledger, give_up) for k in during))
        rows = await tickets_by_key(lock, run)
    finally:
        kill_all(proc)
        await lock.close()
    assert not ledger.unfinished, ledger.unfinished
    assert set(ledger.acked) == set(bodies)
    replays = {k for k in during if ledger.acked[k][1] == 200}
    print(
        f"\n{len(during)} intakes in flight at the kill ({blocked} statements held in their checks): "
        f"{len(replays)} were written whole by a statement that ran on and were replayed, "
        f"{len(during) - len(replays)} were written on the retry"
    )
    assert replays == {r["key"] for r in after_kill} - set(before)  # left by the killed server: replayed, not doubled
    assert_every_key_once(rows, ledger)

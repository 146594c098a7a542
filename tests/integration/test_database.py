"""Migrations, schema constraints, and the append-only event log."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest

from hotline.infra import db
from hotline.infra.migrate import discover, migrate
from tests.scratch import scratch_database

SCHEMA_SQL = Path(__file__).resolve().parents[2] / "hotline" / "infra" / "schema.sql"


async def test_migrations_are_recorded_and_idempotent(settings, database):
    conn = await db.connect(database)
    try:
        versions = [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")]
        assert versions == [m.version for m in discover()]
        assert await migrate(conn) == []
    finally:
        await conn.close()


async def test_two_processes_migrating_at_once_do_not_collide(settings, database):
    async with scratch_database(database, "migtest") as url:
        a, b = await db.connect(url), await db.connect(url)
        try:
            applied = await asyncio.gather(migrate(a), migrate(b))
            assert sorted(map(len, applied)) == [0, len(discover())]
            assert await a.fetchval("SELECT count(*) FROM schema_migrations") == len(discover())
        finally:
            await a.close()
            await b.close()


async def test_migrations_produce_exactly_the_committed_schema(runtime):
    """hotline/infra/schema.sql is what the migrations make (regenerate with `make schema`): a migration that drops a
    constraint, an index or a trigger, or a schema changed by hand, shows up here as a diff."""
    from tests.schema_dump import describe

    expected = await asyncio.to_thread(SCHEMA_SQL.read_text, encoding="utf-8")
    async with runtime.pool.acquire() as conn:
        actual = await describe(conn)
    assert actual.splitlines() == expected.splitlines()


async def test_database_refuses_bad_rows(runtime):
    async with runtime.pool.acquire() as conn:
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(
                """INSERT INTO tickets (number, channel, kind, title, content, status, received_at)
                   VALUES ($1, '96196', 'help', 't', 'c', 'lost', now())""",
                uuid.uuid4().hex,
            )
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await conn.execute(
                """INSERT INTO tickets (number, channel, kind, title, content, status, received_at)
                   VALUES ($1, 'fax', 'help', 't', 'c', 'pending_dispatch', now())""",
                uuid.uuid4().hex,
            )
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(
                """INSERT INTO tickets (number, channel, kind, title, content, status, received_at)
                   VALUES ($1, '96196', 'help', 't', 'c', 'closed', now())""",
                uuid.uuid4().hex,
            )  # closed needs a closure


async def test_events_are_append_only(api, runtime, database):
    """Even for a superuser that leaves the triggers on; the runtime role may not even try (test_database_roles.py)."""
    t = await api.create("agent")
    conn = await db.connect(database)
    try:
        ticket_id = await conn.fetchval("SELECT id FROM tickets WHERE number = $1", t["number"])
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute("UPDATE events SET actor = 'mallory' WHERE ticket_id = $1", ticket_id)
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute("DELETE FROM events WHERE ticket_id = $1", ticket_id)
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute("TRUNCATE events CASCADE")
        assert await conn.fetchval("SELECT count(*) FROM events WHERE ticket_id = $1", ticket_id) == 2
    finally:
        await conn.close()


async def test_changed_tickets_queue_their_days_once_per_statement_and_minute(runtime):
    """The report rollups learn which receipt days changed from report_changes, filled by a statement trigger."""
    from datetime import datetime, timedelta, timezone

    from tests.conftest import create_at, principal

    cst = timezone(timedelta(hours=8))
    agent = await principal(runtime, "agent")
    whens = [datetime(2025, 3, 3, 23, 59, s, tzinfo=cst) for s in (10, 20, 30)] + [
        datetime(2025, 3, 4, 0, 0, 5, tzinfo=cst)
    ]
    numbers = [await create_at(runtime, agent, w) for w in whens]
    lo, hi = whens[0] - timedelta(minutes=1), whens[-1] + timedelta(minutes=1)
    queued = "SELECT received_at FROM report_changes WHERE received_at >= $1 AND received_at < $2 ORDER BY 1"
    assert len(await runtime.pool.fetch(queued, lo, hi)) >= 2  # the inserts queued both days
    await runtime.pool.execute("DELETE FROM report_changes WHERE received_at >= $1 AND received_at < $2", lo, hi)
    await runtime.pool.execute("UPDATE tickets SET updated_at = updated_at WHERE number = any($1::text[])", numbers)
    rows = [r["received_at"] for r in await runtime.pool.fetch(queued, lo, hi)]
    assert rows == [whens[0], whens[3]]  # one row per minute of receipt: both local days, in two rows for four

"""Bounded queues in front of PostgreSQL and Redis (issue 11): the ticket writer's queue and the announcer's
pending list stop growing at their caps, and a new ticket is then refused with 503 and Retry-After, not queued."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from hotline.errors import ServiceUnavailable
from hotline.infra import db
from hotline.tickets import announcer, intake
from hotline.tickets import writer as intake_writer
from tests.conftest import ticket_body


async def test_the_writer_queue_is_capped_while_no_statement_can_run(settings, database):
    pool = await db.create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        writer = intake_writer.TicketWriter(pool, max_queued=3)
        held = await pool.acquire()  # the writer's statement waits for a connection: tickets queue
        queued = [
            asyncio.create_task(writer.write(intake_writer.NewTicket("96196", date.today(), {}, [], [])))
            for _ in range(3)
        ]
        await asyncio.sleep(0.05)
        with pytest.raises(ServiceUnavailable) as refused:
            await writer.write(intake_writer.NewTicket("96196", date.today(), {}, [], []))
        assert refused.value.retry_after > 0
        await pool.release(held)
        # The queued ones are still written (these empty ones fail in the database, each its own request).
        results = await asyncio.wait_for(asyncio.gather(*queued, return_exceptions=True), timeout=10)
        assert len(results) == 3 and all(isinstance(r, Exception) for r in results)
        assert len(writer._queue) == 0
    finally:
        await pool.close()


async def test_a_full_writer_queue_answers_503_with_retry_after_and_writes_nothing(api, runtime):
    writer = intake_writer.writer_for(runtime)
    before = await runtime.pool.fetchval("SELECT count(*) FROM tickets")
    writer.max_queued = 0
    try:
        r = await api.post("agent", "/api/tickets", json=ticket_body(title="排队已满"))
    finally:
        writer.max_queued = intake_writer.MAX_QUEUED
    assert r.status_code == 503 and r.headers["retry-after"].isdigit(), r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert await runtime.pool.fetchval("SELECT count(*) FROM tickets") == before
    assert (await api.post("agent", "/api/tickets", json=ticket_body())).status_code == 201


async def test_the_announcer_stops_at_its_cap_and_new_tickets_get_503(api, runtime):
    queue = announcer.Announcer(runtime.redis, max_pending=3)
    fake = intake.IntakeResult(0, True, [], None)
    for i in range(5):  # synchronously: the drain task has not run yet, so all of them would be pending
        queue.announce(fake, {"number": f"test-{i}", "action": "create", "units": [None]})
    assert queue.full() and len(queue._pending) == 3
    await queue.sent()
    assert not queue.full()

    shared = announcer._announcer(runtime)
    before = await runtime.pool.fetchval("SELECT count(*) FROM tickets")
    shared.max_pending = 0
    try:
        r = await api.post("agent", "/api/tickets", json=ticket_body(title="通知积压"))
    finally:
        shared.max_pending = announcer.MAX_PENDING_ANNOUNCEMENTS
    assert r.status_code == 503 and r.headers["retry-after"].isdigit(), r.text
    assert await runtime.pool.fetchval("SELECT count(*) FROM tickets") == before

"""Grouped intake (hotline.tickets.writer): concurrent tickets share statements, keep their numbering, rows,
clocks, events and armed jobs (those falling due soon at once, the rest by the sweep), and a ticket that fails in a
group fails alone."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from arq.constants import job_key_prefix

from hotline.auth.tokens import Principal
from hotline.escalation import catch_up
from hotline.infra.queue import escalation_job_id
from hotline.tickets import announcer, intake
from hotline.tickets import writer as intake_writer
from tests.conftest import principal, ticket_body

PLACES = [("320612", "road"), ("320614", "taxi"), ("320613", "bus"), ("320600", "highway"), ("320681", "coach")]


async def _agent(runtime: Any) -> Principal:
    return await principal(runtime, "agent")


def _spy_on_groups(monkeypatch: Any) -> list[int]:
    sizes: list[int] = []
    real = intake_writer.TicketWriter._insert

    async def insert(self: Any, conn: Any, group: list[Any]) -> None:
        sizes.append(len(group))
        await real(self, conn, group)

    monkeypatch.setattr(intake_writer.TicketWriter, "_insert", insert)
    return sizes


async def test_concurrent_intakes_go_in_groups_and_lose_nothing(api, runtime, monkeypatch):
    sizes = _spy_on_groups(monkeypatch)
    await api.token("agent")  # signed in first: concurrent sign-ins would each hash the password
    bodies = [ticket_body(territory=t, category=c, title=f"并发受理 {i}") for i in range(4) for t, c in PLACES]
    responses = await asyncio.gather(*[api.post("agent", "/api/tickets", json=b) for b in bodies])
    assert [r.status_code for r in responses] == [201] * len(bodies)
    assert max(sizes) > 1 and sum(sizes) == len(bodies)  # some went together, each once
    tickets = [r.json() for r in responses]
    seqs = sorted(int(t["number"].rsplit("-", 1)[1]) for t in tickets)
    assert seqs == list(range(seqs[0], seqs[0] + len(bodies)))  # one numbering, no gaps, no twins
    for body, t in zip(bodies, tickets, strict=True):
        assert t["title"] == body["title"] and t["territory"] == body["territory"]
        assert t["status"] == "dispatched" and t["deadlines"]["sign"] and t["deadlines"]["reply"]
    ids = [await runtime.pool.fetchval("SELECT id FROM tickets WHERE number = $1", t["number"]) for t in tickets]
    rows = await runtime.pool.fetch(
        """SELECT t.id, t.current_assignment_id, a.unit AS assignment_unit, t.unit,
                  (SELECT array_agg(e.action ORDER BY e.id) FROM events e WHERE e.ticket_id = t.id) AS actions,
                  (SELECT array_agg(c.clock || ':' || c.id || ':' || c.version ORDER BY c.id)
                   FROM clocks c WHERE c.ticket_id = t.id AND c.assignment_id = t.current_assignment_id) AS clocks
           FROM tickets t JOIN assignments a ON a.id = t.current_assignment_id
           WHERE t.id = any($1::bigint[])""",
        ids,
    )
    assert len(rows) == len(ids)
    jobs_of = []
    for row in rows:
        assert row["assignment_unit"] == row["unit"] and row["actions"] == ["create", "route"]
        assert [c.split(":")[0] for c in row["clocks"]] == ["sign", "reply"]
        for clock in row["clocks"]:
            _, clock_id, version = clock.split(":")
            jobs_of.append(job_key_prefix + escalation_job_id(int(clock_id), int(version), "warning"))
    # Warnings hours away are not armed at intake (no Redis call for them) but by the sweep as they come near.
    assert not any([await runtime.redis.exists(key) for key in jobs_of])
    first = await runtime.pool.fetchval("SELECT min(next_step_at) FROM clocks WHERE ticket_id = any($1::bigint[])", ids)
    await catch_up.rearm_upcoming(runtime, now=first - timedelta(seconds=1), within=timedelta(days=30), limit=100_000)
    assert all([await runtime.redis.exists(key) for key in jobs_of])


async def test_a_step_falling_due_within_minutes_is_armed_at_intake(api, runtime):
    """A transfer whose upstream deadline is seconds away: its steps cannot wait for the sweep."""
    due = datetime.now(UTC) + timedelta(seconds=20)
    r = await api.post(
        "integration-12345",
        "/api/tickets",
        json=ticket_body(channel="12345", external_ref=f"near-{uuid.uuid4().hex}", external_due_at=due.isoformat()),
    )
    assert r.status_code == 201, r.text
    await announcer.announced(runtime)  # the response does not wait for Redis
    rows = await runtime.pool.fetch(
        "SELECT c.id, c.version, c.next_step, c.next_step_at FROM clocks c "
        "JOIN tickets t ON t.id = c.ticket_id WHERE t.number = $1",
        r.json()["number"],
    )
    assert len(rows) == 2 and all(row["next_step_at"] <= due for row in rows)
    for row in rows:
        key = job_key_prefix + escalation_job_id(row["id"], row["version"], row["next_step"])
        assert await runtime.redis.exists(key), row


async def test_numbers_follow_arrival_within_a_group(runtime, monkeypatch):
    sizes = _spy_on_groups(monkeypatch)
    agent = await _agent(runtime)
    bodies = [
        intake.TicketIn(
            channel="96196",
            kind="help",
            category="bus",
            territory="320613",
            title=f"到达顺序 {i}",
            content="公交到站时间咨询",
        )
        for i in range(12)
    ]
    await runtime.current_policies()  # fresh, so no call below waits on a reload and falls out of step
    results = await asyncio.gather(*[intake.create_ticket(runtime, agent, b, idempotency_key=None) for b in bodies])
    assert max(sizes) > 1
    numbers = [r.ticket["number"] for r in results]
    assert numbers == sorted(numbers)  # gathered in list order: queued, numbered and received in that order
    received = [r.ticket["received_at"] for r in results]
    assert received == sorted(received)


async def test_a_ticket_failing_in_a_group_fails_alone(runtime, monkeypatch):
    sizes = _spy_on_groups(monkeypatch)
    agent = await _agent(runtime)
    good = [
        intake.TicketIn(
            channel="96196",
            kind="complaint",
            category="taxi",
            territory="320612",
            title=f"好 {i}",
            content="出租车绕路",
        )
        for i in range(6)
    ]
    # Structs built in code skip msgspec's checks: this one reaches the database, whose CHECK refuses it.
    bad = intake.TicketIn(
        channel="96196",
        kind="complaint",
        category="taxi",
        territory="320612",
        title="坏",
        content="坐标越界",
        location=intake.Location(lat=123.0, lng=0.0),
    )
    calls = [intake.create_ticket(runtime, agent, b, idempotency_key=None) for b in [*good[:3], bad, *good[3:]]]
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert isinstance(results[3], Exception) and "lat" in str(results[3])
    made = [r for i, r in enumerate(results) if i != 3]
    assert all(isinstance(r, intake.IntakeResult) and r.created for r in made)
    assert max(sizes) > 1 and 1 in sizes  # a group failed and was written again one by one
    count = await runtime.pool.fetchval(
        "SELECT count(*) FROM tickets WHERE id = any($1::bigint[])", [r.ticket_id for r in made]
    )
    assert count == len(good)
    assert not await runtime.pool.fetchval("SELECT count(*) FROM tickets WHERE title = '坏'")


async def test_nul_characters_are_refused_as_bad_input(api):
    r = await api.post("agent", "/api/tickets", json=ticket_body(title="拒载\u0000投诉"))
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert "title" in r.json()["fields"]


async def test_a_request_cancelled_while_queued_leaves_its_group_whole(runtime):
    """A caller that gives up (client gone) must not break the tickets written with its own."""
    agent = await _agent(runtime)
    tag = uuid.uuid4().hex[:8]
    bodies = [
        intake.TicketIn(
            channel="96196",
            kind="help",
            category="bus",
            territory="320613",
            title=f"取消 {tag} {i}",
            content="公交线路咨询",
        )
        for i in range(6)
    ]
    await runtime.current_policies()  # fresh: every call below goes straight to the writer's queue
    tasks = [asyncio.create_task(intake.create_ticket(runtime, agent, b, idempotency_key=None)) for b in bodies]
    await asyncio.sleep(0)  # all six queued, none written yet
    tasks[2].cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[2], asyncio.CancelledError)
    assert all(r.created for i, r in enumerate(results) if i != 2)
    titles = await runtime.pool.fetch("SELECT title FROM tickets WHERE title LIKE $1 ORDER BY number", f"取消 {tag} %")
    assert [t["title"] for t in titles] == [b.title for b in bodies]  # the cancelled one too, with its group
    # And the writer goes on.
    assert (await intake.create_ticket(runtime, agent, bodies[0], idempotency_key=None)).created

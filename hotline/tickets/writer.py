"""Writing new tickets in groups (group commit): the SQL of intake.

Every ticket is written with its routing decision, first assignment, clocks and events by one statement, so a
failure leaves nothing half-made, its number included. Under load the requests of one API process that arrive
while a statement is running wait for the next one and go in together: one statement (numbering included) and one
commit for the group instead of one each. PostgreSQL's cost per ticket falls by more than half at ten tickets a
statement, a lone request still goes at once, and a group that fails is written again ticket by ticket, so one bad
ticket fails only its own request. Numbers are taken for the whole group in arrival order, and groups take the
counter in turn, so numbers follow receipt time, as with one ticket at a time.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date
from typing import Any

import asyncpg

from hotline.errors import ServiceUnavailable, database_gone
from hotline.escalation import ladder
from hotline.infra.db import Conn
from hotline.infra.runtime import Runtime
from hotline.infra.sql import load

# Statements at once per process: more overlap their commit waits, fewer make larger (cheaper) groups and lock the
# shared rows (counter, reference rows under foreign keys) from fewer transactions at once. Since commits cost
# little here (0.3 ms) and a statement's cost is mostly per row, one at a time won on the 2-core bench machine once
# the rest of intake got cheaper: 2,322 vs 1,948 tickets/s with 1 API worker, 2,542-2,629 vs 2,430 with 2, and
# less database CPU per ticket (0.31 vs 0.37 ms), measured back to back. Tickets arriving meanwhile queue for the
# next group, so a group takes whatever came during the previous statement.
MAX_STATEMENTS = 1
MAX_GROUP = 100
# Tickets waiting for a statement, per process. At the measured 2,000-2,500 tickets/s a full queue is under a
# second of work; beyond it the database is not keeping up (or is gone) and a quick 503 with Retry-After serves
# a caller better than a request held, with its memory, until it times out.
MAX_QUEUED = 2000

# The statement and what it reads: see sql/insert_tickets.sql. Only the ladder's first step comes from Python.
INSERT_SQL = (
    load(__file__, "insert_tickets")
    .replace("{first_step}", ladder.FIRST_STEP)
    .replace("{first_instant}", ladder.FIRST_INSTANT)
)

# What the database decides of a new ticket (INSERT_SQL's RETURNING, in order); the rest of its row is what was
# written (see _row).
RETURNED = ("id", "number", "unit", "received_at", "current_assignment_id", "closure", "reopen_count", "version")
assert f"RETURNING {', '.join(f't.{c}' for c in RETURNED)}" in INSERT_SQL
# Columns of tickets.TICKET_COLUMNS a ticket is born without.
_UNSET = (
    "merged_into",
    "reply_content",
    "reply_outcome",
    "answer",
    "replied_at",
    "closed_at",
    "callback_due_at",
    "suspended_at",
    "merged_into_number",
)


@dataclass(slots=True)
class NewTicket:
    """One ticket ready to write: its row, clocks and events as the JSON objects INSERT_SQL reads (without the
    number and ordinals, which the group fills in)."""

    channel: str
    day: date  # the local day of receipt, for the number
    ticket: dict[str, Any]
    clocks: list[dict[str, Any]]
    events: list[dict[str, Any]]
    future: asyncio.Future[dict[str, Any] | None] | None = field(default=None, repr=False)


class TicketWriter:
    """One per connection pool: queues new tickets and writes them in groups."""

    def __init__(self, pool: asyncpg.Pool, *, max_queued: int = MAX_QUEUED) -> None:
        self.pool = pool
        self.max_queued = max_queued
        self._queue: deque[NewTicket] = deque()
        self._running = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def write(self, item: NewTicket) -> dict[str, Any] | None:
        """The ticket's row (the columns of tickets.TICKET_COLUMNS plus `clocks`), or None when it conflicted and
        was skipped."""
        if len(self._queue) >= self.max_queued:
            raise ServiceUnavailable(
                f"intake is saturated ({len(self._queue)} tickets waiting to be written); try again shortly"
            )
        item.future = asyncio.get_running_loop().create_future()
        self._queue.append(item)
        if self._running < MAX_STATEMENTS:
            self._running += 1
            task = asyncio.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        # A request cancelled meanwhile cancels only its own future, which the group then leaves alone (every
        # answer checks done() first): the ticket is still written with its group.
        return await item.future

    async def close(self) -> None:
        """Let the groups being written finish (their requests get their answers) before the pool closes."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _drain(self) -> None:
        try:
            while self._queue:
                try:
                    # One connection for as long as tickets keep coming: no pool round trip between groups.
                    async with self.pool.acquire() as conn:
                        # A connection the server dropped (a restart) is left for a fresh one.
                        while self._queue and not conn.is_closed():
                            await self._write_next(conn)
                except Exception as exc:
                    # No connection to be had: what is still queued fails, as a lone request would.
                    _fail(self._take(len(self._queue)), exc)
        finally:
            self._running -= 1

    def _take(self, count: int) -> list[NewTicket]:
        return [self._queue.popleft() for _ in range(min(len(self._queue), count))]

    async def _write_next(self, conn: Conn) -> None:
        group = self._take(MAX_GROUP)  # taken once a connection is at hand: all that queued meanwhile
        try:
            if group:
                await self._insert(conn, group)
        except Exception as exc:
            _fail(group, exc)
        finally:  # whatever happened, no request is left waiting (answered ones are untouched)
            _fail(group, RuntimeError("intake was interrupted before the ticket was written"))

    async def _insert(self, conn: Conn, group: list[NewTicket]) -> None:
        tickets: list[dict[str, Any]] = []
        clocks: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for ti, item in enumerate(group):
            item.ticket["i"] = ti
            item.ticket["day"] = item.day
            tickets.append(item.ticket)
            for c in item.clocks:
                clocks.append({**c, "i": len(clocks), "ti": ti})
            for e in item.events:
                events.append({**e, "i": len(events), "ti": ti})
        try:
            rows = await conn.fetch(INSERT_SQL, tickets, clocks, events)
        except Exception as exc:
            if len(group) == 1 or database_gone(exc):
                # The database went away: every ticket of the group fails alike (a 503), none is retried on a
                # connection that is gone.
                _fail(group, exc)
                return
            # Written again one by one, so the ticket at fault fails alone (the failed statement took no number).
            for item in group:
                await self._insert(conn, [item])
            return
        by_ordinal = {r["i"]: r for r in rows}
        for ti, item in enumerate(group):
            if item.future is not None and not item.future.done():
                returned = by_ordinal.get(ti)
                item.future.set_result(_row(item, returned) if returned is not None else None)


def _row(item: NewTicket, returned: asyncpg.Record) -> dict[str, Any]:
    """The new ticket's row as tickets.TICKET_COLUMNS reads it, from what was written and what the database
    returned: decoding the whole row back would cost more than the rest of writing it."""
    row: dict[str, Any] = dict.fromkeys(_UNSET)
    row.update(item.ticket)
    row.update((name, returned[name]) for name in RETURNED)
    received = row["received_at"]
    row["created_at"] = row["updated_at"] = received
    for name in ("external_due_at", "upstream_received_at"):
        if row.get(name) is not None:
            row[name] = row[name].astimezone(UTC)  # as timestamptz comes back
    row["clocks"] = returned["clocks"]
    return row


def _fail(group: list[NewTicket], exc: BaseException) -> None:
    for item in group:
        if item.future is not None and not item.future.done():
            item.future.set_exception(exc)


def _make(rt: Runtime) -> TicketWriter:
    return TicketWriter(rt.pool)


def writer_for(rt: Runtime) -> TicketWriter:
    """The runtime's ticket writer (one per process and pool, closed with the runtime)."""
    return rt.part(_make)

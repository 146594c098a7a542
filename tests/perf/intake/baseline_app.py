"""The intake benchmark's baseline: the same stack doing the least a ticket store can do.

Litestar + msgspec + asyncpg under the same uvicorn settings as `hotline serve` (uvloop, httptools, no access log,
same worker count and pool size), one POST = parse the JSON body into a Struct, one INSERT ... RETURNING in its own
committed transaction (synchronous_commit on, like tickets), return 201 with the row's id and time. No auth, no
routing, no clocks, no events, no Redis: the gap between it and the real service is what Hotline's rules cost.

Run by run.py (which creates TABLE_SQL first) as:  uvicorn --factory baseline_app:create_app --app-dir tests/perf/intake
Environment: BASELINE_DATABASE_URL, BASELINE_POOL_MAX (default 20, the service's HOTLINE_DB_POOL_MAX default).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Litestar, Response, post
from litestar.datastructures import State
from litestar.params import Body

TABLE_SQL = """
CREATE TABLE IF NOT EXISTS baseline_tickets (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel     text NOT NULL,
    kind        text NOT NULL,
    category    text,
    territory   text,
    title       text NOT NULL,
    content     text NOT NULL,
    caller_name text,
    caller_phone text,
    urgent      boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
)
"""

INSERT_SQL = """
INSERT INTO baseline_tickets (channel, kind, category, territory, title, content, caller_name, caller_phone, urgent)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id, created_at
"""


class Caller(msgspec.Struct):
    name: str | None = None
    phone: str | None = None


class TicketIn(msgspec.Struct):
    channel: str
    kind: str
    title: str
    content: str
    category: str | None = None
    territory: str | None = None
    caller: Caller | None = None
    urgent: bool = False


@post("/api/tickets", status_code=201)
async def create_ticket(data: Annotated[TicketIn, Body()], state: State) -> Response[dict[str, Any]]:
    caller = data.caller or Caller()
    row = await state.pool.fetchrow(
        INSERT_SQL,
        data.channel,
        data.kind,
        data.category,
        data.territory,
        data.title,
        data.content,
        caller.name,
        caller.phone,
        data.urgent,
    )
    return Response({"id": row["id"], "created_at": row["created_at"].isoformat()}, status_code=201)


def create_app() -> Litestar:
    url = os.environ["BASELINE_DATABASE_URL"]
    pool_max = int(os.environ.get("BASELINE_POOL_MAX", "20"))

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(url, min_size=2, max_size=pool_max, command_timeout=60)
        assert pool is not None
        app.state.pool = pool
        try:
            yield
        finally:
            await pool.close()

    return Litestar(route_handlers=[create_ticket], lifespan=[lifespan], debug=False)

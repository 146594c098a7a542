"""Make the browser tests' database from nothing: drop and create it, migrate, seed the demo accounts, add demo tickets.

Run as a child process (its own event loop, nothing shared with pytest's):
    python -m tests.e2e.prepare --tickets 1200
with HOTLINE_DATABASE_URL, HOTLINE_REDIS_URL and HOTLINE_DEMO_PASSWORD set.
"""

from __future__ import annotations

import argparse
import asyncio

from config.settings import get_settings
from hotline.infra import db
from hotline.infra.runtime import Runtime
from hotline.ops.demo import populate
from hotline.ops.seed import fresh_database


async def prepare(tickets: int) -> None:
    settings = get_settings()
    await fresh_database(settings.database_url, demo_password=settings.demo_password)
    admin = await db.connect(db.with_database(settings.database_url, "postgres"))
    try:
        # A throwaway test database: no need to wait for the disk on every commit.
        quoted = await admin.fetchval("SELECT quote_ident($1)", db.database_name(settings.database_url))
        await admin.execute(f"ALTER DATABASE {quoted} SET synchronous_commit = off")
    finally:
        await admin.close()
    rt = await Runtime.start(settings)
    try:
        await rt.redis.flushdb()  # this database number belongs to the browser tests alone
        counts = await populate(rt, tickets) if tickets else {}
    finally:
        await rt.close()
    print(
        f"prepared {db.database_name(settings.database_url)}: " + ", ".join(f"{k}={v}" for k, v in counts.items()),
        flush=True,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1200)
    asyncio.run(prepare(parser.parse_args().tickets))

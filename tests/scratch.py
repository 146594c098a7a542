"""A throwaway database for tests that need one of their own (migrations racing, seeding, the CLI, a replica)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from hotline import db
from hotline.migrate import migrate
from hotline.seed import seed


@asynccontextmanager
async def scratch_database(like_url: str, prefix: str, *, migrated: bool = False,
                           seeded: bool = False) -> AsyncIterator[str]:
    """The URL of a fresh database on the same server as `like_url`, dropped afterwards whatever happens."""
    url = db.with_database(like_url, f"hotline_{prefix}_{uuid.uuid4().hex[:8]}")
    await db.recreate_database(url)
    try:
        if migrated or seeded:
            conn = await db.connect(url)
            try:
                await migrate(conn)
                if seeded:
                    await seed(conn, demo=True, demo_password="pw")
            finally:
                await conn.close()
        yield url
    finally:
        await db.drop_database(url)

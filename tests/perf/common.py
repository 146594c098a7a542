"""What the benchmarks share: where each one's own database and Redis DB live, on the configured servers."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from config.settings import DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL


def bench_urls(
    db_name: str, redis_db: int | str, *, database_url: str | None = None, redis_url: str | None = None
) -> tuple[str, str]:
    """The benchmark's database `db_name` and Redis DB `redis_db` on the servers of HOTLINE_DATABASE_URL and
    HOTLINE_REDIS_URL (or the URLs given): a benchmark never touches the service's own data."""
    parts = urlsplit(database_url or os.environ.get("HOTLINE_DATABASE_URL") or DEFAULT_DATABASE_URL)
    rparts = urlsplit(redis_url or os.environ.get("HOTLINE_REDIS_URL") or DEFAULT_REDIS_URL)
    return (
        urlunsplit((parts.scheme, parts.netloc, "/" + db_name, parts.query, "")),
        urlunsplit((rparts.scheme, rparts.netloc, f"/{redis_db}", rparts.query, "")),
    )


async def drop_secondary_indexes(conn: Any, tables: Iterable[str]) -> list[str]:
    """Drop the indexes of `tables` that no key or constraint needs (a bulk load is faster without them) and
    return their definitions, to be run again after the load."""
    rows = await conn.fetch(
        """SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
           FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
           WHERE c.relname = any($1::text[]) AND NOT i.indisprimary
             AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)""",
        list(tables),
    )
    for r in rows:
        await conn.execute(f"DROP INDEX {r['name']}")
    return [r["def"] for r in rows]


async def as_owner(url: str, *statements: str) -> None:
    """Maintenance the service's runtime role may not do (ANALYZE, VACUUM, TRUNCATE need the tables' owner): run
    with the configured superuser URL, as `hotline migrate` is."""
    from hotline.infra import db

    conn = await db.connect(url)
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()

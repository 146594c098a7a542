"""What the benchmarks share: where each one's own database and Redis DB live, on the configured servers."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from config.settings import DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL


def bench_urls(db_name: str, redis_db: int | str, *, database_url: str | None = None,
               redis_url: str | None = None) -> tuple[str, str]:
    """The benchmark's database `db_name` and Redis DB `redis_db` on the servers of HOTLINE_DATABASE_URL and
    HOTLINE_REDIS_URL (or the URLs given): a benchmark never touches the service's own data."""
    parts = urlsplit(database_url or os.environ.get("HOTLINE_DATABASE_URL") or DEFAULT_DATABASE_URL)
    rparts = urlsplit(redis_url or os.environ.get("HOTLINE_REDIS_URL") or DEFAULT_REDIS_URL)
    return (urlunsplit((parts.scheme, parts.netloc, "/" + db_name, parts.query, "")),
            urlunsplit((rparts.scheme, rparts.netloc, f"/{redis_db}", rparts.query, "")))

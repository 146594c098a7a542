"""SQL statements kept as ``.sql`` files beside the module that runs them.

A module whose statements are longer than a few lines keeps them in a ``sql/`` folder next to itself, one
statement per file, with its named parameters documented in a comment header. The module loads them once::

    from hotline.infra.sql import load

    _FACTS = load(__file__, "facts")      # hotline/reports/sql/facts.sql

Files are read on first use and cached for the life of the process: a statement is text that never changes
while the service runs, and asyncpg prepares it on each connection the first time it is used. The leading
`--` header is left out of the text sent to the server.
"""

from __future__ import annotations

import functools
from pathlib import Path


@functools.cache
def load(anchor: str, name: str) -> str:
    """The statement ``name`` from the ``sql/`` folder beside the module file ``anchor`` (pass ``__file__``)."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"not a statement name: {name!r}")
    path = Path(anchor).resolve().parent / "sql" / f"{name}.sql"
    lines = path.read_text(encoding="utf-8").strip().splitlines()
    # The header documents the file for its reader; the server is sent the statement alone, so that what
    # pg_stat_activity shows of it (its first kilobyte, track_activity_query_size) is SQL, not the comment.
    while lines and lines[0].lstrip().startswith("--"):
        lines.pop(0)
    text = "\n".join(lines).strip()
    if not text:
        raise ValueError(f"empty statement file: {path}")
    return text

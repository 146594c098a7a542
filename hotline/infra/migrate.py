"""Forward-only SQL migrations (hotline/infra/migrations/NNNN_name.sql), applied in order under an advisory lock,
then, when connected as a superuser, the owner and runtime roles (hotline/infra/db_roles.py) made and granted again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import structlog

from hotline.infra import db_roles as roles
from hotline.infra.db import Conn
from hotline.infra.sql import load

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
LOCK_KEY = 0x686F746C696E65  # "hotline": one lock id shared by every process that migrates
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Migration:
    version: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


class MigrationError(RuntimeError):
    pass


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = sorted(directory.glob("[0-9][0-9][0-9][0-9]_*.sql"))
    versions = [p.name.split("_", 1)[0] for p in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations share a number in {directory}: {versions}")
    return [Migration(p.stem, p) for p in found]


async def migrate(conn: Conn, directory: Path = MIGRATIONS_DIR, *, runtime_url: str | None = None) -> list[str]:
    """Apply pending migrations; returns the versions applied. Safe to run from several processes at once.
    `runtime_url` (HOTLINE_DATABASE_RUNTIME_URL) names the runtime role and its password instead of `<db>_app`."""
    await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
    try:
        await conn.execute(load(__file__, "schema_migrations"))
        applied = {
            r["version"]: r["checksum"] for r in await conn.fetch("SELECT version, checksum FROM schema_migrations")
        }
        done: list[str] = []
        for m in discover(directory):
            if m.version in applied:
                if applied[m.version] != m.checksum:
                    log.warning("migration_changed_after_apply", version=m.version)
                continue
            async with conn.transaction():
                await conn.execute(m.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)", m.version, m.checksum
                )
            log.info("migration_applied", version=m.version)
            done.append(m.version)
        if await roles.is_superuser(conn):
            try:
                owner, app = await roles.provide(conn, runtime_url)
            except roles.RoleError as exc:
                raise MigrationError(str(exc)) from exc
            log.info("roles_granted", owner=owner, runtime=app)
        else:
            # Not ours to make: the operator's roles are used as they are (the service connects as this one).
            log.info("roles_skipped", reason="not a superuser")
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)

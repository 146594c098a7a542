"""Throwaway services for tests that need their own: a database (migrations racing, seeding, the CLI, a replica)
and a private redis-server that a test may kill and start again (outages)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from hotline import db
from hotline.seed import fresh_database


@asynccontextmanager
async def scratch_database(like_url: str, prefix: str, *, migrated: bool = False,
                           seeded: bool = False) -> AsyncIterator[str]:
    """The URL of a fresh database on the same server as `like_url`, dropped afterwards whatever happens."""
    url = db.with_database(like_url, f"hotline_{prefix}_{uuid.uuid4().hex[:8]}")
    try:
        if migrated or seeded:
            await fresh_database(url, demo_password="pw" if seeded else None)
        else:
            await db.recreate_database(url)
        yield url
    finally:
        await db.drop_database(url)
        await drop_roles(url)


async def drop_roles(url: str, *names: str) -> None:
    """Drop the roles `hotline migrate` made for the database of `url` (and `names`): roles belong to the whole
    server and would outlive the throwaway database."""
    from hotline.roles import owner_role, runtime_role

    name = db.database_name(url)
    conn = await db.connect(db.with_database(url, "postgres"))
    try:
        for role in (runtime_role(name), owner_role(name), *names):
            await conn.execute(await conn.fetchval("SELECT format('DROP ROLE IF EXISTS %I', $1::text)", role))
    finally:
        await conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis(port: int, directory: Path) -> subprocess.Popen[bytes]:
    """A private redis-server on `port` (nothing saved), ready to take connections; fails the test if it cannot."""
    import pytest

    binary = shutil.which("redis-server")
    assert binary, "redis-server is needed for the Redis outage tests (it comes with the Redis the suite uses)"
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    pytest.fail(f"a private redis-server did not start on port {port}")


def stop_redis(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


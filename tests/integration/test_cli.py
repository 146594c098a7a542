"""The `hotline` command as an operator runs it: migrate, seed with demo history, and service discovery."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hotline import db
from tests.scratch import scratch_database

HOTLINE = str(Path(sys.executable).with_name("hotline"))


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HOTLINE, *args], env=env, capture_output=True, text=True, timeout=300)


async def test_migrate_then_seed_with_demo_tickets_from_the_command_line(settings, database):
    async with scratch_database(database, "clitest") as url:
        env = {**os.environ, "HOTLINE_DATABASE_URL": url, "HOTLINE_REDIS_URL": settings.redis_url,
               "HOTLINE_DEMO_PASSWORD": "pw", "HOTLINE_LOG_LEVEL": "WARNING"}
        done = _run("migrate", env=env)
        assert done.returncode == 0 and "migrations applied: 0001_core" in done.stdout, done.stderr
        assert "none (up to date)" in _run("migrate", env=env).stdout
        refused = _run("seed", "--demo-tickets", "5", env=env)
        assert refused.returncode != 0 and "--demo-tickets needs --demo" in refused.stderr
        done = _run("seed", "--demo", "--demo-tickets", "25", env=env)
        assert done.returncode == 0, done.stderr
        assert "accounts=" in done.stdout and "demo_tickets=" in done.stdout
        conn = await db.connect(url)
        try:
            assert await conn.fetchval("SELECT count(*) FROM tickets") >= 25
            assert await conn.fetchval("SELECT count(*) FROM users WHERE username = 'handler-320612-bureau'") == 1
            assert await conn.fetchval("SELECT count(DISTINCT status) FROM tickets") >= 3
        finally:
            await conn.close()


def test_services_prints_exports_for_the_reachable_servers():
    done = subprocess.run([HOTLINE, "services"], capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")})
    assert done.returncode == 0, done.stderr
    assert "export HOTLINE_DATABASE_URL=" in done.stdout and "export HOTLINE_REDIS_URL=" in done.stdout

"""On this machine (its PostgreSQL and Redis installed and listening): nothing is installed, and
HOTLINE_SERVICES=private starts private servers under the state directory, on the ports asked for, even though the
defaults listen and a URL is configured."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis

from hotline.ops import devservices, packages

ROOT = Path(__file__).resolve().parents[2]


def _no_postgres(_: str) -> None:
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def state_dir() -> Iterator[Path]:
    # Not pytest's tmp_path: its parents are private to root, and the private PostgreSQL runs as `postgres` then.
    path = Path(tempfile.mkdtemp(prefix="hotline-private-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    pg_ctl = devservices._find("pg_ctl")
    if pg_ctl and (path / "pg" / "postmaster.pid").exists():
        subprocess.run(
            devservices._as_postgres_user([pg_ctl, "-D", str(path / "pg"), "-m", "immediate", "stop"]),
            capture_output=True,
            check=False,
        )
    subprocess.run(["rm", "-rf", str(path)], check=False)


async def test_private_mode_ignores_listening_defaults_and_uses_the_ports_asked_for(state_dir: Path) -> None:
    with socket.create_connection(("localhost", 5432), timeout=2):  # the premise: a system server is there
        pass
    pg_port, redis_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "HOTLINE_SERVICES": "private",
        "HOTLINE_STATE_DIR": str(state_dir),
        "HOTLINE_PRIVATE_PG_PORT": str(pg_port),
        "HOTLINE_PRIVATE_REDIS_PORT": str(redis_port),
        "HOTLINE_DATABASE_URL": "postgresql://postgres@localhost:5432/hotline",
        "HOTLINE_REDIS_URL": "redis://localhost:6379/0",
    }
    out = await asyncio.to_thread(  # off the event loop: the private servers take seconds to start
        subprocess.run,
        [sys.executable, "-m", "hotline.ops.cli", "services"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "installing" not in out.stderr  # this machine has the binaries
    exports = dict(line.removeprefix("export ").split("=", 1) for line in out.stdout.splitlines())
    assert exports["HOTLINE_DATABASE_URL"] == f"postgresql://postgres@127.0.0.1:{pg_port}/hotline"
    assert exports["HOTLINE_REDIS_URL"] == f"redis://127.0.0.1:{redis_port}/0"
    assert (state_dir / "pg" / "PG_VERSION").exists()

    conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{pg_port}/postgres")
    try:
        assert await conn.fetchval("SELECT current_setting('data_directory')") == str(state_dir / "pg")
    finally:
        await conn.close()
    r = aioredis.from_url(f"redis://127.0.0.1:{redis_port}/0")
    try:
        assert (await r.config_get("dir"))["dir"] == str(state_dir)
        await r.shutdown(nosave=True)
    except aioredis.ConnectionError:
        pass  # SHUTDOWN closes the connection it came on
    finally:
        await r.aclose()


def test_nothing_is_installed_when_the_binaries_are_there(recording_apt: Path, tmp_path: Path) -> None:
    assert devservices._find("initdb") and devservices._find("pg_ctl") and devservices._find("redis-server")
    packages.ensure(devservices._find, True, True, tmp_path / "state")
    assert not recording_apt.exists()


def test_nothing_is_installed_when_the_services_are_configured_or_reachable(
    recording_apt: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Binaries "missing", yet this machine's servers listen on the default ports: they are used, nothing installed.
    monkeypatch.setattr(devservices, "_find", _no_postgres)
    monkeypatch.delenv("HOTLINE_SERVICES", raising=False)
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    monkeypatch.delenv("HOTLINE_REDIS_URL", raising=False)
    assert devservices.discover() == {
        "HOTLINE_DATABASE_URL": devservices.DEFAULT_DATABASE_URL,
        "HOTLINE_REDIS_URL": devservices.DEFAULT_REDIS_URL,
    }
    monkeypatch.setenv("HOTLINE_DATABASE_URL", "postgresql://postgres@localhost:5432/elsewhere")
    assert devservices.discover()["HOTLINE_DATABASE_URL"].endswith("/elsewhere")
    assert not recording_apt.exists()

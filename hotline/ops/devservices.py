"""Find PostgreSQL and Redis for `make run` / `make test`, or start private ones under .hotline/.

Order: the configured URLs (HOTLINE_DATABASE_URL / HOTLINE_REDIS_URL) if set; else the defaults on localhost if
something listens there; else private servers from the system's initdb/pg_ctl/redis-server, on ports 55432/56379
(HOTLINE_PRIVATE_PG_PORT / HOTLINE_PRIVATE_REDIS_PORT), installed first when missing (hotline/ops/packages.py).
HOTLINE_SERVICES=private skips the first two.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from config.settings import DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL
from hotline.ops import packages
from hotline.ops.packages import ServiceError

STATE_DIR = Path(os.environ.get("HOTLINE_STATE_DIR", ".hotline")).resolve()
PRIVATE_PG_PORT = packages.env_port("HOTLINE_PRIVATE_PG_PORT", 55432)
PRIVATE_REDIS_PORT = packages.env_port("HOTLINE_PRIVATE_REDIS_PORT", 56379)


def _listening(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "localhost", parts.port or default_port


def _find(binary: str) -> str | None:
    found = shutil.which(binary)
    if found:
        return found
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (base / binary).exists():
            return str(base / binary)
    return None


def _as_postgres_user(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def start_private_postgres() -> str:
    initdb, pg_ctl = _find("initdb"), _find("pg_ctl")
    if not initdb or not pg_ctl:
        raise ServiceError(
            "PostgreSQL is not reachable and initdb/pg_ctl are missing: install it, e.g. "
            "`apt-get install postgresql`, or set HOTLINE_DATABASE_URL"
        )
    data = STATE_DIR / "pg"
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", "postgres", str(STATE_DIR)], check=False)
        STATE_DIR.chmod(0o755)
    if not (data / "PG_VERSION").exists():
        data.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            subprocess.run(["chown", "postgres", str(data)], check=True)
        subprocess.run(
            _as_postgres_user(
                [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    if not _listening("127.0.0.1", PRIVATE_PG_PORT):
        opts = (
            f"-p {PRIVATE_PG_PORT} -k {data} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        subprocess.run(
            _as_postgres_user([pg_ctl, "-D", str(data), "-l", str(data / "server.log"), "-o", opts, "-w", "start"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return f"postgresql://postgres@127.0.0.1:{PRIVATE_PG_PORT}/hotline"


def start_private_redis() -> str:
    server = shutil.which("redis-server")
    if not server:
        raise ServiceError(
            "Redis is not reachable and redis-server is missing: install it, e.g. "
            "`apt-get install redis-server`, or set HOTLINE_REDIS_URL"
        )
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    if not _listening("127.0.0.1", PRIVATE_REDIS_PORT):
        subprocess.run(
            [
                server,
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                str(PRIVATE_REDIS_PORT),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(STATE_DIR),
                "--logfile",
                str(STATE_DIR / "redis.log"),
            ],
            check=True,
        )
        for _ in range(50):
            if _listening("127.0.0.1", PRIVATE_REDIS_PORT):
                break
            time.sleep(0.1)
    return f"redis://127.0.0.1:{PRIVATE_REDIS_PORT}/0"


def discover() -> dict[str, str]:
    """Return the environment that points at reachable services, starting private ones if needed.

    HOTLINE_SERVICES=private: private servers even when URLs are set or something listens on the default ports.
    """
    env: dict[str, str] = {}
    private = packages.services_mode() == "private"

    def wants_private(configured: str, default: str, port: int) -> bool:
        return private or (not configured and not _listening(*_host_port(default, port)))

    configured_db = os.environ.get("HOTLINE_DATABASE_URL", "").strip()
    configured_redis = os.environ.get("HOTLINE_REDIS_URL", "").strip()
    # One install, one line, for both servers; nothing when they are configured, reachable or already installed.
    packages.ensure(
        _find,
        wants_private(configured_db, DEFAULT_DATABASE_URL, 5432),
        wants_private(configured_redis, DEFAULT_REDIS_URL, 6379),
        STATE_DIR,
    )
    db_url = "" if private else configured_db
    if db_url:
        host, port = _host_port(db_url, 5432)
        if not _listening(host, port):
            raise ServiceError(f"HOTLINE_DATABASE_URL points at {host}:{port}, where nothing listens")
    else:
        host, port = _host_port(DEFAULT_DATABASE_URL, 5432)
        db_url = DEFAULT_DATABASE_URL if not private and _listening(host, port) else start_private_postgres()
    env["HOTLINE_DATABASE_URL"] = db_url
    redis_url = "" if private else configured_redis
    if redis_url:
        host, port = _host_port(redis_url, 6379)
        if not _listening(host, port):
            raise ServiceError(f"HOTLINE_REDIS_URL points at {host}:{port}, where nothing listens")
    else:
        host, port = _host_port(DEFAULT_REDIS_URL, 6379)
        redis_url = DEFAULT_REDIS_URL if not private and _listening(host, port) else start_private_redis()
    env["HOTLINE_REDIS_URL"] = redis_url
    return env


def main() -> None:
    try:
        env = discover()
    except (ServiceError, subprocess.CalledProcessError) as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        sys.exit(2)
    for key, value in env.items():
        print(f"export {key}={value}")

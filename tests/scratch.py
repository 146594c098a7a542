"""Throwaway services for tests that need their own: a database (migrations racing, seeding, the CLI, a replica)
a private redis-server that a test may kill and start again (outages), and a private PostgreSQL with password
authentication (the runtime role)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from hotline.infra import db
from hotline.ops.seed import fresh_database


@asynccontextmanager
async def scratch_database(
    like_url: str, prefix: str, *, migrated: bool = False, seeded: bool = False
) -> AsyncIterator[str]:
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
    from hotline.infra.db_roles import owner_role, runtime_role

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
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
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


@contextmanager
def private_postgres(auth: str = "scram-sha-256", password: str = "pw") -> Iterator[str]:
    """A PostgreSQL server of the test's own, on a free port, whose `postgres` superuser logs in with `password`
    (the shared server trusts everyone): its URL, the server stopped and removed afterwards."""
    import os
    import tempfile

    import pytest

    from hotline.ops.devservices import _as_postgres_user, _find

    initdb, pg_ctl = _find("initdb"), _find("pg_ctl")
    assert initdb and pg_ctl, "initdb/pg_ctl are needed (they come with the PostgreSQL the suite uses)"
    base = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
    base.chmod(0o755)
    (base / "pw").write_text(password + "\n")
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", "postgres", str(base)], check=True)
    port = free_port()
    data = base / "data"
    try:
        subprocess.run(
            _as_postgres_user(
                [
                    initdb,
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    f"--auth={auth}",
                    f"--pwfile={base / 'pw'}",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        started = subprocess.run(
            _as_postgres_user(
                [
                    pg_ctl,
                    "-D",
                    str(data),
                    "-l",
                    str(base / "log"),
                    "-w",
                    "start",
                    "-o",
                    f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off",
                ]
            ),
            stdout=subprocess.DEVNULL,
        )
        if started.returncode != 0:
            pytest.fail(f"a private PostgreSQL did not start: {(base / 'log').read_text()[-2000:]}")
        yield f"postgresql://postgres:{password}@127.0.0.1:{port}/hotline"
    finally:
        subprocess.run(
            _as_postgres_user([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(base, ignore_errors=True)


class PrivatePostgres:
    """A private PostgreSQL cluster under `directory` (initdb'd on first start), which a test may stop, restart and
    start again: the database going away under load, as in a failover or a restart for maintenance."""

    def __init__(self, port: int) -> None:
        import tempfile

        # Not under pytest's tmp_path: the postgres user must reach the directory, and pytest's is root's only.
        self.directory = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
        self.directory.chmod(0o755)
        self.data = self.directory / "pg"
        self.port = port
        self.url = f"postgresql://postgres@127.0.0.1:{port}/hotline"

    def _run(self, *cmd: str) -> None:
        import os

        binaries = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
        path = ":".join([*map(str, binaries), os.environ.get("PATH", "")])
        runner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*runner, "env", f"PATH={path}", *cmd],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )

    def start(self) -> None:
        import os

        if not (self.data / "PG_VERSION").exists():
            self.data.mkdir(parents=True)
            if os.geteuid() == 0:
                shutil.chown(self.data, "postgres")
            self._run(
                "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"
            )
        opts = (
            f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.data / "server.log"), "-o", opts, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "restart")

    def close(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self.stop("immediate")
            except subprocess.SubprocessError:
                pass
        shutil.rmtree(self.directory, ignore_errors=True)

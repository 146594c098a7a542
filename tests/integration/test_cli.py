"""The `hotline` command as an operator runs it: migrate, seed with demo history, and service discovery."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from hotline.infra import db
from tests.conftest import ticket_body
from tests.polling import eventually
from tests.scratch import free_port, scratch_database

HOTLINE = str(Path(sys.executable).with_name("hotline"))


async def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`hotline ...` to its end, off the event loop (a migration or a seed takes seconds)."""
    return await asyncio.to_thread(
        subprocess.run, [HOTLINE, *args], env=env, capture_output=True, text=True, timeout=300
    )


async def test_migrate_then_seed_with_demo_tickets_from_the_command_line(settings, database):
    async with scratch_database(database, "clitest") as url:
        env = {
            **os.environ,
            "HOTLINE_DATABASE_URL": url,
            "HOTLINE_REDIS_URL": settings.redis_url,
            "HOTLINE_DEMO_PASSWORD": "pw",
            "HOTLINE_LOG_LEVEL": "WARNING",
        }
        done = await _run("migrate", env=env)
        assert done.returncode == 0 and "migrations applied: 0001_core" in done.stdout, done.stderr
        assert "none (up to date)" in (await _run("migrate", env=env)).stdout
        refused = await _run("seed", "--demo-tickets", "5", env=env)
        assert refused.returncode != 0 and "--demo-tickets needs --demo" in refused.stderr
        done = await _run("seed", "--demo", "--demo-tickets", "25", env=env)
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
    done = subprocess.run(
        [HOTLINE, "services"],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")},
    )
    assert done.returncode == 0, done.stderr
    assert "export HOTLINE_DATABASE_URL=" in done.stdout and "export HOTLINE_REDIS_URL=" in done.stdout


def _operator_env(url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of an install: no development marker unless a test adds one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    return {
        **env,
        "HOTLINE_DATABASE_URL": url,
        "HOTLINE_REDIS_URL": redis_url,
        "HOTLINE_DEMO_PASSWORD": "pw",
        "HOTLINE_LOG_LEVEL": "WARNING",
        "HOTLINE_WEB_WORKERS": "1",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`hotline ...` in a session of its own (so `_stop` reaches what it starts), logging to a file: a full pipe
    would stall it. Popen returns at once; the waiting is done by the async helpers below."""
    with open(log, "wb") as out:
        return subprocess.Popen([HOTLINE, *args], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _tail(log: Path) -> str:
    return log.read_text()[-3000:]


async def _until_signed_in(proc: subprocess.Popen[bytes], base: str, log: Path) -> str:
    import httpx

    token: list[str] = []
    async with httpx.AsyncClient(base_url=base, timeout=2) as client:

        async def signed_in() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"exited with {proc.returncode}:\n{await asyncio.to_thread(_tail, log)}")
            r = await client.post("/api/auth/token", json={"username": "agent", "password": "pw"})
            if r.status_code == 200:
                token.append(r.json()["access_token"])
            return bool(token)

        await eventually(signed_in, what=lambda: f"a sign-in:\n{_tail(log)}", every=0.3, tolerate=(httpx.HTTPError,))
    return token[0]


async def _backend_users(url: str) -> set[str]:
    conn = await db.connect(db.with_database(url, "postgres"))
    try:
        return {
            r["usename"]
            for r in await conn.fetch(
                "SELECT usename FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                db.database_name(url),
            )
        }
    finally:
        await conn.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then whatever of its process group is left (the API and worker `hotline dev` starts)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


async def test_migrate_seed_and_serve_with_a_superuser_url_serve_as_the_runtime_role(settings, database, tmp_path):
    """What an operator (and the external tests) run: a superuser URL and a secret key, nothing else configured."""
    import httpx

    async with scratch_database(database, "cliserve") as url:
        await db.drop_database(url)  # from nothing: `hotline migrate` creates the database
        env = _operator_env(url, settings.redis_url, HOTLINE_SECRET_KEY="an-install-key-for-the-cli-test-0123456789")
        for step in (("migrate",), ("seed", "--demo")):
            done = await _run(*step, env=env)
            assert done.returncode == 0, done.stderr
        port, log = free_port(), tmp_path / "serve.log"
        proc = _spawn(["serve", "--port", str(port)], env, log)
        try:
            token = await _until_signed_in(proc, f"http://127.0.0.1:{port}", log)
            async with httpx.AsyncClient(timeout=10) as client:
                r = await client.post(
                    f"http://127.0.0.1:{port}/api/tickets",
                    headers={"Authorization": f"Bearer {token}"},
                    json=ticket_body(),
                )
            assert r.status_code == 201, r.text
            assert await _backend_users(url) == {f"{db.database_name(url)}_app"}
        finally:
            _stop(proc)


async def test_serve_refuses_to_start_without_a_secret_key_outside_development(settings, database, tmp_path):
    async with scratch_database(database, "clikey", migrated=True) as url:
        env = _operator_env(url, settings.redis_url)
        proc = await asyncio.create_subprocess_exec(
            HOTLINE,
            "serve",
            "--port",
            str(free_port()),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        try:  # a server that refuses exits at once; one that started would never end: 30 s tells them apart
            _, raw = await asyncio.wait_for(proc.communicate(), 30)
        except TimeoutError:
            os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            raise AssertionError("hotline serve started with the development key and no HOTLINE_ENV") from None
        err = raw.decode()
        assert proc.returncode != 0 and "HOTLINE_SECRET_KEY is not set" in err, err


async def test_dev_runs_with_nothing_configured_and_its_processes_use_the_runtime_role(settings, database, tmp_path):
    """`make run` on a fresh machine: no secret key, no HOTLINE_ENV; `hotline dev` says it is development."""
    async with scratch_database(database, "clidev") as url:
        await db.drop_database(url)
        env = _operator_env(url, settings.redis_url, HOTLINE_LOG_LEVEL="INFO")
        port, log = free_port(), tmp_path / "dev.log"
        proc = _spawn(["dev", "--demo-tickets", "0", "--port", str(port)], env, log)
        try:
            await _until_signed_in(proc, f"http://127.0.0.1:{port}", log)

            async def worker_started() -> bool:  # the worker has connected once it logs its start
                return "worker_started" in await asyncio.to_thread(log.read_text)

            await eventually(worker_started, what=lambda: _tail(log), every=0.3)
            assert await _backend_users(url) == {f"{db.database_name(url)}_app"}
        finally:
            _stop(proc)

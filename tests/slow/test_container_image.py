"""The Dockerfile builds, and its image runs the service: migrate (one-shot), the API (healthy by its own
HEALTHCHECK on /readyz, as a non-root user) and the worker, against this machine's PostgreSQL and Redis under a
private database; one ticket goes through intake.

No image registry is reachable here, so python:3.11-slim cannot be pulled: the Dockerfile takes its base as a build
argument and this test builds FROM a Debian made locally (debootstrap, python3 and python3-venv, this machine's
package configuration read at run time so pip reaches the registry: tests/slow/test_bare_machine.py's helpers).
The containers use the host's network (the test's own dockerd runs with --bridge=none --iptables=false: the default
bridge's range is not allowed here). compose.yaml is checked by tests/unit/test_deploy_files.py (docker-compose
config): compose's postgres:15 and redis:7 cannot be pulled here, nor its bridge network made.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.slow.test_bare_machine import (
    SUITE,
    TRUST_PACKAGES,
    Docker,
    _debian_mirror,
    _dockerd,
    _free_port,
    _host_tools,
    _http,
    _package_config,
    _run,
)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "hotline-image-test"
BASE = "hotline-image-base"
READY_LIMIT = 120


def _base_image(docker: Docker, work: Path) -> None:
    """Debian with python3 and its venv module, what python:3.11-slim gives the Dockerfile, and the registry set-up."""
    rootfs = work / "rootfs"
    _run(["debootstrap", "--variant=minbase", SUITE, str(rootfs), _debian_mirror()], timeout=900)
    _run(["sh", "-c", f"tar -C {rootfs} -c . | docker -H unix://{docker.sock} import - {BASE}-raw"], timeout=600)
    shutil.rmtree(rootfs, ignore_errors=True)
    docker("run", "-d", "--name", f"{BASE}-prep", "--network", "host", f"{BASE}-raw", "sleep", "infinity")
    try:
        stage = work / "config"
        stage.mkdir()
        for copy, dest in _package_config(stage):
            docker("exec", f"{BASE}-prep", "mkdir", "-p", dest if copy.is_dir() else str(Path(dest).parent))
            docker("cp", f"{copy}/." if copy.is_dir() else str(copy), f"{BASE}-prep:{dest}")
        docker(
            "exec",
            "-e",
            "DEBIAN_FRONTEND=noninteractive",
            f"{BASE}-prep",
            "sh",
            "-c",
            "apt-get update -q && apt-get install -y -q --no-install-recommends python3 python3-venv "
            + " ".join(TRUST_PACKAGES)
            + " && rm -rf /var/lib/apt/lists/*",
            timeout=900,
        )
        changes = [f"ENV {n}={os.environ[n]}" for n in ("PIP_CERT", "PIP_DEFAULT_TIMEOUT") if os.environ.get(n)]
        docker("commit", *(arg for c in changes for arg in ("--change", c)), f"{BASE}-prep", BASE)
    finally:
        docker("rm", "-f", f"{BASE}-prep")


def _private_urls() -> tuple[str, str, str]:
    """(superuser URL of a database of the test's own, its maintenance URL, a Redis URL on a database of its own)."""
    db = urlsplit(os.environ["HOTLINE_DATABASE_URL"])
    name = (db.path.lstrip("/") or "hotline") + "_image"
    redis = urlsplit(os.environ["HOTLINE_REDIS_URL"])
    return (
        urlunsplit((db.scheme, db.netloc, f"/{name}", "", "")),
        urlunsplit((db.scheme, db.netloc, "/postgres", "", "")),
        urlunsplit((redis.scheme, redis.netloc, f"/{int(os.environ.get('HOTLINE_E2E_REDIS_DB', '6')) + 1}", "", "")),
    )


def _drop(maintenance_url: str, db_name: str) -> None:
    """The private database and the two roles `hotline migrate` made for it."""
    for sql in (
        f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)',
        f'DROP ROLE IF EXISTS "{db_name}_app"',
        f'DROP ROLE IF EXISTS "{db_name}_owner"',
    ):
        subprocess.run(["psql", maintenance_url, "-qc", sql], capture_output=True, check=False, timeout=60)


def _wait_ready(port: int, container: str, docker: Docker) -> float:
    started = time.monotonic()
    while time.monotonic() - started < READY_LIMIT:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as resp:
                if resp.status == 200:
                    return time.monotonic() - started
        except OSError:
            pass
        state = json.loads(docker("inspect", "--format", "{{json .State}}", container).stdout)
        if not state["Running"]:
            pytest.fail(f"{container} exited {state['ExitCode']}:\n{docker('logs', container).stderr[-3000:]}")
        time.sleep(1)
    pytest.fail(f"/readyz did not answer in {READY_LIMIT} s:\n{docker('logs', container).stderr[-3000:]}")


def _wait_health(docker: Docker, container: str, limit: float = 90) -> str:
    deadline = time.monotonic() + limit
    status = ""
    while time.monotonic() < deadline:
        status = docker("inspect", "--format", "{{.State.Health.Status}}", container).stdout.strip()
        if status in ("healthy", "unhealthy"):
            return status
        time.sleep(1)
    return status


def test_the_image_builds_from_the_lock_and_runs_migrate_api_and_worker() -> None:
    started = time.monotonic()
    _host_tools()
    assert shutil.which("psql"), "psql missing: the test makes and drops a database of its own"
    work = Path(tempfile.mkdtemp(prefix="hi-", dir="/tmp"))
    db_url, maintenance_url, redis_url = _private_urls()
    db_name = urlsplit(db_url).path.lstrip("/")
    _drop(maintenance_url, db_name)
    api_port = _free_port()
    demo_password = secrets.token_urlsafe(12)
    secret_key = secrets.token_urlsafe(32)
    env = ["-e", f"HOTLINE_DATABASE_URL={db_url}", "-e", f"HOTLINE_REDIS_URL={redis_url}"]
    try:
        with _dockerd(work) as docker:
            _base_image(docker, work)
            print(f"\nbase image in {time.monotonic() - started:.0f} s", flush=True)
            build_started = time.monotonic()
            docker(
                "build",
                "--network",
                "host",
                "--build-arg",
                f"BASE={BASE}",
                "-t",
                IMAGE,
                str(ROOT),
                timeout=1800,
                env={**os.environ, "DOCKER_BUILDKIT": "0"},
            )
            print(f"docker build: {time.monotonic() - build_started:.0f} s", flush=True)
            config = json.loads(docker("inspect", "--format", "{{json .Config}}", IMAGE).stdout)
            assert config["User"] == "hotline" and config["Entrypoint"] == ["hotline"], config
            assert "/readyz" in " ".join(config["Healthcheck"]["Test"]), config["Healthcheck"]
            # Nothing secret in the image: the settings come from the environment it is started with.
            assert not [e for e in config["Env"] if e.startswith(("HOTLINE_SECRET_KEY", "HOTLINE_DATABASE"))]

            try:
                # The one-shot migrate, as compose.yaml runs it (plus the demo accounts this test signs in with).
                migrated = docker(
                    "run",
                    "--rm",
                    "--network",
                    "host",
                    *env,
                    "-e",
                    f"HOTLINE_DEMO_PASSWORD={demo_password}",
                    "--entrypoint",
                    "sh",
                    IMAGE,
                    "-c",
                    "hotline migrate && hotline seed --demo",
                    timeout=300,
                )
                assert "migrations applied: 0001" in migrated.stdout, migrated.stdout + migrated.stderr

                run_env = [*env, "-e", f"HOTLINE_SECRET_KEY={secret_key}", "-e", "HOTLINE_WEB_WORKERS=1"]
                docker(
                    "run",
                    "-d",
                    "--name",
                    "hotline-image-api",
                    "--network",
                    "host",
                    *run_env,
                    "-e",
                    "HOTLINE_HOST=127.0.0.1",
                    "-e",
                    f"HOTLINE_PORT={api_port}",
                    IMAGE,
                    "serve",
                )
                docker(
                    "run",
                    "-d",
                    "--name",
                    "hotline-image-worker",
                    "--network",
                    "host",
                    *run_env,
                    "--health-cmd",
                    "hotline worker --check",
                    "--health-interval",
                    "5s",
                    IMAGE,
                    "worker",
                )
                ready_after = _wait_ready(api_port, "hotline-image-api", docker)
                print(f"api /readyz answered {ready_after:.1f} s after start", flush=True)
                assert docker("exec", "hotline-image-api", "id", "-u").stdout.strip() != "0"

                status, body = _http(
                    "POST",
                    f"http://127.0.0.1:{api_port}/api/auth/token",
                    {"username": "agent", "password": demo_password},
                )
                assert status == 200, body
                token = body["access_token"]
                status, ticket = _http(
                    "POST",
                    f"http://127.0.0.1:{api_port}/api/tickets",
                    {
                        "channel": "96196",
                        "kind": "complaint",
                        "category": "taxi",
                        "territory": "320612",
                        "title": "出租车拒载",
                        "content": "乘客在万达广场打车被拒载。",
                        "caller": {"name": "张先生", "phone": "13812345678"},
                        "urgent": False,
                    },
                    token,
                )
                assert status == 201, ticket
                status, read = _http("GET", f"http://127.0.0.1:{api_port}/api/tickets/{ticket['number']}", token=token)
                assert status == 200 and read["number"] == ticket["number"], read

                # The image's own HEALTHCHECK (/readyz) and the worker's (`hotline worker --check`) both pass.
                health_started = time.monotonic()
                assert _wait_health(docker, "hotline-image-api") == "healthy"
                assert _wait_health(docker, "hotline-image-worker") == "healthy", docker(
                    "logs", "hotline-image-worker"
                ).stderr[-3000:]
                print(f"both containers healthy {time.monotonic() - health_started:.0f} s later", flush=True)
                size = docker("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout.strip()
                print(f"image size: {int(size) / 1e6:.0f} MB", flush=True)
            finally:
                for name in ("hotline-image-api", "hotline-image-worker"):
                    subprocess.run(
                        ["docker", "-H", f"unix://{docker.sock}", "rm", "-f", name],
                        capture_output=True,
                        check=False,
                        timeout=120,
                    )
    finally:
        mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
        for mount in sorted((m for m in mounts if m.startswith(f"{work}/")), reverse=True):
            subprocess.run(["umount", mount], capture_output=True, check=False)
        shutil.rmtree(work, ignore_errors=True)
        _drop(maintenance_url, db_name)
        print(f"whole image test: {time.monotonic() - started:.0f} s", flush=True)

"""The Dockerfile builds, and its image runs the service: migrate (one-shot), the API (healthy by its own
HEALTHCHECK on /readyz, as a non-root user) and the worker, against this machine's PostgreSQL and Redis under a
private database; one ticket goes through intake.

No image registry is reachable here, so python:3.11-slim cannot be pulled: the Dockerfile takes its base as a build
argument and this test builds FROM a Debian made locally (debootstrap, python3 and python3-venv, this machine's
package configuration read at run time so pip reaches the registry: tests/slow/test_bare_machine.py's helpers).
The containers use the host's network (the test's own dockerd runs with --bridge=none --iptables=false: the default
bridge's range is not allowed here). compose.yaml is checked by tests/integration/test_deploy_files.py (docker-compose
config): compose's postgres:15 and redis:7 cannot be pulled here, nor its bridge network made.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.slow.image_engine import IMAGE, drop, one_ticket, private_urls
from tests.slow.test_bare_machine import Docker, _free_port

pytestmark = pytest.mark.slow

READY_LIMIT = 120


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


def test_the_image_builds_from_the_lock_and_runs_migrate_api_and_worker(engine: tuple[Docker, Path]) -> None:
    docker, _ = engine
    db_url, maintenance_url, redis_url = private_urls("_image", 1)
    db_name = urlsplit(db_url).path.lstrip("/")
    drop(maintenance_url, db_name)
    api_port = _free_port()
    demo_password = secrets.token_urlsafe(12)
    secret_key = secrets.token_urlsafe(32)
    env = ["-e", f"HOTLINE_DATABASE_URL={db_url}", "-e", f"HOTLINE_REDIS_URL={redis_url}"]
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

        one_ticket(api_port, demo_password)

        # The image's own HEALTHCHECK (/readyz) and the worker's (`hotline worker --check`) both pass.
        health_started = time.monotonic()
        assert _wait_health(docker, "hotline-image-api") == "healthy"
        assert _wait_health(docker, "hotline-image-worker") == "healthy", docker("logs", "hotline-image-worker").stderr[
            -3000:
        ]
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
        drop(maintenance_url, db_name)

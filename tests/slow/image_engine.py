"""What the slow image tests share: the test's own dockerd, a Debian base made with debootstrap (no registry is
reachable here, so python:3.11-slim cannot be pulled), the image built FROM it, private databases, one ticket.

The base gets this machine's package configuration, read at run time (never committed), so pip in `docker build`
reaches the registry (tests/slow/test_bare_machine.py's helpers).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.slow.test_bare_machine import (
    SUITE,
    TRUST_PACKAGES,
    Docker,
    _debian_mirror,
    _dockerd,
    _host_tools,
    _http,
    _package_config,
    _run,
)

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "hotline-image-test"
BASE = "hotline-image-base"


def base_image(docker: Docker, work: Path) -> None:
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


def private_urls(suffix: str, redis_offset: int) -> tuple[str, str, str]:
    """(superuser URL of a database of the test's own, its maintenance URL, a Redis URL on a database of its own)."""
    db = urlsplit(os.environ["HOTLINE_DATABASE_URL"])
    name = (db.path.lstrip("/") or "hotline") + suffix
    redis = urlsplit(os.environ["HOTLINE_REDIS_URL"])
    redis_db = int(os.environ.get("HOTLINE_E2E_REDIS_DB", "6")) + redis_offset
    return (
        urlunsplit((db.scheme, db.netloc, f"/{name}", "", "")),
        urlunsplit((db.scheme, db.netloc, "/postgres", "", "")),
        urlunsplit((redis.scheme, redis.netloc, f"/{redis_db}", "", "")),
    )


def drop(maintenance_url: str, db_name: str) -> None:
    """The private database and the two roles `hotline migrate` made for it."""
    for sql in (
        f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)',
        f'DROP ROLE IF EXISTS "{db_name}_app"',
        f'DROP ROLE IF EXISTS "{db_name}_owner"',
    ):
        subprocess.run(["psql", maintenance_url, "-qc", sql], capture_output=True, check=False, timeout=60)


def one_ticket(port: int, password: str) -> None:
    """Sign in as the demo agent, take a 96196 call, read the ticket back."""
    base = f"http://127.0.0.1:{port}"
    status, body = _http("POST", f"{base}/api/auth/token", {"username": "agent", "password": password})
    assert status == 200, body
    token = body["access_token"]
    status, ticket = _http(
        "POST",
        f"{base}/api/tickets",
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
    status, read = _http("GET", f"{base}/api/tickets/{ticket['number']}", token=token)
    assert status == 200 and read["number"] == ticket["number"], read


@contextlib.contextmanager
def built_image() -> Iterator[tuple[Docker, Path]]:
    """The test's own dockerd with the image built FROM the local Debian base."""
    started = time.monotonic()
    _host_tools()
    assert shutil.which("psql"), "psql missing: the tests make and drop databases of their own"
    work = Path(tempfile.mkdtemp(prefix="hi-", dir="/tmp"))
    try:
        with _dockerd(work) as docker:
            base_image(docker, work)
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
            yield docker, work
    finally:
        mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
        for mount in sorted((m for m in mounts if m.startswith(f"{work}/")), reverse=True):
            subprocess.run(["umount", mount], capture_output=True, check=False)
        shutil.rmtree(work, ignore_errors=True)
        print(f"image tests: {time.monotonic() - started:.0f} s", flush=True)

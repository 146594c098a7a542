"""deploy/systemd/ as they are, sandboxing included, under a real systemd: PID 1 of a container on the test's own
dockerd (no systemd runs on this machine itself; `systemd-analyze verify` in `make test` checks the files). The venv
is the image's /opt/hotline (tests/slow/conftest.py builds it), the settings in /etc/hotline/hotline.env; migrate
runs first (Requires=), the API answers /readyz as a dynamic user, takes a ticket, and comes back after kill -9.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.slow.image_engine import IMAGE, ROOT, drop, one_ticket, private_urls
from tests.slow.test_bare_machine import SUITE, Docker, _debian_mirror, _free_port, _run

pytestmark = pytest.mark.slow

READY_LIMIT = 120


def _systemctl(docker: Docker, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "-H", f"unix://{docker.sock}", "exec", "hotline-systemd", "systemctl", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _journal(docker: Docker) -> str:
    return docker("exec", "hotline-systemd", "journalctl", "--no-pager", "-n", "60").stdout


def test_the_systemd_units_run_the_service_under_a_real_systemd(engine: tuple[Docker, Path]) -> None:
    """deploy/systemd/ as they are, with their sandboxing, under systemd as PID 1 of a container: the venv is the
    image's /opt/hotline (same Debian python3), the settings in /etc/hotline/hotline.env."""
    docker, work = engine
    rootfs = work / "systemd-rootfs"
    _run(
        [
            "debootstrap",
            "--variant=minbase",
            "--include=systemd,systemd-sysv,dbus,python3",
            SUITE,
            str(rootfs),
            _debian_mirror(),
        ],
        timeout=900,
    )
    _run(["sh", "-c", f"tar -C {rootfs} -c . | docker -H unix://{docker.sock} import - hotline-systemd-base"])
    shutil.rmtree(rootfs, ignore_errors=True)
    db_url, maintenance_url, redis_url = private_urls("_units", 2)
    db_name = urlsplit(db_url).path.lstrip("/")
    drop(maintenance_url, db_name)
    api_port = _free_port()
    demo_password = secrets.token_urlsafe(12)
    host = f"unix://{docker.sock}"
    try:
        # systemd needs more than a default container: every capability this machine grants (it withholds
        # CAP_SYS_RESOURCE, so --privileged cannot start), no seccomp profile, a cgroup namespace, /run in memory.
        docker(
            "run",
            "-d",
            "--name",
            "hotline-systemd",
            "--network",
            "host",
            "--cap-add",
            "ALL",
            "--cap-drop",
            "SYS_RESOURCE",
            "--security-opt",
            "seccomp=unconfined",
            "--cgroupns=private",
            "--tmpfs",
            "/run",
            "--tmpfs",
            "/run/lock",
            "hotline-systemd-base",
            "/lib/systemd/systemd",
        )
        docker("create", "--name", "hotline-venv", IMAGE)
        _run(
            [
                "sh",
                "-c",
                f"docker -H {host} cp hotline-venv:/opt/hotline - | docker -H {host} cp - hotline-systemd:/opt",
            ]
        )
        for unit in sorted((ROOT / "deploy/systemd").glob("*.service")):
            docker("cp", str(unit), f"hotline-systemd:/etc/systemd/system/{unit.name}")
        env_file = work / "hotline.env"
        env_file.write_text(
            f"HOTLINE_DATABASE_URL={db_url}\nHOTLINE_REDIS_URL={redis_url}\n"
            f"HOTLINE_SECRET_KEY={secrets.token_urlsafe(32)}\nHOTLINE_HOST=127.0.0.1\nHOTLINE_PORT={api_port}\n"
            "HOTLINE_WEB_WORKERS=2\n"
        )
        docker("exec", "hotline-systemd", "mkdir", "-p", "/etc/hotline")
        docker("cp", str(env_file), "hotline-systemd:/etc/hotline/hotline.env")
        docker("exec", "hotline-systemd", "chmod", "600", "/etc/hotline/hotline.env")
        deadline = time.monotonic() + 60
        while _systemctl(docker, "is-system-running").stdout.strip() not in ("running", "degraded"):
            assert time.monotonic() < deadline, _systemctl(docker, "is-system-running").stdout
            time.sleep(1)
        assert _systemctl(docker, "daemon-reload").returncode == 0

        started = _systemctl(docker, "start", "hotline-api", "hotline-worker", timeout=600)
        assert started.returncode == 0, started.stderr + _journal(docker)
        # Requires=hotline-migrate: the oneshot ran first and stays active (RemainAfterExit).
        for unit in ("hotline-migrate", "hotline-api", "hotline-worker"):
            assert _systemctl(docker, "is-active", unit).stdout.strip() == "active", unit + _journal(docker)
        deadline = time.monotonic() + READY_LIMIT
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/readyz", timeout=5) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, _journal(docker)
            time.sleep(1)
        # A user of its own (DynamicUser), never root.
        pid = _systemctl(docker, "show", "-p", "MainPID", "--value", "hotline-api").stdout.strip()
        uid = docker("exec", "hotline-systemd", "stat", "-c", "%u", f"/proc/{pid}").stdout.strip()
        assert uid not in ("", "0"), (pid, uid)

        # The demo accounts, to sign in with (as root beside the units, from the same settings).
        docker(
            "exec",
            "hotline-systemd",
            "sh",
            "-c",
            f"set -a; . /etc/hotline/hotline.env; HOTLINE_DEMO_PASSWORD={demo_password} "
            "/opt/hotline/bin/hotline seed --demo",
            timeout=300,
        )
        one_ticket(api_port, demo_password)

        # Restart=on-failure: the API killed outright comes back by itself.
        docker("exec", "hotline-systemd", "sh", "-c", f"kill -9 {pid}")
        deadline = time.monotonic() + 60
        while True:
            again = _systemctl(docker, "show", "-p", "MainPID", "--value", "hotline-api").stdout.strip()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/readyz", timeout=5) as resp:
                    if resp.status == 200 and again not in ("0", pid):
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, _journal(docker)
            time.sleep(1)
        stopped = _systemctl(docker, "stop", "hotline-api", "hotline-worker")
        assert stopped.returncode == 0, stopped.stderr
        print("systemd: migrate, api and worker ran sandboxed; api restarted after kill -9", flush=True)
    finally:
        for name in ("hotline-systemd", "hotline-venv"):
            subprocess.run(["docker", "-H", host, "rm", "-f", name], capture_output=True, check=False, timeout=120)
        drop(maintenance_url, db_name)

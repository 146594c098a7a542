"""The README's two commands on a bare Debian: no PostgreSQL, no Redis, only python3, python3-venv, make and git.

No image registry is reachable here, so the image is built locally: debootstrap from the Debian source this machine
is configured with, `docker import`, then the four packages. A clean clone of the repository runs `make run` in it
with HOTLINE_SERVICES=private on free ports (the host's own PostgreSQL and Redis share the network namespace and
must not be picked up); /readyz must answer and a ticket must go through intake; then `make test-unit`.

The container reaches the package registries only with this machine's package configuration copied in, read at run
time (never committed). dockerd is started by the test itself, never the packaged service.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.ops import packages

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SUITE = "bookworm"
BASE_PACKAGES = ["python3", "python3-venv", "make", "git"]
# Not a service dependency: what lets apt and pip in the container trust this machine's registries (installing
# ca-certificates regenerates the bundle from /usr/local/share/ca-certificates).
TRUST_PACKAGES = ["ca-certificates"]
FIRST_RUN_LIMIT = 20 * 60
PASSWORD = "hotline"


def _run(cmd: list[str], timeout: float = 600, **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)  # type: ignore[call-overload]
    if result.returncode:
        pytest.fail(f"`{' '.join(cmd)}` exited {result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _host_tools() -> None:
    """docker.io and debootstrap from Debian's packages (CI starts on a fresh machine); a clear failure without."""
    if os.geteuid() != 0:
        pytest.fail(
            "no container engine can run here: dockerd and debootstrap need root, and this test runs as "
            f"uid {os.geteuid()}; run `make test-slow` as root"
        )
    missing = [
        pkg for pkg, binary in (("docker.io", "dockerd"), ("debootstrap", "debootstrap")) if not shutil.which(binary)
    ]
    if missing:
        if not shutil.which("apt-get"):
            pytest.fail(
                f"no container engine can run here: {', '.join(missing)} missing and no apt-get to install them"
            )
        packages.apt_install(
            missing,
            "the bare-machine test builds and runs a Debian container",
            Path(tempfile.gettempdir()) / "hotline-bare-install.log",
        )


def _debian_mirror() -> str:
    """The first Debian source this machine's apt is configured with for the suite (deb822 or one-line form)."""
    files = (
        sorted(Path("/etc/apt").glob("sources.list.d/*.sources"))
        + [Path("/etc/apt/sources.list")]
        + sorted(Path("/etc/apt").glob("sources.list.d/*.list"))
    )
    for f in files:
        if not f.is_file():
            continue
        text = f.read_text(encoding="utf-8", errors="replace")
        for stanza in re.split(r"\n\s*\n", text):
            fields = dict(re.findall(r"^(\w[\w-]*):\s*(.+)$", stanza, re.MULTILINE))
            if SUITE in fields.get("Suites", "").split() and "deb" in fields.get("Types", "").split():
                return fields["URIs"].split()[0]
        for line in text.splitlines():
            parts = re.sub(r"\[[^]]*\]", "", line).split()
            if len(parts) >= 3 and parts[0] == "deb" and parts[2] == SUITE:
                return parts[1]
    pytest.fail(f"no Debian source for {SUITE} in /etc/apt/sources.list*: debootstrap needs one")


def _package_config(stage: Path) -> list[tuple[Path, str]]:
    """Copy this machine's package configuration into `stage`; (copy, where it goes in the container)."""
    home = Path.home()
    wanted: list[tuple[Path, str]] = []
    for src in [
        *Path("/etc/apt").glob("sources.list*"),
        *Path("/etc/apt/apt.conf.d").glob("*registry*"),
        Path("/etc/pip.conf"),
        Path("/etc/xdg/pip"),
        home / ".config/pip/pip.conf",
        *Path("/usr/local/share/ca-certificates").glob("*"),
        Path("/etc/ssl/certs/ca-certificates.crt"),
    ]:
        if src.exists():
            wanted.append((src, "/root/.config/pip/pip.conf" if src == home / ".config/pip/pip.conf" else str(src)))
    out = []
    for i, (src, dest) in enumerate(wanted):
        copy = stage / str(i)
        if src.is_dir():
            shutil.copytree(src, copy, symlinks=False)
        else:
            shutil.copyfile(src, copy)
        out.append((copy, dest))
    return out


class Docker:
    def __init__(self, sock: Path) -> None:
        self.sock = sock

    def __call__(self, *args: str, timeout: float = 600, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return _run(["docker", "-H", f"unix://{self.sock}", *args], timeout=timeout, **kwargs)


@contextlib.contextmanager
def _dockerd(work: Path) -> Iterator[Docker]:
    # No bridge and no iptables: the default bridge's 172.17.0.0/16 is not allowed here; containers use the host's
    # network namespace instead.
    sock = work / "docker.sock"
    log = (work / "dockerd.log").open("wb")
    proc = subprocess.Popen(
        [
            "dockerd",
            "--bridge=none",
            "--iptables=false",
            "--ip-masq=false",
            f"--host=unix://{sock}",
            f"--data-root={work / 'data'}",
            f"--exec-root={work / 'exec'}",
            f"--pidfile={work / 'docker.pid'}",
        ],
        stdout=log,
        stderr=log,
    )
    docker = Docker(sock)
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(["docker", "-H", f"unix://{sock}", "info"], capture_output=True, check=False).returncode:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    "no container engine can run here: dockerd did not start:\n"
                    + (work / "dockerd.log").read_text(errors="replace")[-3000:]
                )
            time.sleep(0.5)
        yield docker
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _image(docker: Docker, work: Path) -> str:
    """A minimal Debian with only python3, python3-venv, make and git, plus the machine's package configuration."""
    rootfs = work / "rootfs"
    _run(["debootstrap", "--variant=minbase", SUITE, str(rootfs), _debian_mirror()], timeout=900)
    _run(["sh", "-c", f"tar -C {rootfs} -c . | docker -H unix://{docker.sock} import - hotline-bare-base"], timeout=600)
    shutil.rmtree(rootfs, ignore_errors=True)
    docker("run", "-d", "--name", "hotline-bare-prep", "--network", "host", "hotline-bare-base", "sleep", "infinity")
    try:
        stage = work / "config"
        stage.mkdir()
        for copy, dest in _package_config(stage):
            docker("exec", "hotline-bare-prep", "mkdir", "-p", dest if copy.is_dir() else str(Path(dest).parent))
            # `dir/.`: the directory's contents into `dest`, not a subdirectory named after the copy.
            docker("cp", f"{copy}/." if copy.is_dir() else str(copy), f"hotline-bare-prep:{dest}")
        docker(
            "exec",
            "-e",
            "DEBIAN_FRONTEND=noninteractive",
            "hotline-bare-prep",
            "sh",
            "-c",
            "apt-get update -q && apt-get install -y -q --no-install-recommends "
            + " ".join(BASE_PACKAGES + TRUST_PACKAGES),
            timeout=900,
        )
        docker("commit", "hotline-bare-prep", "hotline-bare")
    finally:
        docker("rm", "-f", "hotline-bare-prep")
    return "hotline-bare"


def _http(method: str, url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_make_run_and_make_test_unit_on_a_bare_debian() -> None:
    started = time.monotonic()
    _host_tools()
    work = Path(tempfile.mkdtemp(prefix="hb-", dir="/tmp"))
    clone = work / "hotline"
    head = _run(["git", "-C", str(ROOT), "rev-parse", "HEAD"]).stdout.strip()
    _run(["git", "clone", "-q", "--no-local", str(ROOT), str(clone)])
    _run(["git", "-C", str(clone), "checkout", "-q", head])
    pg_port, redis_port, api_port = _free_port(), _free_port(), _free_port()
    try:
        with _dockerd(work) as docker:
            image = _image(docker, work)
            print(f"\nimage built in {time.monotonic() - started:.0f} s", flush=True)
            env = [
                "-e",
                "HOTLINE_SERVICES=private",
                "-e",
                f"HOTLINE_PRIVATE_PG_PORT={pg_port}",
                "-e",
                f"HOTLINE_PRIVATE_REDIS_PORT={redis_port}",
                "-e",
                f"HOTLINE_PORT={api_port}",
            ]
            for name in ("PIP_CERT", "PIP_DEFAULT_TIMEOUT", "PIP_DISABLE_PIP_VERSION_CHECK"):
                if os.environ.get(name):
                    env += ["-e", f"{name}={os.environ[name]}"]
            docker("run", "-d", "--name", "hotline-bare-run", "--network", "host", *env, image, "sleep", "infinity")
            try:
                docker("exec", "hotline-bare-run", "mkdir", "-p", "/src")
                docker("cp", str(clone), "hotline-bare-run:/src/hotline")
                # Its own process group, so stopping it stops the API and worker it started.
                docker(
                    "exec",
                    "-d",
                    "hotline-bare-run",
                    "sh",
                    "-c",
                    "cd /src/hotline && exec setsid sh -c "
                    "'echo $$ > /src/run.pid; make run; echo $? > /src/run.exit' > /src/run.log 2>&1",
                )
                run_started = time.monotonic()
                ready = False
                while time.monotonic() - run_started < FIRST_RUN_LIMIT:
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/readyz", timeout=5) as resp:
                            ready = resp.status == 200
                    except OSError:
                        ready = False
                    if ready:
                        break
                    # An exit status file, not `kill -0`: nothing reaps zombies under `sleep infinity`.
                    gave_up = subprocess.run(
                        [
                            "docker",
                            "-H",
                            f"unix://{docker.sock}",
                            "exec",
                            "hotline-bare-run",
                            "test",
                            "-e",
                            "/src/run.exit",
                        ],
                        capture_output=True,
                        check=False,
                    )
                    if gave_up.returncode == 0:
                        break  # make run gave up: its output says why, below
                    time.sleep(2)
                first_run = time.monotonic() - run_started
                log = docker("exec", "hotline-bare-run", "cat", "/src/run.log").stdout
                assert ready, f"/readyz did not answer ({first_run:.0f} s); make run said:\n{log[-4000:]}"
                print(f"first make run until /readyz: {first_run:.0f} s", flush=True)
                print(
                    "\n".join(
                        line
                        for line in log.splitlines()
                        if line.startswith(("hotline:", "migrations applied", "seeded"))
                    ),
                    flush=True,
                )
                assert "hotline: installing postgresql-15 postgresql-client-15" in log, log[-4000:]
                assert "redis-server" in log, log[-4000:]

                status, body = _http(
                    "POST", f"http://127.0.0.1:{api_port}/api/auth/token", {"username": "agent", "password": PASSWORD}
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

                docker("exec", "hotline-bare-run", "sh", "-c", 'kill -TERM "-$(cat /src/run.pid)"')
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and _listening(api_port):
                    time.sleep(1)
                assert not _listening(api_port), "make run did not stop on SIGTERM"

                # A second start installs nothing: the binaries are there now.
                again = docker(
                    "exec", "hotline-bare-run", "sh", "-c", "cd /src/hotline && .venv/bin/hotline services", timeout=120
                )
                assert "installing" not in again.stderr, again.stderr
                assert f"127.0.0.1:{pg_port}" in again.stdout, again.stdout
                # The policy-rc.d that kept the packaged services from starting was the install's own, and is gone.
                docker("exec", "hotline-bare-run", "test", "!", "-e", "/usr/sbin/policy-rc.d")

                unit = docker("exec", "hotline-bare-run", "sh", "-c", "cd /src/hotline && make test-unit", timeout=1200)
                assert " passed" in unit.stdout, unit.stdout[-3000:]
            except BaseException:
                log = subprocess.run(
                    ["docker", "-H", f"unix://{docker.sock}", "exec", "hotline-bare-run", "cat", "/src/run.log"],
                    capture_output=True,
                    text=True,
                    check=False,
                ).stdout
                print(f"make run in the container said:\n{log[-4000:]}", flush=True)
                raise
            finally:
                # The private servers run inside the container; removing it stops them.
                subprocess.run(
                    ["docker", "-H", f"unix://{docker.sock}", "rm", "-f", "hotline-bare-run"],
                    capture_output=True,
                    check=False,
                    timeout=120,
                )
                subprocess.run(
                    ["docker", "-H", f"unix://{docker.sock}", "rmi", "-f", "hotline-bare", "hotline-bare-base"],
                    capture_output=True,
                    check=False,
                    timeout=120,
                )
    finally:
        # dockerd leaves its network namespace mounted under the exec root even with --bridge=none.
        mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
        for mount in sorted((m for m in mounts if m.startswith(f"{work}/")), reverse=True):
            subprocess.run(["umount", mount], capture_output=True, check=False)
        shutil.rmtree(work, ignore_errors=True)
        print(f"whole bare-machine test: {time.monotonic() - started:.0f} s", flush=True)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False

"""The deployment files are real: compose.yaml and the Dockerfile parsed and their steps checked, the systemd units
through `systemd-analyze verify` (and its offline security review), deploy/haproxy.cfg through `haproxy -c` and in
front of two stand-in API hosts on loopback. The image itself is built and run by tests/slow/test_container_image.py.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "deploy/systemd").glob("*.service"))
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|KEY", re.IGNORECASE)
REQUIRED_VAR = re.compile(r"^\$\{[A-Z_]+:\?[^}]*\}$")


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_has_the_services_with_two_api_replicas_and_a_one_shot_migrate() -> None:
    services = _compose()["services"]
    assert set(services) == {"api", "worker", "postgres", "redis", "migrate"}
    assert services["api"]["deploy"]["replicas"] == 2
    assert services["api"]["command"] == ["serve"] and services["worker"]["command"] == ["worker"]
    migrate = services["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["entrypoint"][-1] == "hotline migrate && hotline seed"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("api", "worker"):
        deps = services[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully", name
        assert deps["redis"]["condition"] == "service_healthy", name
        assert services[name]["image"] == migrate["image"] == "hotline:latest"
        assert services[name]["build"] == "."


def test_compose_healthchecks_use_readyz_the_worker_check_and_the_engines_own_probes() -> None:
    services = _compose()["services"]
    assert any("/readyz" in part for part in services["api"]["healthcheck"]["test"])
    assert services["worker"]["healthcheck"]["test"] == ["CMD", "hotline", "worker", "--check"]
    assert services["postgres"]["healthcheck"]["test"][1] == "pg_isready"
    assert services["redis"]["healthcheck"]["test"][1:] == ["redis-cli", "ping"]
    assert services["migrate"]["healthcheck"] == {"disable": True}


def _values(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _values(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _values(value, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


def test_compose_takes_every_secret_from_the_environment_and_refuses_to_start_without_it() -> None:
    doc = _compose()
    secrets = [(path, value) for path, value in _values(doc) if SECRET_NAME.search(path.rsplit(".", 1)[-1])]
    assert {path.rsplit(".", 1)[-1] for path, _ in secrets} >= {"HOTLINE_SECRET_KEY", "POSTGRES_PASSWORD"}
    for path, value in secrets:
        assert REQUIRED_VAR.match(value), f"{path} = {value!r}: a secret must be ${{VAR:?message}}"
    # Passwords inside URLs too: postgresql://user:${VAR:?...}@host/...
    for path, value in _values(doc):
        for password in re.findall(r"://[^:/@\s]+:([^@\s]+)@", value):
            assert REQUIRED_VAR.match(password), f"{path}: a literal password in {value!r}"
    # api and worker log in as the runtime role; only migrate has the superuser's password.
    for name in ("api", "worker"):
        env = doc["services"][name]["environment"]
        assert env["HOTLINE_DATABASE_URL"] == env["HOTLINE_DATABASE_RUNTIME_URL"], name
        assert env["HOTLINE_DATABASE_URL"].startswith("postgresql://hotline_app:${HOTLINE_APP_PASSWORD:?"), name
        assert "POSTGRES_PASSWORD" not in json.dumps(env), name
    migrate = doc["services"]["migrate"]["environment"]
    assert migrate["HOTLINE_DATABASE_URL"].startswith("postgresql://postgres:${POSTGRES_PASSWORD:?")
    assert migrate["HOTLINE_DATABASE_RUNTIME_URL"] == doc["services"]["api"]["environment"]["HOTLINE_DATABASE_URL"]


def _compose_config(**secrets: str) -> subprocess.CompletedProcess[str]:
    compose = shutil.which("docker-compose")
    assert compose, "docker-compose missing: `make deploy-tools` installs Debian's (`make test` runs it first)"
    env = {k: v for k, v in os.environ.items() if k not in ("POSTGRES_PASSWORD", "HOTLINE_APP_PASSWORD")}
    env.pop("HOTLINE_SECRET_KEY", None)
    return subprocess.run(
        [compose, "-f", str(ROOT / "compose.yaml"), "config"],
        env={**env, **secrets},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_compose_yaml_is_valid_for_a_compose_engine_and_refuses_to_start_without_a_secret() -> None:
    """Debian's docker-compose (1.29, the Compose Specification) validates and resolves the file, no daemon needed."""
    secrets = {"POSTGRES_PASSWORD": "pg-x", "HOTLINE_APP_PASSWORD": "app-y", "HOTLINE_SECRET_KEY": "key-z"}
    result = _compose_config(**secrets)
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)["services"]
    assert (
        resolved["api"]["environment"]["HOTLINE_DATABASE_URL"] == "postgresql://hotline_app:app-y@postgres:5432/hotline"
    )
    assert resolved["migrate"]["environment"]["HOTLINE_DATABASE_URL"].startswith("postgresql://postgres:pg-x@")
    assert resolved["api"]["deploy"]["replicas"] == 2 and resolved["migrate"]["healthcheck"]["test"] == ["NONE"]
    for name in secrets:
        missing = _compose_config(**{k: v for k, v in secrets.items() if k != name})
        assert missing.returncode != 0 and f"set {name}" in missing.stderr, (name, missing.stderr)


def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    steps = []
    for line in joined.splitlines():
        if line.strip():
            instruction, _, args = line.strip().partition(" ")
            steps.append((instruction.upper(), " ".join(args.split())))
    return steps


def test_dockerfile_installs_the_locked_runtime_dependencies_and_runs_as_a_user() -> None:
    steps = _dockerfile()
    kinds = [k for k, _ in steps]
    assert steps[0] == ("ARG", "BASE=python:3.11-slim") and steps[1] == ("FROM", "${BASE}")
    runs = [args for k, args in steps if k == "RUN"]
    assert any("pip install -q --require-hashes -r /tmp/requirements.txt" in r for r in runs)
    assert any("pip install -q --no-deps /tmp/src" in r for r in runs), "the project on top, nothing resolved again"
    assert not any(re.search(r"pip install(?! .*(--require-hashes|--no-deps))", r) for r in runs), runs
    copies = [args for k, args in steps if k == "COPY"]
    assert "requirements-pip.txt requirements.txt /tmp/" in copies
    users = [args for k, args in steps if k == "USER"]
    assert users and users[-1] not in ("root", "0"), users
    assert kinds.index("USER") < kinds.index("ENTRYPOINT")
    assert any("useradd --system" in r and users[-1] in r for r in runs)
    assert ("ENTRYPOINT", '["hotline"]') in steps and ("CMD", '["serve"]') in steps
    (health,) = [args for k, args in steps if k == "HEALTHCHECK"]
    assert "/readyz" in health and "CMD" in health
    # No secret baked in: no ENV or ARG names one.
    assert not [args for k, args in steps if k in ("ENV", "ARG") and SECRET_NAME.search(args)]


def test_the_build_context_holds_only_what_the_image_copies() -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*")] == "*"
    allowed = {line[1:] for line in ignore if line.startswith("!")}
    copied = set()
    for kind, args in _dockerfile():
        if kind == "COPY":
            copied |= set(args.split()[:-1])
    assert copied == allowed, (copied, allowed)
    assert ".env" not in allowed and not any(".venv" in a for a in allowed)


def _systemd_root(tmp_path: Path) -> Path:
    """A filesystem root for `systemd-analyze verify --root`: the units, systemd's own and a stand-in executable."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze missing: install Debian's systemd package (it ships it)"
    root = tmp_path / "root"
    (root / "etc/systemd/system").mkdir(parents=True)
    # The targets the units name (multi-user.target, network-online.target, sysinit.target...) are systemd's.
    shutil.copytree(Path("/usr/lib/systemd/system"), root / "usr/lib/systemd/system", symlinks=True)
    for unit in UNITS:
        shutil.copy(unit, root / "etc/systemd/system" / unit.name)
    exe = root / "opt/hotline/bin/hotline"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    return root


def _verify(root: Path, *units: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", f"--root={root}", *units],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    assert [u.name for u in UNITS] == ["hotline-api.service", "hotline-migrate.service", "hotline-worker.service"]
    root = _systemd_root(tmp_path)
    result = _verify(root, *(u.name for u in UNITS))
    # verify exits 0 on an unknown key or a bad value (it warns and ignores them): silence is the pass.
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result.stdout + result.stderr
    # The control: a misspelled option is reported, so the silence above means something.
    bad = (root / "etc/systemd/system/hotline-api.service").read_text().replace("Restart=", "Restrat=")
    (root / "etc/systemd/system/hotline-typo.service").write_text(bad)
    assert "Unknown key 'Restrat'" in _verify(root, "hotline-typo.service").stderr
    # The executable is checked too: without /opt/hotline/bin/hotline, verify says so.
    (root / "opt/hotline/bin/hotline").unlink()
    assert "is not executable" in _verify(root, "hotline-api.service").stderr


def test_systemd_units_are_sandboxed(tmp_path: Path) -> None:
    root = _systemd_root(tmp_path)
    for unit in UNITS:
        text = unit.read_text()
        for option in ("DynamicUser=yes", "ProtectSystem=strict", "ProtectHome=yes", "NoNewPrivileges=yes"):
            assert option in text.splitlines(), (unit.name, option)
        assert re.search(r"^Restart=(on-failure|no)$", text, re.MULTILINE), unit.name
        assert "EnvironmentFile=/etc/hotline/hotline.env" in text and not SECRET_NAME.search(
            "\n".join(line for line in text.splitlines() if line.startswith("Environment="))
        )
        # systemd's offline review scores exposure 0 (locked down) to 10 (unprotected); measured 1.3 for each.
        review = subprocess.run(
            ["systemd-analyze", "security", "--offline=yes", f"--root={root}", "--threshold=20", unit.name],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        score = re.search(r"Overall exposure level for \S+: ([0-9.]+)", review.stdout)
        assert review.returncode == 0 and score and float(score.group(1)) <= 2.0, review.stdout[-2000:]
    migrate = (ROOT / "deploy/systemd/hotline-migrate.service").read_text()
    assert "Type=oneshot" in migrate and "ExecStart=/opt/hotline/bin/hotline migrate" in migrate
    for name in ("hotline-api.service", "hotline-worker.service"):
        assert "Requires=hotline-migrate.service" in (ROOT / "deploy/systemd" / name).read_text()


def _haproxy() -> str:
    found = shutil.which("haproxy")
    assert found, "haproxy missing: `make deploy-tools` installs Debian's (`make test` runs it first)"
    return found


def test_haproxy_cfg_passes_haproxy_c() -> None:
    result = subprocess.run(
        [_haproxy(), "-c", "-f", str(ROOT / "deploy/haproxy.cfg")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "Configuration file is valid" in result.stdout, result.stdout + result.stderr
    assert "[WARNING]" not in result.stdout + result.stderr, result.stdout + result.stderr
    cfg = (ROOT / "deploy/haproxy.cfg").read_text()
    assert cfg.count("option httpchk GET /readyz") == 2 and "option forwardfor" in cfg
    assert "HOTLINE_TRUSTED_PROXIES" in cfg


class _Host:
    """A stand-in API host: /readyz (200, or 503 when `ready` is off), an SSE stream, and an echo of who it is."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.ready = True
        host = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if self.path == "/readyz":
                    self._send(200 if host.ready else 503, {"status": "ok" if host.ready else "unavailable"})
                elif self.path == "/api/live":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Cache-Control", "no-cache")
                    self.end_headers()
                    self.wfile.write(b"event: ready\r\ndata: {}\r\n\r\n")
                    self.wfile.flush()
                    time.sleep(1.0)
                    self.wfile.write(b": keepalive\r\n\r\n")
                    self.wfile.flush()
                    self.close_connection = True
                else:
                    self._send(200, {"host": host.name, "xff": self.headers.get("X-Forwarded-For")})

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int, path: str) -> dict[str, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        assert resp.status == 200, (resp.status, resp.read())
        return dict(json.loads(resp.read()))
    finally:
        conn.close()


def test_haproxy_cfg_balances_two_hosts_checks_readyz_and_streams_the_live_feed() -> None:
    hosts = [_Host("a"), _Host("b")]
    port = _free_port()
    env = {
        **os.environ,
        "HOTLINE_API1": f"127.0.0.1:{hosts[0].port}",
        "HOTLINE_API2": f"127.0.0.1:{hosts[1].port}",
        "HOTLINE_HAPROXY_BIND": f"127.0.0.1:{port}",
    }
    proc = subprocess.Popen(
        [_haproxy(), "-f", str(ROOT / "deploy/haproxy.cfg"), "-db"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    pytest.fail(f"haproxy did not start: {proc.communicate()[1].decode(errors='replace')[-2000:]}")
                time.sleep(0.1)
        seen = [_get(port, "/api/tickets") for _ in range(4)]
        assert sorted(s["host"] for s in seen) == ["a", "a", "b", "b"], seen
        # X-Forwarded-For: the client's address, what HOTLINE_TRUSTED_PROXIES lets the service believe.
        assert {s["xff"] for s in seen} == {"127.0.0.1"}

        # The live feed: the first event arrives while the stream is still open (nothing buffers it).
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        started = time.monotonic()
        conn.request("GET", "/api/live")
        resp = conn.getresponse()
        assert resp.status == 200 and resp.getheader("Content-Type") == "text/event-stream"
        first = resp.fp.readline()
        assert first.startswith(b"event: ready") and time.monotonic() - started < 0.8, first
        assert b": keepalive" in resp.read()
        conn.close()

        # Host b's /readyz fails: after two failed checks (2 s apart) every request goes to a.
        hosts[1].ready = False
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if all(_get(port, "/api/tickets")["host"] == "a" for _ in range(6)):
                break
            time.sleep(0.5)
        else:
            pytest.fail("haproxy kept sending requests to the host whose /readyz answers 503")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=10)
        for host in hosts:
            host.server.shutdown()
            host.server.server_close()

"""Browser tests: the real service (`hotline serve`) on a free port against its own database, driven by Debian's
chromium through Playwright.

The database `<name>_e2e` is dropped, migrated, seeded and filled with demo tickets by a child process once per
session; Redis database 10 is theirs alone. Each signed-in user gets a browser of its own (a fresh profile
directory), so an agent, a handler and a manager can watch the same ticket at once. Screenshots go to
artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from config.settings import DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("HOTLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "e2e-password"
SECRET = "e2e-secret-key-for-the-browser-tests-0123456789"
REDIS_DB = int(os.environ.get("HOTLINE_E2E_REDIS_DB", "10"))
DEMO_TICKETS = int(os.environ.get("HOTLINE_E2E_TICKETS", "1200"))
VIEWPORT = {"width": 1366, "height": 768}


def _urls() -> tuple[str, str]:
    db = urlsplit(os.environ.get("HOTLINE_DATABASE_URL") or DEFAULT_DATABASE_URL)
    name = (db.path.lstrip("/") or "hotline") + "_e2e"
    redis = urlsplit(os.environ.get("HOTLINE_REDIS_URL") or DEFAULT_REDIS_URL)
    return (
        urlunsplit((db.scheme, db.netloc, "/" + name, db.query, "")),
        urlunsplit((redis.scheme, redis.netloc, f"/{REDIS_DB}", redis.query, "")),
    )


def _reachable(url: str, port: int, what: str) -> None:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "localhost", parts.port or port), timeout=2).close()
    except OSError as exc:
        pytest.exit(f"{what} is not reachable for the browser tests ({exc}); run `make test`.", returncode=3)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    base_url: str
    env: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, username: str) -> str:
        if username not in self.tokens:
            r = httpx.post(self.base_url + "/api/auth/token", json={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.text
            self.tokens[username] = r.json()["access_token"]
        return self.tokens[username]

    def api(self, username: str, method: str, path: str, expect: int | None = 200, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token(username)}", **kwargs.pop("headers", {})}
        r = httpx.request(method, self.base_url + path, headers=headers, timeout=30, **kwargs)
        if expect is not None:
            assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if "json" in r.headers.get("content-type", "") else r

    def create(self, **fields: Any) -> dict[str, Any]:
        body = {
            "channel": "96196",
            "kind": "complaint",
            "category": "taxi",
            "territory": "320612",
            "title": "出租车拒载",
            "content": "乘客在通州区金沙镇打车被拒载。",
            "caller": {"name": "测试市民", "phone": "13900000000"},
            "urgent": False,
            **fields,
        }
        return self.api("agent", "POST", "/api/tickets", expect=201, json=body)

    def act(self, username: str, number: str, action: str, **body: Any) -> dict[str, Any]:
        return self.api(username, "POST", f"/api/tickets/{number}/{action}", json=body)


@contextmanager
def running_server(tickets: int = DEMO_TICKETS) -> Iterator[Server]:
    """Prepare the database, start `hotline serve` on a free port, stop it afterwards."""
    db_url, redis_url = _urls()
    _reachable(db_url, 5432, "PostgreSQL")
    _reachable(redis_url, 6379, "Redis")
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": db_url,
        "HOTLINE_REDIS_URL": redis_url,
        "HOTLINE_SECRET_KEY": SECRET,
        "HOTLINE_DEMO_PASSWORD": PASSWORD,
        "HOTLINE_LOG_LEVEL": "WARNING",
        "HOTLINE_LOG_FORMAT": "console",
        "PYTHONUNBUFFERED": "1",
        # A development installation with the demo data: the sign-in page lists the demo logins.
        "HOTLINE_ENV": "development",
    }
    env.pop("HOTLINE_DATABASE_REPLICA_URL", None)
    SHOTS.mkdir(parents=True, exist_ok=True)
    prep = subprocess.run(
        [sys.executable, "-m", "tests.e2e.prepare", "--tickets", str(tickets)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert prep.returncode == 0, f"preparing the browser tests' database failed:\n{prep.stdout}\n{prep.stderr}"
    port = _free_port()
    log = open(ROOT / "artifacts" / "e2e-server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hotline.ops.cli", "serve", "--port", str(port), "--host", "127.0.0.1"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 40
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"hotline serve exited with {proc.returncode}; see artifacts/e2e-server.log")
            try:
                if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("hotline serve did not become ready in 40 s; see artifacts/e2e-server.log")
            time.sleep(0.2)
        yield Server(base, env)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    with running_server() as s:
        yield s


def launch(playwright: Any, profile: str) -> Any:
    """A browser of its own: Debian's chromium, a fresh profile directory, a 1366x768 window, Chinese locale."""
    return playwright.chromium.launch_persistent_context(
        profile,
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport=VIEWPORT,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        accept_downloads=True,
    )


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium); "
            "the browser tests never download a browser"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture
def browser(playwright_session: Any, server: Server) -> Iterator[Callable[..., Any]]:
    """`browser(username)` → a Page signed in as that user, in a browser of its own with a fresh profile."""
    contexts: list[tuple[Any, str]] = []

    def open_as(username: str | None, *, login: bool = True) -> Any:
        profile = tempfile.mkdtemp(prefix="hotline-e2e-")
        context = launch(playwright_session, profile)
        contexts.append((context, profile))
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(10_000)
        page.errors = []  # type: ignore[attr-defined]
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))  # type: ignore[attr-defined]
        if username and login:
            sign_in(page, server, username)
        return page

    yield open_as
    for context, profile in contexts:
        try:
            context.close()
        finally:
            shutil.rmtree(profile, ignore_errors=True)


def sign_in(page: Any, server: Server, username: str, password: str = PASSWORD) -> None:
    page.goto(server.base_url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state("domcontentloaded")


def shot(page: Any, name: str) -> Path:
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path

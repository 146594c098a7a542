"""Probes of issue 16's session and guessing findings against a real `hotline serve` on loopback: prints what an
attacker gets, then PASS or FAIL against what the service must refuse.

  .venv/bin/python tests/perf/auth_probe.py [--source DIR]

`--source` runs another checkout's code (for a before/after comparison) with this one's environment. A fresh
database (hotline_bench_auth on the configured server, demo data) and a private redis-server on a free port are
used, so no count is left behind in a shared Redis. Every loop is bounded; all traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf.common import bench_urls  # noqa: E402
from tests.scratch import free_port, start_redis, stop_redis  # noqa: E402

PASSWORD = "probe-password"
SECRET = "probe-secret-key-for-the-auth-probe-0123456789"


def call(
    base: str, method: str, path: str, body: dict | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        base + path, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read().decode()


def counts(codes: list[int]) -> str:
    return ", ".join(f"{code}: {codes.count(code)}" for code in sorted(set(codes)))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", default=str(ROOT), help="checkout whose code is run")
    args = parser.parse_args()
    db_url, _ = bench_urls("hotline_bench_auth", 0)
    from hotline.ops.seed import fresh_database

    asyncio.run(fresh_database(db_url, demo_password=PASSWORD))
    tmp = Path(tempfile.mkdtemp(prefix="auth-probe-"))
    redis_port, port = free_port(), free_port()
    redis_proc = start_redis(redis_port, tmp)
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": db_url,
        "HOTLINE_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "HOTLINE_SECRET_KEY": SECRET,
        "HOTLINE_LOG_LEVEL": "WARNING",
        "HOTLINE_PUBLIC_RATE_LIMIT": "30",
        "PYTHONPATH": args.source,
    }
    env.pop("HOTLINE_TRUSTED_PROXIES", None)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hotline.ops.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        env=env,
        cwd=args.source,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "serve.log", "w"),
    )
    base = f"http://127.0.0.1:{port}"
    ok = True
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    print("FAIL: hotline serve did not start; see", tmp / "serve.log")
                    return 1
                time.sleep(0.2)

        # 1. 60 wrong passwords for admin, back to back.
        started = time.monotonic()
        results = [
            call(base, "POST", "/api/auth/token", {"username": "admin", "password": f"wrong-{i}"}) for i in range(60)
        ]
        codes = [r[0] for r in results]
        with_retry = sum(1 for code, headers, _ in results if code == 429 and "retry-after" in headers)
        print(
            f"sign-in: 60 wrong passwords for admin in {time.monotonic() - started:.1f} s -> {counts(codes)}; "
            f"429 with Retry-After: {with_retry}"
        )
        ok &= codes.count(429) >= 50 and with_retry == codes.count(429)

        # 2. Progress checks rotating X-Forwarded-For from a peer nobody configured as a proxy (limit 30/min).
        codes = [
            call(
                base,
                "GET",
                f"/public/tickets/web-20260101-000001?phone_tail={i:04d}",
                headers={"X-Forwarded-For": f"203.0.113.{i % 250 + 1}"},
            )[0]
            for i in range(100)
        ]
        print(f"public progress check: 100 guesses rotating X-Forwarded-For -> {counts(codes)}")
        ok &= codes.count(429) >= 60

        # 3. A token signed with the key for an account that does not exist, claiming admin.
        import jwt

        now = int(time.time())
        forged = jwt.encode(
            {
                "sub": "987654321",
                "usr": "ghost",
                "rol": "admin",
                "nam": "ghost",
                "jti": "x" * 32,
                "iat": now,
                "exp": now + 3600,
            },
            SECRET,
            algorithm="HS256",
        )
        code = call(base, "GET", "/api/admin/sla-policies", headers={"Authorization": f"Bearer {forged}"})[0]
        print(f"token for a missing account (role admin in the token): GET /api/admin/sla-policies -> {code}")
        ok &= code == 401

        # 4. A handler filtering the ticket list by a full phone number.
        status, _, body = call(
            base, "POST", "/api/auth/token", {"username": "handler-320612-bureau", "password": PASSWORD}
        )
        handler = {"Authorization": f"Bearer {json.loads(body)['access_token']}"}
        code = call(base, "GET", "/api/tickets?phone=13812345678", headers=handler)[0]
        print(f"handler: GET /api/tickets?phone=... -> {code}")
        ok &= code == 403

        # 5. One account's requests in one minute (default limit 600/min).
        status, _, body = call(base, "POST", "/api/auth/token", {"username": "agent", "password": PASSWORD})
        agent = {"Authorization": f"Bearer {json.loads(body)['access_token']}"}
        started = time.monotonic()
        codes = [call(base, "GET", "/api/auth/me", headers=agent)[0] for _ in range(700)]
        print(f"one account: 700 GET /api/auth/me in {time.monotonic() - started:.1f} s -> {counts(codes)}")
        ok &= codes.count(429) >= 50
    finally:
        server.terminate()
        server.wait(timeout=20)
        stop_redis(redis_proc)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

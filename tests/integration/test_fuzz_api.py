"""Generated bad input (issue 11 item 1): Schemathesis draws requests from the app's own OpenAPI document for every
`/api` and `/public` operation, as each role, against a real `hotline serve`, and every answer must be a success or
a problem-details 4xx: never a 5xx, never a bare error page. The hand-written hostile cases (oversized bodies, deep
JSON, invalid UTF-8, script fragments, far instants) are in test_hostile_input.py, test_input_limits.py and
test_sla_edges.py; this file covers what nobody thought to write.

The server runs against a database of its own, seeded like the suite's: the admin's share of the requests replaces
SLA policies and changes accounts, which would leak into every later test of the shared one.

The document describes the lifecycle endpoint as `POST /api/tickets/{number}/{action_name}` without a body (the
handler decodes the body itself, per action). Generated names alone only ever reach "no such action", so the test
also adds one operation per action with the body the action decodes (lifecycle.ACTIONS), against real tickets."""

from __future__ import annotations

import collections
import copy
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import requests

from hotline.infra import db
from hotline.ops.seed import fresh_database
from hotline.tickets import lifecycle
from tests.conftest import PASSWORD, ticket_body
from tests.polling import eventually
from tests.scratch import drop_roles, free_port

HOTLINE = str(Path(sys.executable).with_name("hotline"))
HANDLER = "handler-320612-bureau"
ROLES = ("agent", "dispatcher", "manager", HANDLER, "integration-12345", "admin")
# Per operation, role and generation mode (positive: valid by the document; negative: wrong types, missing fields,
# out-of-range values). About 3,500 requests in all, about a minute here. HOTLINE_FUZZ_EXAMPLES and
# HOTLINE_FUZZ_SEED make a longer or differently drawn run by hand; the suite's run is always the same one.
EXAMPLES = int(os.environ.get("HOTLINE_FUZZ_EXAMPLES", "6"))
SEED = os.environ.get("HOTLINE_FUZZ_SEED")
# The live feed streams until the client leaves: its generated inputs (none but the token) are not worth a
# stream each, and tests/integration/test_live_feed.py covers it.
EXCLUDED = {("GET", "/api/live")}
ACTION_PATH = "/api/tickets/{number}/{action_name}"


def _serve(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`hotline serve` in a session of its own (so the fixture reaches its workers); Popen returns at once."""
    return subprocess.Popen(
        [HOTLINE, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


@pytest.fixture
async def served(settings) -> AsyncIterator[str]:
    """`hotline serve` (one worker) on a free port against a freshly seeded database of its own; limits high enough
    that the fuzzing is not all 429 (which stays an allowed answer)."""
    url = db.with_database(settings.database_url, f"hotline_fuzz_{uuid.uuid4().hex[:8]}")
    await fresh_database(url, demo_password=PASSWORD)
    port = free_port()
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": url,
        "HOTLINE_REDIS_URL": settings.redis_url,
        "HOTLINE_SECRET_KEY": settings.secret_key,
        "HOTLINE_LOG_LEVEL": "WARNING",
        "HOTLINE_WEB_WORKERS": "1",
        "HOTLINE_API_RATE_LIMIT": "100000000",
        "HOTLINE_PUBLIC_RATE_LIMIT": "100000000",
    }
    proc = _serve(port, env)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=1) as client:

            async def healthy() -> bool:
                assert proc.poll() is None, f"hotline serve exited with {proc.returncode}"
                return (await client.get("/healthz")).status_code == 200

            await eventually(healthy, what="hotline serve answered /healthz", every=0.2, tolerate=(httpx.HTTPError,))
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        await db.drop_database(url)
        await drop_roles(url)
        # The tickets it took armed escalation jobs in the suite's Redis database for a database now gone.
        import redis.asyncio as aioredis

        r = aioredis.from_url(settings.redis_url)
        try:
            await r.flushdb()
        finally:
            await r.aclose()


def _sign_in(base: str, username: str) -> str:
    r = httpx.post(f"{base}/api/auth/token", json={"username": username, "password": PASSWORD}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def _tickets(base: str, tokens: dict[str, str]) -> dict[str, str]:
    """A ticket number each role may see: one taken by the agent and dispatched to the handler's unit, and one
    transferred by the 12345 integration."""

    def call(role: str, method: str, path: str, **kw: Any) -> httpx.Response:
        return httpx.request(
            method, f"{base}{path}", headers={"Authorization": f"Bearer {tokens[role]}"}, timeout=10, **kw
        )

    r = call("agent", "POST", "/api/tickets", json=ticket_body())
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    if r.json()["status"] == "pending_dispatch":
        d = call("dispatcher", "POST", f"/api/tickets/{number}/dispatch", json={"unit": "320612-bureau"})
        assert d.status_code == 200, d.text
    r = call(
        "integration-12345", "POST", "/api/tickets", json=ticket_body(channel="12345", external_ref=uuid.uuid4().hex)
    )
    assert r.status_code == 201, r.text
    own = {"integration-12345": r.json()["number"]}
    for role in ROLES:
        listed = call(role, "GET", "/api/tickets", params={"limit": 1})
        items = listed.json().get("items", []) if listed.status_code == 200 else []
        own.setdefault(role, items[0]["number"] if items else number)
    return own


def _document(base: str) -> dict[str, Any]:
    """The served document, plus one operation per lifecycle action with the body that action decodes."""
    doc = httpx.get(f"{base}/schema/openapi.json", timeout=10).json()
    doc = copy.deepcopy(doc)
    if ACTION_PATH not in doc["paths"]:
        return doc  # the document describes one operation per action itself (issue 13)
    template = doc["paths"][ACTION_PATH]["post"]
    number = next(p for p in template["parameters"] if p["name"] == "number")
    bodies, components = msgspec.json.schema_components(
        [a.body for a in lifecycle.ACTIONS.values()], ref_template="#/components/schemas/{name}"
    )
    doc.setdefault("components", {}).setdefault("schemas", {}).update(components)
    for act, body in zip(lifecycle.ACTIONS.values(), bodies, strict=True):
        doc["paths"][f"/api/tickets/{{number}}/{act.name}"] = {
            "post": {
                "operationId": f"Action{act.name.title().replace('-', '')}",
                "parameters": [number],
                "requestBody": {"required": False, "content": {"application/json": {"schema": body}}},
                "responses": template["responses"],
            }
        }
    return doc


@dataclass
class Tally:
    requests: int = 0
    statuses: collections.Counter = field(default_factory=collections.Counter)
    covered: dict[str, set[str]] = field(default_factory=lambda: collections.defaultdict(set))
    bad: list[str] = field(default_factory=list)


def _judge(tally: Tally, role: str, label: str, case: Any, response: Any, headers: dict[str, str]) -> None:
    """A 5xx, or a 4xx that is not problem details with status, title and detail, is a finding."""
    tally.requests += 1
    tally.statuses[response.status_code] += 1
    tally.covered[role].add(label)
    status = response.status_code
    problem = ""
    if status >= 500:
        problem = "server error"
    elif status >= 400:
        content_type = (response.headers.get("content-type") or [""])[0]
        try:
            body = response.json()
        except ValueError:
            body = None
        if not content_type.startswith("application/problem+json"):
            problem = f"content-type {content_type!r}"
        elif (
            not isinstance(body, dict)
            or body.get("status") != status
            or not all(isinstance(body.get(k), str) and body[k] for k in ("title", "detail"))
        ):
            problem = "not problem details with status, title and detail"
    if problem:
        tally.bad.append(
            f"{role} {label}: {status} {problem}: {response.text[:300]}\n    "
            f"{case.as_curl_command(headers=headers)[:800]}"
        )


def _fuzz(
    tally: Tally, base: str, session: requests.Session, role: str, token: str, operation: Any, **fixed: Any
) -> None:
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode

    headers = {"Authorization": f"Bearer {token}"}
    label = f"{operation.method.upper()} {operation.path}"
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        # derandomize: the same requests every run, so a finding reproduces and CI does not flake on luck.
        @settings(
            max_examples=EXAMPLES,
            derandomize=SEED is None,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )
        @given(case=operation.as_strategy(generation_mode=mode, **fixed))
        def run(case: Any) -> None:
            try:
                response = case.call(base_url=base, session=session, headers=headers, timeout=(5, 20))
            except requests.RequestException as exc:
                tally.requests += 1
                tally.bad.append(f"{role} {label}: no answer ({exc!r})\n    {case.as_curl_command(headers=headers)}")
                return
            _judge(tally, role, label, case, response, headers)

        if SEED is not None:
            run = seed(int(SEED))(run)
        try:
            run()
        except Unsatisfiable:
            # Nothing to make invalid (no parameters but the token, or only path strings): positive cases cover it.
            assert mode is GenerationMode.NEGATIVE, f"{role} {label}: no positive case could be generated"


def test_generated_requests_as_every_role_get_no_server_error_and_only_problem_details(served):
    import schemathesis

    started = time.monotonic()
    tokens = {role: _sign_in(served, role) for role in ROLES}
    numbers = _tickets(served, tokens)
    schema = schemathesis.openapi.from_dict(_document(served))
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if (op.method.upper(), op.path) not in EXCLUDED]
    served_paths = {(op.method.upper(), op.path) for op in operations}
    assert all(path.startswith(("/api/", "/public/")) for _, path in served_paths)
    assert ("POST", "/public/tickets") in served_paths
    assert ("POST", ACTION_PATH) in served_paths or ("POST", "/api/tickets/{number}/sign") in served_paths
    # Signing out revokes the token the rest of that role's requests carry; generated credentials trip the
    # sign-in throttle for this client: both go last (every role signed in above, before any of it).
    operations.sort(key=lambda op: (op.path == "/api/auth/logout", op.path == "/api/auth/token", op.path, op.method))
    tally = Tally()
    with requests.Session() as session:
        for role in ROLES:
            for op in operations:
                _fuzz(tally, served, session, role, tokens[role], op)
                if "{number}" in op.path:
                    # The same operation on a ticket that exists and this role may see, to reach past the lookup.
                    _fuzz(tally, served, session, role, tokens[role], op, path_parameters={"number": numbers[role]})

    duration = time.monotonic() - started
    print(f"\nfuzz: {tally.requests} requests in {duration:.0f} s, statuses {dict(sorted(tally.statuses.items()))}")
    for role in ROLES:
        print(f"fuzz: {role}: {len(tally.covered[role])} operations")
    unique = list(dict.fromkeys(tally.bad))
    assert not unique, f"{len(tally.bad)} bad answers, first ones:\n" + "\n".join(unique[:15])
    assert tally.requests >= 2000
    assert tally.statuses[500] == 0 and not any(s >= 500 for s in tally.statuses)
    for role in ROLES:
        assert tally.covered[role] == {f"{m} {p}" for m, p in served_paths}, f"{role} missed operations"
    # The requests reached the service's logic, not only its doors: some succeeded and some were refused by rule.
    assert tally.statuses[200] + tally.statuses[201] > 0 and tally.statuses[422] > 0 and tally.statuses[403] > 0

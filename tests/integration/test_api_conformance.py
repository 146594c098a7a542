"""The running service against its own OpenAPI document (issue 13, "How it is checked"): Schemathesis draws requests
for every operation under /api and /public from /schema/openapi.json as served, as each role and anonymously, sends
them to a real `hotline serve`, and judges every answer with its conformance checks: the status code is one the
operation documents, the content type is one documented for that status, the body validates against the documented
schema (problem details on errors, each event of the live stream), never a server error, and an error's problem
details carry its own status. Every finding fails the test, listed by role, operation and check.

Real tickets are staged first, one per action and role that may take it, in a status the action accepts (a pending
extension request for decide-extension, a suspended ticket for resume), so generated bodies reach the action itself
and its answer, the updated ticket, is checked against the document too. Known-good inputs (a real unit to dispatch
to, a ticket to merge into, the policy document in force, a CSV and an XLSX report, a valid sign-in) go first, so
each operation's success answer is judged as well as its refusals.

The suite's run is fixed: seed HOTLINE_CONFORMANCE_SEED (13) and HOTLINE_CONFORMANCE_EXAMPLES (4) examples per
operation, role and generation mode (positive: valid by the document; negative: wrong types, missing fields,
out-of-range values, no token), over 3,000 requests in about three minutes. `make test-conformance` is the deeper
run (25 examples; another seed by the variable).
"""

from __future__ import annotations

import collections
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import requests

from tests.conftest import PASSWORD, ticket_body
from tests.served import served_api, sign_in

HANDLER = "handler-320612-bureau"
ANONYMOUS = "anonymous"
ROLE_OF = {
    "agent": "agent",
    "dispatcher": "dispatcher",
    HANDLER: "handler",
    "manager": "manager",
    "admin": "admin",
    "integration-12345": "integration",
}
USERS = tuple(ROLE_OF)
EXAMPLES = int(os.environ.get("HOTLINE_CONFORMANCE_EXAMPLES", "4"))
SEED = int(os.environ.get("HOTLINE_CONFORMANCE_SEED", "13"))
MIN_REQUESTS = 3000
# The order an action's ticket is staged in when the action accepts several statuses; two actions need more than a
# status: a pending extension request, a suspended reply clock.
STATUS_PREFERENCE = ("in_progress", "dispatched", "pending_dispatch", "return_requested", "replied")
SPECIAL_STAGE = {"decide-extension": "extension_requested", "resume": "suspended"}
# Bodies generated values rarely make valid (a real unit, a ticket to merge into, a coherent extension).
ACTION_BODIES: dict[str, dict[str, Any]] = {
    "dispatch": {"unit": "320613-bureau", "note": "改派"},
    "request-extension": {"working_days": 2, "reason": "需要现场核查"},
    "reclassify": {"category": "taxi"},  # the staged waiting ticket has no category
}  # and merge: {"into": an open ticket}
# The live feed never ends: Schemathesis reads an event stream until the read timeout, so it gets a short one.
STREAM_TIMEOUT = (5, 1.5)
TIMEOUT = (5, 30)


@dataclass
class Finding:
    user: str
    operation: str
    check: str
    reason: str
    curl: str


@dataclass
class Tally:
    requests: int = 0
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    by_user: dict[str, collections.Counter[int]] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter)
    )
    by_operation: dict[str, collections.Counter[int]] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter)
    )
    covered: dict[str, set[str]] = field(default_factory=lambda: collections.defaultdict(set))
    succeeded: set[str] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)


class Staging:
    """Tickets in the statuses the actions accept, made through the API as the roles that would."""

    def __init__(self, base: str, tokens: dict[str, str]) -> None:
        self.base, self.tokens = base, tokens

    def call(self, user: str, method: str, path: str, **kw: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        r = httpx.request(method, f"{self.base}{path}", headers=headers, timeout=30, **kw)
        assert r.status_code in (200, 201), f"staging: {user} {method} {path}: {r.status_code} {r.text}"
        return dict(r.json())

    def act(self, user: str, number: str, action: str, **body: Any) -> None:
        self.call(user, "POST", f"/api/tickets/{number}/{action}", json=body)

    def ticket(self, stage: str) -> str:
        if stage == "pending_dispatch":
            return str(self.call("agent", "POST", "/api/tickets", json=ticket_body(category=None))["number"])
        t = self.call("agent", "POST", "/api/tickets", json=ticket_body())
        number = str(t["number"])
        assert t["status"] == "dispatched" and t["unit"] == "320612-bureau", t
        if stage == "return_requested":
            self.act(HANDLER, number, "return", reason="不属于本单位职责")
        elif stage != "dispatched":
            self.act(HANDLER, number, "sign")
        if stage == "replied":
            self.act(HANDLER, number, "reply", content="已联系驾驶员并处理", outcome="resolved")
        elif stage == "extension_requested":
            self.act(HANDLER, number, "request-extension", working_days=3, reason="需要现场核查")
        elif stage == "suspended":
            self.act("dispatcher", number, "suspend", reason="等待公安部门结论")
        return number


@dataclass
class Staged:
    per_action: dict[tuple[str, str], str]  # (action, user) -> a ticket in a status the action accepts
    visible: dict[str, str]  # user -> a ticket that user may see
    into: str  # an open ticket to merge into
    username: str  # a throwaway account for the admin's account operations
    one_time_password: str
    policies: dict[str, Any]  # the SLA policy document in force
    transfers: dict[str, str]  # upstream action -> the external_ref of a 12345 transfer of its own


def _stage(base: str, tokens: dict[str, str]) -> Staged:
    from hotline.tickets.lifecycle import ACTIONS

    staging = Staging(base, tokens)
    per_action: dict[tuple[str, str], str] = {}
    for name, act in ACTIONS.items():
        stage = SPECIAL_STAGE.get(name) or next(s for s in STATUS_PREFERENCE if s in act.statuses)
        for user in USERS:
            if ROLE_OF[user] in act.roles:
                per_action[(name, user)] = staging.ticket(stage)
    shared = staging.ticket("dispatched")
    transfer = staging.call(
        "integration-12345", "POST", "/api/tickets", json=ticket_body(channel="12345", external_ref=uuid.uuid4().hex)
    )
    visible = {user: shared for user in USERS} | {"integration-12345": str(transfer["number"]), ANONYMOUS: shared}
    username = f"conformance-{uuid.uuid4().hex[:6]}"
    account = staging.call(
        "admin", "POST", "/api/admin/accounts", json={"username": username, "role": "agent", "display_name": "一次性"}
    )
    policies = staging.call("admin", "GET", "/api/admin/sla-policies")
    transfers = {name: uuid.uuid4().hex for name in ("recall", "urge", "supplement")}
    for ref in transfers.values():
        staging.call("integration-12345", "POST", "/api/tickets", json=ticket_body(channel="12345", external_ref=ref))
    return Staged(
        per_action,
        visible,
        into=staging.ticket("dispatched"),
        username=username,
        one_time_password=str(account["password"]),
        policies={"defaults": policies["defaults"], "policy": policies["policy"]},
        transfers=transfers,
    )


def _known_good(op: Any, user: str, staged: Staged) -> list[dict[str, Any]]:
    """Inputs the service takes, beside generated ones, so that each operation's success answer is checked too:
    generated values rarely name a real unit, ticket, account or a valid policy document. A variant with
    `negative` also gets negative cases (generated bodies and queries on a real ticket or account)."""
    from hotline.tickets.lifecycle import ACTIONS

    key = (op.method.upper(), op.path)
    period = {"from": "2026-01-01", "to": "2027-01-01", "as_of": "2026-12-03", "group_by": "unit"}
    sla = staged.policies
    public = {
        "kind": "complaint",
        "title": "公交车未进站停靠",
        "content": "在通州区万达广场站等车，公交车未进站直接开走。",
        "caller": {"name": "李女士", "phone": "13912345678"},
        "category": "bus",
        "territory": "320612",
    }
    good: dict[tuple[str, str], list[dict[str, Any]]] = {
        ("POST", "/api/auth/token"): [
            {"body": {"username": user if user in ROLE_OF else "agent", "password": PASSWORD}}
        ],
        ("POST", "/api/auth/password"): [
            {
                "body": {
                    "username": staged.username,
                    "password": staged.one_time_password,
                    "new_password": "a-new-pw-0123",
                }
            }
        ],
        ("POST", "/api/tickets"): [{"body": ticket_body()}],
        ("GET", "/api/reports/closure"): [{"query": {**period, "format": f}} for f in ("json", "csv", "xlsx")],
        ("POST", "/api/notifications/read"): [{"body": {"all": True}}],
        ("PUT", "/api/admin/sla-policies"): [{"body": {**sla, "reason": "conformance: unchanged"}}],
        ("POST", "/api/admin/sla-policies/preview"): [{"body": sla}],
        ("POST", "/api/admin/calendar/exception-preview"): [
            {"body": {"date": "2026-12-25", "working": False, "reason": "conformance"}},
            {"body": {"date": "2026-12-25", "working": False, "reason": "conformance", "territories": ["320681"]}},
        ],
        ("POST", "/api/admin/accounts"): [
            {"body": {"username": f"conformance-{uuid.uuid4().hex[:6]}", "role": "agent", "display_name": "新坐席"}}
        ],
        ("POST", "/public/tickets"): [{"body": public}],
        # Admin changes whose events GET /api/admin/events then answers (each kind's snapshot checked there too).
        ("PATCH", "/api/admin/units/{code}"): [
            {"path_parameters": {"code": "320612-bureau"}, "body": {"contact_person": "王科长"}}
        ],
        ("POST", "/api/admin/routing-rules"): [
            {"body": {"category": "taxi", "territory": "320685", "unit": "city-taxi"}}
        ],
        ("POST", "/api/admin/calendar/exceptions"): [
            {"body": {"date": "2026-12-26", "working": True, "reason": "conformance: 调休上班"}}
        ],
    }
    variants = list(good.get(key, []))
    action = op.path.rsplit("/", 1)[-1] if op.path.startswith("/api/tickets/{number}/") else None
    if action in ACTIONS:
        on = {"number": staged.per_action.get((action, user), staged.visible[user])}
        body = {"into": staged.into} if action == "merge" else ACTION_BODIES.get(action)
        variants += [{"path_parameters": on, "body": body}] if body else []
        variants.append({"path_parameters": on, "negative": True})
    elif "{number}" in op.path and op.path.startswith(("/api/tickets", "/public/tickets")):
        variants.append({"path_parameters": {"number": staged.visible[user]}, "negative": True})
        if op.path.startswith("/public/"):
            variants.insert(0, {"path_parameters": {"number": staged.visible[user]}, "query": {"phone_tail": "5678"}})
    elif op.path.startswith("/api/transfers/"):
        upstream = op.path.rsplit("/", 1)[-1]
        variants.append(
            {
                "path_parameters": {"channel": "12345", "external_ref": staged.transfers[upstream]},
                "headers": {"Idempotency-Key": f"conformance-{upstream}"},
                "body": {"recall": {"reason": "市民已撤诉"}, "urge": {"note": "请抓紧办理"}}.get(
                    upstream, {"text": "市民补充材料"}
                ),
            }
        )
    elif "{username}" in op.path:
        variants.append({"path_parameters": {"username": staged.username}, "negative": True})
    elif "{number}" in op.path and op.path.startswith("/api/admin/sla-policies/versions"):
        variants.append({"path_parameters": {"number": 1}, "negative": True})
    return variants


def problem_details_match_status(ctx: Any, response: Any, case: Any) -> None:
    """An error's body is problem details for this very answer: its `status` is the HTTP status, with a `title` and a
    `detail` that say something (the document's schema only says they are there)."""
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    assert isinstance(body, dict) and body.get("status") == response.status_code, "status differs from the HTTP one"
    assert all(isinstance(body.get(k), str) and body[k].strip() for k in ("title", "detail")), "empty title or detail"


def _record(tally: Tally, user: str, label: str, case: Any, response: Any, exc: BaseException | None) -> None:
    from schemathesis.core.failures import Failure, FailureGroup

    tally.requests += 1
    tally.statuses[response.status_code] += 1
    tally.by_user[user][response.status_code] += 1
    tally.by_operation[label][response.status_code] += 1
    tally.covered[user].add(label)
    if 200 <= response.status_code < 300:
        tally.succeeded.add(label)
    if exc is None:
        return
    failures = list(exc.exceptions) if isinstance(exc, FailureGroup) else [exc]
    for failure in failures:
        if isinstance(failure, Failure):
            check = type(failure).checks[0] if type(failure).checks else failure.title
            reason = f"{response.status_code} {failure.title}: {failure.message}".replace("\n", " ")[:300]
        else:
            check, reason = "validation", f"{response.status_code} {failure!r}"[:300]
        tally.findings.append(Finding(user, label, check, reason, case.as_curl_command()[:600]))


def _run(
    tally: Tally,
    base: str,
    session: requests.Session,
    user: str,
    token: str | None,
    op: Any,
    negative: bool = False,
    **fixed: Any,
) -> None:
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
        problem_details_match_status,
    ]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    label = f"{op.method.upper()} {op.path}"
    timeout = STREAM_TIMEOUT if op.path == "/api/live" else TIMEOUT
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if negative else (GenerationMode.POSITIVE,):

        @seed(SEED)
        @settings(
            max_examples=EXAMPLES,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )
        @given(case=op.as_strategy(generation_mode=mode, **fixed))
        def run(case: Any) -> None:
            try:
                response = case.call(base_url=base, session=session, headers=headers, timeout=timeout)
            except requests.RequestException as exc:
                tally.requests += 1
                tally.findings.append(Finding(user, label, "no answer", repr(exc)[:300], case.as_curl_command()))
                return
            try:
                case.validate_response(response, checks=checks, headers=headers)
            except BaseException as exc:  # a FailureGroup of the checks that failed, or the validator's own error
                _record(tally, user, label, case, response, exc)
            else:
                _record(tally, user, label, case, response, None)

        try:
            run()
        except Unsatisfiable:
            # Nothing to make invalid (no parameters but the token): the positive cases cover the operation.
            assert mode is GenerationMode.NEGATIVE, f"{user} {label}: no positive case could be generated"


def _order(op: Any) -> tuple[bool, bool, str, str]:
    # Signing out revokes the token the rest of that user's requests carry; generated credentials trip the sign-in
    # throttle for this client: both go last (every user signed in before any of it).
    return (op.path == "/api/auth/logout", op.path == "/api/auth/token", op.path, op.method)


@pytest.fixture
async def served(settings):
    async with served_api(settings, "conformance") as base:
        yield base


def test_the_service_conforms_to_its_document_as_every_role(served):
    import schemathesis

    from hotline.tickets.lifecycle import ACTIONS

    started = time.monotonic()
    tokens = {user: sign_in(served, user) for user in USERS}
    staged = _stage(served, tokens)
    schema = schemathesis.openapi.from_url(f"{served}/schema/openapi.json")
    operations = sorted(
        (result.ok() for result in schema.get_all_operations() if result.ok().path.startswith(("/api/", "/public/"))),
        key=_order,
    )
    labels = {f"{op.method.upper()} {op.path}" for op in operations}
    assert {f"POST /api/tickets/{{number}}/{name}" for name in ACTIONS} <= labels, "actions without an operation"
    tally = Tally()
    with requests.Session() as session:
        for user in (*USERS, ANONYMOUS):
            for op in operations:
                # Known-good inputs first: generated bad credentials would trip the sign-in throttle before them.
                for fixed in _known_good(op, user, staged):
                    _run(tally, served, session, user, tokens.get(user), op, **fixed)
                _run(tally, served, session, user, tokens.get(user), op, negative=True)

    duration = time.monotonic() - started
    print(
        f"\nconformance: {tally.requests} requests in {duration:.0f} s ({len(operations)} operations, "
        f"{EXAMPLES} examples, seed {SEED}), statuses {dict(sorted(tally.statuses.items()))}"
    )
    for user in (*USERS, ANONYMOUS):
        print(f"conformance: {user}: {dict(sorted(tally.by_user[user].items()))}")
    for label in sorted(labels):
        print(f"conformance: {label}: {dict(sorted(tally.by_operation[label].items()))}")
    never = sorted(labels - tally.succeeded)
    print(f"conformance: operations no request succeeded on ({len(never)}): {never}")
    by_kind = collections.Counter((f.operation, f.check) for f in tally.findings)
    for (label, check), count in sorted(by_kind.items()):
        example = next(f for f in tally.findings if (f.operation, f.check) == (label, check))
        print(f"conformance: FAIL {label} x {check}: {count} ({example.user}: {example.reason[:160]})")
    firsts = list({(f.operation, f.check): f for f in tally.findings}.values())
    assert not tally.findings, (
        f"{len(tally.findings)} failed checks, {len(firsts)} kinds; first of each:\n"
        + "\n".join(f"{f.user} {f.operation} [{f.check}] {f.reason}\n    {f.curl}" for f in firsts[:25])
    )
    assert tally.requests >= MIN_REQUESTS, tally.requests
    for user in (*USERS, ANONYMOUS):
        assert tally.covered[user] == labels, f"{user} missed {sorted(labels - tally.covered[user])}"
    # The requests reached the service's logic, not only its doors: every action succeeded on its staged ticket.
    assert {f"POST /api/tickets/{{number}}/{name}" for name in ACTIONS} <= tally.succeeded, never
    assert tally.statuses[401] and tally.statuses[403] and tally.statuses[422]

"""The typed contract of the admin, auth and public (citizen) operations: each has its id, tag and typed request and
response schemas in the served OpenAPI document, the real answers conform to those schemas, the admin guard answers
a non-admin before the body is read, and the public operations need no token."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import jsonschema_rs
import pytest

from hotline.errors import Forbidden
from hotline.policies import store as policies
from tests.conftest import principal

ADMIN_OPERATIONS = {
    ("get", "/api/admin/sla-policies"): "getSlaPolicies",
    ("put", "/api/admin/sla-policies"): "replaceSlaPolicies",
    ("post", "/api/admin/sla-policies/preview"): "previewSlaPolicies",
    ("get", "/api/admin/sla-policies/versions"): "listSlaPolicyVersions",
    ("get", "/api/admin/sla-policies/versions/{number}"): "getSlaPolicyVersion",
    ("get", "/api/admin/accounts"): "listAccounts",
    ("post", "/api/admin/accounts"): "createAccount",
    ("patch", "/api/admin/accounts/{username}"): "updateAccount",
    ("post", "/api/admin/accounts/{username}/reset-password"): "resetAccountPassword",
    ("post", "/api/admin/accounts/{username}/unlock"): "unlockAccount",
    ("get", "/api/admin/events"): "listAdminEvents",
    ("get", "/api/admin/routing-rules"): "listRoutingRules",
    ("get", "/api/admin/routing-test"): "testRouting",
    ("get", "/api/admin/calendar"): "getCalendar",
    ("post", "/api/admin/calendar/exception-preview"): "previewCalendarException",
}
AUTH_OPERATIONS = {
    ("post", "/api/auth/token"): ("issueToken", True),
    ("post", "/api/auth/password"): ("changePassword", True),
    ("post", "/api/auth/logout"): ("logout", False),
    ("get", "/api/auth/me"): ("getCurrentAccount", False),
}
PUBLIC_OPERATIONS = {
    ("post", "/public/tickets"): "submitPublicTicket",
    ("get", "/public/tickets/{number}"): "getPublicProgress",
}
WITH_BODY = {
    ("put", "/api/admin/sla-policies"),
    ("post", "/api/admin/sla-policies/preview"),
    ("post", "/api/admin/accounts"),
    ("patch", "/api/admin/accounts/{username}"),
    ("post", "/api/admin/calendar/exception-preview"),
    ("post", "/api/auth/token"),
    ("post", "/api/auth/password"),
    ("post", "/public/tickets"),
}
PROBLEM_JSON = "application/problem+json"


@pytest.fixture(scope="module")
async def document(client) -> dict[str, Any]:  # noqa: ANN001
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    doc: dict[str, Any] = r.json()
    return doc


def _component(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The component a `$ref` names, which must be an object with its properties typed."""
    assert set(schema) == {"$ref"}, schema  # a named shape, not an inline free-form object
    component: dict[str, Any] = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert component["type"] == "object" and component["properties"], component
    assert component.get("additionalProperties") in (None, False), component
    return component


def _success(op: dict[str, Any]) -> dict[str, Any]:
    codes = [c for c in op["responses"] if c.startswith("2")]
    assert len(codes) == 1, op["responses"]
    schema: dict[str, Any] = op["responses"][codes[0]]["content"]["application/json"]["schema"]
    return schema


def _conforms(doc: dict[str, Any], method: str, path: str, response: httpx.Response) -> None:
    """The real answer matches the document: its status is documented and its body validates against the schema."""
    op = doc["paths"][path][method]
    status = str(response.status_code)
    assert status in op["responses"], (status, list(op["responses"]))
    content = op["responses"][status]["content"]
    media = PROBLEM_JSON if status >= "400" else "application/json"
    assert response.headers["content-type"].startswith(media) and media in content
    root = {**content[media]["schema"], "components": doc["components"]}
    errors = [str(e) for e in jsonschema_rs.validator_for(root).iter_errors(response.json())]
    assert not errors, (method, path, errors[:3])


def test_every_admin_operation_is_named_tagged_guarded_and_typed(document):
    for (method, path), operation_id in ADMIN_OPERATIONS.items():
        op = document["paths"][path][method]
        assert op["operationId"] == operation_id and op["tags"] == ["admin"], (path, op.get("operationId"))
        assert op["security"] == [{"bearer": []}] and "Roles: admin." in op["description"]
        _component(document, _success(op))
        if (method, path) in WITH_BODY:
            _component(document, op["requestBody"]["content"]["application/json"]["schema"])
        else:
            assert "requestBody" not in op, path
        for status in ("401", "403", "422"):
            assert PROBLEM_JSON in op["responses"][status]["content"], (path, status)


def test_auth_and_public_operations_are_named_and_only_those_taking_a_token_carry_security(document):
    operations = {k: (v, "auth", public) for k, (v, public) in AUTH_OPERATIONS.items()}
    operations |= {k: (v, "public", True) for k, v in PUBLIC_OPERATIONS.items()}
    for (method, path), (operation_id, tag, public) in operations.items():
        op = document["paths"][path][method]
        assert op["operationId"] == operation_id and op["tags"] == [tag], path
        if public:
            # No security requirement here and none inherited from the document's top level.
            assert not op.get("security") and not document.get("security"), path
            assert "No token needed." in op["description"]
        else:
            assert op["security"] == [{"bearer": []}], path
        _component(document, _success(op))
        if (method, path) in WITH_BODY:
            _component(document, op["requestBody"]["content"]["application/json"]["schema"])


def test_keys_a_response_may_leave_out_are_optional_in_the_schema(document):
    schemas = document["components"]["schemas"]
    # The one-time password only when the service made it; the config file's policy set has no reason.
    assert "password" in schemas["Account"]["properties"] and "password" not in schemas["Account"]["required"]
    assert "reason" not in schemas["SlaPolicySet"]["required"]
    # A key sent with null today is required (present) and nullable.
    assert {"unit", "channel"} <= set(schemas["Token"]["required"])
    assert schemas["Token"]["properties"]["token_type"] == {"type": "string", "const": "bearer"}
    # A limit is one JSON number (5 stays 5): not an ambiguous oneOf of integer and number.
    assert schemas["SlaPolicyRow"]["properties"]["limit"] == {"type": "number"}


async def test_the_admin_guard_answers_a_manager_before_reading_the_body(api, client):
    # Bodies Litestar could not even parse: without the guard first these would be 400 or 422.
    for method, path, content in (
        ("PUT", "/api/admin/sla-policies", b"{not json"),
        ("POST", "/api/admin/sla-policies/preview", b'{"policy": "not rows"}'),
        ("POST", "/api/admin/accounts", b'{"username": 5}'),
        ("PATCH", "/api/admin/accounts/admin", b'{"surprise": true}'),
        ("POST", "/api/admin/calendar/exception-preview", b"[]"),
    ):
        headers = {"Content-Type": "application/json"}
        r = await api.request("manager", method, path, content=content, headers=headers)
        assert r.status_code == 403, (path, r.status_code, r.text)
        assert r.headers["content-type"].startswith(PROBLEM_JSON) and "admin" in r.json()["detail"]
        r = await client.request(method, path, content=content, headers=headers)
        assert r.status_code == 401, (path, r.status_code, r.text)
    # The same bodies from an administrator reach the decoder, which names what is wrong.
    r = await api.request("admin", "POST", "/api/admin/accounts", json={"username": 5})
    assert r.status_code == 422 and "username" in r.json()["fields"]


async def test_the_services_still_refuse_a_non_admin_called_directly(runtime):
    manager = await principal(runtime, "manager")
    with pytest.raises(Forbidden):
        await policies.versions(runtime, manager)


async def test_a_policy_field_of_the_wrong_type_is_named_by_the_decoder(api):
    current = (await api.get("admin", "/api/admin/sla-policies")).json()
    rows = [dict(r) for r in current["policy"]]
    for field, value in (("limit", "five"), ("urgent", "sometimes"), ("clock", "lunch")):
        bad = [{**rows[0], field: value}, *rows[1:]]
        r = await api.post("admin", "/api/admin/sla-policies/preview", json={"policy": bad})
        assert r.status_code == 422, r.text
        assert f"policy[0].{field}" in r.json()["fields"], r.json()
    r = await api.post("admin", "/api/admin/sla-policies/preview", json={"policy": rows, "defaults": {"x": 1}})
    assert r.status_code == 422 and "x" in r.json()["detail"]
    # What only the whole set can tell is still judged by sla, naming the row.
    bad = [{**rows[0], "limit": -1}, *rows[1:]]
    r = await api.post("admin", "/api/admin/sla-policies/preview", json={"policy": bad})
    assert r.status_code == 422 and "policy[0]" in r.json()["fields"]


_addresses = itertools.count(1)


async def test_real_answers_conform_to_the_document(api, client, document, runtime):
    get_paths = [
        "/api/admin/sla-policies",
        "/api/admin/sla-policies/versions",
        "/api/admin/accounts",
        "/api/admin/events",
        "/api/admin/routing-rules",
        "/api/admin/calendar",
    ]
    for path in get_paths:
        _conforms(document, "get", path, await api.get("admin", path))
        _conforms(document, "get", path, await api.get("manager", path))  # the 403
    current = (await api.get("admin", "/api/admin/sla-policies")).json()
    version = current["version"]
    r = await api.get("admin", f"/api/admin/sla-policies/versions/{version}")
    _conforms(document, "get", "/api/admin/sla-policies/versions/{number}", r)
    r = await api.post("admin", "/api/admin/sla-policies/preview", json=current)
    _conforms(document, "post", "/api/admin/sla-policies/preview", r)
    r = await api.get("admin", "/api/admin/routing-test", params={"category": "taxi", "territory": "320612"})
    assert r.json()["rule"] is not None
    _conforms(document, "get", "/api/admin/routing-test", r)
    r = await api.post("admin", "/api/admin/calendar/exception-preview", json={"date": "2026-12-21", "reason": "台风"})
    _conforms(document, "post", "/api/admin/calendar/exception-preview", r)
    for path in ("/api/auth/me",):
        _conforms(document, "get", path, await api.get("integration-12345", path))
        _conforms(document, "get", path, await client.get(path))  # the 401
    # The citizen's side, from a client address of its own (the per-address limits are other tests' too).
    n = next(_addresses)
    transport = httpx.ASGITransport(app=client.app, client=(f"10.78.{n // 250}.{n % 250 + 1}", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as citizen:
        body = {
            "kind": "complaint",
            "category": "taxi",
            "territory": "320612",
            "title": "出租车拒载",
            "content": "南通站出租车拒载",
            "caller": {"phone": "13700005678"},
        }
        r = await citizen.post("/public/tickets", json=body)
        _conforms(document, "post", "/public/tickets", r)
        number = r.json()["number"]
        r = await citizen.get(f"/public/tickets/{number}", params={"phone_tail": "5678"})
        _conforms(document, "get", "/public/tickets/{number}", r)
        r = await citizen.get(f"/public/tickets/{number}", params={"phone_tail": "0000"})
        assert r.status_code == 404
        _conforms(document, "get", "/public/tickets/{number}", r)


async def test_account_answers_and_sign_in_conform_to_the_document(api, client, document):
    username = f"contract-{next(_addresses)}-{id(document) % 10_000}"
    r = await api.post(
        "admin", "/api/admin/accounts", json={"username": username, "role": "dispatcher", "display_name": "契约"}
    )
    _conforms(document, "post", "/api/admin/accounts", r)
    assert "password" in r.json()  # made by the service: shown this once
    r = await api.request("admin", "PATCH", f"/api/admin/accounts/{username}", json={"display_name": "契约二"})
    _conforms(document, "patch", "/api/admin/accounts/{username}", r)
    r = await api.post("admin", f"/api/admin/accounts/{username}/reset-password")
    _conforms(document, "post", "/api/admin/accounts/{username}/reset-password", r)
    one_time = r.json()["password"]
    r = await api.post("admin", f"/api/admin/accounts/{username}/unlock")
    _conforms(document, "post", "/api/admin/accounts/{username}/unlock", r)
    r = await client.post("/api/auth/token", json={"username": username, "password": one_time})
    _conforms(document, "post", "/api/auth/token", r)  # the 403: a one-time password
    new = "contract-password-42"
    r = await client.post("/api/auth/password", json={"username": username, "password": one_time, "new_password": new})
    _conforms(document, "post", "/api/auth/password", r)
    r = await client.post("/api/auth/token", json={"username": username, "password": new})
    _conforms(document, "post", "/api/auth/token", r)
    token = r.json()["access_token"]
    r = await client.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
    _conforms(document, "post", "/api/auth/logout", r)
    r = await api.post("admin", "/api/admin/accounts", json={"username": username, "role": "x", "display_name": "y"})
    _conforms(document, "post", "/api/admin/accounts", r)  # a 409 or 422, as problem details


async def test_replacing_the_policies_answers_as_documented(api, document):
    current = (await api.get("admin", "/api/admin/sla-policies")).json()
    r = await api.request("admin", "PUT", "/api/admin/sla-policies", json={**current, "reason": "contract check"})
    _conforms(document, "put", "/api/admin/sla-policies", r)
    saved = r.json()
    assert saved["policy"] == current["policy"] and saved["recompute_open"] is False
    assert saved["version"] == current["version"] + 1 and saved["reason"] == "contract check"

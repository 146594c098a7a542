"""The OpenAPI document the service serves at /schema/openapi.json (issue 13, "How it is checked"): a valid document
that describes every operation under /api and /public with a typed success schema, its request body, its bearer
security, a tag of the documented set, a unique camelCase operation id and problem details on its errors.

The document is fetched from `create_app()` over ASGI without the lifespan: building and serving it needs neither
PostgreSQL nor Redis. What an operation takes is read from the app's own route handlers (a handler with a `data`
parameter decodes a body), so the document is judged against the code, not against itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from config.settings import Settings

PREFIXES = ("/api/", "/public/")
METHODS = ("get", "put", "post", "patch", "delete")
JSON_TYPES = re.compile(r"^application/(.+\+)?json$")
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EVENT_STREAM = "text/event-stream"
PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = "#/components/schemas/ProblemDetails"
CAMEL_CASE = re.compile(r"^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)*$")
# The /api operations that take no token: signing in, and choosing a new password proven by the current one (an
# account with a one-time password gets no token until it has).
NO_TOKEN = {("POST", "/api/auth/token"), ("POST", "/api/auth/password")}
# Ids the issue names.
NAMED_IDS = {
    ("POST", "/api/tickets"): "createTicket",
    ("POST", "/api/tickets/{number}/sign"): "signTicket",
    ("GET", "/api/reports/closure"): "getClosureReport",
}


@pytest.fixture(scope="module")
def app() -> Any:
    from hotline.web.app import create_app

    return create_app(Settings(secret_key="unit-test-secret-key-for-the-openapi-document-0123", log_level="WARNING"))


@pytest.fixture(scope="module")
async def doc(app: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        response = await client.get("/schema/openapi.json")
    assert response.status_code == 200, response.text
    return response.json()


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation) for every operation under /api and /public."""
    for path, item in doc["paths"].items():
        if path.startswith(PREFIXES):
            for method in METHODS:
                if method in item:
                    yield method.upper(), path, item[method]


def served(app: Any) -> dict[tuple[str, str], bool]:
    """(METHOD, path) of every documented-to-be route handler under /api and /public: whether it decodes a body."""
    from litestar.routes import HTTPRoute

    found: dict[tuple[str, str], bool] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path_format.startswith(PREFIXES):
            continue
        for handler in route.route_handlers:
            if handler.include_in_schema is False:
                continue
            for method in handler.http_methods - {"OPTIONS", "HEAD"}:
                found[(method, route.path_format)] = "data" in handler.parsed_fn_signature.parameters
    return found


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    seen: set[str] = set()
    while "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/components/schemas/") and ref not in seen, ref
        seen.add(ref)
        schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


SUBSCHEMA_LISTS = ("oneOf", "anyOf", "allOf", "prefixItems")
SUBSCHEMAS = ("items", "not", "additionalProperties", "contains", "contentSchema")


def untyped(doc: dict[str, Any], schema: Any, where: str, seen: frozenset[str] = frozenset()) -> Iterator[str]:
    """Where, inside `schema` (its $refs followed), a value is left undescribed: an empty schema, or an object with
    neither properties nor a typed value schema (`{"type": "object", "additionalProperties": {}}`)."""
    if schema is True or schema == {}:
        yield f"{where}: empty schema"
        return
    if not isinstance(schema, dict):
        return
    if "$ref" in schema:
        ref = schema["$ref"]
        if ref in seen:
            return  # a recursive type: judged where it was first met
        yield from untyped(doc, resolve(doc, schema), f"{where}->{ref.rsplit('/', 1)[1]}", seen | {ref})
        return
    if schema.get("type") == "object" or "properties" in schema:
        extra = schema.get("additionalProperties")
        if not schema.get("properties") and extra in (None, True, {}):
            yield f"{where}: object without properties or a typed value schema"
    for name, sub in (schema.get("properties") or {}).items():
        yield from untyped(doc, sub, f"{where}.{name}", seen)
    for key in SUBSCHEMA_LISTS:
        for i, sub in enumerate(schema.get(key) or []):
            yield from untyped(doc, sub, f"{where}/{key}[{i}]", seen)
    for key in SUBSCHEMAS:
        if isinstance(schema.get(key), dict) and schema[key]:  # an empty value schema is judged with its object
            yield from untyped(doc, schema[key], f"{where}/{key}", seen)


def branches(doc: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The schema and the members of its anyOf / oneOf, resolved."""
    top = resolve(doc, schema)
    return [top, *(resolve(doc, s) for key in ("anyOf", "oneOf") for s in top.get(key) or [])]


def test_the_served_document_is_valid_openapi(doc):
    from openapi_spec_validator import validate

    assert doc["openapi"].startswith("3.")
    validate(doc)


def test_info_has_a_description_a_version_and_a_contact(doc):
    info = doc["info"]
    assert info.get("description", "").strip() and info.get("version", "").strip()
    contact = info.get("contact") or {}
    assert contact.get("name") and (contact.get("email") or contact.get("url")), contact


def test_every_route_under_api_and_public_is_documented_and_nothing_else(app, doc):
    documented = {(method, path) for method, path, _ in operations(doc)}
    assert documented == set(served(app))


def test_each_action_is_an_operation_of_its_own(doc):
    from hotline.tickets.lifecycle import ACTIONS

    paths = doc["paths"]
    missing = [name for name in ACTIONS if "post" not in paths.get(f"/api/tickets/{{number}}/{name}", {})]
    assert not missing, f"actions without an operation of their own: {missing}"
    assert "/api/tickets/{number}/{action_name}" not in paths


def test_every_success_response_is_typed(doc):
    bad = []
    for method, path, op in operations(doc):
        label = f"{method} {path}"
        successes = {code: r for code, r in op.get("responses", {}).items() if code.startswith("2")}
        if not successes:
            bad.append(f"{label}: no 2xx response")
        for code, response in successes.items():
            content = response.get("content") or {}
            if not content:
                if code != "204":
                    bad.append(f"{label} {code}: no content")
                continue
            for media_type, media in content.items():
                schema = media.get("schema")
                where = f"{label} {code} {media_type}"
                if not schema:
                    bad.append(f"{where}: no schema")
                elif JSON_TYPES.match(media_type):
                    bad.extend(untyped(doc, schema, where))
                elif media_type == EVENT_STREAM:
                    # A stream's schema describes one event (what Schemathesis validates each event against): an
                    # object whose `data` is described, e.g. as JSON with a contentSchema; it may be one branch of an
                    # anyOf beside a string (openapi-python-client reads the stream as text and type-checks then).
                    if not any("data" in (e.get("properties") or {}) for e in branches(doc, schema)):
                        bad.append(f"{where}: not an event with its data described: {schema}")
                    bad.extend(untyped(doc, schema, where))
                elif resolve(doc, schema).get("type") != "string":
                    bad.append(f"{where}: not described as a string: {schema}")
    assert not bad, f"{len(bad)} untyped success schemas:\n" + "\n".join(bad)


def test_every_operation_that_takes_a_body_documents_it(app, doc):
    from hotline.tickets.lifecycle import ACTIONS

    takes_body = {key for key, data in served(app).items() if data}
    takes_body |= {("POST", f"/api/tickets/{{number}}/{name}") for name in ACTIONS}
    by_key = {(method, path): op for method, path, op in operations(doc)}
    bad = []
    for key in sorted(takes_body):
        label = " ".join(key)
        if key not in by_key:
            bad.append(f"{label}: not documented")
            continue
        content = (by_key[key].get("requestBody") or {}).get("content") or {}
        if "application/json" not in content:
            bad.append(f"{label}: no application/json request body")
            continue
        schema = content["application/json"].get("schema") or {}
        resolved = resolve(doc, schema) if schema else {}
        if not resolved:
            bad.append(f"{label}: empty request body schema")
        elif resolved.get("type") == "object" and not resolved.get("properties") and not resolved.get("oneOf"):
            if resolved.get("additionalProperties") in (None, True, {}):
                bad.append(f"{label}: untyped request body object")
    assert not bad, "\n".join(bad)


def test_api_operations_require_the_bearer_token_and_public_ones_do_not(doc):
    scheme = doc["components"]["securitySchemes"]["bearer"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    bad = []
    for method, path, op in operations(doc):
        security = op.get("security", doc.get("security")) or []
        bearer = {"bearer": []} in security
        needs_token = path.startswith("/api/") and (method, path) not in NO_TOKEN
        if needs_token and not bearer:
            bad.append(f"{method} {path}: no bearer security requirement")
        if needs_token and "401" not in op.get("responses", {}):
            bad.append(f"{method} {path}: 401 not documented")
        if not needs_token and bearer and {} not in security:
            bad.append(f"{method} {path}: requires a token it does not need")
    assert not bad, "\n".join(bad)


def test_every_operation_has_one_tag_of_the_documented_set(doc):
    from hotline.web.contract import TAGS

    names = {tag["name"] for tag in doc.get("tags", [])}
    assert names == {tag.name for tag in TAGS}
    bad = [f"{m} {p}: tags {op.get('tags')}" for m, p, op in operations(doc) if len(op.get("tags") or []) != 1]
    bad += [
        f"{m} {p}: unknown tag {op['tags']}" for m, p, op in operations(doc) if not set(op.get("tags") or []) <= names
    ]
    assert not bad, "\n".join(bad)


def expected_tag(method: str, path: str) -> str | None:
    """The area an operation belongs to, as the tags' descriptions in hotline/web/contract.py give them."""
    from hotline.tickets.lifecycle import ACTIONS

    parts = path.strip("/").split("/")
    if path.startswith("/api/tickets/{number}/") and parts[-1] in ACTIONS:
        return "actions"
    areas = {
        "/public/": "public",
        "/api/auth/": "auth",
        "/api/tickets": "tickets",
        "/api/reports/": "reports",
        "/api/admin/": "admin",
        "/api/escalations": "escalations",
        "/api/notifications": "escalations",
        "/api/reference": "reference",
        "/api/sla/": "reference",
        "/api/live": "ops",
    }
    return next((tag for prefix, tag in areas.items() if path.startswith(prefix)), None)


def test_tags_follow_the_areas(doc):
    bad = []
    for method, path, op in operations(doc):
        want = expected_tag(method, path)
        if want is not None and op.get("tags") != [want]:
            bad.append(f"{method} {path}: tagged {op.get('tags')}, its area is {want!r}")
    assert not bad, "\n".join(bad)


def test_operation_ids_are_unique_and_camel_case(doc):
    ids = [(op.get("operationId") or "", f"{m} {p}") for m, p, op in operations(doc)]
    bad = [f"{label}: {oid!r}" for oid, label in ids if not CAMEL_CASE.match(oid)]
    assert not bad, "operation ids not in camelCase:\n" + "\n".join(bad)
    every = [op.get("operationId") for item in doc["paths"].values() for op in item.values() if isinstance(op, dict)]
    duplicated = sorted({oid for oid in every if oid and every.count(oid) > 1})
    assert not duplicated, duplicated
    by_key = {(m, p): op.get("operationId") for m, p, op in operations(doc)}
    assert {key: by_key.get(key) for key in NAMED_IDS} == NAMED_IDS


def test_problem_details_is_described_once(doc):
    problem = doc["components"]["schemas"]["ProblemDetails"]
    assert {"type", "title", "status", "detail", "instance", "fields", "invalid_params", "allowed_actions"} <= set(
        problem["properties"]
    )
    assert {"type", "title", "status", "detail"} <= set(problem.get("required", []))


def test_errors_are_problem_details(doc):
    bad = []
    for method, path, op in operations(doc):
        errors = {code: r for code, r in op.get("responses", {}).items() if code[0] in "45"}
        if not any(code.startswith("4") for code in errors):
            bad.append(f"{method} {path}: no 4xx response")
        for code, response in errors.items():
            content = response.get("content") or {}
            if set(content) != {PROBLEM_JSON}:
                bad.append(f"{method} {path} {code}: media types {sorted(content)}")
            elif content[PROBLEM_JSON].get("schema") != {"$ref": PROBLEM_REF}:
                bad.append(f"{method} {path} {code}: schema {content[PROBLEM_JSON].get('schema')}")
    assert not bad, f"{len(bad)} error responses that are not problem details:\n" + "\n".join(bad)


def test_files_and_the_live_stream_are_documented_as_what_they_are(doc):
    closure = doc["paths"]["/api/reports/closure"]["get"]["responses"]["200"]["content"]
    assert {"application/json", CSV, XLSX} <= set(closure), sorted(closure)
    live = doc["paths"]["/api/live"]["get"]["responses"]["200"]["content"]
    assert set(live) == {EVENT_STREAM}, sorted(live)


def test_the_intake_replay_header_is_declared(doc):
    replay = doc["paths"]["/api/tickets"]["post"]["responses"]["200"]
    header = (replay.get("headers") or {}).get("Idempotent-Replay")
    assert header and header["schema"].get("const") == "true", replay.get("headers")
    # Declared wherever the service sends it: an intake replay, and an upstream platform's replayed request.
    from pathlib import Path

    import hotline

    sent = sorted(
        str(p.relative_to(Path(hotline.__file__).parent))
        for p in Path(hotline.__file__).parent.rglob("*.py")
        if '"Idempotent-Replay": "true"' in p.read_text(encoding="utf-8")
    )
    assert sent == ["web/api/tickets_api.py", "web/api/transfers_api.py"], sent
    paths = [p for p in doc["paths"] if p.startswith("/api/transfers/")]
    assert len(paths) == 3, paths
    for path in paths:
        header = doc["paths"][path]["post"]["responses"]["200"].get("headers", {}).get("Idempotent-Replay")
        assert header and header["schema"].get("const") == "true" and not header.get("required"), (path, header)


def examples_of(doc: dict[str, Any], media: dict[str, Any]) -> list[tuple[str, Any]]:
    """(name, value) of each example a media type shows: its `examples` map, and its schema's `examples` list."""
    found = [(name, e["value"]) for name, e in (media.get("examples") or {}).items()]
    schema = media.get("schema") or {}
    found += [(f"schema[{i}]", value) for i, value in enumerate(schema.get("examples") or [])]
    return found


def every_example(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(where, schema, value) of every request and response example in the document."""
    for method, path, op in operations(doc):
        bodies = [("request", (op.get("requestBody") or {}).get("content") or {})]
        bodies += [(code, r.get("content") or {}) for code, r in op.get("responses", {}).items()]
        for part, content in bodies:
            for media_type, media in content.items():
                for name, value in examples_of(doc, media):
                    yield f"{method} {path} {part} {media_type} {name}", media["schema"], value


# The main operations (issue 13, "Media types"): a phone call and a 12345 transfer taken in, a reply, a callback.
MAIN_EXAMPLES = {
    ("POST", "/api/tickets"): {"request": 2, "201": 2, "200": 1},
    ("POST", "/api/tickets/{number}/reply"): {"request": 1, "200": 1},
    ("POST", "/api/tickets/{number}/callback"): {"request": 1, "200": 1},
}


def test_the_main_operations_show_request_and_response_examples(doc):
    by_key = {(m, p): op for m, p, op in operations(doc)}
    found = {}
    for key, wanted in MAIN_EXAMPLES.items():
        op = by_key[key]
        parts = {"request": (op.get("requestBody") or {}).get("content") or {}}
        parts |= {code: r.get("content") or {} for code, r in op["responses"].items()}
        found[key] = {part: len(examples_of(doc, parts[part].get("application/json") or {})) for part in wanted}
    assert found == MAIN_EXAMPLES
    channels = [
        v["channel"]
        for _, v in examples_of(doc, by_key[("POST", "/api/tickets")]["requestBody"]["content"]["application/json"])
    ]
    assert channels == ["96196", "12345"]


def test_every_example_validates_against_its_own_schema(doc):
    from jsonschema import Draft202012Validator

    checked, bad = 0, []
    for where, schema, value in every_example(doc):
        # The schema's $refs point into the document's components: validate against the schema placed in it.
        validator = Draft202012Validator({**schema, "components": doc["components"]})
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        bad += [f"{where}: {'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:3]]
        checked += 1
    assert checked >= sum(sum(parts.values()) for parts in MAIN_EXAMPLES.values())
    assert not bad, "\n".join(bad)

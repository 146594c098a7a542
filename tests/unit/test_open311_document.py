"""/open311 in the OpenAPI document (issue 13: "/open311 when it exists" is typed too): every Open311 operation the
app serves is documented once, under the `public` tag, with a camelCase id, no bearer requirement, a typed JSON
success schema whose fields are the spec's, and its errors as the spec's array of {code, description} (not
problem+json: Open311 clients read the spec's format)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from config.settings import Settings
from tests.unit.test_openapi_document import CAMEL_CASE, resolve, untyped

JSON = "application/json"


@pytest.fixture(scope="module")
async def doc() -> dict[str, Any]:
    from hotline.web.app import create_app

    app = create_app(Settings(secret_key="unit-test-secret-key-for-the-openapi-document-0123", log_level="WARNING"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    return response.json()


def open311(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): op
        for path, item in doc["paths"].items()
        if path.startswith("/open311/")
        for method, op in item.items()
        if isinstance(op, dict)
    }


def test_the_json_operations_are_documented_and_the_xml_twins_are_not(doc):
    assert set(open311(doc)) == {
        ("GET", "/open311/v2/discovery.json"),
        ("GET", "/open311/v2/services.json"),
        ("GET", "/open311/v2/services/{name}"),
        ("GET", "/open311/v2/requests.json"),
        ("POST", "/open311/v2/requests.json"),
        ("GET", "/open311/v2/requests/{name}"),
    }


def test_each_has_a_public_tag_an_id_and_no_token(doc):
    ops = open311(doc)
    ids = [op["operationId"] for op in ops.values()]
    assert all(CAMEL_CASE.match(i) for i in ids) and len(set(ids)) == len(ids)
    assert all(op["tags"] == ["public"] for op in ops.values())
    assert not any(op.get("security") for op in ops.values())


def test_success_schemas_are_typed_with_the_spec_fields(doc):
    ops = open311(doc)
    for (method, path), op in ops.items():
        success = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        assert len(success) == 1, (method, path)
        schema = next(iter(success.values()))["content"][JSON]["schema"]
        assert not list(untyped(doc, schema, f"{method} {path}")), (method, path)
    listed = ops[("GET", "/open311/v2/requests.json")]["responses"]["200"]["content"][JSON]["schema"]
    assert listed["type"] == "array"
    request = resolve(doc, listed["items"])
    assert {"service_request_id", "status", "status_notes", "agency_responsible", "requested_datetime"} <= set(
        request["properties"]
    )
    assert {"expected_datetime", "address", "lat", "long"} <= set(request["properties"])
    assert not {"caller", "phone", "first_name", "last_name", "email"} & set(request["properties"])


def test_errors_are_the_spec_array(doc):
    for (method, path), op in open311(doc).items():
        errors = {code: r for code, r in op["responses"].items() if code[0] in "45"}
        assert {"400", "403", "404"} <= set(errors), (method, path)
        for response in errors.values():
            schema = response["content"][JSON]["schema"]
            assert schema["type"] == "array", (method, path)
            assert set(resolve(doc, schema["items"])["properties"]) == {"code", "description"}


def test_the_post_documents_its_form_body(doc):
    post = open311(doc)[("POST", "/open311/v2/requests.json")]
    body = post["requestBody"]["content"]
    assert set(body) == {"application/x-www-form-urlencoded"}  # JSON too, said in the description
    form = body["application/x-www-form-urlencoded"]["schema"]
    assert {"api_key", "service_code", "lat", "long", "address_string", "attribute[kind]"} <= set(form["properties"])
    assert set(form["required"]) == {"api_key", "service_code", "description", "attribute[kind]"}
    assert "or JSON with the same names" in post["description"]

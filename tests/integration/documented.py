"""Checking real answers against the served OpenAPI document: an operation's documented success schema, with the
document's components, validated (JSON Schema 2020-12, as OpenAPI 3.1 uses) against a body the service sent."""

from __future__ import annotations

from typing import Any

import jsonschema_rs

JSON = "application/json"


async def document(client: Any) -> dict[str, Any]:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200, r.text
    return r.json()


def operation(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return doc["paths"][path][method.lower()]


def success_content(doc: dict[str, Any], method: str, path: str, status: str = "200") -> dict[str, Any]:
    """The documented media types of an operation's success response, each with its schema."""
    return operation(doc, method, path)["responses"][status]["content"]


def component(doc: dict[str, Any], ref_or_name: str) -> dict[str, Any]:
    return doc["components"]["schemas"][ref_or_name.rsplit("/", 1)[-1]]


def mismatches(doc: dict[str, Any], method: str, path: str, body: Any, media: str = JSON) -> list[str]:
    """Every way `body` breaks the schema the document gives the operation's 200 in `media` (none: it conforms)."""
    schema = {**success_content(doc, method, path)[media]["schema"], "components": doc["components"]}
    return [str(e).split("\n", 1)[0] for e in jsonschema_rs.validator_for(schema).iter_errors(body)]

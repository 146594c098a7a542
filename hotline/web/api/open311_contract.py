"""The Open311 routes' contract (hotline.web.api.open311_api): how their answers and the spec's errors are sent
(`answer()`, `as_open311()`), and what the OpenAPI document says of them (`op()`: the JSON operations under the
`public` tag with the spec's error array; `SubmitOperation`: the POST's form body)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, Reference, RequestBody, Schema

from hotline.open311 import shapes, xml
from hotline.web.contract import operation

JSON = "application/json; charset=utf-8"
XML = "text/xml"  # Litestar adds "; charset=utf-8" to text types

# Open311's status for each of the service's own: a missing or bad key is 403, other bad input 400 (the spec).
STATUS = {401: 403, 409: 400, 415: 400, 422: 400}

_ERRORS = {
    400: "Bad input: each error's description names the parameter",
    403: "Missing or invalid api_key",
    404: "No such service_code or service_request_id",
    429: "Too many requests: wait `Retry-After` seconds",
    503: "A dependency is unavailable: retry after `Retry-After` seconds",
}
RESPONSES = {
    status: ResponseSpec(
        data_container=list[shapes.Open311Error],
        media_type="application/json",
        description=text,
        generate_examples=False,
    )
    for status, text in _ERRORS.items()
}


def op(operation_id: str, summary: str, description: str) -> dict[str, Any]:
    """An Open311 route's documented contract: `operation()`'s id, tag and text, with the spec's error array."""
    spec = operation(operation_id, "public", public=True, summary=summary, description=description)
    return {**spec, "responses": RESPONSES}


def answer(value: Any, root: str, fmt: str, status: int = 200) -> Response[Any]:
    """`value` as JSON (the spec's Spark convention: Structs as they are) or as the spec's XML under `root`."""
    if fmt == "xml":
        return Response(content=xml.render(root, value), media_type=XML, status_code=status)
    return Response(content=msgspec.json.encode(value), media_type=JSON, status_code=status)


# The POST's parameters as the OpenAPI document shows them (the handler reads the form itself, to answer every bad
# one in the spec's error format): each a string.
_PARAMETERS = {
    "api_key": "an integration account's key",
    "service_code": "a service_code of services.json (our category code)",
    "lat": "latitude (WGS84), with long",
    "long": "longitude (WGS84), with lat",
    "address_string": "the address, when no lat/long",
    "description": "what happened (at most 4000 characters)",
    "attribute[kind]": "the kind of request (诉求类型), a value of the service definition",
    "attribute[territory]": "the territory (GB/T 2260 code), a value of the service definition",
    "attribute[urgent]": "true or false",
    "first_name": "kept for the callback, never shown",
    "last_name": "kept for the callback, never shown",
    "phone": "kept for the callback, never shown",
    "email": "not kept",
    "jurisdiction_id": "ignored: one jurisdiction",
}
_REQUIRED = ["api_key", "service_code", "description", "attribute[kind]"]


def _form_schema() -> Schema:
    properties: dict[str, Schema | Reference] = {
        name: Schema(type=OpenAPIType.STRING, description=text) for name, text in _PARAMETERS.items()
    }
    return Schema(type=OpenAPIType.OBJECT, properties=properties, required=_REQUIRED)


@dataclass
class SubmitOperation(Operation):
    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            # The spec's form only: a JSON body with the same names is read too (said in the description), but two
            # body types make openapi-python-client generate a client that does not type-check (Unset undefined).
            content={"application/x-www-form-urlencoded": OpenAPIMediaType(schema=_form_schema())},
        )


def as_open311(handler: Callable[..., Response[Any]]) -> Callable[..., Response[Any]]:
    """The service's error answer (status, detail, fields) re-dressed as the spec's error array."""

    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        response = handler(request, exc)
        problem = response.content
        status = STATUS.get(response.status_code or 500, response.status_code or 500)
        fields = getattr(problem, "fields", None) or {}
        texts = [f"{name}: {reason}" for name, reason in fields.items()] or [getattr(problem, "detail", "error")]
        errors = [shapes.Open311Error(code=status, description=text) for text in texts]
        fmt = "xml" if request.url.path.endswith(".xml") else "json"
        dressed = answer(errors, "errors", fmt, status)
        retry = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), None)
        if retry:
            dressed.headers["Retry-After"] = retry
        return dressed

    return handle

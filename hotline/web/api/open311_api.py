"""Open311 GeoReport v2 at /open311/v2/ (hotline.open311): discovery, services, service definitions, service
requests (POST with an API key, GET by filters or by id), each as `.json` or `.xml` as the spec's URLs name them.

Errors are the spec's, not problem+json: an array of {code, description} (XML: <errors><error>…) with the HTTP
status, 403 for a missing or invalid api_key, 404 for what does not exist, 400 for any other bad input; the
service's own error mapping (hotline.web.problems) decides the status and text, and is only re-dressed here.
Rate-limited per client address like /public. The OpenAPI document describes the JSON operations (each says its
`.xml` twin answers the same as text/xml); hotline.web.api.open311_contract says how.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, Router, get, post, route
from litestar.di import NamedDependency
from litestar.exceptions import MethodNotAllowedException
from litestar.params import FromPath

from hotline.errors import InvalidInput, NotFound
from hotline.infra.runtime import Runtime
from hotline.open311 import catalogue, requests, shapes
from hotline.web import problems, ratelimit
from hotline.web.api.open311_contract import SubmitOperation, answer, as_open311, op
from hotline.web.limits import MAX_JSON_DEPTH, json_depth_exceeds

BASE = "/open311/v2"
CHANGESET = "2026-12-04"


def _split(name: str) -> tuple[str, str]:
    """`T-1.json` -> (`T-1`, `json`); another suffix is a resource that does not exist."""
    stem, dot, fmt = name.rpartition(".")
    if not dot or fmt not in ("json", "xml") or not stem:
        raise NotFound(f"{name!r}: the resource ends in .json or .xml")
    return stem, fmt


async def _limit(request: Request[Any, Any, Any], rt: Runtime, scope: str) -> None:
    # The peer, or the forwarded address when the peer is a trusted proxy (as /public counts).
    client = request.client.host if request.client else "unknown"
    await ratelimit.hit(rt.redis, scope, client, rt.settings.public_rate_limit_per_minute)


def _discovery(request: Request[Any, Any, Any]) -> shapes.Discovery:
    url = str(request.base_url).rstrip("/") + BASE
    return shapes.Discovery(
        changeset=CHANGESET,
        contact="南通市交通运输服务监督电话 96196",
        key_service="API keys are issued to an integration account by the hotline's administrator "
        "(hotline open311-key <username>)",
        endpoints=[
            shapes.Endpoint(
                specification=shapes.SPEC,
                url=url,
                changeset=CHANGESET,
                type="production",
                formats=["text/xml", "application/json"],
            )
        ],
    )


@get(
    f"{BASE}/discovery.json",
    **op("getOpen311Discovery", "Open311 service discovery", "The endpoint, its formats and how to get a key."),
)
async def discovery_json(request: Request[Any, Any, Any], rt: NamedDependency[Runtime]) -> Response[shapes.Discovery]:
    await _limit(request, rt, "open311-read")
    return answer(_discovery(request), "discovery", "json")


@get(f"{BASE}/discovery.xml", include_in_schema=False)
async def discovery_xml(request: Request[Any, Any, Any], rt: NamedDependency[Runtime]) -> Response[Any]:
    await _limit(request, rt, "open311-read")
    return answer(_discovery(request), "discovery", "xml")


@get(
    f"{BASE}/services.json",
    **op(
        "listOpen311Services",
        "Open311 services: one per category",
        "`service_code` is the category code (e.g. `taxi`), `service_name` its Chinese name; every service has a "
        "definition (`metadata`: true) and answers at once (`type`: realtime). `services.xml`: the same as XML.",
    ),
)
async def services_json(
    request: Request[Any, Any, Any], rt: NamedDependency[Runtime]
) -> Response[list[shapes.Service]]:
    await _limit(request, rt, "open311-read")
    return answer(catalogue.services(rt), "services", "json")


@get(f"{BASE}/services.xml", include_in_schema=False)
async def services_xml(request: Request[Any, Any, Any], rt: NamedDependency[Runtime]) -> Response[Any]:
    await _limit(request, rt, "open311-read")
    return answer(catalogue.services(rt), "services", "xml")


@get(
    f"{BASE}/services/{{name:str}}",
    **op(
        "getOpen311ServiceDefinition",
        "An Open311 service definition",
        "`services/{service_code}.json` (or `.xml`): the attributes a request gives: `kind` (required), "
        "`territory` and `urgent`, each a singlevaluelist.",
    ),
)
async def service_definition(
    name: FromPath[str], request: Request[Any, Any, Any], rt: NamedDependency[Runtime]
) -> Response[shapes.ServiceDefinition]:
    await _limit(request, rt, "open311-read")
    code, fmt = _split(name)
    return answer(catalogue.definition(rt, code), "service_definition", fmt)


@get(
    f"{BASE}/requests.json",
    **op(
        "listOpen311Requests",
        "Open311 service requests",
        "Filters: `service_request_id` (comma list; overrides the others), `service_code` and `status` "
        "(open, closed; comma lists), `start_date`/`end_date` (w3 date-times with offset, at most 90 days apart; "
        "the last 90 days by default); newest first, `page_size` (1-1000, default 1000) per `page` (from 1). "
        "Only requests submitted through Open311; nothing personal. `requests.xml`: the same as XML.",
    ),
)
async def requests_json(
    request: Request[Any, Any, Any], rt: NamedDependency[Runtime]
) -> Response[list[shapes.ServiceRequest]]:
    await _limit(request, rt, "open311-read")
    return answer(await requests.query(rt, dict(request.query_params)), "service_requests", "json")


@get(f"{BASE}/requests.xml", include_in_schema=False)
async def requests_xml(request: Request[Any, Any, Any], rt: NamedDependency[Runtime]) -> Response[Any]:
    await _limit(request, rt, "open311-read")
    return answer(await requests.query(rt, dict(request.query_params)), "service_requests", "xml")


@get(
    f"{BASE}/requests/{{name:str}}",
    **op(
        "getOpen311Request",
        "One Open311 service request",
        "`requests/{service_request_id}.json` (or `.xml`): its status (open, closed), the reply (`status_notes`), "
        "the unit (`agency_responsible`), the reply deadline (`expected_datetime`) and the location.",
    ),
)
async def request_one(
    name: FromPath[str], request: Request[Any, Any, Any], rt: NamedDependency[Runtime]
) -> Response[list[shapes.ServiceRequest]]:
    await _limit(request, rt, "open311-read")
    number, fmt = _split(name)
    return answer([await requests.one(rt, number)], "service_requests", fmt)


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The POST's parameters: form-encoded as the spec says, or a JSON object with the same names (`attribute`
    may be an object there: {"kind": "complaint"} for attribute[kind])."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    body = await request.body()
    if json_depth_exceeds(body):
        raise InvalidInput("the JSON body nests too deep", fields={"body": f"at most {MAX_JSON_DEPTH} levels"})
    try:
        doc = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise InvalidInput("the body is not valid JSON", fields={"body": "a JSON object"}) from exc
    if not isinstance(doc, dict):
        raise InvalidInput("the body is a JSON object of the POST's parameters", fields={"body": "a JSON object"})
    flat = dict(doc)
    attributes = flat.pop("attribute", None)
    if isinstance(attributes, dict):
        flat.update({f"attribute[{k}]": v for k, v in attributes.items()})
    elif attributes is not None:
        raise InvalidInput("attribute is an object of codes and values", fields={"attribute": "an object"})
    out: dict[str, str] = {}
    for key, value in flat.items():
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            out[key] = str(value)
        elif value is not None:
            raise InvalidInput(f"{key} is a string or a number", fields={key: "a string or a number"})
    return out


@post(
    f"{BASE}/requests.json",
    status_code=201,
    operation_class=SubmitOperation,
    **op(
        "createOpen311Request",
        "Submit an Open311 service request",
        "Form-encoded (application/x-www-form-urlencoded) as the spec says, or JSON with the same names: `api_key` "
        "(an integration account's), `service_code`, `lat` and `long` or `address_string`, `description`, "
        "`attribute[kind]` (required), `attribute[territory]`, `attribute[urgent]`; `first_name`, `last_name` and "
        "`phone` are kept for the callback and never shown. Logged as a `web` ticket; `service_request_id` is its "
        "number. `requests.xml`: the same as XML.",
    ),
)
async def create_json(
    request: Request[Any, Any, Any], rt: NamedDependency[Runtime]
) -> Response[list[shapes.CreatedRequest]]:
    await _limit(request, rt, "open311-submit")
    return answer([await requests.submit(rt, await _form(request))], "service_requests", "json", 201)


@post(f"{BASE}/requests.xml", status_code=201, include_in_schema=False)
async def create_xml(request: Request[Any, Any, Any], rt: NamedDependency[Runtime]) -> Response[Any]:
    await _limit(request, rt, "open311-submit")
    return answer([await requests.submit(rt, await _form(request))], "service_requests", "xml", 201)


@route(f"{BASE}/{{rest:path}}", http_method=["GET", "POST"], include_in_schema=False)
async def unknown(rest: FromPath[str]) -> None:
    """Anything else under the base URL: the spec's 404, in the format its suffix asks for."""
    raise NotFound(f"no Open311 resource {rest!r}; see discovery.json")


@get([BASE, f"{BASE}/"], include_in_schema=False)
async def base() -> None:
    raise NotFound("the Open311 GeoReport v2 endpoint: see discovery.json (or .xml)")


_FIXED = ["discovery.json", "discovery.xml", "services.json", "services.xml", "requests.json", "requests.xml"]


@route(
    [*(f"{BASE}/{p}" for p in _FIXED), f"{BASE}/services/{{name:str}}", f"{BASE}/requests/{{name:str}}"],
    http_method=["PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def not_allowed() -> None:
    """Methods the spec has no use for: 405 as the spec's error array, not the framework's."""
    raise MethodNotAllowedException("Open311 resources are read with GET; requests are submitted with POST")


ROUTER = Router(
    path="/",
    route_handlers=[
        discovery_json,
        discovery_xml,
        services_json,
        services_xml,
        service_definition,
        requests_json,
        requests_xml,
        request_one,
        create_json,
        create_xml,
        unknown,
        base,
        not_allowed,
    ],
    exception_handlers={exc: as_open311(h) for exc, h in problems.EXCEPTION_HANDLERS.items()},
)
ROUTES = [ROUTER]

"""The API's contract as OpenAPI describes it: the document's info, tags and bearer scheme, the problem-details
schema every operation answers its errors with, and `operation()`, which gives each route its stable id, its tag,
its security, the roles its guard admits (stated in its description) and its error responses, in one call.

A route reads:

    @get("/api/escalations", **operation("listEscalations", "escalations", roles=STAFF_ROLES))

The guard runs before Litestar reads the body: a request without a valid token is told 401, and a role the route
does not admit 403, before any 422 about what it sent. A JSON body is then decoded strictly against the route's
body type (hotline.web.strict_bodies), so what the document says a field is, it must be.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    Contact,
    Example,
    OpenAPIHeader,
    OpenAPIResponse,
    Operation,
    RequestBody,
    Schema,
    SecurityScheme,
    Tag,
)
from litestar.openapi.spec.enums import OpenAPIType
from litestar.types import Guard

from hotline.auth.tokens import Principal
from hotline.errors import Forbidden
from hotline.web import ratelimit, strict_bodies
from hotline.web.signed_in import principal_from_request

PROBLEM_JSON = "application/problem+json"
BEARER = "bearer"


class InvalidParam(msgspec.Struct):
    name: str
    reason: str


class ProblemDetails(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details, as every 4xx and 5xx of /api and /public is sent (application/problem+json)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    # The offending fields, by name: `fields` maps each to what is wrong, `invalid_params` lists the same pairs.
    fields: dict[str, str] | None = None
    invalid_params: list[InvalidParam] | None = None
    # On a 409 about a ticket: what the caller may do now, the ticket's status and version.
    allowed_actions: list[str] | None = None
    ticket_status: str | None = None
    version: int | None = None
    # On a 429 or 503: seconds to wait (also in the Retry-After header).
    retry_after: float | None = None  # an integer number of seconds is a JSON number too
    # On a 422 about a document (a policy set): each problem found in it, in order.
    problems: list[str] | None = None


_ERRORS = {
    400: "Bad request: the request could not be read",
    401: "Not authenticated: no valid bearer token",
    403: "Forbidden: this role or account may not do this",
    404: "Not found, or not visible to this account",
    409: "Conflict: the ticket changed or is in a state that does not allow this (`allowed_actions` says what does)",
    413: "The body is larger than 1 MiB",
    415: "The body is not JSON",
    422: "Invalid input: `fields` names each offending field",
    429: "Too many requests: wait `Retry-After` seconds",
    500: "Internal error (logged)",
    503: "A dependency is unavailable: retry after `Retry-After` seconds",
}
PROBLEM_RESPONSES: dict[int, ResponseSpec] = {
    status: ResponseSpec(
        data_container=ProblemDetails, media_type=PROBLEM_JSON, description=description, generate_examples=False
    )
    for status, description in _ERRORS.items()
}

TAGS = [
    Tag(name="auth", description="Tokens, passwords and the signed-in account"),
    Tag(name="tickets", description="Intake (calls, transfers from 12345 / 12328 / 12319), lists, reading"),
    Tag(name="actions", description="The lifecycle: one operation per action, each with its own body"),
    Tag(name="reference", description="Reference data, SLA deadline previews"),
    Tag(name="escalations", description="Open escalation steps and notifications"),
    Tag(name="reports", description="Closure-rate reports (JSON, CSV, XLSX), digests, export audit"),
    Tag(name="admin", description="SLA policies, accounts, routing rules, calendar, audit trail"),
    Tag(name="public", description="The citizen's side: submit a case, follow its progress"),
    Tag(name="ops", description="Health and the live feed"),
]
_TAG_NAMES = {t.name for t in TAGS}


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """The principal a guard already found for this request, if any."""
    return getattr(connection.state, "principal", None)


async def _sign_in(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = principal_of(connection)
    if principal is None:
        principal = await principal_from_request(connection)  # type: ignore[arg-type]
        ratelimit.limiter_of(connection.app.state.runtime).hit(principal.user_id)
        connection.state.principal = principal
    return principal


async def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Any signed-in account: the principal is found once, before the body is parsed."""
    await _sign_in(connection)


def requires(roles: Collection[str]) -> Guard:
    """A guard admitting the given roles only (403 for the others, 401 without a valid token)."""
    allowed = frozenset(roles)
    listed = ", ".join(sorted(allowed))

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = await _sign_in(connection)
        if principal.role not in allowed:
            raise Forbidden(f"role {principal.role} may not do this (allowed: {listed})")

    guard.__name__ = f"requires_{'_'.join(sorted(allowed))}"
    return guard


def operation(
    operation_id: str,
    tag: str,
    *,
    roles: Collection[str] | None = None,
    public: bool = False,
    summary: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """A route's documented contract: its id, tag, guard and error responses. `roles` admits those roles only;
    without it any signed-in account may call (the service then scopes what it sees); `public` needs no token."""
    if tag not in _TAG_NAMES:
        raise ValueError(f"unknown tag {tag!r}")
    who = (
        "No token needed."
        if public
        else f"Roles: {', '.join(sorted(roles))}."
        if roles is not None
        else "Any signed-in account."
    )
    spec: dict[str, Any] = {
        "operation_id": operation_id,
        "tags": [tag],
        "summary": summary,
        "description": f"{description}\n\n{who}" if description else who,
        "responses": PROBLEM_RESPONSES,
    }
    # Bodies are decoded strictly, as documented ("3" is no integer), and refused naming each field.
    spec["before_request"] = strict_bodies.check_body
    if not public:
        spec["security"] = [{BEARER: []}]
        spec["guards"] = [requires(roles) if roles is not None else signed_in]
    return spec


@dataclass
class VerbatimExample(Example):
    """An example whose value the document shows as written: Litestar leaves out every null of every object it
    writes, and a ticket's nulls (`closure`, `reply`...) are part of it."""

    def to_schema(self) -> dict[str, Any]:
        schema = super().to_schema()
        if self.value is not None:
            schema["value"] = self.value
        return schema


# Sent on the 200 of an intake that replays an earlier one (its Idempotency-Key, or a transfer's channel and
# external_ref, made the ticket before).
IDEMPOTENT_REPLAY = {
    "Idempotent-Replay": OpenAPIHeader(
        schema=Schema(type=OpenAPIType.STRING, const="true"),
        description="`true`: this request replays an earlier one, and the ticket is the one made then",
        required=True,
    )
}
# Sent on a 200 that may or may not replay an earlier request (an upstream platform's recall, urge or supplement
# under a request id it sent before): present only when it does.
MAY_REPLAY = {
    "Idempotent-Replay": OpenAPIHeader(
        schema=Schema(type=OpenAPIType.STRING, const="true"),
        description="`true` when this request replays an earlier one with the same Idempotency-Key (nothing was done "
        "again); absent otherwise",
        required=False,
    )
}


def documented(
    *,
    headers: Mapping[int, Mapping[str, OpenAPIHeader]] | None = None,
    examples: Mapping[int, Sequence[Example]] | None = None,
    optional_body: bool = False,
) -> type[Operation]:
    """An `operation_class` for a route: adds what Litestar's route decorators cannot say to the operation it
    generates: headers a response sends (by status), examples of a response's body (by status), and a body that may
    be left out (Litestar documents every body as required)."""
    extra_headers = {str(code): dict(named) for code, named in (headers or {}).items()}
    extra_examples = {
        str(code): {f"example{i}": e for i, e in enumerate(listed, 1)} for code, listed in (examples or {}).items()
    }

    @dataclass
    class DocumentedOperation(Operation):
        def __post_init__(self) -> None:
            responses = self.responses or {}
            for code, headers_of in extra_headers.items():
                response = responses[code]
                assert isinstance(response, OpenAPIResponse), code
                response.headers = {**(response.headers or {}), **headers_of}
            for code, examples_of in extra_examples.items():
                response = responses[code]
                assert isinstance(response, OpenAPIResponse) and response.content, code
                for media in response.content.values():
                    media.examples = dict(examples_of)
            if optional_body and isinstance(self.request_body, RequestBody):
                self.request_body.required = False

    return DocumentedOperation


def openapi_config(version: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Hotline",
        version=version,
        description=(
            "Ticket dispatch and SLA tracking for the 96196 transport hotline and the cases transferred from the "
            "12345, 12328 and 12319 hotlines (属地管理、统一受理、归口办理、限时办结). Sign in with "
            "`POST /api/auth/token`, then send `Authorization: Bearer <token>` on every /api call. Errors are "
            "`application/problem+json` bodies naming the offending fields."
        ),
        contact=Contact(name="Hotline engineering", email="hotline@example.org"),
        path="/schema",
        render_plugins=[SwaggerRenderPlugin()],
        tags=TAGS,
        components=Components(
            security_schemes={
                BEARER: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="A token from POST /api/auth/token (or the console's session cookie)",
                )
            }
        ),
    )

"""Domain errors and framework exceptions as HTTP problem details (RFC 9457), the service's one mapping: every
4xx and 5xx an /api or /public client sees is an application/problem+json body (contract.ProblemDetails) naming the
bad fields. STATUS is the table from each domain error to its status and title; hotline.errors knows no HTTP.
"""

from __future__ import annotations

from typing import Any, Unpack

import asyncpg
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from hotline.errors import (
    DATABASE_UNAVAILABLE,
    UNSTORABLE_TEXT,
    Conflict,
    DomainError,
    Facts,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PasswordChangeRequired,
    RateLimited,
    ServiceUnavailable,
    StaleVersion,
    TicketNotFound,
    TransitionNotAllowed,
    UnsupportedMediaType,
    database_gone,
)
from hotline.web.contract import InvalidParam, ProblemDetails

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger(__name__)

# Each domain error's HTTP status and problem title. An error answers with its nearest class here (along its MRO):
# TicketNotFound its own title, a NotFound subclass not listed here NotFound's.
STATUS: dict[type[DomainError], tuple[int, str]] = {
    DomainError: (400, "Bad request"),
    InvalidInput: (422, "Invalid input"),
    NotAuthenticated: (401, "Not authenticated"),
    Forbidden: (403, "Forbidden"),
    PasswordChangeRequired: (403, "Password change required"),
    NotFound: (404, "Not found"),
    TicketNotFound: (404, "Ticket not found"),
    Conflict: (409, "Conflict"),
    TransitionNotAllowed: (409, "Action not allowed in this state"),
    StaleVersion: (409, "Stale version"),
    UnsupportedMediaType: (415, "Unsupported media type"),
    RateLimited: (429, "Too many requests"),
    ServiceUnavailable: (503, "Service unavailable"),
}


def status_of(exc: DomainError) -> tuple[int, str]:
    """The (status, title) a domain error answers with: its nearest class in STATUS."""
    for cls in type(exc).__mro__:
        found = STATUS.get(cls)
        if found is not None:
            return found
    raise TypeError(f"{type(exc).__name__} is not a DomainError")  # unreachable: DomainError is in the table


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    fields: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    **facts: Unpack[Facts],
) -> Response[ProblemDetails]:
    body = ProblemDetails(
        type="about:blank",
        title=title,
        status=status,
        detail=detail,
        fields=fields or None,
        invalid_params=[InvalidParam(name=k, reason=v) for k, v in fields.items()] if fields else None,
        **facts,
    )
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def domain_error_handler(_: Request, exc: DomainError) -> Response[ProblemDetails]:
    status, title = status_of(exc)
    # A client told to wait (429, 503) is told how long where clients and proxies look: the Retry-After header.
    retry = exc.retry_after
    return problem(
        status,
        title,
        exc.detail,
        fields=exc.fields,
        headers={"Retry-After": str(retry)} if retry is not None else None,
        **exc.extra,
    )


def _field_name(key: str | None) -> str:
    """The field Litestar names (its error's `key`: a query or path parameter, or a place in the body), or `body`.
    JSON bodies are refused before Litestar converts them (hotline.web.strict_bodies), naming each field from the
    body's structure; what reaches here about a body is that there is none."""
    if not key or key in ("data", "$"):
        return "body"
    return key.removeprefix("$.").removeprefix("data.")


def validation_handler(_: Request, exc: ValidationException) -> Response[ProblemDetails]:
    fields: dict[str, str] = {}
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if isinstance(item, dict):
            message = str(item.get("message", "invalid"))
            if item.get("key") == "data" and message == "'data'":  # Litestar's KeyError: no body was sent
                message = "a JSON body is required"
            fields[_field_name(item.get("key"))] = message
    detail = "; ".join(f"{k}: {v}" for k, v in fields.items()) or str(exc.detail)
    return problem(422 if fields else 400, "Invalid input", detail, fields=fields)


def http_error_handler(_: Request, exc: HTTPException) -> Response[ProblemDetails]:
    headers = dict(exc.headers or {})
    fields = {"body": "too large"} if exc.status_code == 413 else None
    return problem(
        exc.status_code,
        type(exc).__name__.replace("Exception", "") or "Error",
        str(exc.detail),
        fields=fields,
        headers=headers or None,
    )


def auth_error_handler(_: Request, exc: NotAuthorizedException) -> Response[ProblemDetails]:
    return problem(401, "Not authenticated", str(exc.detail), headers={"WWW-Authenticate": "Bearer"})


def forbidden_handler(_: Request, exc: PermissionDeniedException) -> Response[ProblemDetails]:
    return problem(403, "Forbidden", str(exc.detail))


def _unavailable(detail: str) -> Response[ProblemDetails]:
    return problem(
        503, "Service unavailable", detail, headers={"Retry-After": str(ServiceUnavailable.DEFAULT_RETRY_AFTER)}
    )


def unavailable_handler(request: Request, exc: Exception) -> Response[ProblemDetails]:
    if database_gone(exc):
        log.warning("database_unavailable", path=request.url.path, error=type(exc).__name__)
        return _unavailable("the database is unreachable or too slow right now; try again shortly")
    if isinstance(exc, TimeoutError):
        # Something else did not answer in time (Redis, an outbound call): still worth a retry, but not a database
        # outage, which is what operators would go looking for.
        log.warning("dependency_timeout", path=request.url.path, error=type(exc).__name__)
        return _unavailable("a service this request needs did not answer in time; try again shortly")
    return internal_error_handler(request, exc)


def unstorable_text_handler(request: Request, exc: Exception) -> Response[ProblemDetails]:
    log.info("unstorable_text_refused", path=request.url.path, error=type(exc).__name__)
    return problem(
        422,
        "Invalid input",
        "the request contains text that cannot be stored (a NUL character?)",
        fields={"body": "text must not contain NUL characters"},
    )


def internal_error_handler(request: Request, exc: Exception) -> Response[ProblemDetails]:
    log.exception("unhandled_error", path=request.url.path, error=type(exc).__name__)
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR, "Internal error", "An unexpected error occurred; it has been logged."
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: domain_error_handler,
    ValidationException: validation_handler,
    NotAuthorizedException: auth_error_handler,
    PermissionDeniedException: forbidden_handler,
    HTTPException: http_error_handler,
    **{
        error: unavailable_handler
        for error in (*DATABASE_UNAVAILABLE, OSError, asyncpg.InterfaceError, asyncpg.InternalClientError)
    },
    **{error: unstorable_text_handler for error in UNSTORABLE_TEXT},
    Exception: internal_error_handler,
}

"""Domain errors and framework exceptions as HTTP problem details (RFC 9457), the service's one mapping: every
4xx and 5xx an /api or /public client sees is an application/problem+json body naming the bad fields.
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from hotline.errors import DATABASE_UNAVAILABLE, UNSTORABLE_TEXT, DomainError, ServiceUnavailable, database_gone

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger(__name__)


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    fields: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"type": "about:blank", "status": status, "title": title, "detail": detail}
    if fields:
        body["fields"] = fields
        body["invalid_params"] = [{"name": k, "reason": v} for k, v in fields.items()]
    body.update(extra)
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def domain_error_handler(_: Request, exc: DomainError) -> Response[dict[str, Any]]:
    # A client told to wait (429, 503) is told how long where clients and proxies look: the Retry-After header.
    retry = exc.extra.get("retry_after")
    if retry is None and isinstance(exc, ServiceUnavailable):
        retry = exc.retry_after
    return problem(
        exc.status,
        exc.title,
        exc.detail,
        fields=exc.fields,
        headers={"Retry-After": str(retry)} if retry is not None else None,
        **exc.extra,
    )


def _field_name(key: str | None, message: str) -> str:
    missing = re.search(r"missing required field `([^`]+)`", message)
    if missing:
        prefix = key.removeprefix("$.").removeprefix("data").lstrip(".") if key else ""
        return f"{prefix}.{missing.group(1)}" if prefix else missing.group(1)
    if not key or key in ("data", "$"):
        return "body"
    return key.removeprefix("$.").removeprefix("data.")


def validation_handler(_: Request, exc: ValidationException) -> Response[dict[str, Any]]:
    fields: dict[str, str] = {}
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if isinstance(item, dict):
            message = str(item.get("message", "invalid"))
            if item.get("key") == "data" and message == "'data'":  # Litestar's KeyError: no body was sent
                message = "a JSON body is required"
            fields[_field_name(item.get("key"), message)] = message
    detail = "; ".join(f"{k}: {v}" for k, v in fields.items()) or str(exc.detail)
    return problem(422 if fields else 400, "Invalid input", detail, fields=fields)


def http_error_handler(_: Request, exc: HTTPException) -> Response[dict[str, Any]]:
    headers = dict(exc.headers or {})
    fields = {"body": "too large"} if exc.status_code == 413 else None
    return problem(
        exc.status_code,
        type(exc).__name__.replace("Exception", "") or "Error",
        str(exc.detail),
        fields=fields,
        headers=headers or None,
    )


def auth_error_handler(_: Request, exc: NotAuthorizedException) -> Response[dict[str, Any]]:
    return problem(401, "Not authenticated", str(exc.detail), headers={"WWW-Authenticate": "Bearer"})


def forbidden_handler(_: Request, exc: PermissionDeniedException) -> Response[dict[str, Any]]:
    return problem(403, "Forbidden", str(exc.detail))


def _unavailable(detail: str) -> Response[dict[str, Any]]:
    return problem(503, "Service unavailable", detail, headers={"Retry-After": str(ServiceUnavailable.retry_after)})


def unavailable_handler(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    if database_gone(exc):
        log.warning("database_unavailable", path=request.url.path, error=type(exc).__name__)
        return _unavailable("the database is unreachable or too slow right now; try again shortly")
    if isinstance(exc, TimeoutError):
        # Something else did not answer in time (Redis, an outbound call): still worth a retry, but not a database
        # outage, which is what operators would go looking for.
        log.warning("dependency_timeout", path=request.url.path, error=type(exc).__name__)
        return _unavailable("a service this request needs did not answer in time; try again shortly")
    return internal_error_handler(request, exc)


def unstorable_text_handler(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    log.info("unstorable_text_refused", path=request.url.path, error=type(exc).__name__)
    return problem(
        422,
        "Invalid input",
        "the request contains text that cannot be stored (a NUL character?)",
        fields={"body": "text must not contain NUL characters"},
    )


def internal_error_handler(request: Request, exc: Exception) -> Response[dict[str, Any]]:
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

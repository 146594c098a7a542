"""Domain errors and their one mapping to HTTP problem details (RFC 9457)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import asyncpg
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger(__name__)


class DomainError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, fields: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fields = fields or {}
        self.extra = extra


class InvalidInput(DomainError):
    status = 422
    title = "Invalid input"


def nul_fields(values: Mapping[str, object]) -> dict[str, str]:
    """The fields whose text holds a NUL character, which PostgreSQL text cannot store: refused as bad input, by
    name, rather than failing in the database."""
    return {
        name: "must not contain NUL characters"
        for name, value in values.items()
        if isinstance(value, str) and "\x00" in value
    }


class NotAuthenticated(DomainError):
    status = 401
    title = "Not authenticated"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class PasswordChangeRequired(Forbidden):
    """The password was right but was set by an administrator: the account chooses its own before any session."""

    title = "Password change required"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class TicketNotFound(NotFound):
    title = "Ticket not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class TransitionNotAllowed(Conflict):
    title = "Action not allowed in this state"


class StaleVersion(Conflict):
    title = "Stale version"


class UnsupportedMediaType(DomainError):
    status = 415
    title = "Unsupported media type"


class ServiceUnavailable(DomainError):
    """Answered with Retry-After: a client backs off and retries instead of reporting an error."""

    status = 503
    title = "Service unavailable"
    retry_after = 5


class RateLimited(DomainError):
    status = 429
    title = "Too many requests"


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


# The database unreachable, restarting or out of connections is an outage, not a bug: 503 with Retry-After, so
# clients and load balancers back off and retry instead of reporting an error in the service.
DATABASE_UNAVAILABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    ConnectionError,
)
# What asyncpg says when a statement meets a connection the server has just dropped (a restart mid-request): the
# connection closed under an open transaction, a proxy the pool already took back, a protocol left mid-operation.
# The same exception types also report misuse in the code, which stays a 500: only these messages are an outage.
_LOST_CONNECTION = re.compile(
    r"connection is closed|connection was closed|released back to the pool|"
    r"another operation .*is in progress"
)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 20:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _from_database(exc: BaseException) -> bool:
    """Whether the exception was raised inside asyncpg (a statement or pool timeout), not elsewhere."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__", "").startswith("asyncpg"):
            return True
        tb = tb.tb_next
    return False


def database_gone(exc: BaseException) -> bool:
    """Whether `exc` means the database connection failed or went away (an outage), rather than a bug."""
    for e in _chain(exc):
        if isinstance(e, DATABASE_UNAVAILABLE):
            return True
        if isinstance(e, (asyncpg.InterfaceError, asyncpg.InternalClientError)) and _LOST_CONNECTION.search(str(e)):
            return True
        if isinstance(e, OSError) and _from_database(e):  # TimeoutError included: a statement or acquire timeout
            return True
    return False


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


# The last line of defence for text PostgreSQL cannot store (NUL in a query parameter, say): the input's fault, a
# 422. Bodies are checked field by field before they get this far.
UNSTORABLE_TEXT = (asyncpg.CharacterNotInRepertoireError, asyncpg.UntranslatableCharacterError)


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

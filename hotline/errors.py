"""Domain errors: what the service's code raises when a request cannot be served, with the status and title each
means; and how to tell a database outage from a bug. They are mapped to HTTP problem details (RFC 9457) once, in
hotline/web/problems.py; nothing here knows HTTP."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import asyncpg


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


# The last line of defence for text PostgreSQL cannot store (NUL in a query parameter, say): the input's fault, a
# 422. Bodies are checked field by field before they get this far.
UNSTORABLE_TEXT = (asyncpg.CharacterNotInRepertoireError, asyncpg.UntranslatableCharacterError)

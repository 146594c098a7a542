"""Domain errors: what the service's code raises when a request cannot be served, each saying what went wrong in
the service's terms, and how to tell a database outage from a bug. Nothing here knows HTTP: the one table mapping
each error to a status and title (RFC 9457 problem details) is hotline/web/problems.py's.

Every error carries `detail` (a sentence a client may show), `fields` (the offending input fields, by name, with
what is wrong with each) and `extra`, the facts a caller needs to act on it (Facts: what it may do now, the
ticket's status and version, how long to wait).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TypedDict, Unpack

import asyncpg


class Facts(TypedDict, total=False):
    """What an error tells its caller besides the sentence: each key is sent only when the raise gives it."""

    allowed_actions: list[str]  # the actions the caller may take on the ticket now
    ticket_status: str  # the ticket's status now
    version: int  # the current version (of a ticket, or of the policy set), to reload and retry with
    retry_after: int | float  # seconds to wait before trying again
    problems: list[str]  # each problem found in a document (a policy set), in order


class DomainError(Exception):
    """The request cannot be served as sent: the base of every refusal the service's code raises."""

    def __init__(self, detail: str, *, fields: dict[str, str] | None = None, **extra: Unpack[Facts]) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fields = fields or {}
        self.extra: Facts = extra

    @property
    def retry_after(self) -> int | float | None:
        """Seconds after which the same request may succeed, when the error says so."""
        return self.extra.get("retry_after")


class InvalidInput(DomainError):
    """What was sent is well-formed but not acceptable: a value out of range, a field missing, a policy refused
    (`fields` names each offending field)."""


def nul_fields(values: Mapping[str, object]) -> dict[str, str]:
    """The fields whose text holds a NUL character, which PostgreSQL text cannot store: refused as bad input, by
    name, rather than failing in the database."""
    return {
        name: "must not contain NUL characters"
        for name, value in values.items()
        if isinstance(value, str) and "\x00" in value
    }


class NotAuthenticated(DomainError):
    """No valid credentials: no token, an expired or revoked one, a wrong password."""


class Forbidden(DomainError):
    """The caller is known but its role or account may not do this."""


class PasswordChangeRequired(Forbidden):
    """The password was right but was set by an administrator: the account chooses its own before any session."""


class NotFound(DomainError):
    """The thing asked for does not exist, or is not visible to this account."""


class TicketNotFound(NotFound):
    """No ticket with this number that the caller may see."""


class Conflict(DomainError):
    """The request clashes with the current state of what it changes (a duplicate, a pending request already)."""


class TransitionNotAllowed(Conflict):
    """The ticket's status does not allow this action (`allowed_actions` says what does)."""


class StaleVersion(Conflict):
    """The caller's expected version is not the current one: someone else changed it first; reload and retry."""


class UnsupportedMediaType(DomainError):
    """The body is not in a format this endpoint reads (JSON)."""


class ServiceUnavailable(DomainError):
    """Something the request needs is saturated or unreachable for a moment: the same request is expected to succeed
    after `retry_after` seconds, so a client backs off and retries instead of reporting an error."""

    DEFAULT_RETRY_AFTER = 5

    @property
    def retry_after(self) -> int | float:
        return self.extra.get("retry_after", self.DEFAULT_RETRY_AFTER)


class RateLimited(DomainError):
    """The caller sent too many requests (or failed sign-ins) too fast: it may try again after `retry_after`
    seconds."""


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

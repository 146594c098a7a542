"""Problem details: a database outage is a 503 with Retry-After (clients back off), not a 500."""

from __future__ import annotations

import asyncpg
import msgspec
from litestar import Litestar, get
from litestar.testing import TestClient

from hotline.web.problems import EXCEPTION_HANDLERS


def _app(exc: Exception) -> Litestar:
    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise exc

    return Litestar([boom], exception_handlers=EXCEPTION_HANDLERS, logging_config=None)


def test_database_outages_are_503_with_retry_after_and_bugs_are_500():
    for exc in (
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.TooManyConnectionsError("too many clients"),
        ConnectionRefusedError(111, "refused"),
    ):
        with TestClient(_app(exc)) as client:
            r = client.get("/boom")
        body = msgspec.json.decode(r.content)
        assert r.status_code == 503 and r.headers["retry-after"] == "5", exc
        assert r.headers["content-type"].startswith("application/problem+json") and body["status"] == 503
    with TestClient(_app(KeyError("bug"))) as client:
        r = client.get("/boom")
    assert r.status_code == 500 and "bug" not in r.text  # nothing internal leaks


def test_a_refusal_that_says_when_to_retry_carries_retry_after() -> None:
    from hotline.errors import RateLimited, ServiceUnavailable
    from hotline.web.problems import domain_error_handler

    for exc in (RateLimited("slow down", retry_after=7), ServiceUnavailable("later", retry_after=7)):
        response = domain_error_handler(None, exc)  # type: ignore[arg-type]
        assert response.headers["Retry-After"] == "7" and response.status_code in (429, 503)


def _body(exc: Exception) -> tuple[int, dict[str, str], dict[str, object]]:
    with TestClient(_app(exc)) as client:
        r = client.get("/boom")
    return r.status_code, dict(r.headers), msgspec.json.decode(r.content)


def test_each_domain_error_answers_with_the_status_and_title_of_the_one_table() -> None:
    from hotline import errors

    expected = {
        errors.DomainError: (400, "Bad request"),
        errors.InvalidInput: (422, "Invalid input"),
        errors.NotAuthenticated: (401, "Not authenticated"),
        errors.Forbidden: (403, "Forbidden"),
        errors.PasswordChangeRequired: (403, "Password change required"),
        errors.NotFound: (404, "Not found"),
        errors.TicketNotFound: (404, "Ticket not found"),
        errors.Conflict: (409, "Conflict"),
        errors.TransitionNotAllowed: (409, "Action not allowed in this state"),
        errors.StaleVersion: (409, "Stale version"),
        errors.UnsupportedMediaType: (415, "Unsupported media type"),
        errors.RateLimited: (429, "Too many requests"),
        errors.ServiceUnavailable: (503, "Service unavailable"),
    }
    for cls, (status, title) in expected.items():
        got, headers, body = _body(cls("what happened"))
        assert (got, body["status"], body["title"]) == (status, status, title), cls
        assert body == {"type": "about:blank", "status": status, "title": title, "detail": "what happened"}, cls
        assert headers["content-type"].startswith("application/problem+json")


def test_a_subclass_not_in_the_table_answers_as_its_nearest_listed_class() -> None:
    from hotline.errors import NotFound, StaleVersion
    from hotline.web.problems import STATUS, status_of

    class AccountNotFound(NotFound):
        pass

    class PolicyStale(StaleVersion):
        pass

    assert AccountNotFound not in STATUS and status_of(AccountNotFound("x")) == (404, "Not found")
    assert status_of(PolicyStale("x")) == (409, "Stale version")


def test_the_domain_errors_know_no_http() -> None:
    from hotline import errors

    for cls in vars(errors).values():
        if isinstance(cls, type) and issubclass(cls, errors.DomainError):
            for attribute in ("status", "title", "status_code"):
                assert not any(attribute in vars(k) for k in cls.__mro__), (cls, attribute)


def test_the_facts_an_error_carries_are_problem_fields_and_retry_after_is_also_a_header() -> None:
    from hotline.errors import InvalidInput, RateLimited, ServiceUnavailable, StaleVersion

    status, _, body = _body(
        StaleVersion("reload", version=4, ticket_status="in_progress", allowed_actions=["reply", "suspend"])
    )
    assert status == 409 and body == {
        "type": "about:blank",
        "status": 409,
        "title": "Stale version",
        "detail": "reload",
        "version": 4,
        "ticket_status": "in_progress",
        "allowed_actions": ["reply", "suspend"],
    }
    status, _, body = _body(InvalidInput("refused", fields={"policy[0]": "bad unit"}, problems=["bad unit"]))
    assert status == 422 and body == {
        "type": "about:blank",
        "status": 422,
        "title": "Invalid input",
        "detail": "refused",
        "fields": {"policy[0]": "bad unit"},
        "invalid_params": [{"name": "policy[0]", "reason": "bad unit"}],
        "problems": ["bad unit"],
    }
    status, headers, body = _body(RateLimited("slow down", retry_after=12))
    assert (status, headers["retry-after"], body["retry_after"]) == (429, "12", 12)
    # Unavailable without a figure: the default wait goes in the header only, as before.
    status, headers, body = _body(ServiceUnavailable("later"))
    assert (status, headers["retry-after"]) == (503, "5") and "retry_after" not in body


def test_problem_builds_the_typed_problem_details() -> None:
    from hotline.web.contract import InvalidParam, ProblemDetails
    from hotline.web.problems import problem

    response = problem(409, "Conflict", "no", fields={"a": "b"}, allowed_actions=["x"], version=2)
    assert response.content == ProblemDetails(
        type="about:blank",
        title="Conflict",
        status=409,
        detail="no",
        fields={"a": "b"},
        invalid_params=[InvalidParam(name="a", reason="b")],
        allowed_actions=["x"],
        version=2,
    )

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

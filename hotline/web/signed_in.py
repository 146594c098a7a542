"""Who sent a request: the bearer token (API clients) or the console's session cookie, checked by
hotline.auth.tokens.principal_for_token; a cookie-authenticated change must also prove the console's own script sent
it (CSRF)."""

from __future__ import annotations

from typing import Any

from litestar import Request

from hotline.auth import revocation
from hotline.auth.revocation import RevocationList
from hotline.auth.tokens import SESSION_COOKIE, Principal, principal_for_token
from hotline.errors import Forbidden, NotAuthenticated

CSRF_HEADER = "x-requested-with"
CSRF_VALUE = "hotline-console"


def token_from_request(request: Request[Any, Any, Any]) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise NotAuthenticated("Authorization header must be 'Bearer <token>'")
        return value.strip()
    return request.cookies.get(SESSION_COOKIE)


async def principal_from_request(request: Request[Any, Any, Any]) -> Principal:
    token = token_from_request(request)
    if not token:
        raise NotAuthenticated("sign in first: send 'Authorization: Bearer <token>'")
    # A browser sends the session cookie on any request, even one a foreign page triggers; a custom header it
    # cannot add cross-origin without CORS proves the console's own script made this change (CSRF).
    if (
        request.method not in ("GET", "HEAD", "OPTIONS")
        and "authorization" not in request.headers
        and request.headers.get(CSRF_HEADER) != CSRF_VALUE
    ):
        raise Forbidden(f"a cookie-authenticated change needs the header '{CSRF_HEADER}: {CSRF_VALUE}'")
    state = request.app.state
    sessions: RevocationList = revocation.of(state.runtime)
    return await principal_for_token(token, state.settings.secret_key, sessions)

"""Sign-in and sign-out."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import Body

from hotline.auth import revocation
from hotline.auth.tokens import SESSION_COOKIE, Principal, change_password, issue_token, revoke, sign_in
from hotline.infra.runtime import Runtime


class Credentials(msgspec.Struct):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


@post("/api/auth/token", status_code=200)
async def token(
    data: Annotated[Credentials, Body()], request: Request[Any, Any, Any], rt: Runtime
) -> Response[dict[str, Any]]:
    principal = await sign_in(rt, data.username, data.password, request.client.host if request.client else "unknown")
    access_token, exp = issue_token(principal, rt.settings.secret_key, rt.settings.token_ttl_seconds)
    return Response(
        {
            "access_token": access_token,
            "token_type": "bearer",
            "role": principal.role,
            "unit": principal.unit,
            "channel": principal.channel,
            "username": principal.username,
            "display_name": principal.display_name,
            "expires_at": exp,
        }
    )


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    new_password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


@post("/api/auth/password", status_code=200)
async def password(
    data: Annotated[PasswordChange, Body()], request: Request[Any, Any, Any], rt: Runtime
) -> dict[str, Any]:
    """Choose a new password, proven by the current one. An account whose password an administrator set (a
    one-time password) gets no token until it has done this: /api/auth/token answers 403 for it."""
    principal = await change_password(
        rt, data.username, data.password, data.new_password, request.client.host if request.client else "unknown"
    )
    return {"username": principal.username, "status": "password_changed"}


@post("/api/auth/logout", status_code=200)
async def logout(principal: Principal, rt: Runtime) -> Response[dict[str, str]]:
    await revoke(revocation.of(rt), principal)
    response = Response({"status": "signed_out"})
    response.delete_cookie(SESSION_COOKIE)
    return response


@get("/api/auth/me")
async def me(principal: Principal) -> dict[str, Any]:
    return {
        "username": principal.username,
        "role": principal.role,
        "unit": principal.unit,
        "channel": principal.channel,
        "display_name": principal.display_name,
        "expires_at": principal.expires_at,
    }


ROUTES = [token, password, logout, me]

"""Sign-in and sign-out."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Response, get, post
from litestar.params import Body

from hotline.auth import SESSION_COOKIE, Principal, authenticate, issue_token, revoke
from hotline.runtime import Runtime


class Credentials(msgspec.Struct):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


@post("/api/auth/token", status_code=200)
async def token(data: Annotated[Credentials, Body()], rt: Runtime) -> Response[dict[str, Any]]:
    principal = await authenticate(rt.pool, data.username, data.password)
    access_token, exp = issue_token(principal, rt.settings.secret_key, rt.settings.token_ttl_seconds)
    return Response({"access_token": access_token, "token_type": "bearer", "role": principal.role,
                     "unit": principal.unit, "channel": principal.channel, "username": principal.username,
                     "display_name": principal.display_name, "expires_at": exp})


@post("/api/auth/logout", status_code=200)
async def logout(principal: Principal, rt: Runtime) -> Response[dict[str, str]]:
    await revoke(rt.revocations, principal)
    response = Response({"status": "signed_out"})
    response.delete_cookie(SESSION_COOKIE)
    return response


@get("/api/auth/me")
async def me(principal: Principal) -> dict[str, Any]:
    return {"username": principal.username, "role": principal.role, "unit": principal.unit,
            "channel": principal.channel, "display_name": principal.display_name, "expires_at": principal.expires_at}


ROUTES = [token, logout, me]

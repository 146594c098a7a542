"""Sign-in and sign-out."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import Body

from hotline.auth import SESSION_COOKIE, Principal, issue_token, revoke, sign_in
from hotline.runtime import Runtime


class Credentials(msgspec.Struct):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


@post("/api/auth/token", status_code=200)
async def token(data: Annotated[Credentials, Body()], request: Request[Any, Any, Any],
                rt: Runtime) -> Response[dict[str, Any]]:
    principal = await sign_in(rt, data.username, data.password, request.client.host if request.client else "unknown")
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

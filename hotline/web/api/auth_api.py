"""Sign-in and sign-out: a token for a username and password, a password change proven by the current one, the
signed-in account, and signing out (the token is refused from then on, in every API process)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import Body

from hotline.auth import revocation
from hotline.auth.tokens import SESSION_COOKIE, Principal, change_password, issue_token, revoke, sign_in
from hotline.infra.runtime import Runtime
from hotline.web.contract import operation


class Credentials(msgspec.Struct):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Token(msgspec.Struct):
    """A bearer token and what it lets the account do: its role, and the unit (handlers) or channel (integrations)
    it acts for. `expires_at`: seconds since the epoch."""

    access_token: str
    token_type: Literal["bearer"]
    role: str
    unit: str | None
    channel: str | None
    username: str
    display_name: str
    expires_at: int


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    new_password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class PasswordChanged(msgspec.Struct):
    username: str
    status: Literal["password_changed"]


class SignedOut(msgspec.Struct):
    status: Literal["signed_out"]


class CurrentAccount(msgspec.Struct):
    """The signed-in account as its token says (`expires_at`: seconds since the epoch)."""

    username: str
    role: str
    unit: str | None
    channel: str | None
    display_name: str
    expires_at: int


def _peer(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


@post(
    "/api/auth/token",
    status_code=200,
    **operation(
        "issueToken",
        "auth",
        public=True,
        summary="Sign in: a bearer token for a username and password",
        description="Send it as `Authorization: Bearer <token>` on every /api call. Failed sign-ins are throttled "
        "per account and per address (429 with Retry-After); an account with a one-time password gets 403 until "
        "it has chosen its own (POST /api/auth/password).",
    ),
)
async def token(
    data: Annotated[Credentials, Body()], request: Request[Any, Any, Any], rt: NamedDependency[Runtime]
) -> Token:
    principal = await sign_in(rt, data.username, data.password, _peer(request))
    access_token, exp = issue_token(principal, rt.settings.secret_key, rt.settings.token_ttl_seconds)
    return Token(
        access_token=access_token,
        token_type="bearer",
        role=principal.role,
        unit=principal.unit,
        channel=principal.channel,
        username=principal.username,
        display_name=principal.display_name,
        expires_at=exp,
    )


@post(
    "/api/auth/password",
    status_code=200,
    **operation(
        "changePassword",
        "auth",
        public=True,
        summary="Choose a new password, proven by the current one",
        description="An account whose password an administrator set (a one-time password) gets no token until it "
        "has done this: POST /api/auth/token answers 403 for it.",
    ),
)
async def password(
    data: Annotated[PasswordChange, Body()], request: Request[Any, Any, Any], rt: NamedDependency[Runtime]
) -> PasswordChanged:
    principal = await change_password(rt, data.username, data.password, data.new_password, _peer(request))
    return PasswordChanged(username=principal.username, status="password_changed")


@post(
    "/api/auth/logout",
    status_code=200,
    **operation(
        "logout",
        "auth",
        summary="Sign out",
        description="The token (or the console's session cookie) is refused from now on, in every API process.",
    ),
)
async def logout(principal: NamedDependency[Principal], rt: NamedDependency[Runtime]) -> Response[SignedOut]:
    await revoke(revocation.of(rt), principal)
    response = Response(SignedOut(status="signed_out"))
    response.delete_cookie(SESSION_COOKIE)
    return response


@get("/api/auth/me", **operation("getCurrentAccount", "auth", summary="The signed-in account"))
async def me(principal: NamedDependency[Principal]) -> CurrentAccount:
    return CurrentAccount(
        username=principal.username,
        role=principal.role,
        unit=principal.unit,
        channel=principal.channel,
        display_name=principal.display_name,
        expires_at=principal.expires_at,
    )


ROUTES = [token, password, logout, me]

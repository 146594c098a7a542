"""Accounts, password hashing, bearer tokens and role checks.

Tokens are signed JWTs (stateless, so API processes replicate freely). A signature alone is not enough: every
request also checks that the token was not signed out and that its account is still active with the role, unit and
channel the token names, both from per-process memory kept current over Redis (hotline.auth.revocation). Sign-in is
throttled after failures (hotline.auth.throttle) and each attempt is logged, never with its password.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import asyncpg
import jwt
import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hotline.auth import throttle
from hotline.auth.revocation import RevocationList
from hotline.errors import Forbidden, InvalidInput, NotAuthenticated, PasswordChangeRequired, RateLimited
from hotline.infra import offload
from hotline.vocab import CALLBACK_ROLES

if TYPE_CHECKING:
    from hotline.infra.runtime import Runtime

log = structlog.get_logger(__name__)

SESSION_COOKIE = "hotline_session"
# argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane) rather than argon2-cffi's default RFC 9106
# low-memory profile (64 MiB, 3 passes, 4 lanes): about a quarter of the CPU per sign-in, so a shift of 200 agents
# signing in at 08:30 costs seconds of the two cores rather than most of a minute (tests/perf/signin_wave_bench.py).
# A hash made with other parameters is still verified and is replaced at the account's next sign-in.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# A real hash of a random password: verifying against it makes unknown usernames cost the same as wrong passwords.
_DUMMY_HASH = _hasher.hash(uuid.uuid4().hex)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    username: str
    role: str
    display_name: str
    unit: str | None = None
    channel: str | None = None
    token_id: str = ""
    expires_at: int = 0

    @property
    def sees_phone(self) -> bool:
        return self.role in CALLBACK_ROLES

    def require(self, *roles: str) -> None:
        if self.role not in roles:
            raise Forbidden(f"role {self.role} may not do this (allowed: {', '.join(roles)})")


def issue_token(principal: Principal, secret: str, ttl_seconds: int) -> tuple[str, int]:
    now = int(time.time())
    exp = now + ttl_seconds
    claims = {
        "sub": str(principal.user_id),
        "usr": principal.username,
        "rol": principal.role,
        "nam": principal.display_name,
        "unt": principal.unit,
        "chn": principal.channel,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": exp,
    }
    return jwt.encode(claims, secret, algorithm="HS256"), exp


# Tokens whose signature this process has already verified: a client sends the same token on every request, and
# verifying it again costs more than the rest of authentication. Expiry is still checked on every use (as
# jwt.decode does: expired once exp <= now); revocation is checked by principal_from_request.
_verified: dict[tuple[str, str], Principal] = {}
_VERIFIED_MAX = 10_000


def decode_token(token: str, secret: str) -> Principal:
    principal = _verified.get((token, secret))
    if principal is not None:
        if principal.expires_at <= time.time():
            raise NotAuthenticated("the session has expired; sign in again")
        return principal
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub", "jti"]})
    except jwt.ExpiredSignatureError as exc:
        raise NotAuthenticated("the session has expired; sign in again") from exc
    except jwt.PyJWTError as exc:
        raise NotAuthenticated("invalid token") from exc
    principal = Principal(
        int(claims["sub"]),
        claims["usr"],
        claims["rol"],
        claims.get("nam", claims["usr"]),
        claims.get("unt"),
        claims.get("chn"),
        claims["jti"],
        int(claims["exp"]),
    )
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()
    _verified[(token, secret)] = principal
    return principal


async def revoke(revocations: RevocationList, principal: Principal) -> None:
    await revocations.revoke(principal.token_id, principal.expires_at, principal.user_id)


async def principal_for_token(token: str, secret: str, sessions: RevocationList) -> Principal:
    """The principal a bearer token or session cookie stands for, if it still does: signed by us, not signed out, and
    its account still active with the role, unit and channel the token names."""
    principal = decode_token(token, secret)
    if await sessions.is_revoked(principal.token_id):
        raise NotAuthenticated("the session was signed out; sign in again")
    # The signing key proves who issued the token, not that its account still exists or still has those powers.
    account = await sessions.account(principal.user_id)
    if account is None or not account.active:
        raise NotAuthenticated("this account is not active; ask an administrator")
    if (account.role, account.unit, account.channel) != (principal.role, principal.unit, principal.channel):
        raise NotAuthenticated("this account was changed since sign-in; sign in again")
    return principal


async def authenticate(pool: asyncpg.Pool, username: str, password: str, *, changing: bool = False) -> Principal:
    row = await pool.fetchrow(
        """SELECT id, username, password_hash, role, unit, channel, display_name, active, must_change_password
           FROM users WHERE username = $1""",
        username,
    )
    if row is None:
        await offload.password(verify_password, _DUMMY_HASH, password)
        raise NotAuthenticated("wrong username or password")
    if not await offload.password(verify_password, row["password_hash"], password) or not row["active"]:
        raise NotAuthenticated("wrong username or password")
    if row["must_change_password"] and not changing:
        raise PasswordChangeRequired(
            "this is a one-time password: choose a new one at POST /api/auth/password",
            fields={"password": "one-time password; change it first"},
        )
    if needs_rehash(row["password_hash"]):
        fresh = await offload.password(hash_password, password)
        # Only if nobody changed the password meanwhile (a reset racing this sign-in keeps the reset).
        await pool.execute(
            "UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3",
            fresh,
            row["id"],
            row["password_hash"],
        )
    return Principal(row["id"], row["username"], row["role"], row["display_name"], row["unit"], row["channel"])


async def sign_in(rt: Runtime, username: str, password: str, client: str, *, changing: bool = False) -> Principal:
    """authenticate, throttled per account and per client address, every attempt logged (without the password)."""
    wait = await throttle.of(rt).wait_needed(username, client)
    if wait:
        log.warning("sign_in_throttled", username=username[:100], client=client, retry_after_s=wait)
        raise RateLimited(f"too many failed sign-ins; try again in {wait} s", retry_after=wait)
    try:
        principal = await authenticate(rt.pool, username, password, changing=changing)
    except NotAuthenticated:
        failures = await throttle.of(rt).failed(username, client)
        log.warning("sign_in_failed", username=username[:100], client=client, failures=failures)
        raise
    await throttle.of(rt).succeeded(username)
    log.info("sign_in", username=principal.username, client=client, role=principal.role)
    return principal


MIN_PASSWORD = 10


async def change_password(rt: Runtime, username: str, password: str, new_password: str, client: str) -> Principal:
    """The account's own new password, proven by the current one (or the one-time one an administrator gave),
    throttled like a sign-in. Ends the need to change it."""
    fields = {}
    if len(new_password) < MIN_PASSWORD:
        fields["new_password"] = f"at least {MIN_PASSWORD} characters"
    elif new_password == password:
        fields["new_password"] = "must differ from the current password"
    if fields:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in fields.items()), fields=fields)
    principal = await sign_in(rt, username, password, client, changing=True)
    await rt.pool.execute(
        "UPDATE users SET password_hash = $2, must_change_password = false WHERE id = $1",
        principal.user_id,
        await offload.password(hash_password, new_password),
    )
    log.info("password_changed", username=principal.username)
    return principal

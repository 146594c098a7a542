"""API keys of integration accounts: what an Open311 client sends as `api_key` to submit a service request.

Only a key's SHA-256 is stored (table api_keys): a key is 32 random bytes (`new_key()`), so a fast hash is enough
to make the table useless to a reader, and looking one up is an index probe, not a password check. The demo key
of `hotline seed --demo` is derived from the demo password (`demo_key()`), as the demo logins are.
"""

from __future__ import annotations

import hashlib
import secrets

from hotline.auth.tokens import Principal
from hotline.infra.db import Conn
from hotline.infra.runtime import Runtime
from hotline.infra.sql import load

DEMO_USERNAME = "integration-open311"
_PRINCIPAL_SQL = load(__file__, "principal_for_key")
_ADD_SQL = load(__file__, "add_key")
_REVOKE_DEMO_SQL = load(__file__, "revoke_other_demo_keys")
MAX_KEY_LENGTH = 200


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    """A fresh key to hand to a client once (only its hash is kept)."""
    return f"o311_{secrets.token_urlsafe(32)}"


def demo_key(demo_password: str) -> str:
    """The demo account's key: `open311-` and the demo password (`open311-hotline` by default)."""
    return f"open311-{demo_password}"


async def add_key(conn: Conn, username: str, key: str, label: str) -> bool:
    """Store `key` for the integration account `username`; False when there is no such account."""
    return await conn.fetchval(_ADD_SQL, username, key_hash(key), label) is not None


async def seed_demo_key(conn: Conn, demo_password: str) -> None:
    """The demo account's key, derived from the demo password; an earlier demo key (another password) is revoked."""
    key = demo_key(demo_password)
    await conn.execute(_REVOKE_DEMO_SQL, DEMO_USERNAME, key_hash(key))
    await add_key(conn, DEMO_USERNAME, key, "demo")


async def principal_for_key(rt: Runtime, key: str) -> Principal | None:
    """The integration account whose key this is (active, key not revoked), or None."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    row = await rt.pool.fetchrow(_PRINCIPAL_SQL, key_hash(key))
    if row is None:
        return None
    return Principal(row["id"], row["username"], row["role"], row["display_name"], row["unit"], row["channel"])

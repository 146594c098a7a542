"""Staff accounts (admin): listing, creating, deactivating, reactivating, moving to another role or unit, resetting
a password, unlocking after sign-in throttling. A change takes effect on the account's open sessions at once, in
every API process (hotline.auth.revocation): a deactivated account's token is refused, a changed one must sign in again
for a token that says what it may do now. Every change is an admin event (hotline.auth.audit) with its actor and
the account before and after; passwords and their hashes never appear in one."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

import asyncpg
import msgspec

from hotline import inputs
from hotline.auth import audit as admin_events
from hotline.auth import revocation, throttle
from hotline.auth.tokens import Principal, hash_password
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.infra import offload
from hotline.infra.runtime import Runtime
from hotline.vocab import ADMIN, ROLES

UNSET: Any = msgspec.UNSET


USERNAME = r"^[a-z0-9][a-z0-9._-]{1,39}$"
RESERVED = ("public-web",)  # the citizen page's own account: not a person, not managed here
_COLUMNS = "id, username, role, unit, channel, display_name, active, must_change_password, created_at"


class AccountNew(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(pattern=USERNAME)]
    role: str
    display_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    unit: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    channel: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    # Without one the service makes a one-time password (shown once, changed at first sign-in).
    password: Annotated[str, msgspec.Meta(min_length=10, max_length=200)] | None = None


class AccountChange(msgspec.Struct, forbid_unknown_fields=True):
    active: bool | msgspec.UnsetType = UNSET
    role: str | msgspec.UnsetType = UNSET
    unit: Annotated[str, msgspec.Meta(max_length=40)] | None | msgspec.UnsetType = UNSET
    channel: Annotated[str, msgspec.Meta(max_length=40)] | None | msgspec.UnsetType = UNSET
    display_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | msgspec.UnsetType = UNSET


class AccountView(msgspec.Struct):
    """An account as a change answers it (and as the admin events record it)."""

    username: str
    role: str
    unit: str | None
    channel: str | None
    display_name: str
    active: bool


class Account(msgspec.Struct):
    """An account as the list shows it. `locked_seconds`: how long it must still wait after failed sign-ins (0: not
    locked). `password` only in the answer to a creation without one: the one-time password, shown this once."""

    username: str
    role: str
    unit: str | None
    channel: str | None
    display_name: str
    active: bool
    must_change_password: bool
    created_at: str
    locked_seconds: int
    password: str | msgspec.UnsetType = UNSET


class AccountList(msgspec.Struct):
    items: list[Account]


class PasswordReset(msgspec.Struct):
    """The one-time password, in this answer only; it must be changed at the next sign-in."""

    username: str
    password: str
    must_change_password: bool


class Unlocked(msgspec.Struct):
    username: str
    locked_seconds: int


def _view(row: Any) -> dict[str, Any]:
    return {
        "username": row["username"],
        "role": row["role"],
        "unit": row["unit"],
        "channel": row["channel"],
        "display_name": row["display_name"],
        "active": row["active"],
    }


def _full_view(row: Any, locked: dict[str, int], password: str | msgspec.UnsetType = UNSET) -> Account:
    return Account(
        username=row["username"],
        role=row["role"],
        unit=row["unit"],
        channel=row["channel"],
        display_name=row["display_name"],
        active=row["active"],
        must_change_password=row["must_change_password"],
        created_at=row["created_at"].isoformat(),
        locked_seconds=locked.get(row["username"], 0),
        password=password,
    )


def one_time_password() -> str:
    # 12 characters from an alphabet without look-alikes (0/O, 1/l/I): read aloud or typed from a screen.
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


async def _account(rt: Runtime, username: str) -> Any:
    row = await rt.pool.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE username = $1", username)
    if row is None or username in RESERVED:
        raise NotFound(f"no account {username!r}")
    return row


async def listing(
    rt: Runtime,
    principal: Principal,
    *,
    q: str | None = None,
    role: str | None = None,
    active: bool | None = None,
    limit: int = 200,
) -> AccountList:
    """Accounts matching a search (username or display name, any part), a role and an active flag, by username."""
    principal.require(ADMIN)
    fields = {}
    if role is not None and role not in ROLES:
        fields["role"] = f"one of {', '.join(ROLES)}"
    if q is not None and len(q) > 100:
        fields["q"] = "at most 100 characters"
    fields.update(inputs.limit_fields(limit, 500))
    inputs.raise_fields(fields)
    pattern = None
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = await rt.pool.fetch(
        f"""SELECT {_COLUMNS} FROM users
            WHERE username <> all($1::text[])
              AND ($2::text IS NULL OR username ILIKE $2 OR display_name ILIKE $2)
              AND ($3::text IS NULL OR role = $3) AND ($4::boolean IS NULL OR active = $4)
            ORDER BY username LIMIT $5""",
        list(RESERVED),
        pattern,
        role,
        active,
        limit,
    )
    locked = await throttle.of(rt).locked([r["username"] for r in rows])
    return AccountList(items=[_full_view(r, locked) for r in rows])


def _check(rt: Runtime, new: dict[str, Any], kept_unit: str | None = None) -> None:
    """`kept_unit`: the unit the account already has, still fine when since deactivated (its handler can still be
    renamed or deactivated); a new unit must be active."""
    fields: dict[str, str] = {}
    if new["role"] not in ROLES:
        fields["role"] = f"one of {', '.join(ROLES)}"
    if (new["role"] == "handler") != (new["unit"] is not None):
        fields["unit"] = "a handler needs a unit; other roles have none"
    elif new["unit"] is not None and new["unit"] != kept_unit and new["unit"] not in rt.names.active_units:
        fields["unit"] = f"unknown unit {new['unit']!r} (or inactive)"
    if (new["role"] == "integration") != (new["channel"] is not None):
        fields["channel"] = "an integration needs a channel; other roles have none"
    elif new["channel"] is not None and new["channel"] not in rt.names.channels:
        fields["channel"] = f"unknown channel {new['channel']!r}"
    if fields:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in fields.items()), fields=fields)


async def create(rt: Runtime, principal: Principal, data: AccountNew) -> Account:
    """A new active account. The answer holds `password` only when the service made it (a one-time password,
    shown this once and never again, that must be changed at first sign-in)."""
    principal.require(ADMIN)
    new = msgspec.structs.asdict(data)
    if data.username in RESERVED:
        raise InvalidInput("username: reserved", fields={"username": "reserved for the service"})
    _check(rt, new)
    password = data.password or one_time_password()
    password_hash = await offload.password(
        hash_password, password
    )  # ~30 ms of argon2: off the loop, no connection held
    async with rt.pool.acquire() as conn, conn.transaction():
        try:
            row = await conn.fetchrow(
                f"""INSERT INTO users (username, password_hash, role, unit, channel, display_name,
                                       must_change_password)
                    VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_COLUMNS}""",
                data.username,
                password_hash,
                data.role,
                data.unit,
                data.channel,
                data.display_name,
                data.password is None,
            )
        except asyncpg.UniqueViolationError:
            raise Conflict(f"account {data.username!r} exists", fields={"username": "already taken"}) from None
        await admin_events.record(conn, principal, "account.create", data.username, None, _view(row))
    return _full_view(row, {}, password if data.password is None else UNSET)


async def change(rt: Runtime, principal: Principal, username: str, data: AccountChange) -> AccountView:
    principal.require(ADMIN)
    row = await _account(rt, username)
    new = {**dict(row), **{k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}}
    _check(rt, new, kept_unit=row["unit"])
    if row["id"] == principal.user_id and (not new["active"] or new["role"] != "admin"):
        # The last way back in would be SQL: an administrator does not lock themself out.
        raise InvalidInput(
            "an administrator may not deactivate or demote their own account",
            fields={"active" if not new["active"] else "role": "not on your own account"},
        )
    async with rt.pool.acquire() as conn, conn.transaction():
        updated = await conn.fetchrow(
            """UPDATE users SET role = $2, unit = $3, channel = $4, display_name = $5, active = $6 WHERE id = $1
               RETURNING username, role, unit, channel, display_name, active""",
            row["id"],
            new["role"],
            new["unit"],
            new["channel"],
            new["display_name"],
            new["active"],
        )
        if _view(updated) != _view(row):
            await admin_events.record(conn, principal, "account.change", username, _view(row), _view(updated))
    await revocation.of(rt).account_changed(row["id"])
    return AccountView(**_view(updated))


async def reset_password(rt: Runtime, principal: Principal, username: str) -> PasswordReset:
    """A one-time password for the account, in this answer only; it must be changed at the next sign-in."""
    principal.require(ADMIN)
    row = await _account(rt, username)
    password = one_time_password()
    password_hash = await offload.password(hash_password, password)
    async with rt.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "UPDATE users SET password_hash = $2, must_change_password = true WHERE id = $1", row["id"], password_hash
        )
        await admin_events.record(
            conn,
            principal,
            "account.reset_password",
            username,
            {"must_change_password": row["must_change_password"]},
            {"must_change_password": True},
        )
    # The old password no longer opens a session; the one-time one is to be used at once, so a lock would be in
    # its way.
    await throttle.of(rt).unlock(username)
    return PasswordReset(username=username, password=password, must_change_password=True)


async def unlock(rt: Runtime, principal: Principal, username: str) -> Unlocked:
    """Forget the account's failed sign-ins: it may try again at once."""
    principal.require(ADMIN)
    await _account(rt, username)
    before = (await throttle.of(rt).locked([username])).get(username, 0)
    await throttle.of(rt).unlock(username)
    async with rt.pool.acquire() as conn:
        await admin_events.record(
            conn, principal, "account.unlock", username, {"locked_seconds": before}, {"locked_seconds": 0}
        )
    return Unlocked(username=username, locked_seconds=0)

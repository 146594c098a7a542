"""Changing staff accounts (admin): deactivating, reactivating, moving to another role or unit. A change takes
effect on the account's open sessions at once, in every API process (hotline.revocation): a deactivated account's
token is refused, a changed one must sign in again for a token that says what it may do now."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from hotline.auth import Principal
from hotline.errors import InvalidInput, NotFound
from hotline.runtime import Runtime

ROLES = ("agent", "dispatcher", "handler", "manager", "admin", "integration")
UNSET: Any = msgspec.UNSET


class AccountChange(msgspec.Struct, forbid_unknown_fields=True):
    active: bool | msgspec.UnsetType = UNSET
    role: str | msgspec.UnsetType = UNSET
    unit: Annotated[str, msgspec.Meta(max_length=40)] | None | msgspec.UnsetType = UNSET
    channel: Annotated[str, msgspec.Meta(max_length=40)] | None | msgspec.UnsetType = UNSET
    display_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | msgspec.UnsetType = UNSET


def _view(row: Any) -> dict[str, Any]:
    return {"username": row["username"], "role": row["role"], "unit": row["unit"], "channel": row["channel"],
            "display_name": row["display_name"], "active": row["active"]}


async def change(rt: Runtime, principal: Principal, username: str, data: AccountChange) -> dict[str, Any]:
    principal.require("admin")
    row = await rt.pool.fetchrow(
        "SELECT id, username, role, unit, channel, display_name, active FROM users WHERE username = $1", username)
    if row is None or username == "public-web":
        raise NotFound(f"no account {username!r}")
    new = {**dict(row), **{k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}}
    fields: dict[str, str] = {}
    if new["role"] not in ROLES:
        fields["role"] = f"one of {', '.join(ROLES)}"
    if (new["role"] == "handler") != (new["unit"] is not None):
        fields["unit"] = "a handler needs a unit; other roles have none"
    elif new["unit"] is not None and new["unit"] not in rt.names.units:
        fields["unit"] = f"unknown unit {new['unit']!r}"
    if (new["role"] == "integration") != (new["channel"] is not None):
        fields["channel"] = "an integration needs a channel; other roles have none"
    elif new["channel"] is not None and new["channel"] not in rt.names.channels:
        fields["channel"] = f"unknown channel {new['channel']!r}"
    if fields:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in fields.items()), fields=fields)
    updated = await rt.pool.fetchrow(
        """UPDATE users SET role = $2, unit = $3, channel = $4, display_name = $5, active = $6 WHERE id = $1
           RETURNING username, role, unit, channel, display_name, active""",
        row["id"], new["role"], new["unit"], new["channel"], new["display_name"], new["active"])
    await rt.revocations.account_changed(row["id"])
    return _view(updated)

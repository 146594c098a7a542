"""Units as an administrator keeps them (issue 22): display name, contact (person and phone), active flag. Stored in
PostgreSQL (table units, loaded from config/data/reference.toml by `hotline seed`); each change is an admin event
(`unit.change`) with its actor and the unit before and after, and every process learns of it at once
(hotline.infra.reference_follower): a renamed unit shows its new name in ticket views; an inactive unit gets no new
routing (the rules naming it send cases to manual dispatch) and cannot be dispatched to."""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec

from hotline import errors
from hotline.auth import audit as admin_events
from hotline.auth.tokens import Principal
from hotline.errors import InvalidInput, NotFound
from hotline.infra import reference_follower
from hotline.infra.runtime import Runtime
from hotline.vocab import ADMIN

UNSET: Any = msgspec.UNSET
PHONE = re.compile(r"^\+?[0-9][0-9 -]{2,22}[0-9]$")  # 12345, 0513-12345678, +86 138 1234 5678
_COLUMNS = "code, name, territory, active, contact_person, contact_phone"


class Unit(msgspec.Struct):
    """A unit: `territory` null for a city-wide unit; contacts null when not given."""

    code: str
    name: str
    territory: str | None
    territory_name: str | None
    active: bool
    contact_person: str | None
    contact_phone: str | None


class UnitList(msgspec.Struct):
    items: list[Unit]


class UnitChange(msgspec.Struct, forbid_unknown_fields=True):
    """What to change (a key left out stays as it is; a contact set to null or "" is removed)."""

    name: Annotated[str, msgspec.Meta(max_length=100)] | msgspec.UnsetType = UNSET
    contact_person: Annotated[str, msgspec.Meta(max_length=50)] | None | msgspec.UnsetType = UNSET
    contact_phone: Annotated[str, msgspec.Meta(max_length=30)] | None | msgspec.UnsetType = UNSET
    active: bool | msgspec.UnsetType = UNSET


def _record(row: Any) -> dict[str, Any]:
    return {k: row[k] for k in ("code", "name", "territory", "active", "contact_person", "contact_phone")}


def _view(rt: Runtime, row: Any) -> Unit:
    territory = row["territory"]
    return Unit(**_record(row), territory_name=rt.names.territories.get(territory) if territory is not None else None)


async def active(rt: Runtime) -> list[Any]:
    """The units that may be routed and dispatched to, by code: code, name, territory (null: city-wide)."""
    return list(await rt.pool.fetch("SELECT code, name, territory FROM units WHERE active ORDER BY code"))


async def listing(rt: Runtime, principal: Principal) -> UnitList:
    principal.require(ADMIN)
    rows = await rt.pool.fetch(f"SELECT {_COLUMNS} FROM units ORDER BY code")
    return UnitList(items=[_view(rt, r) for r in rows])


def _clean(data: UnitChange) -> dict[str, Any]:
    """The fields sent, trimmed and checked; 422 naming each bad one."""
    new: dict[str, Any] = {}
    fields: dict[str, str] = errors.nul_fields(msgspec.structs.asdict(data))
    if isinstance(data.name, str):
        new["name"] = data.name.strip()
        if not new["name"]:
            fields["name"] = "a unit needs a name"
    for key in ("contact_person", "contact_phone"):
        value = getattr(data, key)
        if value is not UNSET:
            new[key] = (value or "").strip() or None
    if new.get("contact_phone") is not None and not PHONE.match(new["contact_phone"]):
        fields["contact_phone"] = "a phone number: digits, spaces or '-', optionally a leading '+'"
    if data.active is not UNSET:
        new["active"] = data.active
    if fields:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in fields.items()), fields=fields)
    return new


async def change(rt: Runtime, principal: Principal, code: str, data: UnitChange) -> Unit:
    principal.require(ADMIN)
    new = _clean(data)
    async with rt.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM units WHERE code = $1 FOR UPDATE", code)
        if row is None:
            raise NotFound(f"no unit {code!r}")
        after = {**_record(row), **new}
        updated = await conn.fetchrow(
            f"""UPDATE units SET name = $2, active = $3, contact_person = $4, contact_phone = $5 WHERE code = $1
                RETURNING {_COLUMNS}""",
            code,
            after["name"],
            after["active"],
            after["contact_person"],
            after["contact_phone"],
        )
        changed = _record(updated) != _record(row)
        if changed:
            await admin_events.record(conn, principal, "unit.change", code, _record(row), _record(updated))
    if changed:
        await reference_follower.of(rt).changed()
    return _view(rt, updated)

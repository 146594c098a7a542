"""Territories as an administrator keeps them (issue 22): the display name of each district or county. The codes are
GB/T 2260's and a contract (tickets, rules, units and reports name territories by code), so they are not editable;
neither is the hierarchy. Stored in PostgreSQL (table territories, loaded from config/data/reference.toml by
`hotline seed`, which keeps a name an administrator gave); each change is an admin event (`territory.change`) with
its actor and the territory before and after, and every process learns of it at once
(hotline.infra.reference_follower): intake's choices, ticket views, the rule table and reports show the new name."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from hotline import errors
from hotline.auth import audit as admin_events
from hotline.auth.tokens import Principal
from hotline.errors import InvalidInput, NotFound
from hotline.infra import reference_follower
from hotline.infra.runtime import Runtime
from hotline.vocab import ADMIN

_COLUMNS = "code, name, parent"


class Territory(msgspec.Struct):
    """A territory: `parent` the code of the one it belongs to (null for the city itself), with its name; `units`
    how many units are based in it."""

    code: str
    name: str
    parent: str | None
    parent_name: str | None
    units: int


class TerritoryList(msgspec.Struct):
    items: list[Territory]


class TerritoryChange(msgspec.Struct, forbid_unknown_fields=True):
    """The new display name (the code is GB/T 2260's and cannot change)."""

    name: Annotated[str, msgspec.Meta(max_length=100)]


def _record(row: Any) -> dict[str, Any]:
    return {k: row[k] for k in ("code", "name", "parent")}


def _view(rt: Runtime, row: Any, units: int) -> Territory:
    parent = row["parent"]
    return Territory(
        **_record(row), parent_name=rt.names.territories.get(parent) if parent is not None else None, units=units
    )


async def listing(rt: Runtime, principal: Principal) -> TerritoryList:
    principal.require(ADMIN)
    rows = await rt.pool.fetch(
        f"""SELECT {_COLUMNS}, (SELECT count(*) FROM units u WHERE u.territory = t.code)::int AS units
            FROM territories t ORDER BY parent NULLS FIRST, code"""
    )
    return TerritoryList(items=[_view(rt, r, r["units"]) for r in rows])


def _clean(data: TerritoryChange) -> str:
    fields = errors.nul_fields({"name": data.name})
    name = data.name.strip()
    if not name and not fields:
        fields["name"] = "a territory needs a name"
    if fields:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in fields.items()), fields=fields)
    return name


async def change(rt: Runtime, principal: Principal, code: str, data: TerritoryChange) -> Territory:
    principal.require(ADMIN)
    name = _clean(data)
    async with rt.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM territories WHERE code = $1 FOR UPDATE", code)
        if row is None:
            raise NotFound(f"no territory {code!r}")
        updated = await conn.fetchrow(
            f"UPDATE territories SET name = $2 WHERE code = $1 RETURNING {_COLUMNS}", code, name
        )
        assert updated is not None  # the row is locked: it is there
        units = await conn.fetchval("SELECT count(*)::int FROM units WHERE territory = $1", code)
        changed = updated["name"] != row["name"]
        if changed:
            await admin_events.record(conn, principal, "territory.change", code, _record(row), _record(updated))
    if changed:
        await reference_follower.of(rt).changed()
    return _view(rt, updated, units)

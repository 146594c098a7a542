"""Routing rules as an administrator changes them (issue 22): add a rule (category + territory or "*" → a unit or
the local bureau), change one, deactivate or reactivate one. Stored in PostgreSQL (table routing_rules, loaded from
config/data/reference.toml by `hotline seed`); the most-specific-wins resolution is the router's
(hotline.tickets.routing), unchanged.

Two rules in force for the same category and territory would make the outcome depend on their order: that overlap
is refused (422 naming `territory`). A rule is never edited in place: tickets' routing explanations name the rule
that routed them by id, so a change deactivates the rule and adds its successor with a new id (`replaces`). Each
change is an admin event (`routing_rule.create`, `routing_rule.change`) with its actor and the rule before and
after, and every process rebuilds its router at once (hotline.infra.reference_follower)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from hotline import errors
from hotline.auth import audit as admin_events
from hotline.auth.tokens import Principal
from hotline.errors import InvalidInput, NotFound
from hotline.infra import reference_follower
from hotline.infra.db import Conn
from hotline.infra.runtime import Runtime
from hotline.tickets.routing import BUREAU_TEMPLATE
from hotline.vocab import ADMIN

UNSET: Any = msgspec.UNSET
ANY = "*"
INT4_MAX = 2**31 - 1
_COLUMNS = "id, category, territory, unit, active"
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class RuleNew(msgspec.Struct, forbid_unknown_fields=True):
    """`territory` a territory code or "*" (any territory); `unit` a unit code or "{territory}-bureau" (the local
    bureau of the ticket's territory)."""

    category: Code
    territory: Code
    unit: Code


class RuleChange(msgspec.Struct, forbid_unknown_fields=True):
    """What to change (a key left out stays as it is)."""

    category: Code | msgspec.UnsetType = UNSET
    territory: Code | msgspec.UnsetType = UNSET
    unit: Code | msgspec.UnsetType = UNSET
    active: bool | msgspec.UnsetType = UNSET


class SavedRule(msgspec.Struct):
    """A rule as saved; `replaces` the id of the rule a change deactivated in its favour (null: none)."""

    id: int
    category: str
    territory: str
    unit: str
    active: bool
    replaces: int | None = None


def _record(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "category": row["category"],
        "territory": row["territory"] or ANY,
        "unit": row["unit"] or BUREAU_TEMPLATE,
        "active": row["active"],
    }


def _check(rt: Runtime, rule: dict[str, Any]) -> None:
    fields = errors.nul_fields(rule)
    if rule["category"] not in rt.names.categories:
        fields.setdefault("category", f"unknown category {rule['category']!r}")
    if rule["territory"] != ANY and rule["territory"] not in rt.names.territories:
        fields.setdefault("territory", f'unknown territory {rule["territory"]!r} (or "*" for any)')
    if rule["unit"] != BUREAU_TEMPLATE and rule["unit"] not in rt.names.active_units:
        fields.setdefault("unit", f"not a known, active unit {rule['unit']!r} (or {BUREAU_TEMPLATE!r})")
    if fields:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in fields.items()), fields=fields)


async def _refuse_overlap(conn: Conn, rule: dict[str, Any], other_than: int | None) -> None:
    clash = await conn.fetchval(
        """SELECT id FROM routing_rules WHERE active AND category = $1 AND territory IS NOT DISTINCT FROM $2
             AND id IS DISTINCT FROM $3""",
        rule["category"],
        None if rule["territory"] == ANY else rule["territory"],
        other_than,
    )
    if clash is not None:
        where = "any territory" if rule["territory"] == ANY else f"territory {rule['territory']}"
        raise InvalidInput(
            f"rule #{clash} already routes category {rule['category']} in {where}",
            fields={"territory": f"overlaps rule #{clash}: change or deactivate that one"},
        )


async def _insert(conn: Conn, rule: dict[str, Any]) -> Any:
    # Ids are the file's at seed time and the next one after: the lock makes concurrent additions wait their turn.
    return await conn.fetchrow(
        f"""INSERT INTO routing_rules (id, category, territory, unit, bureau_template, active)
            SELECT coalesce(max(id), 0) + 1, $1, $2, $3, $4, $5 FROM routing_rules RETURNING {_COLUMNS}""",
        rule["category"],
        None if rule["territory"] == ANY else rule["territory"],
        None if rule["unit"] == BUREAU_TEMPLATE else rule["unit"],
        rule["unit"] == BUREAU_TEMPLATE,
        rule["active"],
    )


async def create(rt: Runtime, principal: Principal, data: RuleNew) -> SavedRule:
    principal.require(ADMIN)
    new = {**msgspec.structs.asdict(data), "active": True}
    _check(rt, new)
    async with rt.pool.acquire() as conn, conn.transaction():
        await conn.execute("LOCK TABLE routing_rules IN SHARE ROW EXCLUSIVE MODE")
        await _refuse_overlap(conn, new, None)
        row = await _insert(conn, new)
        await admin_events.record(conn, principal, "routing_rule.create", str(row["id"]), None, _record(row))
    await reference_follower.of(rt).changed()
    return SavedRule(**_record(row))


async def change(rt: Runtime, principal: Principal, rule_id: int, data: RuleChange) -> SavedRule:
    principal.require(ADMIN)
    sent = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
    if not 0 < rule_id <= INT4_MAX:  # ids are PostgreSQL integers: a larger one names no rule
        raise NotFound(f"no routing rule #{rule_id}")
    async with rt.pool.acquire() as conn, conn.transaction():
        await conn.execute("LOCK TABLE routing_rules IN SHARE ROW EXCLUSIVE MODE")
        row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM routing_rules WHERE id = $1", rule_id)
        if row is None:
            raise NotFound(f"no routing rule #{rule_id}")
        before = _record(row)
        new = {**before, **sent}
        if new == before:
            return SavedRule(**before)
        what = {k: new[k] for k in ("category", "territory", "unit")}
        if what != {k: before[k] for k in what}:
            _check(rt, new)
        elif new["active"]:
            _check(rt, new)  # reactivated: its unit must still be there
        if new["active"]:
            await _refuse_overlap(conn, new, rule_id)
        replaces = None
        if what == {k: before[k] for k in what}:  # only the active flag: the same rule
            row = await conn.fetchrow(
                f"UPDATE routing_rules SET active = $2 WHERE id = $1 RETURNING {_COLUMNS}", rule_id, new["active"]
            )
        else:  # another rule: the old one stays on record, deactivated
            await conn.execute("UPDATE routing_rules SET active = false WHERE id = $1", rule_id)
            row = await _insert(conn, new)
            replaces = rule_id
        await admin_events.record(conn, principal, "routing_rule.change", str(rule_id), before, _record(row))
    await reference_follower.of(rt).changed()
    return SavedRule(**_record(row), replaces=replaces)

"""The routing rules of config/data/reference.toml, loaded without undoing what an administrator did in the console.

A rule is known by its category and territory (its key: at most one rule in force per key). For each key:
- an administrator's key (a rule of it created, changed, deactivated or reactivated in the console: an admin event
  names it) is left exactly as it is, whatever the file says;
- otherwise the file decides: its rule is added (a new id after the highest), kept when the rule in force already
  says the same, or, when the file names another unit, the rule in force is deactivated and a successor added (as a
  console change does: tickets' routing names rules by id, so a rule is never rewritten in place); a key the file
  no longer has is deactivated.
On an empty table the file's rules get its own numbering (#1, #2, ... in file order)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from config.reference import BUREAU_TEMPLATE, Rule
from hotline.infra.db import Conn
from hotline.infra.sql import load

Key = tuple[str, str | None]


def _key(category: str, territory: str | None) -> Key:
    return (category, None if territory == "*" else territory)


async def seed_rules(conn: Conn, rules: tuple[Rule, ...]) -> dict[str, int]:
    """Run inside the seed's transaction. Counts: rules added, retired (deactivated), kept as an admin left them."""
    await conn.execute("LOCK TABLE routing_rules IN SHARE ROW EXCLUSIVE MODE")
    rows = await conn.fetch("SELECT id, category, territory, unit, active FROM routing_rules ORDER BY id")
    edited_ids = {r["id"] for r in await conn.fetch(load(__file__, "rules_edited"))}
    by_key: dict[Key, list[Any]] = defaultdict(list)
    for row in rows:
        by_key[(row["category"], row["territory"])].append(row)
    edited = {key for key, same in by_key.items() if any(r["id"] in edited_ids for r in same)}
    next_id = max((r["id"] for r in rows), default=0) + 1
    counts = {"rules_added": 0, "rules_retired": 0, "rules_kept_as_edited": 0}
    wanted: set[Key] = set()
    for rule in rules:
        key = _key(rule.category, rule.territory)
        wanted.add(key)
        if key in edited:
            counts["rules_kept_as_edited"] += 1
            continue
        unit = None if rule.unit == BUREAU_TEMPLATE else rule.unit
        current = next((r for r in by_key[key] if r["active"]), None)
        if current is not None and current["unit"] == unit:
            continue
        if current is not None:
            await conn.execute("UPDATE routing_rules SET active = false WHERE id = $1", current["id"])
            counts["rules_retired"] += 1
        earlier = next((r for r in by_key[key] if r is not current and r["unit"] == unit), None)
        if earlier is not None:  # the file went back to a rule it had: the same rule, in force again
            await conn.execute("UPDATE routing_rules SET active = true WHERE id = $1", earlier["id"])
        else:
            await conn.execute(
                """INSERT INTO routing_rules (id, category, territory, unit, bureau_template)
                   VALUES ($1, $2, $3, $4, $5)""",
                next_id,
                key[0],
                key[1],
                unit,
                unit is None,
            )
            next_id += 1
        counts["rules_added"] += 1
    for key, same in by_key.items():
        if key in wanted or key in edited:
            continue
        for r in same:
            if r["active"]:
                await conn.execute("UPDATE routing_rules SET active = false WHERE id = $1", r["id"])
                counts["rules_retired"] += 1
    return counts

"""Load reference data, SLA policies and (with --demo) demo accounts into the database. Idempotent.

The data files load a fresh install and add what is new; they do not undo the admin console: a unit's or
territory's name an administrator changed, a unit's contacts and active flag, and the routing rules of every
category and territory an administrator touched stay as the console left them (each found by its admin events)."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sla
from config.reference import Reference, load_reference, load_toml
from hotline.auth.tokens import hash_password
from hotline.infra.db import Conn
from hotline.infra.sql import load
from hotline.open311 import keys as open311_keys
from hotline.ops.seed_rules import seed_rules


async def _hash_each(password: str, count: int) -> list[str]:
    """One hash per account, each with its own salt: one shared hash would tell anyone who reads the table that the
    accounts share a password, and one cracked hash would open them all. Argon2 is slow on purpose (a quarter of a
    second each here) and releases the GIL, so the hashes are made on every core, before the seed's transaction."""
    workers = min(4, os.cpu_count() or 1)
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(await asyncio.gather(*(loop.run_in_executor(pool, hash_password, password) for _ in range(count))))


def _without_version(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "version"}


async def seed(
    conn: Conn,
    *,
    demo: bool,
    demo_password: str,
    reference: Reference | None = None,
    policies: dict[str, Any] | None = None,
) -> dict[str, int]:
    ref = reference or load_reference()
    policies_doc = policies if policies is not None else load_toml("sla_policies.toml")
    # Validate before writing anything: a bad policy file must not leave half a seed behind.
    sla.PolicySet.from_config(policies_doc, version=1, channels=ref.channels, kinds=ref.kinds)
    counts: dict[str, int] = {}
    hashes = await _hash_each(demo_password, len(ref.accounts)) if demo else []
    async with conn.transaction():
        await conn.executemany(
            load(__file__, "upsert_channels"),
            [(c.code, c.name, c.kind) for c in ref.channels.values()],
        )
        # Parents first so the self-reference holds.
        ordered = sorted(ref.territories.values(), key=lambda t: t.parent is not None)
        await conn.executemany(
            load(__file__, "upsert_territories"),
            [(t.code, t.name, t.parent) for t in ordered],
        )
        await conn.executemany(
            "INSERT INTO categories (code, name) VALUES ($1, $2) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name",
            list(ref.categories.items()),
        )
        await conn.executemany(
            "INSERT INTO kinds (code, name) VALUES ($1, $2) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name",
            list(ref.kinds.items()),
        )
        await conn.executemany(
            load(__file__, "upsert_units"),
            [(u.code, u.name, u.territory) for u in ref.units.values()],
        )
        # Rules the file adds or changes; an administrator's rules stay as they are (hotline.ops.seed_rules).
        counts.update(await seed_rules(conn, ref.rules))
        # The file in force is the newest version that came from it. An edited file is a new version (a running
        # service picks it up on reload, open clocks keep theirs until recomputed); an unchanged one is not, so
        # seeding twice, or over a version an admin put in through the API, changes nothing.
        await conn.execute("LOCK TABLE sla_policy_versions IN SHARE ROW EXCLUSIVE MODE")
        from_file = await conn.fetchrow(
            "SELECT rows FROM sla_policy_versions WHERE source = 'config' ORDER BY version DESC LIMIT 1"
        )
        if from_file is None or _without_version(from_file["rows"]) != _without_version(policies_doc):
            version = await conn.fetchval("SELECT coalesce(max(version), 0) + 1 FROM sla_policy_versions")
            await conn.execute(
                "INSERT INTO sla_policy_versions (version, rows, source) VALUES ($1, $2, 'config')",
                version,
                {**policies_doc, "version": version},
            )
            counts["policy_version"] = version
        counts.update(
            channels=len(ref.channels), territories=len(ref.territories), units=len(ref.units), rules=len(ref.rules)
        )
        if demo:
            await conn.executemany(
                load(__file__, "upsert_demo_accounts"),
                [
                    (a.username, pw_hash, a.role, a.unit, a.channel, a.display_name)
                    for a, pw_hash in zip(ref.accounts, hashes, strict=True)  # one hash made per account
                ],
            )
            counts["accounts"] = len(ref.accounts)
            await open311_keys.seed_demo_key(conn, demo_password)
            await conn.execute("INSERT INTO service_flags (name) VALUES ('demo_data') ON CONFLICT (name) DO NOTHING")
    return counts


async def fresh_database(url: str, *, demo_password: str | None, demo: bool = True) -> None:
    """An empty database at `url`, dropped (sessions ended) and created again, migrated, and, unless demo_password
    is None, seeded (demo accounts too when `demo`): the starting point of the test suite and of each benchmark."""
    from hotline.infra import db
    from hotline.infra.migrate import migrate

    await db.recreate_database(url)
    conn = await db.connect(url)
    try:
        await migrate(conn)
        if demo_password is not None:
            await seed(conn, demo=demo, demo_password=demo_password)
    finally:
        await conn.close()

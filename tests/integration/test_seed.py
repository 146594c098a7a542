"""`hotline seed`: idempotent, and an edited policy file becomes a new policy version (never a silent no-op)."""

from __future__ import annotations

import copy

from config.reference import load_toml
from hotline.infra import db
from hotline.ops.seed import seed
from tests.scratch import scratch_database


async def test_seeding_twice_changes_nothing_and_an_edited_policy_file_is_a_new_version(database):
    async with scratch_database(database, "seedtest", migrated=True) as url:
        conn = await db.connect(url)
        try:
            first = await seed(conn, demo=True, demo_password="pw")
            users = await conn.fetchval("SELECT count(*) FROM users")
            assert first["policy_version"] == 1 and users == first["accounts"]
            again = await seed(conn, demo=True, demo_password="pw")
            assert "policy_version" not in again
            assert await conn.fetchval("SELECT count(*) FROM sla_policy_versions") == 1
            assert await conn.fetchval("SELECT count(*) FROM users") == users

            edited = copy.deepcopy(load_toml("sla_policies.toml"))
            row = next(p for p in edited["policy"] if p.get("kind") == "complaint" and p.get("clock") == "reply")
            row["limit"] = row["limit"] + 5
            assert (await seed(conn, demo=False, demo_password="pw", policies=edited))["policy_version"] == 2
            stored = await conn.fetchrow(
                "SELECT version, rows, source FROM sla_policy_versions ORDER BY version DESC LIMIT 1"
            )
            assert stored["version"] == 2 and stored["source"] == "config"
            assert next(p for p in stored["rows"]["policy"] if p["id"] == row["id"])["limit"] == row["limit"]
            assert "policy_version" not in await seed(conn, demo=False, demo_password="pw", policies=edited)
        finally:
            await conn.close()


async def test_every_demo_account_has_its_own_salted_hash_of_the_demo_password(runtime):
    from config.reference import load_reference
    from hotline.auth.tokens import verify_password
    from tests.conftest import PASSWORD

    # The demo accounts only: other tests create accounts of their own with other passwords (an admin's).
    demo = [a.username for a in load_reference().accounts]
    rows = await runtime.pool.fetch("SELECT username, password_hash FROM users WHERE username = any($1::text[])", demo)
    assert len(rows) == len(demo) >= 7
    assert len({r["password_hash"] for r in rows}) == len(rows)  # no two accounts share a hash (or a salt)
    assert all(verify_password(r["password_hash"], PASSWORD) for r in rows)

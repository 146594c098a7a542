"""`hotline seed`: idempotent, and an edited policy file becomes a new policy version (never a silent no-op)."""

from __future__ import annotations

import copy

from config.reference import load_toml
from hotline.infra import db
from hotline.ops.seed import seed
from hotline.tickets import routing
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


async def test_seeding_again_keeps_what_an_administrator_changed_and_adds_what_the_file_adds(database, settings):
    """Units' names, contacts and active flag, territories' names and the routing rules an administrator changed in
    the console survive `hotline seed` (and `--demo`); the file still brings what is new or changed elsewhere."""
    import dataclasses

    from config.reference import Rule, Unit, load_reference
    from hotline.admin import rules, territories, units
    from hotline.infra.runtime import Runtime
    from tests.conftest import principal

    async with scratch_database(database, "reseed", seeded=True) as url:
        rt = await Runtime.start(dataclasses.replace(settings, database_url=url))
        conn = await db.connect(url)
        try:
            admin = await principal(rt, "admin")
            await units.change(rt, admin, "320612-bureau", units.UnitChange(name="通州区交通局（改）",
                                                                             contact_person="王科长"))  # fmt: skip
            await units.change(rt, admin, "city-highway", units.UnitChange(active=False))
            await units.change(rt, admin, "320613-bureau", units.UnitChange(contact_phone="0513-1234567"))
            await territories.change(rt, admin, "320614", territories.TerritoryChange(name="海门区（改）"))
            added = await rules.create(rt, admin, rules.RuleNew(category="bus", territory="320612", unit="city-bus"))
            star_taxi = routing.router(rt).resolve("taxi", "320681").rule_id
            assert star_taxi is not None
            await rules.change(rt, admin, star_taxi, rules.RuleChange(active=False))
            city_road = routing.router(rt).resolve("road", "320600").rule_id
            assert city_road is not None
            successor = await rules.change(rt, admin, city_road, rules.RuleChange(unit="city-office"))
            before = await conn.fetch("SELECT id, category, territory, unit, active FROM routing_rules ORDER BY id")
            edited_units = await conn.fetch("SELECT * FROM units ORDER BY code")

            # The same file again, with and without the demo accounts: nothing an administrator did is undone.
            for demo in (True, False):
                counts = await seed(conn, demo=demo, demo_password="pw")
                assert counts["rules_added"] == counts["rules_retired"] == 0, counts
                assert await conn.fetch("SELECT * FROM units ORDER BY code") == edited_units
                assert (
                    await conn.fetch("SELECT id, category, territory, unit, active FROM routing_rules ORDER BY id")
                    == before
                )
                assert await conn.fetchval("SELECT name FROM territories WHERE code = '320614'") == "海门区（改）"

            # An edited file: every unit and territory renamed, a unit and a rule added, the unit of an untouched
            # rule changed, and the unit and rule keys an administrator changed named differently too.
            ref = load_reference()
            renamed_units = {c: dataclasses.replace(u, name=u.name + "（文件）") for c, u in ref.units.items()}
            renamed_units["city-metro"] = Unit("city-metro", "市轨道交通管理处", "320600")
            renamed_territories = {
                c: dataclasses.replace(t, name=t.name + "（文件）") for c, t in ref.territories.items()
            }
            road_admin_city = next(r for r in ref.rules if (r.category, r.territory) == ("road_admin", "320600"))
            file_rules = tuple(
                dataclasses.replace(r, unit="city-office") if r is road_admin_city
                else dataclasses.replace(r, unit="city-taxi") if (r.category, r.territory) == ("taxi", "*")
                else r
                for r in ref.rules
            ) + (Rule(len(ref.rules) + 1, "bus", "320614", "city-metro"),
                 Rule(len(ref.rules) + 2, "bus", "320612", "city-taxi"))  # fmt: skip
            edited = dataclasses.replace(ref, units=renamed_units, territories=renamed_territories, rules=file_rules)
            old_road_admin = await conn.fetchval(
                "SELECT id FROM routing_rules WHERE active AND category = 'road_admin' AND territory = '320600'"
            )
            counts = await seed(conn, demo=True, demo_password="pw", reference=edited)
            assert counts["rules_kept_as_edited"] == 3  # taxi "*", road 320600 and bus 320612: the admin's
            names = {r["code"]: r for r in await conn.fetch("SELECT * FROM units")}
            assert names["320612-bureau"]["name"] == "通州区交通局（改）"  # renamed by the admin: kept
            assert names["320612-bureau"]["contact_person"] == "王科长"
            assert names["320613-bureau"]["name"] == ref.units["320613-bureau"].name + "（文件）"  # only its phone
            assert names["320613-bureau"]["contact_phone"] == "0513-1234567"
            assert names["city-highway"]["active"] is False
            assert names["city-metro"]["name"] == "市轨道交通管理处" and names["city-metro"]["active"] is True
            terr = {r["code"]: r["name"] for r in await conn.fetch("SELECT code, name FROM territories")}
            assert terr["320614"] == "海门区（改）" and terr["320612"] == ref.territories["320612"].name + "（文件）"

            in_force = {
                (r["category"], r["territory"]): r
                for r in await conn.fetch("SELECT id, category, territory, unit FROM routing_rules WHERE active")
            }
            assert ("taxi", None) not in in_force  # deactivated by the admin: the file's new unit is not applied
            assert in_force[("road", "320600")]["id"] == successor.id and successor.unit == "city-office"
            assert in_force[("bus", "320612")]["id"] == added.id and in_force[("bus", "320612")]["unit"] == "city-bus"
            # The file's own changes: a successor for the untouched rule (the old one kept, out of force) and the
            # new rule, both numbered after every rule there is.
            top = max(r["id"] for r in before)
            new_road_admin = in_force[("road_admin", "320600")]
            assert new_road_admin["unit"] == "city-office" and new_road_admin["id"] > top
            assert await conn.fetchval("SELECT active FROM routing_rules WHERE id = $1", old_road_admin) is False
            assert in_force[("bus", "320614")]["unit"] == "city-metro" and in_force[("bus", "320614")]["id"] > top
            assert counts["rules_added"] == 2 and counts["rules_retired"] == 1, counts

            # Back to the shipped file: the file's own change is undone the same way, the admin's still stand.
            counts = await seed(conn, demo=False, demo_password="pw")
            in_force = {
                (r["category"], r["territory"]): r
                for r in await conn.fetch("SELECT id, category, territory, unit FROM routing_rules WHERE active")
            }
            assert in_force[("road_admin", "320600")]["id"] == old_road_admin  # the same rule, in force again
            assert ("bus", "320614") not in in_force  # the file no longer has it
            assert in_force[("bus", "320612")]["id"] == added.id and ("taxi", None) not in in_force
            assert (await conn.fetchrow("SELECT name FROM units WHERE code = '320613-bureau'"))["name"] == ref.units[
                "320613-bureau"
            ].name
        finally:
            await conn.close()
            await rt.close()


async def test_seeding_the_demo_again_keeps_accounts_an_administrator_changed(database, settings):
    """`hotline seed --demo` resets the demo accounts it owns, not one an administrator changed or reset since."""
    import dataclasses

    from hotline.auth import accounts
    from hotline.infra.runtime import Runtime
    from tests.conftest import principal

    async with scratch_database(database, "reseedaccounts", seeded=True) as url:
        rt = await Runtime.start(dataclasses.replace(settings, database_url=url))
        conn = await db.connect(url)
        try:
            admin = await principal(rt, "admin")
            await accounts.change(rt, admin, "handler-320612-bureau", accounts.AccountChange(display_name="通州李科员"))
            await accounts.change(rt, admin, "dispatcher", accounts.AccountChange(active=False))
            await accounts.reset_password(rt, admin, "agent")
            query = "SELECT username, password_hash, role, unit, display_name, active, must_change_password FROM users"
            changed = ("handler-320612-bureau", "dispatcher", "agent")
            before = {r["username"]: r for r in await conn.fetch(query)}

            await seed(conn, demo=True, demo_password="pw")

            after = {r["username"]: r for r in await conn.fetch(query)}
            assert [after[u] for u in changed] == [before[u] for u in changed]
            assert after["handler-320612-bureau"]["display_name"] == "通州李科员"
            assert after["dispatcher"]["active"] is False
            # The demo accounts nobody touched are reset as before: a new hash of the demo password.
            assert after["manager"]["password_hash"] != before["manager"]["password_hash"]
        finally:
            await conn.close()
            await rt.close()

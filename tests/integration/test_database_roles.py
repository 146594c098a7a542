"""The roles `hotline migrate` makes and the service connects as: an owner of the schema that cannot log in, and a
runtime role that reads and writes rows but owns nothing, is no superuser, and may only add to the events table."""

from __future__ import annotations

from dataclasses import replace

import asyncpg
import pytest

from hotline.infra import db
from hotline.infra.db_roles import NotReady, as_role
from hotline.infra.migrate import migrate
from hotline.infra.runtime import Runtime
from tests.scratch import drop_roles, scratch_database


def _roles(url: str) -> tuple[str, str]:
    name = db.database_name(url)
    return f"{name}_owner", f"{name}_app"


async def test_the_service_connects_as_the_runtime_role_not_as_the_configured_superuser(settings, runtime):
    owner, app = _roles(settings.database_url)
    row = await runtime.pool.fetchrow(
        """SELECT current_user AS who, r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolbypassrls, r.rolreplication,
                  pg_has_role(current_user, $1, 'MEMBER') AS owner_member,
                  (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'public' AND c.relowner = r.oid) AS owns,
                  (SELECT count(*) FROM pg_database d WHERE d.datdba = r.oid) AS databases
           FROM pg_roles r WHERE r.rolname = current_user""",
        owner,
    )
    assert dict(row) == {
        "who": app,
        "rolsuper": False,
        "rolcreatedb": False,
        "rolcreaterole": False,
        "rolbypassrls": False,
        "rolreplication": False,
        "owner_member": False,
        "owns": 0,
        "databases": 0,
    }


async def test_the_events_table_cannot_be_changed_through_the_runtime_role_in_any_way(api, runtime):
    t = await api.create("agent")  # written through the runtime role: it may add events
    owner, _ = _roles(runtime.settings.database_url)
    refused = asyncpg.InsufficientPrivilegeError
    attempts = [
        "UPDATE events SET actor = 'mallory' WHERE ticket_id = $1",
        "DELETE FROM events WHERE ticket_id = $1",
        "TRUNCATE events",
        "TRUNCATE events CASCADE",
        "SET session_replication_role = replica",
        "SET LOCAL session_replication_role = replica",
        "SELECT set_config('session_replication_role', 'replica', false)",
        "ALTER ROLE current_user SET session_replication_role = replica",
        "ALTER TABLE events DISABLE TRIGGER events_no_update",
        "ALTER TABLE events DISABLE TRIGGER ALL",
        "ALTER TABLE events ENABLE REPLICA TRIGGER events_no_update",
        "ALTER TABLE events OWNER TO current_user",
        "ALTER TABLE events RENAME TO events_old",
        "ALTER TABLE events ADD COLUMN forged text",
        "DROP TRIGGER events_no_update ON events",
        "DROP TRIGGER events_no_truncate ON events",
        "DROP TABLE events CASCADE",
        "CREATE OR REPLACE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RETURN NEW; END $$",
        "CREATE TRIGGER forge BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION events_refuse_change()",
        "CREATE RULE forge AS ON INSERT TO events DO INSTEAD NOTHING",
        "CREATE TABLE public.shadow (id int)",
        "CREATE VIEW public.shadow AS SELECT * FROM events",
        "CREATE FUNCTION public.shadow() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "CREATE SCHEMA shadow",
        f"SET ROLE {owner}",
        "SET ROLE postgres",
        "ALTER ROLE current_user SUPERUSER",
        "ALTER ROLE current_user BYPASSRLS",
        "CREATE ROLE shadow SUPERUSER",
        f"GRANT {owner} TO current_user",
        "CREATE EXTENSION IF NOT EXISTS pageinspect",
        "COPY events FROM PROGRAM 'true'",
    ]
    async with runtime.pool.acquire() as conn:
        # Before anything is tried: a superuser here would carry the attempts out on the shared server.
        assert not await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ticket_id = await conn.fetchval("SELECT id FROM tickets WHERE number = $1", t["number"])
        before = await conn.fetch("SELECT * FROM events WHERE ticket_id = $1 ORDER BY id", ticket_id)
        assert len(before) == 2
        for sql in attempts:
            args = (ticket_id,) if "$1" in sql else ()
            with pytest.raises(refused) as caught:
                async with conn.transaction():  # SET LOCAL needs one
                    await conn.execute(sql, *args)
            # Refused for want of the right, not by the trigger (which would be the last line, and can be switched off).
            assert "append-only" not in str(caught.value), sql
        # A grant to itself is not an error, only a warning that nothing was granted: it changes nothing either.
        await conn.execute("GRANT UPDATE, DELETE, TRUNCATE ON events TO current_user")
        with pytest.raises(refused, match="permission denied"):
            await conn.execute("UPDATE events SET actor = 'mallory' WHERE ticket_id = $1", ticket_id)
        assert await conn.fetchval("SELECT current_setting('session_replication_role')") == "origin"
        assert await conn.fetch("SELECT * FROM events WHERE ticket_id = $1 ORDER BY id", ticket_id) == before
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'events'::regclass "
                "AND NOT tgisinternal AND tgenabled = 'O'"
            )
            == 2
        )


async def test_migrate_makes_the_roles_and_hands_every_object_to_the_owner(settings, database):
    async with scratch_database(database, "roles", migrated=True) as url:
        owner, app = _roles(url)
        conn = await db.connect(url)
        try:
            roles = {
                r["rolname"]: dict(r)
                for r in await conn.fetch(
                    """SELECT rolname, rolsuper, rolcanlogin, rolcreatedb, rolcreaterole, rolbypassrls, rolreplication
                   FROM pg_roles WHERE rolname = any($1::text[])""",
                    [owner, app],
                )
            }
            flags = {
                "rolsuper": False,
                "rolcreatedb": False,
                "rolcreaterole": False,
                "rolbypassrls": False,
                "rolreplication": False,
            }
            assert roles == {
                owner: {"rolname": owner, "rolcanlogin": False, **flags},
                app: {"rolname": app, "rolcanlogin": True, **flags},
            }
            assert (
                await conn.fetchval(
                    "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
                )
                == owner
            )
            not_owned = await conn.fetch(
                """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
                     AND pg_get_userbyid(c.relowner) <> $1
                   UNION ALL
                   SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                   WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> $1
                     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')""",
                owner,
            )
            assert not_owned == []
            privileges = await conn.fetch(
                """SELECT c.relname, array_agg(p.privilege ORDER BY p.privilege) AS granted
                   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   CROSS JOIN unnest('{SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER}'::text[])
                        AS p(privilege)
                   WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
                     AND has_table_privilege($1, c.oid, p.privilege)
                   GROUP BY c.relname""",
                app,
            )
            granted = {r["relname"]: r["granted"] for r in privileges}
            assert granted.pop("events") == ["INSERT", "SELECT"]
            assert granted.pop("export_audit") == ["INSERT", "SELECT"]
            assert granted.pop("admin_events") == ["INSERT", "SELECT"]
            assert granted.pop("escalation_steps") == ["INSERT", "SELECT", "UPDATE"]
            assert granted.pop("schema_migrations") == ["SELECT"]
            assert granted and set(map(tuple, granted.values())) == {("DELETE", "INSERT", "SELECT", "UPDATE")}
            assert not await conn.fetchval("SELECT has_schema_privilege($1, 'public', 'CREATE')", app)
            assert not await conn.fetchval("SELECT has_database_privilege($1, current_database(), 'CREATE')", app)
        finally:
            await conn.close()


async def test_migrate_takes_back_what_was_changed_by_hand_on_an_install_from_before_the_roles(settings, database):
    """An install migrated before the roles existed has every object owned by the superuser; a privilege granted by
    hand later would let the runtime role rewrite history. The next `hotline migrate` puts both right."""
    async with scratch_database(database, "roles_again", migrated=True) as url:
        owner, app = _roles(url)
        conn = await db.connect(url)
        try:
            await conn.execute(
                f"ALTER TABLE events OWNER TO CURRENT_USER; ALTER DATABASE {db.database_name(url)} "
                f"OWNER TO CURRENT_USER; GRANT UPDATE, DELETE, TRUNCATE ON events TO {app}; "
                f"GRANT {owner} TO {app}; ALTER ROLE {app} CREATEDB"
            )
            assert await migrate(conn) == []
            events_owner = "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'events'::regclass"
            assert await conn.fetchval(events_owner) == owner
            assert (
                await conn.fetchval(
                    "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
                )
                == owner
            )
            assert [
                await conn.fetchval("SELECT has_table_privilege($1, 'events', $2)", app, p)
                for p in ("UPDATE", "DELETE", "TRUNCATE")
            ] == [False, False, False]
            assert not await conn.fetchval("SELECT pg_has_role($1, $2, 'MEMBER')", app, owner)
            assert not await conn.fetchval("SELECT rolcreatedb FROM pg_roles WHERE rolname = $1", app)
        finally:
            await conn.close()


async def test_migrate_refuses_a_runtime_role_that_is_a_superuser(settings, database):
    """A runtime URL that names a superuser (by mistake, say the same one as HOTLINE_DATABASE_URL) must not be
    stripped of its rights, nor used: migrate stops and says why."""
    from hotline.infra.migrate import MigrationError

    async with scratch_database(database, "roles_super") as url:
        conn = await db.connect(url)
        try:
            who = await conn.fetchval("SELECT current_user")
            with pytest.raises(MigrationError, match="superuser"):
                await migrate(conn, runtime_url=url)
            assert await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = $1", who)
        finally:
            await conn.close()


async def test_a_runtime_url_names_the_role_migrate_makes_and_the_service_uses(settings, database):
    """With HOTLINE_DATABASE_RUNTIME_URL the runtime role takes its name and password from it; the service connects
    with it as given."""
    made: list[str] = []
    try:
        async with scratch_database(database, "roles_url") as url:
            made.append(url)
            await _with_runtime_url(settings, url, f"{db.database_name(url)}_svc")
    finally:
        if made:  # a role of the test's own naming, once its database is gone (the clean-up drops `<db>_*` only)
            await drop_roles(made[0], f"{db.database_name(made[0])}_svc")


async def _with_runtime_url(settings, url: str, role: str) -> None:
    runtime_url = as_role(url, role, password="s3cret-pw")
    conn = await db.connect(url)
    try:
        await migrate(conn, runtime_url=runtime_url)
        stored = await conn.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = $1", role)
        assert stored is not None and stored.startswith("SCRAM-SHA-256$")
        rt = await Runtime.start(replace(settings, database_url=url, database_runtime_url=runtime_url))
        try:
            assert await rt.pool.fetchval("SELECT current_user") == role
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await rt.pool.execute("DELETE FROM events")
        finally:
            await rt.close()
    finally:
        await conn.close()


async def test_the_service_never_creates_the_database(settings, database):
    """Only `hotline migrate` creates: a service start on a missing database fails saying so, and creates nothing."""
    missing = db.with_database(database, f"{db.database_name(database)}_missing")
    await db.drop_database(missing)
    with pytest.raises(NotReady, match="hotline migrate"):
        await Runtime.start(replace(settings, database_url=missing))
    admin = await db.connect(db.with_database(database, "postgres"))
    try:
        assert (
            await admin.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", db.database_name(missing)) == 0
        )
    finally:
        await admin.close()


async def test_a_database_migrated_without_the_roles_is_refused_rather_than_served_as_superuser(settings, database):
    async with scratch_database(database, "roles_none") as url:
        with pytest.raises(NotReady, match=f"{db.database_name(url)}_app.*hotline migrate"):
            await Runtime.start(replace(settings, database_url=url))


async def test_with_password_authentication_the_runtime_url_gives_the_role_its_password(settings):
    """A server that asks for passwords: the runtime role has none until HOTLINE_DATABASE_RUNTIME_URL gives one to
    `hotline migrate`; without it the service says to set it, with it the service logs in as that role."""
    from tests.scratch import private_postgres

    with private_postgres(password="super-pw") as url:
        await db.ensure_database(url)
        conn = await db.connect(url)
        try:
            await migrate(conn)
            with pytest.raises(NotReady, match="hotline_app.*set HOTLINE_DATABASE_RUNTIME_URL"):
                await Runtime.start(replace(settings, database_url=url))
            runtime_url = as_role(url, "hotline_svc", password="svc-pw")
            await migrate(conn, runtime_url=runtime_url)
            rt = await Runtime.start(replace(settings, database_url=url, database_runtime_url=runtime_url))
            try:
                assert await rt.pool.fetchval("SELECT current_user") == "hotline_svc"
                assert not await rt.pool.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            finally:
                await rt.close()
            wrong = as_role(url, "hotline_svc", password="guessed")
            with pytest.raises(NotReady, match="HOTLINE_DATABASE_RUNTIME_URL as hotline_svc"):
                await Runtime.start(replace(settings, database_url=url, database_runtime_url=wrong))
        finally:
            await conn.close()

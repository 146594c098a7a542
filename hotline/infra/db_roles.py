"""The database roles: an owner of the schema, and the runtime role the service connects as.

A superuser, or the owner of a table, can switch its triggers off (`SET session_replication_role = replica`,
`ALTER TABLE ... DISABLE TRIGGER`), so the append-only trigger on events holds only against a role that is
neither. With a superuser in HOTLINE_DATABASE_URL, `hotline migrate` makes two roles named after the database:

- `<db>_owner` (no login) owns the database and every table, sequence and function of the schema;
- `<db>_app` (login) owns nothing and may only read and write rows: SELECT, INSERT, UPDATE, DELETE, except on
  events (SELECT, INSERT) and escalation_steps (no DELETE). It cannot truncate, alter, drop, add triggers or
  rules, create anything in the schema, or set superuser-only parameters.

`hotline serve` and `hotline worker` then connect with the same URL as `<db>_app` (its password, if any, is not
known: with password authentication set HOTLINE_DATABASE_RUNTIME_URL, whose user and password migrate gives the
runtime role). Grants are taken again on every migrate, so a table a migration adds is covered, and a privilege
granted by hand is taken back.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import asyncpg
import structlog

from hotline.infra.db import Conn, database_name

# Tables whose rows stay as written (全程留痕): the runtime role may only add to them.
APPEND_ONLY = ("events", "export_audit", "admin_events")
# Rows that are never deleted (the record of a breach); they may still be updated (resolved_at).
NEVER_DELETED = ("escalation_steps",)
# Read by the service, written only by migrate.
READ_ONLY = ("schema_migrations",)
_NAME_BYTES = 63  # PostgreSQL cuts identifiers longer than this silently: two databases could share a role
_RELATION_KINDS = {
    "r": "TABLE",
    "p": "TABLE",
    "f": "FOREIGN TABLE",
    "v": "VIEW",
    "m": "MATERIALIZED VIEW",
    "S": "SEQUENCE",
}
log = structlog.get_logger(__name__)


class NotReady(RuntimeError):
    """The database is not ready for the service: missing, or migrated without its runtime role."""


class RoleError(RuntimeError):
    """The roles cannot be made safely (a runtime role that is a superuser)."""


def _role_name(database: str, suffix: str) -> str:
    name = f"{database}_{suffix}"
    if len(name.encode()) <= _NAME_BYTES:
        return name
    digest = hashlib.sha256(database.encode()).hexdigest()[:8]
    keep = database.encode()[: _NAME_BYTES - len(suffix) - len(digest) - 2].decode(errors="ignore")
    return f"{keep}_{digest}_{suffix}"


def owner_role(database: str) -> str:
    return _role_name(database, "owner")


def runtime_role(database: str) -> str:
    return _role_name(database, "app")


def user_of(url: str) -> tuple[str | None, str | None]:
    parts = urlsplit(url)
    return (
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password is not None else None,
    )


def as_role(url: str, role: str, password: str | None = None) -> str:
    """`url` with its user (and password) replaced: the same server, database and options."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    user = quote(role, safe="") + (":" + quote(password, safe="") if password else "")
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k not in ("user", "password")])
    return urlunsplit((parts.scheme, f"{user}@{host}", parts.path, query, parts.fragment))


async def _ddl(conn: Conn, template: str, *names: str) -> None:
    # Identifiers and literals cannot be parameters of a utility statement: format() quotes them server-side.
    placeholders = "".join(f", ${i}::text" for i in range(2, len(names) + 2))
    await conn.execute(await conn.fetchval(f"SELECT format($1{placeholders})", template, *names))


async def is_superuser(conn: Conn) -> bool:
    return bool(await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))


async def provide(conn: Conn, runtime_url: str | None = None) -> tuple[str, str]:
    """Make or repair the owner and runtime roles of the connected database, hand every object of its schema to the
    owner and grant the runtime role what it may do. Needs a superuser; idempotent. Returns (owner, runtime)."""
    database = await conn.fetchval("SELECT current_database()")
    named, password = user_of(runtime_url) if runtime_url else (None, None)
    owner, app = owner_role(database), named or runtime_role(database)
    if app == owner:
        raise RoleError(
            f"HOTLINE_DATABASE_RUNTIME_URL names {owner}, the owner of the schema: the service needs a role of its own"
        )
    async with conn.transaction():
        for role, login in ((owner, "NOLOGIN"), (app, "LOGIN")):
            if await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = $1", role):
                kind = "owner" if role == owner else "runtime"
                raise RoleError(
                    f"role {role} is a superuser: it cannot be the {kind} role (a superuser can switch "
                    "the events table's triggers off); name another role in HOTLINE_DATABASE_RUNTIME_URL, "
                    "or take SUPERUSER from it by hand"
                )
            if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
                await _ddl(conn, "CREATE ROLE %I", role)
            await _ddl(
                conn, f"ALTER ROLE %I {login} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS", role
            )
        if password:
            await _ddl(conn, "ALTER ROLE %I PASSWORD %L", app, password)
        # Membership would carry the owner's rights (or every table's, through pg_write_all_data) to the service.
        for granted in await conn.fetch(
            """SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                   JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = $1 AND g.rolname = any($2::text[])""",
            app,
            [owner, "pg_write_all_data", "pg_database_owner"],
        ):
            await _ddl(conn, "REVOKE %I FROM %I", granted["rolname"], app)
        await _hand_over(conn, database, owner)
        await _grant(conn, database, app)
    return owner, app


async def _hand_over(conn: Conn, database: str, owner: str) -> None:
    """Every object of the schema to the owner (migrations run as the superuser, and installs from before the roles
    have everything owned by it). Objects of extensions stay with the extension; a column's sequence follows its
    table."""
    await _ddl(conn, "ALTER DATABASE %I OWNER TO %I", database, owner)
    await _ddl(conn, "GRANT USAGE, CREATE ON SCHEMA public TO %I", owner)
    relations = await conn.fetch(
        """SELECT c.relkind::text AS relkind, format('%I.%I', n.nspname, c.relname) AS name
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind::text = any($1::text[]) AND pg_get_userbyid(c.relowner) <> $2
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                             AND (d.deptype = 'e' OR (c.relkind = 'S' AND d.deptype IN ('a', 'i'))))
           ORDER BY 2""",
        list(_RELATION_KINDS),
        owner,
    )
    for r in relations:
        await _ddl(conn, f"ALTER {_RELATION_KINDS[r['relkind']]} {r['name']} OWNER TO %I", owner)
    routines = await conn.fetch(
        """SELECT p.oid::regprocedure::text AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> $1
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                             AND d.deptype = 'e')
           ORDER BY 1""",
        owner,
    )
    for r in routines:
        await _ddl(conn, f"ALTER ROUTINE {r['name']} OWNER TO %I", owner)
    types = await conn.fetch(
        """SELECT format('%I.%I', n.nspname, t.typname) AS name
           FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'r', 'c') AND pg_get_userbyid(t.typowner) <> $1
             AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
                             AND d.deptype = 'e')
           ORDER BY 1""",
        owner,
    )
    for r in types:
        await _ddl(conn, f"ALTER TYPE {r['name']} OWNER TO %I", owner)


async def _tree(conn: Conn, table: str) -> list[str]:
    """The table and its partitions (each partition is a table of its own for privileges)."""
    # pg_partition_tree lists nothing for a table that is not partitioned: the table itself is added.
    return [
        r["name"]
        for r in await conn.fetch(
            """SELECT format('%I.%I', n.nspname, c.relname) AS name
           FROM (SELECT to_regclass($1) AS relid UNION SELECT relid FROM pg_partition_tree(to_regclass($1))) t
           JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace""",
            f"public.{table}",
        )
    ]


async def _grant(conn: Conn, database: str, app: str) -> None:
    # From nothing each time: what the rules below leave out is taken back, whoever granted it.
    await _ddl(conn, "REVOKE CREATE ON SCHEMA public FROM PUBLIC")  # PostgreSQL before 15 grants it to everyone
    await _ddl(conn, "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, %I", app)
    await _ddl(conn, "REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC, %I", app)
    await _ddl(conn, "GRANT CONNECT ON DATABASE %I TO %I", database, app)
    await _ddl(conn, "GRANT USAGE ON SCHEMA public TO %I", app)
    await _ddl(conn, "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I", app)
    await _ddl(conn, "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I", app)
    for table in APPEND_ONLY:
        for name in await _tree(conn, table):
            await _ddl(conn, f"REVOKE UPDATE, DELETE ON {name} FROM %I", app)
    for table in NEVER_DELETED:
        for name in await _tree(conn, table):
            await _ddl(conn, f"REVOKE DELETE ON {name} FROM %I", app)
    for table in READ_ONLY:
        for name in await _tree(conn, table):
            await _ddl(conn, f"REVOKE INSERT, UPDATE, DELETE ON {name} FROM %I", app)


async def service_url(url: str, runtime_url: str | None = None) -> str:
    """The URL the service connects with: `runtime_url` when given; else `url`, as its database's runtime role when
    `url` names a superuser. Never creates anything: a missing database or role is a NotReady saying what to run."""
    if runtime_url:
        return runtime_url
    name = database_name(url)
    try:
        conn = await asyncpg.connect(url)
    except asyncpg.InvalidCatalogNameError as exc:
        raise NotReady(
            f"database {name} does not exist: `hotline migrate` creates it (the service never does)"
        ) from exc
    try:
        role = runtime_role(name)
        row = await conn.fetchrow(
            """SELECT rolsuper, EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1 AND rolcanlogin) AS has_role,
                      coalesce((SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class
                                WHERE oid = to_regclass('public.events')), false) AS owns_events
               FROM pg_roles WHERE rolname = current_user""",
            role,
        )
    finally:
        await conn.close()
    assert row is not None  # a query of pg_roles joined to the current role: always a row
    if not row["rolsuper"]:
        if row["owns_events"]:  # served as asked, but the operator should know the trigger is not a wall for it
            log.warning(
                "service_owns_events",
                database=name,
                detail="the service's role owns the events table and could switch its triggers off",
            )
        return url  # a role the operator made for the service: used as it is
    if not row["has_role"]:
        raise NotReady(
            f"the runtime role {role} does not exist: run `hotline migrate` (it makes the roles the "
            "service connects as instead of the superuser in HOTLINE_DATABASE_URL)"
        )
    return as_role(url, role)


LOGIN_ERRORS = (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)


def login_refused(url: str, runtime_url: str | None, exc: Exception) -> NotReady:
    role, _ = user_of(url)
    if url == runtime_url:
        return NotReady(f"cannot connect with HOTLINE_DATABASE_RUNTIME_URL as {role}: {exc}")
    return NotReady(
        f"cannot connect as the runtime role {role} ({exc}): with password authentication set "
        "HOTLINE_DATABASE_RUNTIME_URL (its user and password) for `hotline migrate` and the service"
    )


async def check_service_login(url: str, runtime_url: str | None = None) -> None:
    """What a service start will do, once, so `hotline serve` / `hotline worker` can say what is missing before
    any process starts."""
    target = await service_url(url, runtime_url)
    try:
        conn = await asyncpg.connect(target)
    except LOGIN_ERRORS as exc:
        raise login_refused(target, runtime_url, exc) from exc
    await conn.close()

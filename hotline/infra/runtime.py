"""The process-wide resources one API process or worker holds: settings, pools, reference data, calendar, policies.

Nothing here is state that must survive a process: everything is rebuilt from PostgreSQL on start.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg
from arq.connections import ArqRedis, RedisSettings

import sla
from config.reference import load_calendar_config, load_toml
from config.settings import Settings
from hotline.infra import db, reference_follower
from hotline.infra import db_roles as roles
from hotline.infra.redis_client import create_pool as create_arq_pool  # bounded: a burst waits, opens nothing


@dataclass
class Names:
    """Display names of reference codes (for the console and the citizen page)."""

    channels: dict[str, str] = field(default_factory=dict)
    channel_kinds: dict[str, str] = field(default_factory=dict)
    territories: dict[str, str] = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    # Every unit's name, active or not: a ticket still held by a deactivated unit shows who holds it.
    units: dict[str, str] = field(default_factory=dict)
    # The units that may be routed, dispatched to or given accounts (the router's, dispatch's and the forms' list).
    active_units: frozenset[str] = frozenset()


T = TypeVar("T")
VERSIONS_SQL = """SELECT (SELECT max(version) FROM sla_policy_versions) AS policies,
                         (SELECT count(*) + count(withdrawn_at) FROM calendar_exceptions) AS calendar"""


@dataclass
class Runtime:
    settings: Settings
    pool: asyncpg.Pool
    redis: ArqRedis
    names: Names
    calendar: sla.WorkCalendar
    policies: sla.PolicySet
    _policy_checked: float = 0.0
    # The routing rules as loaded (id, category, territory, unit, active), and how many times the reference data was
    # loaded: hotline.tickets.routing.router() builds its table from both.
    routing_rules: list[Any] = field(default_factory=list)
    reference_revision: int = 0
    # What the calendar was built from: calendar.toml's overrides with the administrators' saved exceptions
    # (table calendar_exceptions) on top, and which state of that table (a count that only grows) it reflects.
    calendar_overrides: dict[str, Any] = field(default_factory=dict)
    _calendar_revision: int = -1
    # The calendar per territory: `calendar` (the city's) with each territory's own saved exceptions on top.
    calendars: sla.TerritoryCalendars | None = None
    # Reports read here: a streaming replica when HOTLINE_DATABASE_REPLICA_URL is set, else the primary's pool.
    report_pool: asyncpg.Pool | None = None
    # The process's own parts a feature makes on first use (the ticket writer, the announcer, the revocation
    # follower, the sign-in throttle, the API rate limiter): one per runtime, made by part() and closed with it, in
    # reverse order, when the app's lifespan (or a worker) closes the runtime.
    _parts: dict[Callable[[Runtime], Any], Any] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    async def start(cls, settings: Settings) -> Runtime:
        # Never creates the database: that needs CREATEDB, which only `hotline migrate` uses. Connects as the runtime
        # role when the configured URL names a superuser (one that could switch the events table's triggers off).
        url = await roles.service_url(settings.database_url, settings.database_runtime_url)
        pool = await _pool(url, settings, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
        redis = await create_arq_pool(RedisSettings.from_dsn(settings.redis_url))
        overrides, office_hours = load_calendar_config()
        calendar = sla.build_calendar(overrides, tz=settings.timezone, office_hours=office_hours)
        rt = cls(
            settings,
            pool,
            redis,
            Names(),
            calendar,
            sla.PolicySet.from_config(load_toml("sla_policies.toml"), version=0),
            calendar_overrides=overrides,
        )
        if settings.database_replica_url:
            rt.report_pool = await _pool(
                await roles.service_url(settings.database_replica_url),
                settings,
                min_size=1,
                max_size=max(2, settings.db_pool_max // 2),
            )
        await rt.reload_reference()
        await rt.reload_policies()
        reference_follower.of(rt).start()  # an administrator's change of units or rules, made in any process
        return rt

    def part(self, make: Callable[[Runtime], T]) -> T:
        """This runtime's one instance of what `make` builds (a module-level function, the key). A part with an
        async `close()` is closed, before the pools, when the runtime is."""
        found = self._parts.get(make)
        if found is None:
            found = self._parts[make] = make(self)
        return found

    @property
    def reports_pool(self) -> asyncpg.Pool:
        return self.report_pool or self.pool

    async def close(self) -> None:
        for part in reversed(list(self._parts.values())):
            close = getattr(part, "close", None)
            if close is not None:
                await close()
        self._parts.clear()
        if self.report_pool is not None:
            await self.report_pool.close()
        await self.pool.close()
        await self.redis.aclose()

    async def reload_reference(self) -> None:
        async with self.pool.acquire() as conn:
            units = await conn.fetch("SELECT code, name, active FROM units")
            names = Names(
                channels={r["code"]: r["name"] for r in await conn.fetch("SELECT code, name FROM channels")},
                channel_kinds={r["code"]: r["kind"] for r in await conn.fetch("SELECT code, kind FROM channels")},
                territories={r["code"]: r["name"] for r in await conn.fetch("SELECT code, name FROM territories")},
                categories={r["code"]: r["name"] for r in await conn.fetch("SELECT code, name FROM categories")},
                kinds={r["code"]: r["name"] for r in await conn.fetch("SELECT code, name FROM kinds")},
                units={r["code"]: r["name"] for r in units},
                active_units=frozenset(r["code"] for r in units if r["active"]),
            )
            rules = await conn.fetch("SELECT id, category, territory, unit, active FROM routing_rules")
        self.names = names
        self.routing_rules = rules
        self.reference_revision += 1  # what is built from the reference data (the routing table) is built again

    async def reload_policies(self) -> None:
        """The policies and the calendar in force (both move deadlines): the versions first, the rows (a JSON
        document, the saved calendar exceptions) are read only when they changed."""
        versions = await self.pool.fetchrow(VERSIONS_SQL)
        assert versions is not None  # one row, always
        if versions["calendar"] != self._calendar_revision:
            await self.reload_calendar()
        latest = versions["policies"]
        row = None
        if latest is not None and latest != self.policies.version:
            row = await self.pool.fetchrow("SELECT version, rows FROM sla_policy_versions WHERE version = $1", latest)
        if row is not None:
            self.policies = sla.PolicySet.from_config(
                row["rows"], version=row["version"], channels=self.names.channels, kinds=self.names.kinds
            )
        self._policy_checked = time.monotonic()

    async def reload_calendar(self) -> None:
        """calendar.toml with the saved city-wide exceptions in force on top (a saved one replaces the file's for its
        day), and the saved exceptions of named territories on top of that, per territory."""
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            revision = await conn.fetchval("SELECT count(*) + count(withdrawn_at) FROM calendar_exceptions")
            rows = await conn.fetch(
                "SELECT day, working, reason, territories FROM calendar_exceptions WHERE withdrawn_at IS NULL "
                "ORDER BY day"
            )
        overrides, office_hours = load_calendar_config()
        saved = {
            r["day"].isoformat(): {"date": r["day"], "working": r["working"], "reason": r["reason"]}
            for r in rows
            if not r["territories"]
        }
        local: dict[str, list[tuple[Any, bool, str]]] = {}
        for r in rows:
            for territory in r["territories"]:
                local.setdefault(territory, []).append((r["day"], r["working"], r["reason"]))
        from_file = [e for e in overrides.get("exceptions") or [] if str(e.get("date")) not in saved]
        overrides = {**overrides, "exceptions": [*from_file, *saved.values()]}
        self.calendar = sla.build_calendar(overrides, tz=self.settings.timezone, office_hours=office_hours)
        self.calendars = sla.TerritoryCalendars(self.calendar, local)
        self.calendar_overrides = overrides
        self._calendar_revision = revision

    def calendar_for(self, territory: str | None) -> sla.WorkCalendar:
        """The calendar a ticket's deadlines in `territory` are computed on (属地): the city's, with the territory's
        own local exceptions on top."""
        calendars = self.calendars
        return self.calendar if calendars is None else calendars.for_territory(territory)

    async def current_policies(self) -> sla.PolicySet:
        """Policies and calendar in force; another process's change is picked up within a second."""
        if time.monotonic() - self._policy_checked > 1.0:
            await self.reload_policies()
        return self.policies


async def _pool(url: str, settings: Settings, *, min_size: int, max_size: int) -> asyncpg.Pool:
    try:
        return await db.create_pool(url, min_size=min_size, max_size=max_size)
    except roles.LOGIN_ERRORS as exc:
        raise roles.login_refused(url, settings.database_runtime_url, exc) from exc


def runtime_of(app_state: Any) -> Runtime:
    return app_state.runtime

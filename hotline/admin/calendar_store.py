"""Saving and withdrawing local calendar exceptions (a typhoon day off, a declared make-up working day), for the
whole city or for the territories they name.

An exception is a row of calendar_exceptions, on top of config/data/calendar.toml; every process builds its calendar
from both (Runtime.reload_calendar) and notices a change with the policy version check it already makes
(Runtime.current_policies). A change also stores the next SLA policy version, with the same rows and source
`calendar`, that asks for the recomputation of running clocks: the recomputation of hotline.policies.recompute then
moves their deadlines under the new calendar, exactly as after a policy edit (the first batches here, in the request;
the rest, if any, by the worker's job, which the stalled-recomputation sweep resumes if it is lost).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
import structlog

from config.reference import load_toml
from hotline.admin.calendar_exceptions import ExceptionPreview, territories_of, with_exception
from hotline.auth import audit as admin_events
from hotline.auth.tokens import Principal
from hotline.errors import InvalidInput, NotFound
from hotline.infra import queue as jobs
from hotline.infra.db import Conn
from hotline.infra.runtime import Runtime
from hotline.infra.sql import load
from hotline.policies import recompute
from hotline.vocab import ADMIN

log = structlog.get_logger(__name__)
SAVED_SQL = load(__file__, "saved_exceptions")
ONE_SQL = load(__file__, "saved_exception")
POLICY_VERSION_SQL = load(__file__, "calendar_policy_version")
WITHDRAW_SQL = load(__file__, "withdraw_exception")
INLINE_BUDGET_SECONDS = 5.0  # the request recomputes this long; a larger backlog is left to the worker


class SavedCalendarException(msgspec.Struct):
    """A local exception an administrator saved: in force until withdrawn (`withdrawn_at` null), for the territories
    named (GB/T 2260 codes; none: the whole city)."""

    id: int
    date: str
    working: bool
    reason: str
    created_at: str
    created_by: str
    withdrawn_at: str | None
    withdrawn_by: str | None
    territories: list[str] = msgspec.field(default_factory=list)


class SavedCalendarExceptionList(msgspec.Struct):
    items: list[SavedCalendarException]


class CalendarChange(msgspec.Struct):
    """A saved or withdrawn exception and what it did: the calendar version now in force, the SLA policy version
    whose recomputation moves the running clocks, how many it examined and moved so far, and whether the worker
    carries on (`recompute_more`)."""

    exception: SavedCalendarException
    calendar_version: str
    policy_version: int
    examined: int
    moved: int
    recompute_more: bool


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


async def listing(rt: Runtime, principal: Principal) -> SavedCalendarExceptionList:
    principal.require(ADMIN)
    return SavedCalendarExceptionList(items=[_view(r) for r in await rt.pool.fetch(SAVED_SQL)])


def _view(r: Any) -> SavedCalendarException:
    return SavedCalendarException(
        id=r["id"],
        date=r["day"].isoformat(),
        working=r["working"],
        reason=r["reason"],
        created_at=r["created_at"].isoformat(),
        created_by=r["created_by"],
        withdrawn_at=_iso(r["withdrawn_at"]),
        withdrawn_by=r["withdrawn_by"],
        territories=list(r["territories"]),
    )


async def _next_policy_version(conn: Conn, principal: Principal, reason: str) -> int:
    # Versions are numbered in order: one writer at a time (as hotline.policies.store.replace takes it).
    await conn.execute("LOCK TABLE sla_policy_versions IN SHARE ROW EXCLUSIVE MODE")
    version: int = await conn.fetchval("SELECT coalesce(max(version), 0) + 1 FROM sla_policy_versions")
    if version == 1:  # nothing stored yet: the set in force is the file's
        await conn.execute(
            "INSERT INTO sla_policy_versions (version, rows, source, created_by, recompute_requested, "
            "recompute_progress_at, reason) VALUES (1, $1, 'calendar', $2, true, now(), $3)",
            {"version": 1, **load_toml("sla_policies.toml")},
            principal.user_id,
            reason,
        )
    else:
        await conn.execute(POLICY_VERSION_SQL, version, principal.user_id, reason)
    return version


async def _put_in_force(rt: Runtime, exception: SavedCalendarException, version: int) -> CalendarChange:
    """Reload the calendar and policies, then recompute running clocks under them for a while."""
    await rt.reload_policies()
    progress = await recompute.recompute_open(
        rt, version=version, after_id=0, now_fn=lambda: datetime.now(UTC), budget_seconds=INLINE_BUDGET_SECONDS
    )
    if progress.more:
        last = progress.last_id
        await jobs.enqueue(rt.redis, jobs.RECOMPUTE_JOB, version, last, job_id=f"recompute:{version}:{last}")
    return CalendarChange(
        exception=exception,
        calendar_version=rt.calendar.version,
        policy_version=version,
        examined=progress.examined,
        moved=progress.moved,
        recompute_more=progress.more,
    )


def _what(working: bool) -> str:
    return "补班（工作日）" if working else "休息日"


def _where(rt: Runtime, territories: list[str]) -> str:
    return "、".join(rt.names.territories.get(t, t) for t in territories) if territories else "全市"


def _record(saved: SavedCalendarException) -> dict[str, Any]:
    """What the admin events keep of an exception."""
    return {"date": saved.date, "working": saved.working, "reason": saved.reason, "territories": saved.territories}


async def save(rt: Runtime, principal: Principal, data: ExceptionPreview) -> CalendarChange:
    """Save the exception (validated as the preview validates it), record the admin event, put it in force."""
    principal.require(ADMIN)
    await rt.reload_policies()
    with_exception(rt, data)
    territories = territories_of(rt, data)
    reason = f"日历例外 {data.date.isoformat()} {_where(rt, territories)} {_what(data.working)}：{data.reason}"
    async with rt.pool.acquire() as conn, conn.transaction():
        version = await _next_policy_version(conn, principal, reason)
        try:
            row = await conn.fetchrow(
                "INSERT INTO calendar_exceptions (day, working, reason, created_by, territories) "
                "VALUES ($1, $2, $3, $4, $5) RETURNING id",
                data.date,
                data.working,
                data.reason,
                principal.user_id,
                territories,
            )
        except asyncpg.UniqueViolationError as exc:  # saved meanwhile by another administrator
            raise InvalidInput(
                f"date: {data.date} already has a local exception",
                fields={"date": "already has a local exception: withdraw it first"},
            ) from exc
        assert row is not None  # INSERT ... RETURNING
        saved = _view(await conn.fetchrow(ONE_SQL, row["id"]))
        after = {**_record(saved), "policy_version": version}
        await admin_events.record(conn, principal, "calendar.exception", str(saved.id), None, after)
    log.info(
        "calendar_exception_saved",
        id=saved.id,
        date=saved.date,
        working=saved.working,
        territories=saved.territories,
        policy_version=version,
    )
    return await _put_in_force(rt, saved, version)


async def withdraw(rt: Runtime, principal: Principal, exception_id: int) -> CalendarChange:
    """Withdraw a saved exception in force: the day is as calendar.toml says again, and clocks move back."""
    principal.require(ADMIN)
    if not 0 < exception_id < 2**63:
        raise NotFound(f"no calendar exception {exception_id} in force")
    async with rt.pool.acquire() as conn, conn.transaction():
        version = await _next_policy_version(conn, principal, f"撤销日历例外 #{exception_id}")
        row = await conn.fetchrow(WITHDRAW_SQL, exception_id, principal.user_id)
        if row is None:
            raise NotFound(f"no calendar exception {exception_id} in force")
        saved = _view(await conn.fetchrow(ONE_SQL, exception_id))
        before = {**_record(saved), "withdrawn": False}
        after = {**before, "withdrawn": True, "policy_version": version}
        await admin_events.record(conn, principal, "calendar.exception", str(exception_id), before, after)
    log.info("calendar_exception_withdrawn", id=exception_id, policy_version=version)
    return await _put_in_force(rt, saved, version)

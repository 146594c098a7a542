"""SLA policies at runtime: the set in force, its stored versions, and saving a new one.

A new set is validated exactly as config/data/sla_policies.toml is (sla.PolicySet.from_config against the known
channels and kinds) and stored as the next row of sla_policy_versions; new assignments use it at once. Running
clocks keep the deadline they were given unless the change asks for recomputation, which a worker job does
(hotline.policies.recompute); `preview` counts what it would move without saving anything.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
import structlog

import sla
from hotline.auth import audit as admin_events
from hotline.auth.tokens import Principal
from hotline.errors import InvalidInput, NotFound, StaleVersion
from hotline.infra import queue as jobs
from hotline.infra.runtime import Runtime
from hotline.infra.sql import load
from hotline.policies.documents import (
    SavedSlaPolicySet,
    SlaPolicyChange,
    SlaPolicyDefaults,
    SlaPolicyDefaultsChange,
    SlaPolicyDiffEntry,
    SlaPolicyDocument,
    SlaPolicyPreview,
    SlaPolicyRow,
    SlaPolicySet,
    SlaPolicyVersion,
    SlaPolicyVersionList,
)
from hotline.policies.recompute import moves, recomputed, running_clocks
from hotline.vocab import ADMIN

log = structlog.get_logger(__name__)
READ_ONLY_KEYS = ("version", "source", "created_at", "created_by", "reason")  # shown by GET, ignored by PUT

VERSION_SQL = load(__file__, "version")
VERSIONS_SQL = load(__file__, "versions")
INSERT_VERSION_SQL = load(__file__, "insert_version")


def _set(doc: dict[str, Any]) -> tuple[SlaPolicyDefaults | None, list[SlaPolicyRow]]:
    defaults = doc.get("defaults", {})
    return (
        None if defaults is None else msgspec.convert(defaults, SlaPolicyDefaults),
        msgspec.convert(doc.get("policy", []), list[SlaPolicyRow]),
    )


def _stored(row: asyncpg.Record) -> SlaPolicySet:
    """A stored version as GET shows it."""
    defaults, policy = _set(row["rows"])
    return SlaPolicySet(
        version=row["version"],
        defaults=defaults,
        policy=policy,
        source=row["source"],
        created_at=row["created_at"].isoformat(),
        created_by=row["created_by"],
        reason=row["reason"],
    )


async def current(rt: Runtime) -> SlaPolicySet:
    """The set in force: the latest stored version, or the one loaded from config/data/sla_policies.toml."""
    row = await rt.pool.fetchrow(VERSION_SQL, None)
    if row is None:
        return SlaPolicySet(
            version=rt.policies.version,
            defaults=SlaPolicyDefaults(),
            policy=msgspec.convert(rt.policies.to_rows(), list[SlaPolicyRow]),
            source="config",
            created_at=None,
            created_by=None,
        )
    return _stored(row)


def document(data: SlaPolicyDocument) -> dict[str, Any]:
    """A decoded document as sla.PolicySet.from_config reads it (absent keys stay absent)."""
    doc: dict[str, Any] = msgspec.to_builtins(data)
    return doc


def as_document(policy_set: SlaPolicySet) -> dict[str, Any]:
    """The set (defaults and rows) as plain data, to compare and to record."""
    doc: dict[str, Any] = msgspec.to_builtins(policy_set)
    return doc


def _fields(exc: sla.PolicyError) -> dict[str, str]:
    """Name the offending rows as fields, policy[0] for the first, from the rows sla says each problem is about;
    set-wide problems (a gap) under `policy`."""
    fields: dict[str, str] = {}
    for problem, rows in zip(exc.problems, exc.rows, strict=True):
        for key in [f"policy[{p - 1}]" for p in sorted(set(rows))] or ["policy"]:
            fields[key] = f"{fields[key]}; {problem}" if key in fields else problem
    return fields


def validate(rt: Runtime, data: SlaPolicyDocument) -> dict[str, Any]:
    """The set as it will be stored (without what GET shows beside it), judged by sla.PolicySet as a whole."""
    doc = document(data)
    clean = {k: v for k, v in doc.items() if k not in READ_ONLY_KEYS}
    try:
        sla.PolicySet.from_config(clean, version=1, channels=rt.names.channels, kinds=rt.names.kinds)
    except sla.PolicyError as exc:
        raise InvalidInput(
            "the policy set was refused: " + "; ".join(exc.problems),
            fields=_fields(exc),
            problems=list(exc.problems),
        ) from exc
    return clean


async def replace(
    rt: Runtime,
    principal: Principal,
    doc: SlaPolicyDocument,
    *,
    expected_version: int | None = None,
    recompute_open: bool = False,
    reason: str | None = None,
) -> SavedSlaPolicySet:
    """Store a validated set as the next version and put it in force; optionally queue the recomputation. The
    change is an admin event (the rows added, removed and changed, the reason)."""
    principal.require(ADMIN)
    if reason is not None and len(reason) > 500:
        raise InvalidInput("reason: at most 500 characters", fields={"reason": "at most 500 characters"})
    clean = validate(rt, doc)
    before = await current(rt)
    changes = diff(as_document(before), clean)
    async with rt.pool.acquire() as conn:
        async with conn.transaction():
            # Versions are numbered in order: one writer at a time, readers are not blocked.
            await conn.execute("LOCK TABLE sla_policy_versions IN SHARE ROW EXCLUSIVE MODE")
            latest = await conn.fetchval("SELECT coalesce(max(version), 0) FROM sla_policy_versions")
            if expected_version is not None and expected_version != latest:
                raise StaleVersion(
                    f"the policies changed (version {latest}, you sent {expected_version}); reload them", version=latest
                )
            version = latest + 1
            await conn.execute(
                INSERT_VERSION_SQL,
                version,
                {"version": version, **clean},
                principal.user_id,
                recompute_open,
                reason or None,
            )
            await admin_events.record(
                conn,
                principal,
                "sla_policy.version",
                str(version),
                {"version": before.version},
                {
                    "version": version,
                    "reason": reason or None,
                    "recompute_open": recompute_open,
                    "diff": msgspec.to_builtins(changes),
                },
            )
    await rt.reload_policies()
    queued = False
    if recompute_open:
        queued = await jobs.enqueue(rt.redis, jobs.RECOMPUTE_JOB, version, 0, job_id=f"recompute:{version}:0")
    log.info("sla_policies_replaced", version=version, rows=len(clean["policy"]), recompute_open=recompute_open)
    now = await current(rt)
    return SavedSlaPolicySet(
        version=now.version,
        defaults=now.defaults,
        policy=now.policy,
        source=now.source,
        created_at=now.created_at,
        created_by=now.created_by,
        reason=now.reason if isinstance(now.reason, str) else None,
        recompute_open=recompute_open,
        recompute_queued=queued,
    )


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[SlaPolicyDiffEntry]:
    """Rows added, removed and changed between two policy sets, by row id (and the defaults as one entry). Both
    sets are validated documents (rows as SlaPolicyRow's builtins), so each row converts back as it was."""
    old = {r.get("id"): r for r in before.get("policy", []) if isinstance(r, dict)}
    new = {r.get("id"): r for r in after.get("policy", []) if isinstance(r, dict)}
    out: list[SlaPolicyDiffEntry] = []
    if (before.get("defaults") or {}) != (after.get("defaults") or {}):
        out.append(
            SlaPolicyDefaultsChange(
                "defaults",
                "changed",
                msgspec.convert(before.get("defaults") or {}, SlaPolicyDefaults),
                msgspec.convert(after.get("defaults") or {}, SlaPolicyDefaults),
            )
        )
    row = lambda r: msgspec.convert(r, SlaPolicyRow)  # noqa: E731
    for rid in [*old, *(k for k in new if k not in old)]:
        if rid not in new:
            out.append(SlaPolicyChange(rid, "removed", row(old[rid]), None))
        elif rid not in old:
            out.append(SlaPolicyChange(rid, "added", None, row(new[rid])))
        elif old[rid] != new[rid]:
            out.append(SlaPolicyChange(rid, "changed", row(old[rid]), row(new[rid])))
    return out


async def versions(rt: Runtime, principal: Principal) -> SlaPolicyVersionList:
    principal.require(ADMIN)
    rows = await rt.pool.fetch(VERSIONS_SQL)
    return SlaPolicyVersionList(
        items=[
            SlaPolicyVersion(
                version=r["version"],
                source=r["source"],
                created_at=r["created_at"].isoformat(),
                created_by=r["created_by"],
                reason=r["reason"],
                rows=r["rows"],
                recompute_requested=r["recompute_requested"],
                recompute_done_at=r["recompute_done_at"].isoformat() if r["recompute_done_at"] else None,
            )
            for r in rows
        ]
    )


async def version(rt: Runtime, principal: Principal, number: int) -> SlaPolicySet:
    principal.require(ADMIN)
    if not 0 < number < 2**31:  # versions are int4: a number past that names no version (and would not bind)
        raise NotFound(f"no SLA policy version {number}")
    row = await rt.pool.fetchrow(VERSION_SQL, number)
    if row is None:
        raise NotFound(f"no SLA policy version {number}")
    return _stored(row)


async def preview(rt: Runtime, principal: Principal, doc: SlaPolicyDocument) -> SlaPolicyPreview:
    """What saving `doc` would do, without saving it: the diff against the set in force, and how many running
    clocks a recomputation would move (and how many it would leave, being paused)."""
    principal.require(ADMIN)
    clean = validate(rt, doc)
    policies = sla.PolicySet.from_config(
        clean, version=rt.policies.version + 1, channels=rt.names.channels, kinds=rt.names.kinds
    )
    examined = moved = skipped = 0
    async for row in running_clocks(rt):
        examined += 1
        old = sla.Deadline.from_dict(row["deadline"])
        try:
            calendar = rt.calendar_for(row["territory"])
            new = recomputed(old, policies, calendar, channel=row["channel"], kind=row["kind"], urgent=row["urgent"])
        except sla.SlaError:
            new = None
        if new is None:
            skipped += 1
        elif moves(old, new):
            moved += 1
    return SlaPolicyPreview(
        diff=diff(as_document(await current(rt)), clean),
        open_clocks=examined,
        would_move=moved,
        would_skip=skipped,
    )

"""The worker's jobs: each a few lines that call a hotline service with `now` and turn its answer into arq terms.

Every job may run more than once (a retry, a SIGTERM mid-job, two workers): the services make that harmless.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
from arq import Retry

from hotline.escalation import catch_up, exact_time
from hotline.infra import queue as jobs
from hotline.infra import webhooks
from hotline.infra.runtime import Runtime
from hotline.policies import recompute
from hotline.upstream import delivery as upstream

UTC = UTC
# Failures worth another try: the database restarting, a deadlock or lock timeout, a dropped connection.
TRANSIENT = (
    asyncpg.PostgresConnectionError,
    asyncpg.DeadlockDetectedError,
    asyncpg.LockNotAvailableError,
    asyncpg.SerializationError,
    asyncpg.TooManyConnectionsError,
    asyncpg.CannotConnectNowError,
    ConnectionError,
    OSError,
    TimeoutError,
)


def _now() -> datetime:
    return datetime.now(UTC)


def _rt(ctx: dict[str, Any]) -> Runtime:
    return ctx["rt"]


def _retry_later(ctx: dict[str, Any]) -> Retry:
    return Retry(defer=min(2 ** ctx.get("job_try", 1), 60))


async def escalate_clock(ctx: dict[str, Any], clock_id: int, version: int, step: str) -> str:
    """Exact-time escalation: record the clock's due steps if its deadline is still `version`."""
    try:
        result = await exact_time.escalate_clock(_rt(ctx), clock_id, version, step, now=_now())
    except TRANSIENT as exc:
        raise _retry_later(ctx) from exc
    if result.wait_seconds > 0:  # fired before its instant (clocks disagree): come back at it
        raise Retry(defer=result.wait_seconds + 0.05)
    return result.summary()


async def sweep(ctx: dict[str, Any]) -> str:
    """Catch-up sweep (cron): every step due and not recorded, every step recorded and not told; then arm the steps
    falling due before the next tick, in case Redis lost their jobs. Not retried: the next tick is the retry."""
    rt = _rt(ctx)
    now = _now()
    result = await catch_up.sweep(rt, now=now)
    rearmed = await catch_up.rearm_upcoming(rt, now=now)
    return (
        f"recorded={result.recorded} clocks={result.clocks} lag={result.lag_seconds:.1f}s "
        f"untold_told={result.untold_told} rearmed={rearmed}"
    )


async def deliver_webhooks(ctx: dict[str, Any]) -> str:
    """Post due webhook deliveries; schedule a run for the earliest retry. The cron run is the safety net."""
    rt = _rt(ctx)
    delivered = claimed = 0
    while True:
        run = await webhooks.deliver_due(rt, now=_now())
        delivered, claimed = delivered + run.delivered, claimed + run.claimed
        if run.next_attempt_at is not None:
            await jobs.enqueue(
                rt.redis,
                jobs.WEBHOOK_JOB,
                job_id=f"webhooks:{int(run.next_attempt_at.timestamp())}",
                at=run.next_attempt_at,
            )
        if run.claimed == 0:
            break
    return f"claimed={claimed} delivered={delivered}"


async def deliver_upstream(ctx: dict[str, Any], outbox_id: int) -> str:
    """外网反馈: post the due feedback events of this outbox row's ticket, in order. Retries are scheduled by the
    delivery itself (jobs at each backoff instant); the sweep below is the safety net."""
    run = await upstream.deliver_for_row(_rt(ctx), outbox_id)
    return f"claimed={run.claimed} delivered={run.delivered} retrying={run.retrying} dead={run.dead}"


async def sweep_upstream(ctx: dict[str, Any]) -> str:
    """Cron: every due feedback event of every ticket, whatever job was lost (Redis flushed, a worker killed)."""
    run = await upstream.deliver_due(_rt(ctx))
    return f"claimed={run.claimed} delivered={run.delivered} retrying={run.retrying} dead={run.dead}"


async def recompute_open_clocks(ctx: dict[str, Any], version: int, after_id: int = 0) -> str:
    """A policy change with recompute_open: throttled batches for a minute, then a continuation job."""
    rt = _rt(ctx)
    progress = await recompute.recompute_open(rt, version=version, after_id=after_id, now_fn=_now)
    if progress.more:
        await jobs.enqueue(
            rt.redis, jobs.RECOMPUTE_JOB, version, progress.last_id, job_id=f"recompute:{version}:{progress.last_id}"
        )
    return (
        f"version={version} examined={progress.examined} moved={progress.moved} skipped={progress.skipped} "
        f"more={progress.more} superseded={progress.superseded}"
    )


async def resume_recomputation(ctx: dict[str, Any]) -> str:
    """Cron: a requested recomputation whose jobs were lost (Redis flushed, a worker gone) goes on from PostgreSQL's
    record of how far it got. The job id carries that point, so every worker's tick enqueues it once."""
    rt = _rt(ctx)
    stalled = await recompute.stalled_recomputation(rt, now=_now())
    if stalled is None:
        return "none stalled"
    version, last_id = stalled
    queued = await jobs.enqueue(
        rt.redis, jobs.RECOMPUTE_JOB, version, last_id, job_id=f"recompute:{version}:{last_id}:resumed"
    )
    return f"version={version} resumed_after={last_id} queued={queued}"

"""Delivering the feedback outbox to the upstream platforms: at least once, in order per ticket, with exponential
backoff and jitter up to the channel's `max_attempts`, then a dead letter an operator re-drives.

After an action commits, the engine enqueues one job per outbox row (`enqueue()`); the job delivers its ticket's due
events in sequence. The cron sweep (`deliver_due()` over every ticket) finds what a lost job missed (Redis flushed,
a worker killed). Claims carry a lease, so two workers never post one event at once; a worker that dies after the
receiver's 2xx but before its own commit posts again after the lease, with the same `event_id`, which is what the
receiver deduplicates by. Posting goes through `hotline.infra.webhooks.post`, the service's one way out over HTTP.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog

from config.upstream import Upstream
from hotline.infra import queue as jobs
from hotline.infra.runtime import Runtime
from hotline.infra.sql import load
from hotline.infra.webhooks import post
from hotline.upstream.outbox import config_of

log = structlog.get_logger(__name__)
CLAIM_SQL = load(__file__, "claim")
RECORD_SQL = load(__file__, "record")
REDRIVE_SQL = load(__file__, "redrive")
BATCH = 200
MAX_ROUNDS = 50  # claims per run: a ticket's events follow one another, one round each


class _Client:
    """The process's one HTTP client for the upstream platforms (keep-alive, and one TLS set-up rather than one per
    job: making a client costs tens of milliseconds); closed with the runtime."""

    def __init__(self, rt: Runtime) -> None:
        timeout = max((u.timeout_seconds for u in config_of(rt).channels.values()), default=10.0)
        self.http = httpx.AsyncClient(timeout=timeout)

    async def close(self) -> None:
        await self.http.aclose()


@dataclass(frozen=True, slots=True)
class Run:
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0


def backoff(up: Upstream, attempts: int, rand: Callable[[], float] = random.random) -> timedelta:
    """base × 2^(attempts-1), capped; then "equal jitter": half of it fixed, half random, so receivers coming back
    are not hit by every waiting delivery in the same second."""
    delay = min(up.backoff_base_seconds * 2 ** max(0, attempts - 1), up.backoff_cap_seconds)
    return timedelta(seconds=delay / 2 + rand() * delay / 2)


def job_id(outbox_id: int, attempts: int, at: datetime | None = None) -> str:
    return f"upstream:{outbox_id}:{attempts}" + (f":{int(at.timestamp() * 1000)}" if at else "")


async def enqueue(rt: Runtime, outbox_ids: list[int]) -> None:
    """After the action's commit: a job per new row. Losing them is safe: the sweep finds the rows in PostgreSQL."""
    for outbox_id in outbox_ids:
        await jobs.enqueue(rt.redis, jobs.UPSTREAM_JOB, outbox_id, job_id=job_id(outbox_id, 0))


async def _post_one(http: httpx.AsyncClient, up: Upstream | None, row: Any) -> str | None:
    if up is None or not up.enabled:
        return f"channel {row['channel']} has no enabled upstream endpoint (config/data/upstream.toml)"
    auth = up.auth()
    if isinstance(auth, str):
        return auth
    try:
        return await asyncio.wait_for(
            post(http, up.url, row["body"], delivery=str(row["event_id"]), attempt=row["attempts"], headers=auth),
            up.timeout_seconds,
        )
    except TimeoutError:
        return f"no answer within {up.timeout_seconds:g} s"


async def deliver_due(
    rt: Runtime,
    *,
    ticket_id: int | None = None,
    now_fn: Callable[[], datetime] = lambda: datetime.now(UTC),
    http: httpx.AsyncClient | None = None,
) -> Run:
    """Post every due event (of one ticket, or of all), round after round: each round claims the head event of each
    ticket, posts them concurrently, and records the answers; a delivered head lets the next event go in the next
    round. A failed one is retried at its backoff by a job (and the sweep)."""
    config = config_of(rt)
    lease = max((u.lease_seconds for u in config.channels.values()), default=15.0)
    client = http or rt.part(_Client).http
    totals = Run()
    for _ in range(MAX_ROUNDS):
        now = now_fn()
        claimed = await rt.pool.fetch(CLAIM_SQL, now, BATCH, ticket_id, lease)
        if not claimed:
            break
        errors = await asyncio.gather(*(_post_one(client, config.channels.get(r["channel"]), r) for r in claimed))
        totals = await _record(rt, claimed, errors, now_fn(), totals)
    return totals


async def _record(rt: Runtime, claimed: list[Any], errors: list[str | None], now: datetime, totals: Run) -> Run:
    config = config_of(rt)
    outcomes: list[str] = []
    next_at: list[datetime | None] = []
    for row, error in zip(claimed, errors, strict=True):
        up = config.channels.get(row["channel"])
        limit = up.max_attempts if up else 1
        if error is None:
            outcomes.append("delivered")
            next_at.append(None)
        elif row["attempts"] >= limit:
            outcomes.append("dead")
            next_at.append(None)
        else:
            outcomes.append("failed")
            next_at.append(now + backoff(up, row["attempts"]) if up else now)
    await rt.pool.execute(
        RECORD_SQL,
        [r["id"] for r in claimed],
        [r["attempts"] for r in claimed],
        outcomes,
        errors,
        next_at,
        now,
    )
    for row, outcome, error, at in zip(claimed, outcomes, errors, next_at, strict=True):
        if outcome == "failed" and at is not None:
            await jobs.enqueue(
                rt.redis, jobs.UPSTREAM_JOB, row["id"], job_id=job_id(row["id"], row["attempts"], at), at=at
            )
        elif outcome == "dead":
            log.warning(
                "upstream_dead_letter",
                outbox_id=row["id"],
                channel=row["channel"],
                attempts=row["attempts"],
                error=error,
            )
    return Run(
        totals.claimed + len(claimed),
        totals.delivered + outcomes.count("delivered"),
        totals.retrying + outcomes.count("failed"),
        totals.dead + outcomes.count("dead"),
    )


async def deliver_for_row(rt: Runtime, outbox_id: int) -> Run:
    """The job of one outbox row: deliver its ticket's due events in order (this row among them, once its turn
    comes). Nothing due (delivered already, another worker holds it, an earlier one waits): nothing done."""
    ticket_id = await rt.pool.fetchval(
        "SELECT ticket_id FROM upstream_outbox WHERE id = $1 AND status IN ('pending', 'failed')", outbox_id
    )
    if ticket_id is None:
        return Run()
    return await deliver_due(rt, ticket_id=ticket_id)


async def redrive(rt: Runtime, outbox_id: int, *, now: datetime | None = None) -> bool:
    """Re-drive a dead letter (an operator's 重试): a fresh set of attempts from now. False if it is not dead."""
    now = now or datetime.now(UTC)
    done = await rt.pool.fetchval(REDRIVE_SQL, outbox_id, now)
    if done is None:
        return False
    await jobs.enqueue(rt.redis, jobs.UPSTREAM_JOB, outbox_id, job_id=job_id(outbox_id, 0, now), at=now)
    return True

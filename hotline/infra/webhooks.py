"""Outbound webhooks: each recorded escalation step is POSTed to every configured URL (settings.webhook_urls,
env HOTLINE_WEBHOOK_URLS), retried with exponential backoff until delivered or given up.

PostgreSQL holds the deliveries (webhook_deliveries, one per step and URL, written with the step). A worker claims
due ones with a lease in one statement, so several workers never post the same delivery at once. HTTP cannot be
exactly-once: a worker that dies between the receiver's 2xx and its own commit posts again after the lease, so
every POST carries the delivery id (X-Hotline-Delivery) for the receiver to drop a repeat.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog

from hotline.infra.runtime import Runtime

log = structlog.get_logger(__name__)
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=10)
BACKOFF_CAP = timedelta(hours=1)
LEASE = timedelta(seconds=60)
TIMEOUT_SECONDS = 10.0

CLAIM_SQL = """
WITH due AS (
    SELECT id FROM webhook_deliveries
    WHERE status = 'pending' AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until <= $1)
    ORDER BY next_attempt_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE webhook_deliveries d SET locked_until = $1 + $3::interval, attempts = d.attempts + 1
FROM due
WHERE d.id = due.id
RETURNING d.id, d.url, d.attempts, d.step_id
"""

PAYLOAD_SQL = """
SELECT s.id, s.step, s.clock, s.unit, s.due_at, s.recorded_at, t.number, t.territory, t.category, t.kind
FROM escalation_steps s JOIN tickets t ON t.id = s.ticket_id
WHERE s.id = any($1::bigint[])
"""


@dataclass(frozen=True, slots=True)
class DeliveryRun:
    claimed: int
    delivered: int
    retrying: int
    failed: int
    next_attempt_at: datetime | None  # earliest retry scheduled by this run


def backoff(attempts: int, base: timedelta = BACKOFF_BASE) -> timedelta:
    """10 s, 20 s, 40 s ... capped at an hour: a receiver that is down for a while is not hammered."""
    return min(base * (2 ** max(0, attempts - 1)), BACKOFF_CAP)


def payload(step: Any) -> dict[str, Any]:
    return {
        "event": "escalation.step",
        "step_id": step["id"],
        "ticket": step["number"],
        "clock": step["clock"],
        "step": step["step"],
        "unit": step["unit"],
        "territory": step["territory"],
        "category": step["category"],
        "kind": step["kind"],
        "due_at": step["due_at"].isoformat(),
        "recorded_at": step["recorded_at"].isoformat(),
    }


async def post(http: httpx.AsyncClient, url: str, body: dict[str, Any], *, delivery: str, attempt: int) -> str | None:
    """The one way the service POSTs to a receiver (escalation steps, daily digests): the JSON body with the delivery
    id a receiver drops a repeat by, the event and the attempt as headers. None on a 2xx; otherwise what went wrong,
    for last_error. The caller holds no pool connection meanwhile: a receiver may take up to its timeout."""
    try:
        r = await http.post(
            url,
            json=body,
            headers={
                "X-Hotline-Delivery": delivery,
                "X-Hotline-Event": body["event"],
                "X-Hotline-Attempt": str(attempt),
            },
        )
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= r.status_code < 300:
        return None
    return f"HTTP {r.status_code}"


async def deliver_due(
    rt: Runtime,
    *,
    now: datetime,
    limit: int = 100,
    base: timedelta = BACKOFF_BASE,
    http: httpx.AsyncClient | None = None,
) -> DeliveryRun:
    """Claim up to `limit` due deliveries, post them concurrently, and record each result."""
    claimed = await rt.pool.fetch(CLAIM_SQL, now, limit, LEASE)
    if not claimed:
        return DeliveryRun(0, 0, 0, 0, None)
    steps = {r["id"]: r for r in await rt.pool.fetch(PAYLOAD_SQL, list({d["step_id"] for d in claimed}))}
    own = http is None
    client = http or httpx.AsyncClient(timeout=TIMEOUT_SECONDS)
    try:
        errors = await asyncio.gather(
            *(
                post(client, d["url"], payload(steps[d["step_id"]]), delivery=str(d["id"]), attempt=d["attempts"])
                for d in claimed
            )
        )
    finally:
        if own:
            await client.aclose()
    delivered = [d["id"] for d, e in zip(claimed, errors, strict=True) if e is None]
    failed = [
        (d["id"], e) for d, e in zip(claimed, errors, strict=True) if e is not None and d["attempts"] >= MAX_ATTEMPTS
    ]
    retry = [
        (d["id"], e, now + backoff(d["attempts"], base))
        for d, e in zip(claimed, errors, strict=True)
        if e is not None and d["attempts"] < MAX_ATTEMPTS
    ]
    async with rt.pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute(
                "UPDATE webhook_deliveries SET status = 'delivered', delivered_at = $2, "
                "locked_until = NULL, last_error = NULL WHERE id = any($1::bigint[])",
                delivered,
                now,
            )
            await conn.execute(
                """UPDATE webhook_deliveries d SET status = 'failed', locked_until = NULL, last_error = f.error
                   FROM unnest($1::bigint[], $2::text[]) AS f (id, error) WHERE d.id = f.id""",
                [f[0] for f in failed],
                [f[1] for f in failed],
            )
            await conn.execute(
                """UPDATE webhook_deliveries d SET next_attempt_at = r.at, locked_until = NULL, last_error = r.error
                   FROM unnest($1::bigint[], $2::text[], $3::timestamptz[]) AS r (id, error, at) WHERE d.id = r.id""",
                [r[0] for r in retry],
                [r[1] for r in retry],
                [r[2] for r in retry],
            )
    for delivery_id, error in failed:
        log.warning("webhook_gave_up", delivery_id=delivery_id, attempts=MAX_ATTEMPTS, error=error)
    return DeliveryRun(len(claimed), len(delivered), len(retry), len(failed), min((r[2] for r in retry), default=None))

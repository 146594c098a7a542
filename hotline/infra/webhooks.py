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
from hotline.infra.sql import load

log = structlog.get_logger(__name__)
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=10)
BACKOFF_CAP = timedelta(hours=1)
LEASE = timedelta(seconds=60)
TIMEOUT_SECONDS = 10.0

CLAIM_SQL = load(__file__, "claim_deliveries")
PAYLOAD_SQL = load(__file__, "delivery_payloads")
DELIVERED_SQL = load(__file__, "deliveries_delivered")
FAILED_SQL = load(__file__, "deliveries_failed")
RETRY_SQL = load(__file__, "deliveries_retry")


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


async def post(
    http: httpx.AsyncClient,
    url: str,
    body: dict[str, Any],
    *,
    delivery: str,
    attempt: int,
    headers: dict[str, str] | None = None,
) -> str | None:
    """The one way the service POSTs to a receiver (escalation steps, daily digests, upstream feedback): the JSON
    body with the delivery id a receiver drops a repeat by, the event and the attempt as headers (plus `headers`, an
    upstream platform's auth). None on a 2xx; otherwise what went wrong, for last_error. The caller holds no pool
    connection meanwhile: a receiver may take up to its timeout."""
    try:
        r = await http.post(
            url,
            json=body,
            headers={
                **(headers or {}),
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
            await conn.execute(DELIVERED_SQL, delivered, now)
            await conn.execute(FAILED_SQL, [f[0] for f in failed], [f[1] for f in failed])
            await conn.execute(RETRY_SQL, [r[0] for r in retry], [r[1] for r in retry], [r[2] for r in retry])
    for delivery_id, error in failed:
        log.warning("webhook_gave_up", delivery_id=delivery_id, attempts=MAX_ATTEMPTS, error=error)
    return DeliveryRun(len(claimed), len(delivered), len(retry), len(failed), min((r[2] for r in retry), default=None))

"""Operational gauges for /metrics, read from the shared state at scrape time (PostgreSQL and Redis), so every API
process reports the same figures and a scrape of any one of them answers "is the safety net keeping up?".

Every query is bounded by an index (next_step_at, the pending-delivery and change-queue indexes); nothing scans
tickets. A gauge that cannot be read is reported as NaN rather than failing the scrape.
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime

from arq.constants import default_queue_name
from prometheus_client import REGISTRY, CollectorRegistry, Gauge, generate_latest

from hotline.infra.runtime import Runtime

GAUGES_SQL = """
SELECT
    (SELECT count(*) FROM clocks WHERE next_step_at <= $1) AS steps_due,
    (SELECT extract(epoch FROM $1 - min(next_step_at)) FROM clocks WHERE next_step_at <= $1) AS oldest_due_seconds,
    (SELECT count(*) FROM escalation_outbox) AS steps_untold,
    (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending') AS webhooks_pending,
    (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1) AS webhooks_due,
    (SELECT count(*) FROM report_changes) AS report_changes_queued
"""

# PostgreSQL gauges: the columns of GAUGES_SQL. One Redis gauge beside them.
DATABASE_GAUGES = {
    "steps_due": "Escalation steps whose instant has passed and that are not recorded yet (the sweep's backlog)",
    "oldest_due_seconds": "How long the oldest unrecorded escalation step has been due (scan lag), seconds",
    "steps_untold": "Recorded escalation steps whose notifications are not written yet",
    "webhooks_pending": "Webhook deliveries not yet delivered or given up",
    "webhooks_due": "Webhook deliveries due for an attempt now",
    "report_changes_queued": "Ticket changes waiting for the report rollups to be refreshed",
}
GAUGES = {**DATABASE_GAUGES, "job_queue_depth": "Jobs queued or deferred in arq (Redis)"}


async def collect(rt: Runtime, now: datetime | None = None) -> dict[str, float]:
    now = now or datetime.now(UTC)
    values: dict[str, float] = dict.fromkeys(GAUGES, math.nan)
    try:
        row = await asyncio.wait_for(rt.pool.fetchrow(GAUGES_SQL, now), 2)
        assert row is not None  # aggregates: always one row
        values.update({k: float(row[k]) if row[k] is not None else 0.0 for k in DATABASE_GAUGES})
    except Exception:  # noqa: BLE001 - a scrape reports what it can
        pass
    try:
        values["job_queue_depth"] = float(await asyncio.wait_for(rt.redis.zcard(default_queue_name), 2))
    except Exception:  # noqa: BLE001
        pass
    return values


async def exposition(rt: Runtime) -> bytes:
    """The process's default metrics (CPU, memory, GC) plus the shared gauges, in Prometheus text format."""
    values = await collect(rt)
    registry = CollectorRegistry()
    for key, help_text in GAUGES.items():
        Gauge(f"hotline_{key}", help_text, registry=registry).set(values[key])
    return generate_latest(REGISTRY) + generate_latest(registry)

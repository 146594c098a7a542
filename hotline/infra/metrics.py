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

# The upstream feedback outbox (外网反馈), per transfer channel (label `channel`): over its index of undelivered rows.
UPSTREAM_SQL = """
SELECT channel,
       count(*) FILTER (WHERE status IN ('pending', 'failed')) AS pending,
       count(*) FILTER (WHERE status = 'dead') AS dead,
       extract(epoch FROM $1 - min(created_at) FILTER (WHERE status IN ('pending', 'failed'))) AS oldest
FROM upstream_outbox WHERE status <> 'delivered' GROUP BY channel
"""
UPSTREAM_GAUGES = {
    "upstream_pending": "Feedback events to the upstream platform not delivered yet (waiting or retrying)",
    "upstream_dead": "Feedback events given up after their attempts (dead letters: re-drive them)",
    "upstream_oldest_pending_seconds": "Age of the oldest feedback event not delivered yet, seconds",
}


async def collect_upstream(rt: Runtime, now: datetime | None = None) -> dict[str, dict[str, float]]:
    """Per transfer channel: pending, dead and the oldest pending's age (0 when none); NaN when unreadable."""
    now = now or datetime.now(UTC)
    channels = [c for c, kind in rt.names.channel_kinds.items() if kind == "transfer"]
    values = {
        c: {"upstream_pending": 0.0, "upstream_dead": 0.0, "upstream_oldest_pending_seconds": 0.0} for c in channels
    }
    try:
        for r in await asyncio.wait_for(rt.pool.fetch(UPSTREAM_SQL, now), 2):
            values[r["channel"]] = {
                "upstream_pending": float(r["pending"]),
                "upstream_dead": float(r["dead"]),
                "upstream_oldest_pending_seconds": float(r["oldest"] or 0.0),
            }
    except Exception:  # noqa: BLE001 - a scrape reports what it can
        values = {c: dict.fromkeys(UPSTREAM_GAUGES, math.nan) for c in channels}
    return values


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
    upstream = await collect_upstream(rt)
    for key, help_text in UPSTREAM_GAUGES.items():
        gauge = Gauge(f"hotline_{key}", help_text, ["channel"], registry=registry)
        for channel, figures in sorted(upstream.items()):
            gauge.labels(channel=channel).set(figures[key])
    return generate_latest(REGISTRY) + generate_latest(registry)

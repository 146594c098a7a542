"""Report jobs: the rollup refresh (every 15 seconds) and the daily digest (hourly, idempotent; it makes yesterday's
digest once the morning digest time has passed). Each calls hotline.reports with `now`; running twice is harmless."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from arq import cron
from arq.worker import func

from hotline import reports


async def refresh_report_rollups(ctx: dict[str, Any]) -> str:
    result = await reports.refresh_rollups(ctx["rt"], datetime.now(UTC))
    return f"days={result['days']} batches={result['batches']} backfilled={result['reply_hours_backfilled']}"


async def send_daily_digest(ctx: dict[str, Any]) -> str:
    result = await reports.daily_digest(ctx["rt"], datetime.now(UTC))
    return f"stored={result['stored']} pushed={result['pushed']}"


# On demand by name (e.g. after a bulk import); the cron entries below are the schedule.
FUNCTIONS = [
    func(refresh_report_rollups, name="refresh_report_rollups", max_tries=1, timeout=120),
    func(send_daily_digest, name="send_daily_digest", max_tries=3, timeout=300),
]

CRON_JOBS = [
    # Every 15 s, so a day changed since is computed live for seconds only. Not retried: the next tick is the
    # retry; an advisory lock keeps overlapping runs apart.
    cron(
        refresh_report_rollups,
        name="cron:report_rollups",
        second={5, 20, 35, 50},
        run_at_startup=True,
        max_tries=1,
        timeout=120,
    ),
    cron(
        send_daily_digest,
        name="cron:daily_digest",
        minute={5},
        second={0},
        run_at_startup=True,
        max_tries=1,
        timeout=300,
    ),
]

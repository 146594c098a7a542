"""arq WorkerSettings: the functions, cron schedule, start-up and shutdown of `hotline worker`.

One logging setup (config.logging) for every process, with the arq job id and try bound to each job's log lines.
Each worker builds its own Runtime (pools, calendar, policies) at start-up and closes it at shutdown; SIGTERM is
arq's: running jobs are cancelled and re-run by the next worker, which is safe because every job is idempotent.
Several workers share one Redis: job ids and the database's constraints keep their effects single.
"""

from __future__ import annotations

from typing import Any

import structlog
from arq import cron
from arq.connections import RedisSettings
from arq.worker import func

from config.logging import configure_logging
from config.settings import Settings, get_settings
from hotline.escalation.steps import SWEEP_EVERY
from hotline.infra import queue as job_names
from hotline.infra.runtime import Runtime
from workers import jobs, report_jobs

log = structlog.get_logger("hotline.worker")
UPSTREAM_SWEEP_SECONDS = 5  # the feedback outbox's safety net: what a lost job missed is posted within this


# The runtime of the worker started last in this process. arq skips on_shutdown when Redis is gone by the time it
# closes, and `python -m workers` then starts a new worker: the new start-up closes what the old one left open.
_previous: list[Runtime] = []


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx.get("settings") or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    while _previous:
        stale = _previous.pop()
        try:
            await stale.close()
        except Exception as exc:  # noqa: BLE001 - its event loop is gone; the connections die with it
            log.info("stale_runtime_dropped", error=type(exc).__name__)
    ctx["rt"] = await Runtime.start(settings)
    _previous.append(ctx["rt"])
    log.info("worker_started", policy_version=ctx["rt"].policies.version)


async def shutdown(ctx: dict[str, Any]) -> None:
    rt: Runtime | None = ctx.pop("rt", None)
    if rt is not None:
        if rt in _previous:
            _previous.remove(rt)
        await rt.close()
    log.info("worker_stopped")


async def bind_job(ctx: dict[str, Any]) -> None:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(job_id=ctx["job_id"], job_try=ctx["job_try"])


async def unbind_job(ctx: dict[str, Any]) -> None:
    structlog.contextvars.clear_contextvars()


FUNCTIONS = [
    # Idempotent and keyed by clock version: safe to retry (transient database errors, early firing).
    func(jobs.escalate_clock, name=job_names.ESCALATE_JOB, max_tries=5, timeout=60),
    # Deliveries carry their own attempts and backoff in PostgreSQL; an arq retry would only duplicate that.
    func(jobs.deliver_webhooks, name=job_names.WEBHOOK_JOB, max_tries=1, timeout=120, keep_result=0),
    # The outbox carries attempts and backoff in PostgreSQL; claims are leased: a re-run posts nothing twice at once.
    func(jobs.deliver_upstream, name=job_names.UPSTREAM_JOB, max_tries=1, timeout=120, keep_result=0),
    # Idempotent (only clocks still on an older policy version are taken); re-run after a SIGTERM is harmless.
    func(jobs.recompute_open_clocks, name=job_names.RECOMPUTE_JOB, max_tries=3, timeout=120),
]

CRON_JOBS = [
    cron(
        jobs.sweep,
        name="sweep",
        second=set(range(0, 60, int(SWEEP_EVERY.total_seconds()))),
        run_at_startup=True,
        max_tries=1,
        timeout=120,
    ),
    cron(jobs.deliver_webhooks, name="webhooks_retry", second={7}, max_tries=1, timeout=120),
    cron(
        jobs.sweep_upstream,
        name="upstream_sweep",
        second=set(range(3, 60, UPSTREAM_SWEEP_SECONDS)),
        run_at_startup=True,
        max_tries=1,
        timeout=120,
    ),
    cron(jobs.resume_recomputation, name="resume_recomputation", second={37}, max_tries=1, timeout=30),
]


class WorkerSettings:
    functions = [*FUNCTIONS, *report_jobs.FUNCTIONS]
    cron_jobs = [*CRON_JOBS, *report_jobs.CRON_JOBS]
    redis_settings = RedisSettings.from_dsn(get_settings().redis_url)
    on_startup = startup
    on_shutdown = shutdown
    on_job_start = bind_job
    after_job_end = unbind_job
    max_jobs = 16
    poll_delay = 0.1  # seconds between queue reads: a job enqueued now starts within it (arq reads max_jobs per poll)
    job_timeout = 120
    keep_result = 3600  # a finished job's id stays taken for an hour: re-arming the same step is a no-op
    health_check_interval = 10  # the health key (arq:queue:health-check) is refreshed every 10 s, kept 11 s
    allow_abort_jobs = True  # without it an aborted deferred job would run at once
    job_completion_wait = 20  # on SIGTERM: take no new job, let running ones finish (they are all short)
    retry_jobs = True

"""Enqueue worker jobs by name. hotline never imports workers/: the job names below are the whole contract.

Escalation jobs are armed per clock for its next step, with an id carrying the clock version and the step, so a
moved deadline (new version) makes the old job harmless and the same arming twice is one job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from arq.connections import ArqRedis
from arq.constants import default_queue_name, job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms, to_unix_ms

from hotline.infra.redis_client import run_script

ESCALATE_JOB = "escalate_clock"
WEBHOOK_JOB = "deliver_webhooks"  # args: none; posts every due webhook delivery
UPSTREAM_JOB = "deliver_upstream"  # args: (outbox_id,); posts that row's ticket's due feedback events in order
RECOMPUTE_JOB = "recompute_open_clocks"  # args: (policy_version, after_clock_id)
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ArmedStep:
    clock_id: int
    version: int
    step: str
    at: datetime


def escalation_job_id(clock_id: int, version: int, step: str) -> str:
    return f"esc:{clock_id}:{version}:{step}"


# What arq's enqueue_job does for one job (skip if the job or its result exists; else store the job with its
# expiry and queue it at its instant), for many jobs in one atomic round trip instead of three per job: arming
# is on every intake and action, and the round trips were most of intake's CPU after the SQL.
# KEYS: queue, job key prefix, result key prefix; ARGV: (job id, score ms, expiry ms, serialized job) per job.
_ARM_LUA = """
for i = 1, #ARGV, 4 do
    local id = ARGV[i]
    if redis.call('EXISTS', KEYS[2] .. id, KEYS[3] .. id) == 0 then
        redis.call('PSETEX', KEYS[2] .. id, ARGV[i + 2], ARGV[i + 3])
        redis.call('ZADD', KEYS[1], ARGV[i + 1], id)
    end
end
"""
_ARM_CHUNK = 500  # jobs per script call, so a bulk arming never holds Redis for long


async def arm(redis: ArqRedis, steps: list[ArmedStep]) -> None:
    """Schedule each clock's next escalation step. Losing these is safe: the sweep finds due steps in PostgreSQL."""
    for start in range(0, len(steps), _ARM_CHUNK):
        chunk = steps[start : start + _ARM_CHUNK]
        try:
            now = datetime.now(UTC)
            enqueued_ms = timestamp_ms()
            args: list[object] = []
            for s in chunk:
                # arq expires a job a day after its instant: a step long past is due now, not "expired already".
                score = to_unix_ms(max(s.at, now))
                args += [
                    escalation_job_id(s.clock_id, s.version, s.step),
                    score,
                    score - enqueued_ms + redis.expires_extra_ms,
                    serialize_job(
                        ESCALATE_JOB,
                        (s.clock_id, s.version, s.step),
                        {},
                        None,
                        enqueued_ms,
                        serializer=redis.job_serializer,
                    ),
                ]
            await run_script(redis, _ARM_LUA, [redis.default_queue_name, job_key_prefix, result_key_prefix], args)
        except Exception as exc:  # Redis down must never fail the action that stamped the deadline.
            log.warning("arm_failed", clocks=[s.clock_id for s in chunk], error=type(exc).__name__)


async def enqueue(redis: ArqRedis, name: str, *args: object, job_id: str, at: datetime | None = None) -> bool:
    """Enqueue a job once per id; False when Redis is down or the id is taken (PostgreSQL still holds the work)."""
    try:
        return await redis.enqueue_job(name, *args, _job_id=job_id, _defer_until=at) is not None
    except Exception as exc:
        log.warning("enqueue_failed", job=name, error=type(exc).__name__)
        return False


async def retire(redis: ArqRedis, steps: list[ArmedStep]) -> None:
    """Drop queued escalation jobs whose steps a batch pass already recorded: a burst caught up in bulk must not
    leave thousands of no-op jobs ahead of every other job. A job already running finds nothing to do."""
    ids = [escalation_job_id(s.clock_id, s.version, s.step) for s in steps]
    if not ids:
        return
    try:
        async with redis.pipeline(transaction=False) as pipe:
            pipe.zrem(default_queue_name, *ids)
            pipe.delete(*[job_key_prefix + i for i in ids])
            await pipe.execute()
    except Exception as exc:  # the jobs then run and find nothing to do
        log.warning("retire_failed", jobs=len(ids), error=type(exc).__name__)

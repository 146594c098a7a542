"""Enqueue worker jobs by name. hotline never imports workers/: the job names below are the whole contract.

Escalation jobs are armed per clock for its next step, with an id carrying the clock version and the step, so a
moved deadline (new version) makes the old job harmless and the same arming twice is one job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from arq.connections import ArqRedis

ESCALATE_JOB = "escalate_clock"
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ArmedStep:
    clock_id: int
    version: int
    step: str
    at: datetime


def escalation_job_id(clock_id: int, version: int, step: str) -> str:
    return f"esc:{clock_id}:{version}:{step}"


async def arm(redis: ArqRedis, steps: list[ArmedStep]) -> None:
    """Schedule each clock's next escalation step. Losing these is safe: the sweep finds due steps in PostgreSQL."""
    for s in steps:
        try:
            await redis.enqueue_job(ESCALATE_JOB, s.clock_id, s.version, s.step,
                                    _job_id=escalation_job_id(s.clock_id, s.version, s.step), _defer_until=s.at)
        except Exception as exc:  # Redis down must never fail the action that stamped the deadline.
            log.warning("arm_failed", clock_id=s.clock_id, step=s.step, error=type(exc).__name__)

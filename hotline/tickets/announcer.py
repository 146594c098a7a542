"""After a new ticket commits: arm its first escalation steps and tell the live feed, for every channel the same
way (agent intake, transfers, the citizen's web form). Queued per process and sent in groups, so a burst of intakes
costs two Redis calls a group, not two a ticket; only steps falling due soon are armed here, the sweep arms the rest
as they come near (hotline.escalation.steps.arm_near and rearm_upcoming)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from arq.connections import ArqRedis

from hotline.errors import ServiceUnavailable
from hotline.escalation import steps as escalation
from hotline.infra import live
from hotline.infra.runtime import Runtime

if TYPE_CHECKING:
    from hotline.tickets.intake import IntakeResult

log = structlog.get_logger(__name__)


# Announcements queued per process while Redis is slow to take them. Each is small, but a Redis that hangs
# (rather than refuses) would otherwise let them pile up without end; past this new tickets get a 503.
MAX_PENDING_ANNOUNCEMENTS = 5000


class Announcer:
    """Arms new tickets' escalation jobs and tells the live feed, for the tickets of one process in groups: those
    that come while a group is being sent go in the next, as at most two script calls for the group instead of two
    round trips a ticket. announce() only queues (the response does not wait for Redis); sent() waits for what is
    queued. Only steps falling due soon are armed here (escalation.arm_near: a transfer due in minutes)."""

    def __init__(self, redis: ArqRedis, *, max_pending: int = MAX_PENDING_ANNOUNCEMENTS) -> None:
        self.redis = redis
        self.max_pending = max_pending
        self._pending: list[tuple[IntakeResult, dict[str, Any]]] = []
        self._task: asyncio.Task[None] | None = None

    def full(self) -> bool:
        return len(self._pending) >= self.max_pending

    def announce(self, result: IntakeResult, message: dict[str, Any]) -> None:
        if self.full():
            # Only when tickets raced past ensure_room(): the sweep arms its steps and screens catch up on reading.
            log.warning("announcement_dropped", pending=len(self._pending), number=message.get("number"))
            return
        self._pending.append((result, message))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def sent(self) -> None:
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def close(self) -> None:
        await self.sent()

    async def _drain(self) -> None:
        while self._pending:
            group, self._pending = self._pending, []
            # Both are best effort and log their own failures: PostgreSQL holds the truth, the sweep arms what a
            # lost call did not, and a screen that missed a message catches up on its next read.
            await escalation.arm_near(
                self.redis, [step for result, _ in group for step in result.armed], now=datetime.now(UTC)
            )
            await live.publish_many(self.redis, "ticket", [message for _, message in group])


def _make(rt: Runtime) -> Announcer:
    return Announcer(rt.redis)


def _announcer(rt: Runtime) -> Announcer:
    """The runtime's announcer (one per process, closed with the runtime: what it still holds is sent first)."""
    return rt.part(_make)


def ensure_room(rt: Runtime) -> None:
    """Before writing a ticket that will be announced: 503 with Retry-After while the announcements are backed up."""
    announcer = _announcer(rt)
    if announcer.full():
        raise ServiceUnavailable(
            f"new tickets cannot be announced right now ({len(announcer._pending)} waiting for "
            "the job queue); try again shortly"
        )


def announce(rt: Runtime, result: IntakeResult, number: str) -> None:
    """After commit: arm the new ticket's first escalation steps and publish it on the live feed (queued)."""
    _announcer(rt).announce(
        result,
        {
            "number": number,
            "status": "dispatched" if result.unit else "pending_dispatch",
            "unit": result.unit,
            "units": [result.unit],
            "action": "create",
        },
    )


async def announced(rt: Runtime) -> None:
    """Wait until what this process queued to announce has been sent (tests, shutdown)."""
    await _announcer(rt).sent()

"""Live feed: every committed change is published on Redis pub/sub; SSE subscribers filter by what they may see."""

from __future__ import annotations

from typing import Any

import msgspec
import structlog
from redis.asyncio import Redis

CHANNEL = "hotline:live"
log = structlog.get_logger(__name__)
_encode = msgspec.json.Encoder().encode


async def publish(redis: Redis, kind: str, payload: dict[str, Any]) -> None:
    """Best effort after commit: the database already holds the truth, a lost message only delays a screen."""
    try:
        await redis.publish(CHANNEL, _encode({"type": kind, **payload}))
    except Exception as exc:
        log.warning("live_publish_failed", kind=kind, error=type(exc).__name__)


async def publish_many(redis: Redis, kind: str, payloads: list[dict[str, Any]]) -> None:
    """publish() for several messages in one round trip."""
    try:
        async with redis.pipeline(transaction=False) as pipe:
            for payload in payloads:
                pipe.publish(CHANNEL, _encode({"type": kind, **payload}))
            await pipe.execute()
    except Exception as exc:
        log.warning("live_publish_failed", kind=kind, messages=len(payloads), error=type(exc).__name__)


def visible_to(message: dict[str, Any], role: str, unit: str | None) -> bool:
    """A handler sees messages about its own unit's tickets only; other staff roles see everything."""
    if role == "handler":
        units = message.get("units") or [message.get("unit")]
        return unit is not None and unit in units
    return role in {"agent", "dispatcher", "manager", "admin"}

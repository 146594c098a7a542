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


# Each argument published as its own message, in order: one command for a group instead of one per message.
_PUBLISH_EACH = "for i = 1, #ARGV do redis.call('PUBLISH', KEYS[1], ARGV[i]) end return #ARGV"
_PUBLISH_CHUNK = 500


async def publish_many(redis: Redis, kind: str, payloads: list[dict[str, Any]]) -> None:
    """publish() for several messages in one round trip (subscribers still get one message each)."""
    if not payloads:
        return
    try:
        messages = [_encode({"type": kind, **payload}) for payload in payloads]
        for start in range(0, len(messages), _PUBLISH_CHUNK):
            await redis.eval(_PUBLISH_EACH, 1, CHANNEL, *messages[start:start + _PUBLISH_CHUNK])
    except Exception as exc:
        log.warning("live_publish_failed", kind=kind, messages=len(payloads), error=type(exc).__name__)


def visible_to(message: dict[str, Any], role: str, unit: str | None) -> bool:
    """A handler sees messages about its own unit's tickets only; other staff roles see everything."""
    if role == "handler":
        units = message.get("units") or [message.get("unit")]
        return unit is not None and unit in units
    return role in {"agent", "dispatcher", "manager", "admin"}

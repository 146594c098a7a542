"""Fixed-window rate limits kept in Redis, so every API process shares them. Without Redis the limit is not
enforced (logged): the public form and progress check stay open rather than fail for everyone."""

from __future__ import annotations

import time

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from hotline.errors import RateLimited


async def hit(redis: Redis, scope: str, client: str, limit: int, window_seconds: int = 60) -> None:
    window = int(time.time()) // window_seconds
    key = f"hotline:rl:{scope}:{client}:{window}"
    try:
        async with redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, window_seconds + 1)
            count, _ = await pipe.execute()
    except (RedisError, OSError) as exc:
        structlog.get_logger(__name__).warning("rate_limit_unavailable", scope=scope, error=type(exc).__name__)
        return
    if count > limit:
        retry = window_seconds - int(time.time()) % window_seconds
        raise RateLimited(f"too many requests; try again in {retry} s", retry_after=retry)

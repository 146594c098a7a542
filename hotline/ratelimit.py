"""Fixed-window rate limits kept in Redis, so every API process shares them."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from hotline.errors import RateLimited


async def hit(redis: Redis, scope: str, client: str, limit: int, window_seconds: int = 60) -> None:
    window = int(time.time()) // window_seconds
    key = f"hotline:rl:{scope}:{client}:{window}"
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, window_seconds + 1)
        count, _ = await pipe.execute()
    if count > limit:
        retry = window_seconds - int(time.time()) % window_seconds
        raise RateLimited(f"too many requests; try again in {retry} s", retry_after=retry)

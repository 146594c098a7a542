"""A process's Redis client: arq's, over a bounded pool that makes a burst of commands wait for a connection.

redis-py's default pool opens a connection for every command issued while the others are busy and keeps them all:
a thousand consoles reconnecting after a deploy (each request asks Redis for sign-outs until the follower has
synced) left about 45 Redis connections per API process open for good. Commands take well under a millisecond, so
a few connections carry a process; the two subscriptions (live feed, sign-outs) come out of the same pool.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, cast

from arq import create_pool as arq_create_pool
from arq.connections import ArqRedis, RedisSettings
from redis.asyncio import BlockingConnectionPool, Redis

MAX_CONNECTIONS = 5  # two held by subscriptions, three for commands
WAIT_SECONDS = 5  # then "No connection available" (a ConnectionError, handled as Redis being unreachable)


async def create_pool(settings: RedisSettings) -> ArqRedis:
    redis = await arq_create_pool(settings)  # arq's settings, retries on start-up and first ping
    if settings.sentinel:  # a Sentinel-managed pool finds its master itself: left as arq made it
        return redis
    unbounded = redis.connection_pool
    redis.connection_pool = BlockingConnectionPool(
        max_connections=MAX_CONNECTIONS,
        timeout=WAIT_SECONDS,
        connection_class=unbounded.connection_class,
        **unbounded.connection_kwargs,
    )
    await unbounded.disconnect()
    return redis


async def run_script(redis: Redis, script: str, keys: list[str], args: list[Any]) -> Any:
    """EVAL a Lua script with its keys and arguments (bytes, str or numbers, as Redis takes them). redis-py's stubs
    type every argument as str and the result as maybe-not-awaitable; on the asyncio client it is awaitable."""
    result: Awaitable[Any] = cast(Any, redis).eval(script, len(keys), *keys, *args)
    return await result

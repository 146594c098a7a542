"""The process's Redis client holds a bounded number of connections: a burst of commands waits for one instead of
opening a connection each (and keeping them all open), as a thousand consoles reconnecting after a deploy did."""

from __future__ import annotations

import asyncio

from arq.connections import RedisSettings
from redis.asyncio import Redis

from hotline.infra import redis_client
from tests.scratch import free_port, start_redis, stop_redis


async def test_a_burst_of_commands_shares_a_few_connections(tmp_path):
    port = free_port()
    proc = start_redis(port, tmp_path)
    redis = await redis_client.create_pool(RedisSettings(host="127.0.0.1", port=port))
    probe = Redis(host="127.0.0.1", port=port)
    try:
        pubsub = redis.pubsub()  # a subscription holds one of them for good, as the live feed's does
        await pubsub.subscribe("hotline:test")
        answers = await asyncio.gather(*(redis.zscore("hotline:revoked", f"t{i}") for i in range(300)))
        assert answers == [None] * 300
        connections = len(await probe.client_list()) - 1
        assert 1 < connections <= redis_client.MAX_CONNECTIONS, connections
        await pubsub.aclose()
    finally:
        await probe.aclose()
        await redis.aclose()
        stop_redis(proc)

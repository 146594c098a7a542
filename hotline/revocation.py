"""Signed-out tokens, known to every API process without a Redis round trip per request.

Sign-out records the token id in one Redis sorted set (scored by the token's expiry, so the set prunes itself)
and publishes it. Each process follows the channel and holds the set in memory: a request is checked against a
Python set. Whenever the process (re)subscribes, which redis-py also does by itself after a reconnect, it reads
the whole set again, so a sign-out published while it was not listening is not missed. While it is not
subscribed (start-up, Redis down or reconnecting) each check asks Redis directly, and while Redis cannot answer
requests are let through (logged), as before: stopping every seat for a cache outage is worse than a signed-out
token living on for the outage; sign-out itself then answers 503 so the user knows it did not take.

A sign-out takes effect at once in the process that recorded it and, in the others, as soon as the message
reaches them (Redis pushes it before answering the publisher).
"""

from __future__ import annotations

import asyncio
import time

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)

KEY = "hotline:revoked"
CHANNEL = "hotline:revocations"
PING_SECONDS = 10.0  # a silent connection (no message, no error) is probed this often
RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)


class Unreachable(Exception):
    """Redis could not record a sign-out."""


class RevocationList:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._revoked: dict[str, float] = {}  # token id -> its expiry (epoch seconds)
        self._synced = False  # subscribed and loaded: the dict is complete
        self._task: asyncio.Task[None] | None = None

    @property
    def following(self) -> bool:
        return self._synced

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._follow(), name="revocations")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None
        self._synced = False

    async def is_revoked(self, token_id: str) -> bool:
        if token_id in self._revoked:
            return True
        if self._synced:
            return False
        self.start()
        try:  # not following yet, or lost it: ask Redis itself
            return await self.redis.zscore(KEY, token_id) is not None
        except (RedisError, OSError) as exc:
            log.warning("revocation_check_unavailable", error=type(exc).__name__)
            return False

    async def revoke(self, token_id: str, expires_at: int) -> None:
        now = time.time()
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zadd(KEY, {token_id: expires_at})
                pipe.zremrangebyscore(KEY, "-inf", now)  # tokens expired by now need no list
                pipe.publish(CHANNEL, f"{token_id} {expires_at}")
                await pipe.execute()
        except (RedisError, OSError) as exc:
            raise Unreachable(str(exc)) from exc
        self._revoked[token_id] = float(expires_at)

    def _prune(self) -> None:
        now = time.time()
        for token_id in [k for k, exp in self._revoked.items() if exp <= now]:
            del self._revoked[token_id]

    async def _load(self) -> None:
        now = time.time()
        rows = await self.redis.zrangebyscore(KEY, now, "+inf", withscores=True)
        loaded = {(m.decode() if isinstance(m, bytes) else str(m)): float(score) for m, score in rows}
        # Merged, not replaced: what was recorded here stays even if Redis lost it (a restart keeps nothing).
        self._revoked = {**{k: v for k, v in self._revoked.items() if v > now}, **loaded}

    async def _follow(self) -> None:
        failures = 0
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                last_ping = time.monotonic()
                while True:
                    message = await pubsub.get_message(timeout=PING_SECONDS)
                    if time.monotonic() - last_ping >= PING_SECONDS:
                        await pubsub.ping()
                        last_ping = time.monotonic()
                        self._prune()
                    if message is None:
                        continue
                    if message["type"] == "subscribe":  # also after redis-py reconnected and subscribed again
                        await self._load()
                        self._synced, failures = True, 0
                    elif message["type"] == "message":
                        data = message["data"]
                        token_id, _, expires = (data.decode() if isinstance(data, bytes) else str(data)).partition(" ")
                        try:
                            self._revoked[token_id] = float(expires)
                        except ValueError:  # not ours: an expiry must come with it
                            log.warning("revocation_message_ignored")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._synced = False
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                if failures == 1 or failures % 20 == 0:
                    log.warning("revocations_unfollowed", error=type(exc).__name__, retry_in_s=delay)
                await asyncio.sleep(delay)
            finally:
                self._synced = False
                try:
                    await asyncio.shield(pubsub.aclose())
                except Exception:
                    pass

"""Rate limits shared by every API process through Redis.

`hit`: a fixed window counted in Redis per request, for the public endpoints. Without Redis they fail closed (503
with Retry-After): their limit is what stands between a guesser and a caller's phone tail, and an outage must not
lift it.

`AccountLimiter`: requests per signed-in account per minute on the API, without a Redis round trip per request.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from hotline.errors import RateLimited, ServiceUnavailable
from hotline.infra import tasks

if TYPE_CHECKING:
    from hotline.infra.runtime import Runtime

log = structlog.get_logger(__name__)
UNAVAILABLE_RETRY_SECONDS = 5


async def hit(redis: Redis, scope: str, client: str, limit: int, window_seconds: int = 60) -> None:
    window = int(time.time()) // window_seconds
    key = f"hotline:rl:{scope}:{client}:{window}"
    try:
        async with redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, window_seconds + 1)
            count, _ = await pipe.execute()
    except (RedisError, OSError) as exc:
        log.warning("rate_limit_unavailable", scope=scope, error=type(exc).__name__)
        raise ServiceUnavailable(
            "this service is briefly unavailable; try again shortly", retry_after=UNAVAILABLE_RETRY_SECONDS
        ) from exc
    if count > limit:
        raise RateLimited(
            f"too many requests; try again in {_left(window_seconds)} s", retry_after=_left(window_seconds)
        )


def _left(window_seconds: int) -> int:
    return window_seconds - int(time.time()) % window_seconds


FLUSH_SECONDS = 0.2
WINDOW_SECONDS = 60


class AccountLimiter:
    """Each process counts an account's requests in memory and adds them to the account's counter in Redis every
    FLUSH_SECONDS, reading back the total of all processes. A request is refused (429) once that total plus what
    this process counted since passes the limit: processes together overshoot by at most what they take in one
    flush interval, and a request costs a dict update instead of a round trip (the intake benchmark's budget).
    While Redis is unreachable each process goes on counting alone (logged): a limit per process, not none."""

    def __init__(self, redis: Redis, limit_per_minute: int) -> None:
        self.redis = redis
        self.limit = limit_per_minute
        self._window = 0
        self._pending: dict[int, int] = {}  # account -> requests not yet added in Redis, this window
        self._known: dict[int, int] = {}  # account -> the total Redis answered at the last flush, this window
        self._inflight: dict[int, int] = {}  # account -> requests being added by the flush under way
        self._task: asyncio.Task[None] | None = None
        self._flushing_lock = asyncio.Lock()  # one flush at a time: each owns `_inflight` until it has the totals
        self._unreachable = False

    def hit(self, user_id: int) -> None:
        if self.limit <= 0:
            return
        window = int(time.time()) // WINDOW_SECONDS
        if window != self._window:
            self._window, self._pending, self._known, self._inflight = window, {}, {}, {}
        pending = self._pending.get(user_id, 0) + 1
        if self._known.get(user_id, 0) + self._inflight.get(user_id, 0) + pending > self.limit:
            left = _left(WINDOW_SECONDS)
            raise RateLimited(f"too many requests for this account; try again in {left} s", retry_after=left)
        self._pending[user_id] = pending
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._flushing(), name="api-rate-limit")

    async def close(self) -> None:
        task, self._task = self._task, None
        await tasks.stop(task)

    async def _flushing(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            if self._pending:
                await self.flush()

    async def flush(self) -> None:
        async with self._flushing_lock:
            await self._flush()

    async def _flush(self) -> None:
        window, batch, self._pending = self._window, self._pending, {}
        self._inflight = batch
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for user_id, count in batch.items():
                    key = f"hotline:rl:api:{user_id}:{window}"
                    pipe.incrby(key, count)
                    pipe.expire(key, WINDOW_SECONDS + 1)
                totals = (await pipe.execute())[::2]
        except (RedisError, OSError) as exc:
            if not self._unreachable:
                log.warning("api_rate_limit_local_only", error=type(exc).__name__)
            self._unreachable = True
            totals = [self._known.get(u, 0) + c for u, c in batch.items()]
        else:
            self._unreachable = False
        if window == self._window:
            for user_id, total in zip(batch, totals, strict=True):  # two commands per user, one total each
                self._known[user_id] = int(total)
            self._inflight = {}


def _make(rt: Runtime) -> AccountLimiter:
    return AccountLimiter(rt.redis, rt.settings.api_rate_limit_per_minute)


def limiter_of(rt: Runtime) -> AccountLimiter:
    """The runtime's per-account API rate limiter (its counts flushed to Redis when the runtime closes)."""
    return rt.part(_make)

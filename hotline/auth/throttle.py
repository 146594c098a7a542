"""Sign-in throttling (登录限制): after a few wrong passwords an account, and after more of them a client address,
must wait before the next try, twice as long after each further failure, up to a cap. A try made while waiting is
answered 429 with Retry-After and its password is not checked at all, so a guesser gains nothing by hammering.

Only failures count, and an account's count ends with its next successful sign-in: a call centre signing in
together at 08:30 behind one address is not held back. Failures are forgotten FAILURE_WINDOW_SECONDS after the
first of a run. Counts live in Redis so every API process sees them; while Redis is unreachable each process keeps
them itself (logged), so an outage opens no window for guessing.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

if TYPE_CHECKING:
    from hotline.infra.runtime import Runtime

log = structlog.get_logger(__name__)

FAILURE_WINDOW_SECONDS = 900
PREFIX = "hotline:signin"
LOCAL_MAX = 10_000


class SignInThrottle:
    def __init__(self, redis: Redis, *, free_failures: int, client_free_failures: int, max_backoff: int) -> None:
        self.redis = redis
        self.free = {"account": max(1, free_failures), "client": max(1, client_free_failures)}
        self.max_backoff = max(1, max_backoff)
        self._counts: dict[str, tuple[float, int]] = {}  # without Redis: key -> (forgotten at, failures)
        self._blocks: dict[str, float] = {}  # without Redis: key -> wait until (epoch seconds)

    @staticmethod
    def _subjects(username: str, client: str) -> list[tuple[str, str]]:
        return [("account", username[:100]), ("client", client[:64])]

    def backoff(self, kind: str, failures: int) -> int:
        """Seconds to wait after `failures` failures in a row: none before the free ones are used up, then 1, 2, 4..."""
        over = failures - self.free[kind]
        return 0 if over < 0 else min(self.max_backoff, 2 ** min(over, 30))

    async def wait_needed(self, username: str, client: str) -> int:
        keys = [f"{PREFIX}:wait:{kind}:{who}" for kind, who in self._subjects(username, client)]
        return max((s for s in await self._waits(keys) if s > 0), default=0)

    async def _waits(self, keys: list[str]) -> list[int]:
        """Whole seconds left on each wait key (0 or less: none), from Redis or, while it is away, this process."""
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.pttl(key)
                ttls_ms = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._unavailable(exc)
            now = time.time()
            ttls_ms = [(self._blocks.get(key, 0.0) - now) * 1000 for key in keys]
        return [-(-int(ms) // 1000) if ms > 0 else 0 for ms in ttls_ms]

    async def failed(self, username: str, client: str) -> dict[str, int]:
        """Counts a failure; returns the failures in a row per subject (account, client)."""
        subjects = self._subjects(username, client)
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                for kind, who in subjects:
                    key = f"{PREFIX}:fail:{kind}:{who}"
                    pipe.set(key, 0, ex=FAILURE_WINDOW_SECONDS, nx=True)
                    pipe.incr(key)
                counts = (await pipe.execute())[1::2]
            waits = [
                (f"{PREFIX}:wait:{kind}:{who}", self.backoff(kind, n))
                for (kind, who), n in zip(subjects, counts, strict=True)
            ]
            if any(seconds for _, seconds in waits):
                async with self.redis.pipeline(transaction=False) as pipe:
                    for key, seconds in waits:
                        if seconds:
                            pipe.set(key, 1, ex=seconds)
                    await pipe.execute()
        except (RedisError, OSError) as exc:
            self._unavailable(exc)
            counts = [self._failed_locally(kind, who) for kind, who in subjects]
        return {kind: int(n) for (kind, _), n in zip(subjects, counts, strict=True)}

    async def succeeded(self, username: str) -> None:
        key = f"{PREFIX}:fail:account:{username[:100]}"
        self._counts.pop(key, None)
        try:
            await self.redis.delete(key)
        except (RedisError, OSError) as exc:
            self._unavailable(exc)

    async def unlock(self, username: str) -> None:
        """An administrator's unlock: the account's failures and its wait are forgotten (a client address's are not,
        so unlocking one account does not free a guesser working through many)."""
        keys = [f"{PREFIX}:{part}:account:{username[:100]}" for part in ("fail", "wait")]
        self._counts.pop(keys[0], None)
        self._blocks.pop(keys[1], None)
        try:
            await self.redis.delete(*keys)
        except (RedisError, OSError) as exc:
            self._unavailable(exc)

    async def locked(self, usernames: list[str]) -> dict[str, int]:
        """Seconds each of these accounts must still wait before its next sign-in (only those that must)."""
        waits = await self._waits([f"{PREFIX}:wait:account:{u[:100]}" for u in usernames])
        return {u: seconds for u, seconds in zip(usernames, waits, strict=True) if seconds > 0}

    def _failed_locally(self, kind: str, who: str) -> int:
        now = time.time()
        if len(self._counts) >= LOCAL_MAX:
            self._counts = {k: v for k, v in self._counts.items() if v[0] > now}
            self._blocks = {k: v for k, v in self._blocks.items() if v > now}
        key = f"{PREFIX}:fail:{kind}:{who}"
        until, count = self._counts.get(key, (now + FAILURE_WINDOW_SECONDS, 0))
        if until <= now:
            until, count = now + FAILURE_WINDOW_SECONDS, 0
        self._counts[key] = (until, count + 1)
        seconds = self.backoff(kind, count + 1)
        if seconds:
            self._blocks[f"{PREFIX}:wait:{kind}:{who}"] = now + seconds
        return count + 1

    @staticmethod
    def _unavailable(exc: BaseException) -> None:
        log.warning("sign_in_throttle_local_only", error=type(exc).__name__)


def _make(rt: Runtime) -> SignInThrottle:
    s = rt.settings
    return SignInThrottle(
        rt.redis,
        free_failures=s.signin_free_failures,
        client_free_failures=s.signin_client_free_failures,
        max_backoff=s.signin_max_backoff_seconds,
    )


def of(rt: Runtime) -> SignInThrottle:
    """The runtime's sign-in throttle."""
    return rt.part(_make)

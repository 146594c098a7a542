"""Reference data an administrator changed (a unit renamed or deactivated, a routing rule added or changed), known
to every process at once: the change is committed to PostgreSQL first (the record), then the process that made it
reloads its own names and router and publishes on Redis; every other runtime follows the channel and reloads too.

A runtime reloads whenever it (re)subscribes, so a change published while it was not listening is not missed; while
Redis is away it reloads from PostgreSQL every few seconds instead. Reloads are serialised, so an older read never
replaces a newer one."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import asyncpg
import structlog
from redis.exceptions import RedisError

from hotline.infra import tasks

if TYPE_CHECKING:
    from hotline.infra.runtime import Runtime

log = structlog.get_logger(__name__)

CHANNEL = "hotline:reference"
PING_SECONDS = 10.0
RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)


class ReferenceFollower:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._failures = 0
        self.following = False

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._follow(), name="reference")

    async def close(self) -> None:
        task, self._task = self._task, None
        await tasks.stop(task)
        self.following = False

    async def reload(self) -> None:
        async with self._lock:
            await self.rt.reload_reference()

    async def changed(self) -> None:
        """Call after committing a change of units or routing rules: this process reloads now, the others at once."""
        await self.reload()
        try:
            await self.rt.redis.publish(CHANNEL, "*")
        except (RedisError, OSError) as exc:
            log.warning("reference_change_not_published", error=type(exc).__name__)

    async def _follow(self) -> None:
        while True:
            pubsub = self.rt.redis.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                while True:
                    message = await pubsub.get_message(timeout=PING_SECONDS)
                    if message is None:
                        await pubsub.ping()
                    elif message["type"] in ("subscribe", "message"):
                        await self.reload()  # on subscribe too: what was published while away
                        self.following, self._failures = True, 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.following = False
                await asyncio.sleep(await self._fall_back(exc))
            finally:
                self.following = False
                try:
                    await asyncio.shield(pubsub.aclose())
                except Exception:
                    pass

    async def _fall_back(self, exc: Exception) -> float:
        delay = RETRY_SECONDS[min(self._failures, len(RETRY_SECONDS) - 1)]
        self._failures += 1
        if self._failures == 1 or self._failures % 20 == 0:
            log.warning("reference_unfollowed", error=type(exc).__name__, retry_in_s=delay)
        try:
            await self.reload()
        except (TimeoutError, asyncpg.PostgresError, OSError) as db_exc:
            log.warning("reference_not_loaded", error=type(db_exc).__name__)
        return delay


def _make(rt: Runtime) -> ReferenceFollower:
    return ReferenceFollower(rt)


def of(rt: Runtime) -> ReferenceFollower:
    """The runtime's follower of reference changes (started with the runtime, stopped when it closes)."""
    return rt.part(_make)

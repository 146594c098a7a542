"""Whether a validly signed token still stands: signed-out tokens and the current state of accounts, known to every
API process without a round trip per request.

Sign-out writes the token id to PostgreSQL (`revoked_tokens`) first: that is the record, and it survives Redis
losing its data and every process restarting. Then the news is published over Redis so the other processes learn
it at once. Each process follows the channel and holds the unexpired ids in memory, loaded from PostgreSQL whenever
it (re)subscribes (redis-py resubscribes by itself after a reconnect), so a sign-out published while it was not
listening is not missed. While Redis is down a process reloads the list from PostgreSQL every few seconds instead,
and a check made when the list is not current asks PostgreSQL about that one token.

A token carries the role, unit and channel its account had at sign-in; every request checks them against the
account (active, role, unit, channel), read from PostgreSQL and cached per process. A change of an account publishes
its id and every process drops its entry at once; entries also age out after `account_ttl` seconds (the net for a
change made behind the service's back, in SQL, or one whose news was lost), sooner while not following, and the
cache is emptied whenever the process resubscribes.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import asyncpg
import structlog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from hotline.infra import channels, tasks
from hotline.infra.sql import load

if TYPE_CHECKING:
    from hotline.infra.runtime import Runtime

log = structlog.get_logger(__name__)

CHANNEL = channels.REVOCATIONS
ACCOUNTS_CHANNEL = channels.ACCOUNTS
PING_SECONDS = 10.0  # a silent connection (no message, no error) is probed this often
POLL_SECONDS = 5.0  # while not following, the list is reloaded from PostgreSQL this often
RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, POLL_SECONDS)
ACCOUNT_TTL_SECONDS = 30.0
ACCOUNT_TTL_UNFOLLOWED_SECONDS = 5.0
ACCOUNTS_MAX = 10_000
REVOKE_SQL = load(__file__, "revoke_token")


@dataclass(frozen=True, slots=True)
class Account:
    active: bool
    role: str
    unit: str | None
    channel: str | None


class RevocationList:
    def __init__(self, redis: Redis, pool: asyncpg.Pool) -> None:
        self.redis = redis
        self.pool = pool
        self.account_ttl = ACCOUNT_TTL_SECONDS
        self._revoked: dict[str, float] = {}  # token id -> its expiry (epoch seconds)
        self._synced = False  # subscribed and loaded: the dict is complete
        self._loaded_at = float("-inf")  # monotonic time of the last full load from PostgreSQL
        self._accounts: dict[int, tuple[float, Account | None]] = {}  # user id -> (read at, monotonic; account)
        self._account_epoch = 0  # bumped by every invalidation: a read that raced one is not cached
        self._failures = 0  # consecutive failures to follow the channels, for the retry delay
        self._task: asyncio.Task[None] | None = None

    @property
    def following(self) -> bool:
        return self._synced

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._follow(), name="revocations")

    async def close(self) -> None:
        task, self._task = self._task, None
        await tasks.stop(task)
        self._synced = False

    # --- signed-out tokens ----------------------------------------------------------------------------------------

    async def is_revoked(self, token_id: str) -> bool:
        if token_id in self._revoked:
            return True
        if self._synced:
            return False
        self.start()
        if time.monotonic() - self._loaded_at < 2 * POLL_SECONDS:
            return False  # polled from PostgreSQL lately: another process's sign-out reaches us within seconds
        return bool(
            await self.pool.fetchval(
                "SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE token_id = $1 AND expires_at > now())", token_id
            )
        )

    async def revoke(self, token_id: str, expires_at: int, user_id: int) -> None:
        """Recorded in PostgreSQL (raises if it cannot be), then told to the other processes if Redis is there."""
        await self.pool.execute(REVOKE_SQL, token_id, user_id, float(expires_at))
        self._revoked[token_id] = float(expires_at)
        try:
            await self.redis.publish(CHANNEL, f"{token_id} {expires_at}")
        except (RedisError, OSError) as exc:
            # Recorded all the same: the others read it from PostgreSQL when they poll or resubscribe.
            log.warning("revocation_not_published", error=type(exc).__name__)

    def _prune(self) -> None:
        now = time.time()
        for token_id in [k for k, exp in self._revoked.items() if exp <= now]:
            del self._revoked[token_id]

    async def _load(self) -> None:
        started = time.monotonic()
        rows = await self.pool.fetch(
            "SELECT token_id, extract(epoch FROM expires_at)::float8 AS expires_at "
            "FROM revoked_tokens WHERE expires_at > now()"
        )
        now = time.time()
        # Merged, not replaced: a sign-out recorded here while the rows were read stays.
        self._revoked = {
            **{k: v for k, v in self._revoked.items() if v > now},
            **{r["token_id"]: r["expires_at"] for r in rows},
        }
        self._loaded_at = started

    # --- accounts -------------------------------------------------------------------------------------------------

    async def account(self, user_id: int) -> Account | None:
        """The account as it is now (None: there is none), from the cache while it is fresh."""
        now = time.monotonic()
        cached = self._accounts.get(user_id)
        ttl = self.account_ttl if self._synced else min(self.account_ttl, ACCOUNT_TTL_UNFOLLOWED_SECONDS)
        if cached is not None and now - cached[0] < ttl:
            return cached[1]
        self.start()
        epoch = self._account_epoch
        row = await self.pool.fetchrow("SELECT active, role, unit, channel FROM users WHERE id = $1", user_id)
        account = Account(row["active"], row["role"], row["unit"], row["channel"]) if row is not None else None
        if epoch == self._account_epoch:
            if len(self._accounts) >= ACCOUNTS_MAX:
                self._accounts.clear()
            self._accounts[user_id] = (now, account)
        return account

    def _forget(self, user_id: int | None) -> None:
        self._account_epoch += 1
        if user_id is None:
            self._accounts.clear()
        else:
            self._accounts.pop(user_id, None)

    async def account_changed(self, user_id: int | None) -> None:
        """Call after changing an account (None: any number of them): every process reads it again at once."""
        self._forget(user_id)
        try:
            await self.redis.publish(ACCOUNTS_CHANNEL, "*" if user_id is None else str(user_id))
        except (RedisError, OSError) as exc:
            log.warning("account_change_not_published", error=type(exc).__name__)

    # --- following ------------------------------------------------------------------------------------------------

    def _on_message(self, channel: str, data: str) -> None:
        if channel == ACCOUNTS_CHANNEL:
            self._forget(None if data == "*" else int(data) if data.isdigit() else None)
            return
        token_id, _, expires = data.partition(" ")
        try:
            self._revoked[token_id] = float(expires)
        except ValueError:  # not ours: an expiry must come with it
            log.warning("revocation_message_ignored")

    async def _follow(self) -> None:
        self._failures = 0
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(CHANNEL, ACCOUNTS_CHANNEL)
                await self._listen(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._synced = False
                await asyncio.sleep(await self._fall_back(exc))
            finally:
                self._synced = False
                try:
                    await asyncio.shield(pubsub.aclose())
                except Exception:
                    pass

    async def _listen(self, pubsub: PubSub) -> None:
        """Take messages until the connection fails (which raises), probing it whenever it was silent for a while."""
        last_ping = time.monotonic()
        while True:
            message = await pubsub.get_message(timeout=PING_SECONDS)
            if time.monotonic() - last_ping >= PING_SECONDS:
                await pubsub.ping()
                last_ping = time.monotonic()
                self._prune()
            if message is not None:
                await self._received(message)

    async def _received(self, message: dict[str, Any]) -> None:
        channel = _text(message.get("channel"))
        if message["type"] == "subscribe":  # also after redis-py reconnected and subscribed again
            if channel == CHANNEL:
                await self._load()
                self._synced, self._failures = True, 0
            else:
                self._forget(None)  # changes may have gone by unheard
        elif message["type"] == "message":
            self._on_message(channel, _text(message["data"]))

    async def _fall_back(self, exc: Exception) -> float:
        """No news while Redis is away: poll the record instead. Returns how long to wait before following again."""
        delay = RETRY_SECONDS[min(self._failures, len(RETRY_SECONDS) - 1)]
        self._failures += 1
        if self._failures == 1 or self._failures % 20 == 0:
            log.warning("revocations_unfollowed", error=type(exc).__name__, retry_in_s=delay)
        try:
            await self._load()
        except (TimeoutError, asyncpg.PostgresError, OSError) as db_exc:
            log.warning("revocations_not_loaded", error=type(db_exc).__name__)
        return delay


def _text(value: Any) -> str:
    """A pub/sub channel or payload as text, whether the client decodes responses or not."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _make(rt: Runtime) -> RevocationList:
    return RevocationList(rt.redis, rt.pool)


def of(rt: Runtime) -> RevocationList:
    """The runtime's revocation list: signed-out tokens and accounts' state, followed from Redis once a request
    first asks (API processes only), stopped when the runtime closes."""
    return rt.part(_make)

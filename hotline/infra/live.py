"""Live feed: every committed change is published on Redis pub/sub; each API process holds one subscription and
fans it out to its server-sent-event clients, filtered by what each may see."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec
import structlog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from hotline.infra import channels, tasks
from hotline.infra.redis_client import run_script
from hotline.vocab import CALLBACK_ROLES, HANDLER

CHANNEL = channels.LIVE
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
            await run_script(redis, _PUBLISH_EACH, [CHANNEL], messages[start : start + _PUBLISH_CHUNK])
    except Exception as exc:
        log.warning("live_publish_failed", kind=kind, messages=len(payloads), error=type(exc).__name__)


def visible_to(message: dict[str, Any], role: str, unit: str | None) -> bool:
    """A handler sees messages about its own unit's tickets only; other staff roles see everything."""
    if role == HANDLER:
        units = message.get("units") or [message.get("unit")]
        return unit is not None and unit in units
    return role in CALLBACK_ROLES


# --- fan-out: one subscription per process ------------------------------------------------------------------------

QUEUE_SIZE = 1024  # messages a feed may fall behind before it is dropped (queues share each encoded message)
PING_SECONDS = 10.0  # a silent subscription (no message, no error) is probed this often
RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)
SESSION_CHANNELS = (channels.REVOCATIONS, channels.ACCOUNTS)
END = b""  # queued last: the stream ends after the reconnect event queued before it


def _sse(event: str, data: str) -> bytes:
    # Published messages are compact JSON (no line breaks), so each is one `data:` line.
    return f"event: {event}\r\ndata: {data}\r\n\r\n".encode()


class Client:
    """One open live feed: what it may see and the messages waiting for its stream, already encoded."""

    __slots__ = ("role", "unit", "user_id", "token_id", "queue", "reason")

    def __init__(self, role: str, unit: str | None, user_id: int = 0, token_id: str = "") -> None:
        self.role, self.unit = role, unit
        self.user_id, self.token_id = user_id, token_id  # whose session: it ends when that is signed out or changed
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(QUEUE_SIZE + 1)  # + 1: room for the end marker
        self.reason: str | None = None  # why it was ended, once it was

    async def next(self, within: float) -> bytes | None:
        """The next encoded message; None when none came `within` seconds (time for a keepalive, the caller's
        choice rather than an error); END when the feed is over."""
        try:
            async with asyncio.timeout(within):
                return await self.queue.get()
        except TimeoutError:
            return None


class Hub:
    """The process's one Redis subscription to the live channel, fanned out to its open feeds.

    A browser tab no longer costs a Redis connection: every message is decoded once, checked once per scope
    (role, unit) and queued, encoded once, to each feed of that scope. A feed that falls QUEUE_SIZE messages
    behind (a client that stopped reading) is ended with a `reconnect` event instead of being buffered without
    bound; the console's EventSource then reconnects and reloads its lists. After the subscription was lost
    (Redis restarted or unreachable) the hub subscribes again by itself and ends every open feed the same way,
    since each may have missed messages meanwhile. The subscription is held only while a feed is open.
    """

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._scopes: dict[tuple[str, str | None], set[Client]] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self.dropped = 0  # feeds ended for falling behind, since start (for tests and metrics)

    @property
    def clients(self) -> int:
        return sum(len(s) for s in self._scopes.values())

    def join(self, role: str, unit: str | None, user_id: int = 0, token_id: str = "") -> Client:
        client = Client(role, unit, user_id, token_id)
        self._scopes.setdefault((role, unit), set()).add(client)
        if self._task is None:
            self._ready = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._follow(self._ready), name="live-hub")
        return client

    def leave(self, client: Client) -> None:
        scope = self._scopes.get((client.role, client.unit))
        if scope is not None:
            scope.discard(client)
            if not scope:
                del self._scopes[(client.role, client.unit)]
        if not self._scopes and self._task is not None:
            # Nobody listens: the subscription goes. A later join starts a new one (not reusing this task, which
            # is still finishing).
            self._task.cancel()
            self._task = None

    async def wait_ready(self, within: float) -> bool:
        """True once subscribed; False if that did not happen `within` seconds (Redis down: the hub keeps trying, and
        the caller carries on without it)."""
        try:
            async with asyncio.timeout(within):
                await asyncio.shield(self._ready.wait())
            return True
        except TimeoutError:
            return False

    async def close(self) -> None:
        task, self._task = self._task, None  # first: ending the last feed below would cancel it unawaited
        for client in [c for scope in self._scopes.values() for c in scope]:
            self._end(client, "shutdown")
        await tasks.stop(task)

    def _end(self, client: Client, reason: str) -> None:
        self.leave(client)
        client.reason = reason
        while not client.queue.empty():  # what it has not read is moot: it reloads on reconnect
            client.queue.get_nowait()
        client.queue.put_nowait(_sse("reconnect", _encode({"reason": reason}).decode()))
        client.queue.put_nowait(END)

    def _session_changed(self, channel: bytes | str, raw: bytes | str) -> None:
        """A sign-out or an account change (published by hotline.auth.revocation): the feeds of that session or account
        end at once, and the browser's reconnect is refused (401) if the session is no longer good, which sends the
        open page to the sign-in page without waiting for a click. A change that leaves the account as it was (a new
        display name) costs its feeds one reconnect."""
        name = channel.decode() if isinstance(channel, bytes) else channel
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        clients = [c for scope in self._scopes.values() for c in scope]
        if name == channels.REVOCATIONS:
            token_id = text.partition(" ")[0]
            ended = [c for c in clients if c.token_id and c.token_id == token_id]
        elif text == "*":
            ended = clients
        else:
            ended = [c for c in clients if str(c.user_id) == text]
        for client in ended:
            self._end(client, "session_changed")

    def _dispatch(self, raw: bytes | str) -> None:
        try:
            data: dict[str, Any] = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            return
        if not isinstance(data, dict):
            return
        text = raw.decode() if isinstance(raw, bytes) else raw
        encoded = _sse(str(data.get("type", "message")), text)
        behind: list[Client] = []
        for (role, unit), scope in self._scopes.items():
            if not visible_to(data, role, unit):
                continue
            for client in scope:
                if client.queue.qsize() >= QUEUE_SIZE:
                    behind.append(client)
                else:
                    client.queue.put_nowait(encoded)
        for client in behind:
            self.dropped += 1
            log.info("live_client_dropped", role=client.role, unit=client.unit, queued=QUEUE_SIZE)
            self._end(client, "too_slow")

    async def _follow(self, ready: asyncio.Event) -> None:
        me = asyncio.current_task()
        state = _Subscription(ready)
        while self._task is me:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(CHANNEL, *SESSION_CHANNELS)
                await self._listen(pubsub, me, state)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await asyncio.sleep(state.lost_it(exc))
            finally:
                try:
                    await asyncio.shield(pubsub.aclose())
                except Exception:
                    pass

    async def _listen(self, pubsub: PubSub, me: asyncio.Task[Any] | None, state: _Subscription) -> None:
        """Take messages while this task is the hub's, until the subscription fails (which raises), probing it
        whenever it was silent for a while."""
        last_ping = time.monotonic()
        while self._task is me:
            message = await pubsub.get_message(timeout=PING_SECONDS)
            if time.monotonic() - last_ping >= PING_SECONDS:
                await pubsub.ping()
                last_ping = time.monotonic()
            if message is not None:
                await self._received(message, state)

    async def _received(self, message: dict[str, Any], state: _Subscription) -> None:
        if message["type"] == "message":
            channel = message["channel"]
            if (channel.decode() if isinstance(channel, bytes) else channel) != CHANNEL:
                self._session_changed(channel, message["data"])
                return
            self._dispatch(message["data"])
            # Lets the feeds send what was queued before the next message is read: a burst (a batch published in
            # one go) must not fill a healthy client's queue before it had a turn.
            await asyncio.sleep(0)
        elif message["type"] == "subscribe":  # also after redis-py reconnected by itself
            if state.lost and message["channel"] in (CHANNEL, CHANNEL.encode()):
                for client in [c for scope in self._scopes.values() for c in scope]:
                    self._end(client, "resubscribed")
                log.info("live_resubscribed", after_failures=state.failures)
            state.subscribed()


class _Subscription:
    """What one following task knows of its subscription: ready (subscribed), lost since, failures in a row. A hub
    that starts following again gets a new task, and a new state, while the old task is still finishing."""

    __slots__ = ("ready", "failures", "lost")

    def __init__(self, ready: asyncio.Event) -> None:
        self.ready = ready
        self.failures = 0
        self.lost = False

    def subscribed(self) -> None:
        self.ready.set()
        self.failures, self.lost = 0, False

    def lost_it(self, exc: Exception) -> float:
        """The subscription failed: how long to wait before subscribing again."""
        self.ready.clear()
        self.lost = True
        delay = RETRY_SECONDS[min(self.failures, len(RETRY_SECONDS) - 1)]
        self.failures += 1
        if self.failures == 1 or self.failures % 20 == 0:
            log.warning("live_unsubscribed", error=type(exc).__name__, retry_in_s=delay)
        return delay

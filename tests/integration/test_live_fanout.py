"""The live feed's fan-out: one Redis subscription per API process whatever the number of open consoles, a console
that stops reading is dropped (its stream ends with `reconnect`) while the others keep receiving, and the
subscription comes back by itself after Redis restarts.

Each test runs the app over a real HTTP server against a private redis-server, so the connection counts are the
app's own and a restart harms no other test.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from redis.asyncio import Redis

from hotline.infra import live
from tests.conftest import PASSWORD, ticket_body
from tests.scratch import free_port, start_redis, stop_redis

OWN, OTHER = "handler-320612-bureau", "handler-320614-bureau"  # ticket_body() routes to 320612-bureau


@dataclasses.dataclass
class Served:
    url: str
    app: Any
    runtime: Any
    redis_port: int
    tokens: dict[str, str] = dataclasses.field(default_factory=dict)

    async def token(self, username: str) -> str:
        if username not in self.tokens:
            async with httpx.AsyncClient(base_url=self.url) as http:
                r = await http.post("/api/auth/token", json={"username": username, "password": PASSWORD})
                assert r.status_code == 200, r.text
                self.tokens[username] = r.json()["access_token"]
        return self.tokens[username]

    async def create(self) -> str:
        async with httpx.AsyncClient(base_url=self.url) as http:
            r = await http.post(
                "/api/tickets", json=ticket_body(), headers={"Authorization": f"Bearer {await self.token('agent')}"}
            )
            assert r.status_code == 201, r.text
            return str(r.json()["number"])

    def hub(self) -> live.Hub:
        return self.app.state.live_hub


@asynccontextmanager
async def served(settings: Any, tmp_path: Any) -> AsyncIterator[tuple[Served, Any]]:
    from hotline.infra.runtime import Runtime
    from hotline.web.app import create_app

    redis_port = free_port()
    proc = start_redis(redis_port, tmp_path)
    mine = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{redis_port}/0")
    app = create_app(mine)
    runtime = await Runtime.start(mine)
    app.state.runtime, app.state.settings, app.state.redis = runtime, mine, runtime.redis
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None))
    task = asyncio.ensure_future(server.serve())
    box = {"proc": proc}
    try:
        for _ in range(100):
            if server.started:
                break
            await asyncio.sleep(0.05)
        yield Served(f"http://127.0.0.1:{port}", app, runtime, redis_port), box
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 20)
        hub = getattr(app.state, "live_hub", None)
        if hub is not None:
            await hub.close()
        await runtime.close()
        stop_redis(box["proc"])


class Feed:
    """One console's EventSource, reduced to what the tests look at: events in order, and whether it ended."""

    def __init__(self, served: Served, username: str) -> None:
        self.served, self.username = served, username
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.ready = asyncio.Event()
        self.ended = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> Feed:
        self.task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        token = await self.served.token(self.username)
        try:
            async with httpx.AsyncClient(timeout=None) as http:
                async with http.stream(
                    "GET", f"{self.served.url}/api/live", headers={"Authorization": f"Bearer {token}"}
                ) as r:
                    assert r.status_code == 200
                    event = None
                    async for line in r.aiter_lines():
                        if line.startswith("event:"):
                            event = line.split(":", 1)[1].strip()
                        elif line.startswith("data:") and event:
                            if event == "ready":
                                self.ready.set()
                            else:
                                self.events.append((event, json.loads(line.split(":", 1)[1])))
        finally:
            self.ended.set()

    def numbers(self) -> list[str]:
        return [d.get("number") for e, d in self.events if e == "ticket"]

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


async def wait_for(predicate: Any, seconds: float) -> bool:
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


async def redis_clients(port: int) -> tuple[int, int]:
    """(connections other than this one, subscriptions to the live channel) on the private server."""
    r = Redis(host="127.0.0.1", port=port)
    try:
        clients = await r.client_list()
        ((_, subscribers),) = await r.pubsub_numsub(live.CHANNEL)
        return len(clients) - 1, int(subscribers)
    finally:
        await r.aclose()


async def test_many_open_feeds_in_one_process_share_one_redis_subscription(settings, database, tmp_path):
    async with served(settings, tmp_path) as (s, _):
        users = ["manager"] * 20 + [OWN] * 10 + [OTHER] * 10
        for u in set(users):
            await s.token(u)
        feeds = [Feed(s, u).start() for u in users]
        try:
            assert await wait_for(lambda: all(f.ready.is_set() for f in feeds), 20)
            connections, subscribers = await redis_clients(s.redis_port)
            assert subscribers == 1, f"{subscribers} subscriptions for {len(feeds)} feeds"
            # The command pool, the sign-out follower and the one live subscription: not one per feed.
            assert connections <= 6, connections

            number = await s.create()
            wanted = [f for f in feeds if f.username != OTHER]
            assert await wait_for(lambda: all(number in f.numbers() for f in wanted), 10)
            await asyncio.sleep(0.3)  # what would leak to the other unit has had time to arrive
            assert not [f for f in feeds if f.username == OTHER and number in f.numbers()]
        finally:
            for f in feeds:
                await f.stop()
        # The last feed gone, the process holds no subscription.
        assert await wait_for(lambda: s.hub().clients == 0, 5)

        async def unsubscribed() -> bool:
            return (await redis_clients(s.redis_port))[1] == 0

        for _ in range(100):
            if await unsubscribed():
                break
            await asyncio.sleep(0.05)
        assert await unsubscribed()


async def _open_unread(url: str, token: str) -> socket.socket:
    """A console that stops reading once its feed is open: a small receive buffer, read up to `ready`, then not."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    host, port = url.removeprefix("http://").split(":")
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, (host, int(port)))
    await loop.sock_sendall(
        sock,
        (
            f"GET /api/live HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            "Accept: text/event-stream\r\n\r\n"
        ).encode(),
    )
    got = b""
    while b"event: ready" not in got:
        chunk = await asyncio.wait_for(loop.sock_recv(sock, 4096), 10)
        assert chunk, got
        got += chunk
    return sock


async def test_a_console_that_stops_reading_is_dropped_while_the_others_keep_receiving(settings, database, tmp_path):
    async with served(settings, tmp_path) as (s, _):
        reader = Feed(s, "manager").start()
        stuck = None
        try:
            assert await asyncio.wait_for(reader.ready.wait(), 10) is True
            stuck = await _open_unread(s.url, await s.token("manager"))
            assert await wait_for(lambda: s.hub().clients == 2, 5)
            pad = "待核实" * 300  # about 2.7 kB a message: the stuck socket's buffers fill sooner
            sent = 0
            for round_ in range(40):  # bounded: far more than kernel and server buffers hold
                await live.publish_many(
                    s.runtime.redis,
                    "ticket",
                    [
                        {"number": f"PAD{round_:03d}{i:04d}", "action": "note", "unit": None, "pad": pad}
                        for i in range(100)
                    ],
                )
                sent += 100
                if await wait_for(lambda: s.hub().dropped >= 1, 0.5):
                    break
            assert s.hub().dropped == 1, "the console that stopped reading was never dropped"
            assert s.hub().clients == 1  # the reader is still subscribed
            # Every message reached the console that reads, none was lost for it while the other one was stuck.
            assert await wait_for(lambda: len(reader.numbers()) == sent, 30), (len(reader.numbers()), sent)
            assert not reader.ended.is_set()

            # The stuck one, once it reads again, finds its stream told to reconnect, and ended.
            loop = asyncio.get_running_loop()
            got = b""
            for _ in range(100_000):
                chunk = await asyncio.wait_for(loop.sock_recv(stuck, 65536), 10)
                if not chunk:
                    break
                got += chunk
                if got.endswith(b"0\r\n\r\n"):  # the last chunk of a chunked response
                    break
            assert b"event: reconnect" in got and b'"reason":"too_slow"' in got
            assert got.endswith(b"0\r\n\r\n")
            # Bounded: it was sent at most its queue, not everything published since it stopped reading.
            assert got.count(b"event: ticket") < sent
        finally:
            if stuck is not None:
                stuck.close()
            await reader.stop()


async def test_the_feed_subscribes_again_by_itself_after_redis_restarts(settings, database, tmp_path):
    async with served(settings, tmp_path) as (s, box):
        before = Feed(s, "manager").start()
        after = None
        try:
            assert await asyncio.wait_for(before.ready.wait(), 10) is True
            stop_redis(box["proc"])
            await asyncio.sleep(0.5)
            box["proc"] = start_redis(s.redis_port, tmp_path)  # back, empty, same address
            # The open feed may have missed messages meanwhile: it is told to reconnect (and the console reloads).
            assert await wait_for(lambda: before.ended.is_set(), 20), "the open feed was not told to reconnect"
            assert before.events[-1] == ("reconnect", {"reason": "resubscribed"})

            after = Feed(s, "manager").start()  # what EventSource does next
            assert await asyncio.wait_for(after.ready.wait(), 20) is True
            numbers = []
            for _ in range(20):  # the app's command connections reconnect on first use after the restart
                numbers.append(await s.create())
                if await wait_for(lambda: any(n in after.numbers() for n in numbers), 1):
                    break
            assert any(n in after.numbers() for n in numbers)
            assert (await redis_clients(s.redis_port))[1] == 1
        finally:
            await before.stop()
            if after is not None:
                await after.stop()


async def test_a_burst_larger_than_a_queue_reaches_a_console_that_reads(settings, database, tmp_path):
    async with served(settings, tmp_path) as (s, _):
        reader = Feed(s, "manager").start()
        try:
            assert await asyncio.wait_for(reader.ready.wait(), 10) is True
            burst = live.QUEUE_SIZE + 500  # in one command, as a batch pass publishes its messages
            await live.publish_many(
                s.runtime.redis,
                "ticket",
                [{"number": f"B{i:05d}", "action": "note", "unit": None} for i in range(burst)],
            )
            assert await wait_for(lambda: len(reader.numbers()) == burst, 20), len(reader.numbers())
            assert s.hub().dropped == 0 and not reader.ended.is_set()
        finally:
            await reader.stop()

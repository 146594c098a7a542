"""Helpers for the upstream feedback tests: a real HTTP receiver on a port of its own whose answers follow a script
(500, a time-out, a dropped connection, then 2xx), an upstream.toml pointing at it, a runtime that reads it, and
transfer tickets taken through sign, reply and callback."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from config.settings import Settings
from hotline.infra.runtime import Runtime
from tests.conftest import principal

AUTH_ENV = "HOTLINE_TEST_UPSTREAM_AUTH"
AUTH_VALUE = "Bearer upstream-test-secret"
UNIT = "320612-bureau"


class UpstreamReceiver:
    """Answers each POST by the next mode of `script` (then `then`): "ok" (200, the body acknowledged), "500",
    "timeout" (holds the request longer than the sender waits, then closes), "drop" (closes without an answer),
    "hold" (sets `holding`, then waits for `release` and closes without an answer: for a sender killed meanwhile)."""

    def __init__(self, script: list[str] | None = None, then: str = "ok") -> None:
        self.script = list(script or [])
        self.then = then
        self.seen: list[dict[str, Any]] = []  # every body received, whatever the answer
        self.acked: list[tuple[dict[str, str], dict[str, Any]]] = []  # bodies answered 2xx, in order
        self.release = asyncio.Event()
        self.holding = asyncio.Event()

    async def __aenter__(self) -> UpstreamReceiver:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/feedback"
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.release.set()
        self.server.close()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:] if h)}
            body = json.loads(await reader.readexactly(int(headers.get("content-length", "0"))))
            self.seen.append(body)
            mode = self.script.pop(0) if self.script else self.then
            if mode == "500":
                writer.write(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            elif mode == "timeout":
                await asyncio.sleep(4)
                return
            elif mode == "drop":
                return
            elif mode == "hold":  # the sender is killed meanwhile: no answer ever goes back
                self.holding.set()
                await self.release.wait()
                return
            else:
                self.acked.append((headers, body))
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def by_ticket(self) -> dict[str, list[int]]:
        """Each ticket's acknowledged sequence numbers in the order they were acknowledged."""
        out: dict[str, list[int]] = {}
        for _, b in self.acked:
            out.setdefault(b["ticket"], []).append(b["sequence"])
        return out


def upstream_file(tmp_path: Path, url: str, *, max_attempts: int = 20, timeout: float = 1.0) -> Path:
    path = tmp_path / "upstream.toml"
    path.write_text(
        f"""
[delivery]
max_attempts = {max_attempts}
backoff_base_seconds = 0.2
backoff_cap_seconds = 1
timeout_seconds = {timeout}

[channel."12345"]
url = "{url}"
auth_env = "{AUTH_ENV}"
events = ["signed", "extension_approved", "replied", "returned_upstream", "closed"]
"""
    )
    return path


@asynccontextmanager
async def upstream_runtime(settings: Settings, path: Path) -> AsyncIterator[tuple[Settings, Runtime]]:
    """Settings and a runtime (the API side of an action) reading `path` as the upstream configuration."""
    own = dataclasses.replace(settings, upstream_config=str(path))
    rt = await Runtime.start(own)
    try:
        yield own, rt
    finally:
        await rt.close()


async def transfer(rt: Runtime, ref: str | None = None) -> tuple[int, str, str]:
    """A 12345 transfer routed to 320612-bureau: (ticket id, number, external_ref)."""
    from hotline.tickets import intake

    ref = ref or f"NT12345-{uuid.uuid4().hex[:12]}"
    who = await principal(rt, "integration-12345")
    body = intake.TicketIn(
        channel="12345",
        kind="complaint",
        category="taxi",
        territory="320612",
        title="出租车拒载",
        content="市民反映出租车拒载。",
        external_ref=ref,
    )
    result = await intake.create_ticket(rt, who, body, idempotency_key=None)
    number = await rt.pool.fetchval("SELECT number FROM tickets WHERE id = $1", result.ticket_id)
    return result.ticket_id, number, ref


async def handle_to_close(rt: Runtime, number: str) -> None:
    """sign, reply, callback (satisfied): the events signed, replied, closed."""
    from hotline.tickets import lifecycle

    handler = await principal(rt, f"handler-{UNIT}")
    agent = await principal(rt, "agent")
    await lifecycle.perform(rt, handler, number, "sign", b"{}")
    await lifecycle.perform(
        rt, handler, number, "reply", json.dumps({"content": "已约谈驾驶员。", "outcome": "resolved"}).encode()
    )
    await lifecycle.perform(
        rt,
        agent,
        number,
        "callback",
        json.dumps({"contacted": True, "resolved": "resolved", "satisfaction": "satisfied"}).encode(),
    )


async def outbox_of(rt: Runtime, ticket_ids: list[int]) -> list[Any]:
    return await rt.pool.fetch(
        "SELECT id, event_id, ticket_id, seq, event, status, attempts, last_error, body FROM upstream_outbox "
        "WHERE ticket_id = any($1::bigint[]) ORDER BY ticket_id, seq",
        ticket_ids,
    )

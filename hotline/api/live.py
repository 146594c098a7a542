"""GET /api/live: the live feed as server-sent events, filtered by what the signed-in role may see.

Every API process subscribes to the same Redis channel, so a change committed by any process reaches every
browser, whichever process holds its connection. A stream also follows sign-outs and account changes: when its own
session is signed out, or its account deactivated or changed, it ends, and the browser's reconnect is refused (401),
which sends the open page to the sign-in page at once rather than at its next click.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import get
from litestar.response import ServerSentEvent, ServerSentEventMessage

from hotline import live, revocation
from hotline.auth import Principal
from hotline.runtime import Runtime

KEEPALIVE_SECONDS = 15.0


async def _stream(rt: Runtime, principal: Principal) -> AsyncIterator[ServerSentEventMessage]:
    pubsub = rt.redis.pubsub()
    await pubsub.subscribe(live.CHANNEL, revocation.CHANNEL, revocation.ACCOUNTS_CHANNEL)
    try:
        yield ServerSentEventMessage(event="ready", data=msgspec.json.encode(
            {"role": principal.role, "unit": principal.unit}).decode(), retry=3000)
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=KEEPALIVE_SECONDS)
            if message is None:
                yield ServerSentEventMessage(comment="keepalive")
                continue
            raw = message["data"]
            channel = message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
            if channel != live.CHANNEL:
                if await _session_ended(rt, principal, channel, raw):
                    return
                continue
            try:
                data: dict[str, Any] = msgspec.json.decode(raw)
            except msgspec.DecodeError:
                continue
            if live.visible_to(data, principal.role, principal.unit):
                text = raw.decode() if isinstance(raw, bytes) else str(raw)
                yield ServerSentEventMessage(event=str(data.get("type", "message")), data=text)
    finally:
        # Shielded: the client went away and this generator is being cancelled.
        await asyncio.shield(_close(pubsub))


async def _session_ended(rt: Runtime, principal: Principal, channel: str, raw: Any) -> bool:
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    if channel == revocation.CHANNEL:
        return text.partition(" ")[0] == principal.token_id
    if text not in ("*", str(principal.user_id)):
        return False
    # Read PostgreSQL, not the process's account cache: its own subscriber may not have dropped the entry yet.
    row = await rt.pool.fetchrow("SELECT active, role, unit, channel FROM users WHERE id = $1", principal.user_id)
    return row is None or not row["active"] or (row["role"], row["unit"], row["channel"]) != (
        principal.role, principal.unit, principal.channel)


async def _close(pubsub: Any) -> None:
    try:
        await pubsub.unsubscribe(live.CHANNEL, revocation.CHANNEL, revocation.ACCOUNTS_CHANNEL)
        await pubsub.aclose()
    except Exception:
        pass


@get("/api/live")
async def live_feed(rt: Runtime, principal: Principal) -> ServerSentEvent:
    principal.require("agent", "dispatcher", "handler", "manager", "admin")
    return ServerSentEvent(_stream(rt, principal), headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


ROUTES = [live_feed]
